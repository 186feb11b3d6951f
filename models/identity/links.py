"""One-time sign-in links sent by e-mail: after sign-up (to confirm the address), when an account is
under attack (when many wrong passwords were tried, the right password alone no longer signs in), and to
choose a new password when the old one is forgotten (the link leads to a form; using it sets the password and
ends every other session).

The raw token travels only in the mail; the table keeps its hash. A link works once, for a short while.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.mail import queue_mail
from models.identity.accounts import SignInLink, User, hash_password, hash_secret
from models.identity.people import check_password
from models.identity.sessions import end_all_sessions

SIGN_IN_LINK_LIFETIME = timedelta(minutes=30)
CONFIRMATION_LINK_LIFETIME = timedelta(hours=24)
RESET_LINK_LIFETIME = timedelta(hours=1)
PURPOSES = ("sign_in", "confirm_sign_up", "reset_password")
LIFETIMES = {"sign_in": SIGN_IN_LINK_LIFETIME, "confirm_sign_up": CONFIRMATION_LINK_LIFETIME,
             "reset_password": RESET_LINK_LIFETIME}


async def send_sign_in_link(
    user: User, *, purpose: str = "sign_in", next_path: str = "", client_address: str = ""
) -> None:
    """Queue a mail to `user` with a new one-time sign-in link (`purpose` picks the mail's wording;
    `next_path` is the page the link leads to once signed in, e.g. the invitation they came from)."""
    assert purpose in PURPOSES
    lifetime = LIFETIMES[purpose]
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + lifetime
    async with in_transaction() as connection:
        link = await SignInLink.create(
            user=user, token_hash=hash_secret(token), expires_at=expires_at, using_db=connection
        )
        await audit.record(
            "sign_in_link.sent", actor=user, target=user, after={"link": link.id, "purpose": purpose},
            client_address=client_address, using_db=connection,
        )
        await queue_mail(
            "sign_in_link",
            to=user.email,
            locale=user.locale,
            context={
                "name": user.name, "purpose": purpose, "token": token, "next": next_path,
                "expires_at": expires_at.isoformat(),
            },
            key=f"sign_in_link:{link.id}",
            secret=["token"],
            using_db=connection,
        )


async def use_sign_in_link(token: str, *, client_address: str = "") -> User | None:
    """The person a link signs in, once; None when the link is unknown, used, expired or its person inactive.
    Following it proves that the person reads mail at their address."""
    link = await SignInLink.get_or_none(token_hash=hash_secret(token)).prefetch_related("user")
    if link is None or link.used_at is not None or link.expires_at <= timezone.now() or not link.user.is_active:
        return None
    async with in_transaction() as connection:
        # The conditional update is what makes the link single-use, even when two tabs race.
        claimed = await SignInLink.filter(id=link.id, used_at=None).using_db(connection).update(used_at=timezone.now())
        if not claimed:
            return None
        user = link.user
        if not user.email_verified:
            user.email_verified = True
            await user.save(update_fields=["email_verified"], using_db=connection)
        await audit.record(
            "sign_in_link.used", actor=user, target=user, after={"link": link.id},
            client_address=client_address, using_db=connection,
        )
    return user


async def notify_sign_up_attempt(user: User, *, client_address: str = "") -> None:
    """Someone tried to sign up with the address of an existing account: tell its owner, not the visitor."""
    async with in_transaction() as connection:
        await audit.record("sign_up.existing_address", target=user, client_address=client_address, using_db=connection)
        await queue_mail(
            "sign_up_existing",
            to=user.email,
            locale=user.locale,
            context={"name": user.name},
            using_db=connection,
        )


async def reset_link_works(token: str) -> bool:
    """Whether a password-reset link can still be used (unknown, used and expired links cannot): the form is shown
    only for a live link. Looking does not use it up (mail scanners follow links)."""
    link = await SignInLink.get_or_none(token_hash=hash_secret(token)).prefetch_related("user")
    return link is not None and link.used_at is None and link.expires_at > timezone.now() and link.user.is_active


async def reset_password(token: str, new_password: str, *, client_address: str = "") -> User | None:
    """Set a new password with a one-time link; None when the link is unknown, used or expired (nothing changes).
    The password is checked first (ValidationFailed on "password"), so a refused password does not use the link up.
    Every session of the person ends: whoever knew the old password is signed out."""
    check_password(new_password)
    link = await SignInLink.get_or_none(token_hash=hash_secret(token)).prefetch_related("user")
    if link is None or link.used_at is not None or link.expires_at <= timezone.now() or not link.user.is_active:
        return None
    async with in_transaction() as connection:
        claimed = await SignInLink.filter(id=link.id, used_at=None).using_db(connection).update(used_at=timezone.now())
        if not claimed:  # the other tab was first
            return None
        user = link.user
        user.password_hash = hash_password(new_password)
        user.email_verified = True  # following the link proves the address
        await user.save(update_fields=["password_hash", "email_verified"], using_db=connection)
        ended = await end_all_sessions(user, using_db=connection)
        await audit.record("user.password_reset", actor=user, target=user,
                           after={"link": link.id, "sessions_ended": ended},
                           client_address=client_address, using_db=connection)
    return user
