"""Rate limits, kept in Redis: failed sign-ins, sign-ups, and the e-mails a person can make us send.

Failed sign-ins are counted per account and client address together (so nobody can lock another person
out from elsewhere) and per client address; only failures count, so an office behind one address can
sign in all morning. Past a higher number of failures for one account from all addresses, the right
password alone no longer signs in: a one-time link is e-mailed instead (see routes/auth.py).

Without Redis (a lone `kyoso serve`), limits are kept in process memory instead.
"""

from __future__ import annotations

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

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


class Limiter:
    def __init__(self, redis_url: str | None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(redis_url.replace("redis://", "async+redis://", 1), implementation="redispy")
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def allow(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one event; False when the limit is already used up (and then nothing is counted)."""
        return await self._limiter.hit(item, *identifiers)

    async def used_up(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether the limit is used up, without counting anything."""
        return not await self._limiter.test(item, *identifiers)

    async def count(self, item: RateLimitItem, *identifiers: str) -> None:
        """Count one event, whether or not the limit is used up."""
        await self._limiter.hit(item, *identifiers)

    async def reset(self, item: RateLimitItem, *identifiers: str) -> None:
        await self._limiter.clear(item, *identifiers)

    async def reset_all(self) -> None:
        """Forget every count (tests start from a clean slate)."""
        await self._storage.reset()
