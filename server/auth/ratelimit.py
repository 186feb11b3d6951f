"""Rate limits, kept in Redis: failed sign-ins, sign-ups, and the e-mails a person can make us send.

Failed sign-ins are counted per account and client address together (so nobody can lock another person
out from elsewhere) and per client address; only failures count, so an office behind one address can
sign in all morning. Past a higher number of failures for one account from all addresses, the right
password alone no longer signs in: a one-time link is e-mailed instead (see routes/auth.py).

Without Redis (a lone `kyoso serve`), limits are kept in process memory instead. When the configured Redis
is down, every limit fails closed: the action it guards (signing in, signing up, sending an e-mail) is refused
with a plain 503 (`LimiterUnavailable`, see server/problems.py) rather than done unlimited; reading needs no
limit and goes on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from models.core.errors import N_

LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = RateLimitItemPerMinute(10, 15)  # 10 wrong passwords in 15 minutes
LOGIN_FAILURES_PER_ADDRESS = RateLimitItemPerMinute(30, 15)
LOGIN_FAILURES_BEFORE_LINK = RateLimitItemPerMinute(50, 15)  # per account, from all addresses
SIGNUP_PER_ADDRESS = RateLimitItemPerHour(10)
PASSWORD_RESETS_PER_ADDRESS = RateLimitItemPerHour(10)  # requests for a reset link from one client address
# E-mails a person can make us send: sign-in links and sign-up notices per recipient address,
# invitations per inviting person and per organisation.
MAILS_PER_RECIPIENT = RateLimitItemPerHour(5)
INVITATIONS_PER_PERSON = RateLimitItemPerHour(20)
INVITATIONS_PER_ORGANISATION = RateLimitItemPerDay(50)
# Other e-mails a person sends to someone else by acting: inviting a partner to a need (an e-mail to the
# partner), assigning a reviewer by hand (an e-mail to the reviewer). Per person and per organisation.
# (Sign-in links and sign-up notices are limited per recipient above; every other e-mail follows a
# transition that happens once: a decision, a receipt, an answer.)
MAILS_TO_OTHERS: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
    "partner-invitation": (RateLimitItemPerHour(20), RateLimitItemPerDay(100)),
    "hand-assignment": (RateLimitItemPerHour(30), RateLimitItemPerDay(200)),
}

# Why no more of them may be sent now, by the limit used up (English message ids: the API says them as they are).
MAILS_USED_UP = {
    "person": N_("You have sent too many of these e-mails recently (each one reaches someone else). "
                 "Please try again later."),
    "organisation": N_("Your organisation has sent its maximum number of these e-mails for today. "
                       "Please try again tomorrow."),
}

log = logging.getLogger("kyoso.ratelimit")
Result = TypeVar("Result")


class LimiterUnavailable(Exception):
    """The limits' store (Redis) cannot be reached: the limited action is refused (fails closed)."""


def _failing_closed(method: Callable[..., Awaitable[Result]]) -> Callable[..., Awaitable[Result]]:
    @functools.wraps(method)
    async def guarded(self: Limiter, *args: Any, **kwargs: Any) -> Result:
        try:
            return await method(self, *args, **kwargs)
        except (StorageError, OSError) as exc:  # redis-py's ConnectionError and TimeoutError are OSErrors too
            log.warning("rate limits: the store cannot be reached, refusing the limited action: %s", exc)
            raise LimiterUnavailable(str(exc)) from exc

    return guarded


class Limiter:
    def __init__(self, redis_url: str | None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy",
                                   wrap_exceptions=True, socket_connect_timeout=2, socket_timeout=2)
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    @_failing_closed
    async def allow(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one event; False when the limit is already used up (and then nothing is counted)."""
        return await self._limiter.hit(item, *identifiers)

    @_failing_closed
    async def used_up(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether the limit is used up, without counting anything."""
        return not await self._limiter.test(item, *identifiers)

    @_failing_closed
    async def count(self, item: RateLimitItem, *identifiers: str) -> None:
        """Count one event, whether or not the limit is used up."""
        await self._limiter.hit(item, *identifiers)

    @_failing_closed
    async def reset(self, item: RateLimitItem, *identifiers: str) -> None:
        await self._limiter.clear(item, *identifiers)

    @_failing_closed
    async def mails_used_up(self, kind: str, person_id: int, organisation_id: int | None) -> str | None:
        """Which limit on e-mails of this kind (see MAILS_TO_OTHERS) is used up, "person" or "organisation"."""
        per_person, per_organisation = MAILS_TO_OTHERS[kind]
        if await self.used_up(per_person, f"{kind}-person", str(person_id)):
            return "person"
        if organisation_id is not None and await self.used_up(per_organisation, f"{kind}-organisation", str(organisation_id)):
            return "organisation"
        return None

    @_failing_closed
    async def count_mail(self, kind: str, person_id: int, organisation_id: int | None) -> None:
        per_person, per_organisation = MAILS_TO_OTHERS[kind]
        await self.count(per_person, f"{kind}-person", str(person_id))
        if organisation_id is not None:
            await self.count(per_organisation, f"{kind}-organisation", str(organisation_id))

    async def reset_all(self) -> None:
        """Forget every count (tests start from a clean slate)."""
        await self._storage.reset()
