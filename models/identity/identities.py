"""Logins at OpenID providers, each linked to one person."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.core import audit
from models.identity.accounts import Identity, User


class IdentityRefused(Exception):
    """The identity cannot be linked to anyone; `reason` is what the audit log records."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def person_for_identity(
    *, issuer: str, subject: str, email: str, email_verified: bool, name: str, locale: str = "ja"
) -> User:
    """The person behind a provider's (issuer, subject).

    On the first login the identity is linked to the account with the same e-mail address, or to a new
    account, and only when the provider has verified that address: anyone can type any address into
    a profile at some provider, so an unverified one would let them take over the account.
    """
    identity = await Identity.get_or_none(issuer=issuer, subject=subject).prefetch_related("user")
    if identity is not None:
        return identity.user
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise IdentityRefused("email_missing")
    if not email_verified:
        raise IdentityRefused("email_unverified")
    async with in_transaction():
        user = await User.get_or_none(email__iexact=email)
        if user is None:
            user = await User.create(
                email=email, name=(name.strip() or email.split("@")[0])[:200], locale=locale, email_verified=True
            )
            await audit.record("user.created", target=user, after={"email": email, "via": "oidc"})
        elif not user.is_active:
            raise IdentityRefused("inactive")
        elif not user.email_verified:
            # Whoever made this account never proved the address is theirs: linking would hand the
            # address's owner an account someone else may still hold the password of.
            raise IdentityRefused("account_email_unverified")
        await Identity.create(user=user, issuer=issuer, subject=subject, email=email)
        await audit.record("identity.linked", actor=user, target=user, after={"issuer": issuer, "subject": subject})
    return user
