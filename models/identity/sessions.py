"""Server-side sessions: the cookie carries a random key, the table keeps only its hash.

A session ends after 2 hours without use (idle) or 12 hours after sign-in (absolute), at logout,
at "log out everywhere", and when the person is deactivated.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient

from models.core import audit
from models.core.base import columns_of, from_row, numbered
from models.identity.accounts import Membership, Session, User, hash_secret
from models.identity.orgs import Organisation

IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # don't write last_seen_at on every request


async def open_session(user: User, *, client_address: str = "", user_agent: str = "") -> str:
    """Start a session and return its key (a new one at every sign-in, so a fixated key is useless)."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    await Session.create(
        key_hash=hash_secret(key),
        user=user,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
        client_address=client_address[:64],
        user_agent=user_agent[:300],
    )
    user.last_login_at = now
    await user.save(update_fields=["last_login_at"])
    return key


# The session, its person and their memberships with organisations, read at every signed-in request: one
# statement (a row per membership), not one for the session and another for the memberships.
_JOINED = (("s", Session), ("u", User), ("m", Membership), ("o", Organisation))


@cache
def _session_statement(dialect: str) -> str:
    columns = ", ".join(columns_of(model, alias) for alias, model in _JOINED)
    table = {alias: model._meta.db_table for alias, model in _JOINED}
    return numbered(f'SELECT {columns} FROM "{table["s"]}" s JOIN "{table["u"]}" u ON u."id" = s."user_id" '
                    f'LEFT JOIN "{table["m"]}" m ON m."user_id" = s."user_id" '
                    f'LEFT JOIN "{table["o"]}" o ON o."id" = m."organisation_id" '
                    f'WHERE s."key_hash" = ? AND s."ended_at" IS NULL ORDER BY m."id"', dialect)


async def session_with_memberships(key: str) -> tuple[Session | None, list[Membership]]:
    """The live session behind a cookie, with its user, and that person's memberships with their organisations
    (in the order they were made); None and none when the session is unknown, ended or timed out."""
    db = Session._meta.db
    _, rows = await db.execute_query(_session_statement(db.capabilities.dialect), [hash_secret(key)])
    if not rows:
        return None, []
    rows = [dict(row) for row in rows]
    session, user = from_row(Session, rows[0], "s"), from_row(User, rows[0], "u")
    object.__setattr__(session, "_user", user)
    memberships = []
    for row in rows:
        if row["m.id"] is None:
            continue
        membership = from_row(Membership, row, "m")
        object.__setattr__(membership, "_user", user)
        object.__setattr__(membership, "_organisation", from_row(Organisation, row, "o"))
        memberships.append(membership)
    now = timezone.now()
    if now >= session.expires_at or now - session.last_seen_at >= IDLE_TIMEOUT or not user.is_active:
        session.ended_at = now
        await session.save(update_fields=["ended_at"])
        return None, []
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        await session.save(update_fields=["last_seen_at"])
    return session, memberships


async def session_for_key(key: str) -> Session | None:
    """The live session behind a cookie, with its user; None when unknown, ended or timed out."""
    return (await session_with_memberships(key))[0]


async def end_session(session: Session) -> None:
    await Session.filter(id=session.id, ended_at=None).update(ended_at=timezone.now())


async def end_all_sessions(user: User, *, keep: Session | None = None, using_db: BaseDBAsyncClient | None = None) -> int:
    """End the person's sessions, all of them or all but `keep` (the browser they are using)."""
    sessions = Session.filter(user=user, ended_at=None)
    if keep is not None:
        sessions = sessions.exclude(id=keep.id)
    return await sessions.using_db(using_db).update(ended_at=timezone.now())


async def live_sessions(user: User) -> list[Session]:
    now = timezone.now()
    return await Session.filter(
        user=user, ended_at=None, expires_at__gt=now, last_seen_at__gt=now - IDLE_TIMEOUT
    ).order_by("-last_seen_at")


async def log_out_everywhere(user: User) -> int:
    ended = await end_all_sessions(user)
    await audit.record("sessions.ended_all", actor=user, target=user, after={"sessions": ended})
    return ended
