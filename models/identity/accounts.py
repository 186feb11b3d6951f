"""People and how they prove who they are: memberships, identities, sessions, tokens, invitations."""

from __future__ import annotations

import hashlib
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from tortoise import fields, timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from models.core import audit
from models.core.base import TimestampedModel

if TYPE_CHECKING:
    from models.identity.orgs import Organisation


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class User(TimestampedModel):
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=255, null=True)
    locale = fields.CharField(max_length=2, default="ja")
    is_active = fields.BooleanField(default=True)
    email_verified = fields.BooleanField(default=False)
    is_operator = fields.BooleanField(default=False)
    is_reviewer = fields.BooleanField(default=False)
    # Reviewer profile: expertise tags and declared affiliations (organisation ids) for conflict checks.
    expertise: list[str] = fields.JSONField(default=list)
    affiliations: list[int] = fields.JSONField(default=list)
    last_login_at = fields.DatetimeField(null=True)

    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "user"


class Membership(TimestampedModel):
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="memberships", on_delete=fields.CASCADE)
    user_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="memberships", on_delete=fields.CASCADE
    )
    organisation_id: int
    role = fields.CharField(max_length=16, default=Role.MEMBER.value)

    class Meta:
        table = "membership"
        unique_together = (("user", "organisation"),)


class Identity(TimestampedModel):
    # A login at an OpenID provider, linked to one person.

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="identities", on_delete=fields.CASCADE)
    user_id: int
    issuer = fields.CharField(max_length=500)
    subject = fields.CharField(max_length=255)
    email = fields.CharField(max_length=254, default="")

    class Meta:
        table = "identity"
        unique_together = (("issuer", "subject"),)


class Session(Model):
    # A server-side session; the cookie holds only a random id, the table only its hash.

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    user_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    client_address = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=300, default="")

    class Meta:
        table = "session"


class ApiToken(Model):
    # A personal API token, stored as a SHA-256 hash and shown once.

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="api_tokens", on_delete=fields.CASCADE)
    user_id: int
    name = fields.CharField(max_length=100, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class Invitation(TimestampedModel):
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="invitations", on_delete=fields.CASCADE
    )
    organisation_id: int
    email = fields.CharField(max_length=254)
    role = fields.CharField(max_length=16, default=Role.MEMBER.value)
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL
    )
    invited_by_id: int | None
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"


class SignInLink(Model):
    # A one-time link sent by e-mail that signs its person in (and proves they own the address).
    # Stored only as a hash; it works once, for a short while.

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="sign_in_links", on_delete=fields.CASCADE)
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_link"


# --- tokens and passwords -------------------------------------------------------------------

TOKEN_PREFIX = "kyo_"
# argon2id with RFC 9106's low-memory profile; the test suite asks for the cheapest parameters, because
# it creates hundreds of people and the cost is what is being measured there, not the hashing.
_password_hasher = PasswordHasher.from_parameters(
    profiles.CHEAPEST if os.environ.get("KYOSO_FAST_PASSWORD_HASHING") == "1" else profiles.RFC_9106_LOW_MEMORY
)


def hash_secret(raw: str) -> str:
    """Tokens are long and random, so a fast hash is enough to keep them unreadable at rest."""
    return hashlib.sha256(raw.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check `password`; for nobody (or a person without a password) it is checked against a dummy
    hash, so that an unknown address costs as much time as a wrong password (no user enumeration)."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        matches = _password_hasher.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, InvalidHashError):
        return False
    return matches and stored is not None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _password_hasher.hash(secrets.token_urlsafe(16))


async def create_api_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the stored token and the raw value, which is shown once and never kept."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = await ApiToken.create(user=user, name=name, token_hash=hash_secret(raw), prefix=raw[:12])
    await audit.record("api_token.created", actor=user, target=user, after={"token": token.id, "name": name})
    return token, raw


async def user_for_token(raw: str) -> User | None:
    token = await ApiToken.get_or_none(token_hash=hash_secret(raw), revoked_at=None).prefetch_related("user")
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = timezone.now()
    await token.save(update_fields=["last_used_at"])
    return token.user


async def revoke_api_token(user: User, token_id: int) -> bool:
    revoked = await ApiToken.filter(id=token_id, user=user, revoked_at=None).update(revoked_at=timezone.now())
    if revoked:
        await audit.record("api_token.revoked", actor=user, target=user, after={"token": token_id})
    return bool(revoked)


async def revoke_all_api_tokens(user: User, *, using_db: BaseDBAsyncClient | None = None) -> int:
    revoked = await ApiToken.filter(user=user, revoked_at=None).using_db(using_db).update(revoked_at=timezone.now())
    if revoked:
        await audit.record("api_token.revoked_all", target=user, after={"tokens": revoked}, using_db=using_db)
    return revoked


async def live_api_tokens(user: User) -> list[ApiToken]:
    """The person's tokens not revoked, newest first (the account page lists them)."""
    return await ApiToken.filter(user=user, revoked_at=None).order_by("-created_at")


async def user_with_email(email: str) -> User | None:
    return await User.get_or_none(email=email)
