"""Configuration, read from the environment once at start and validated.

A wrong value stops the start with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import json
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path.cwd() / "var"

DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg", "psycopg")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line naming the variable."""


def check_http_url(value: str | None) -> str | None:
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/") if value else None


class OidcProvider(BaseModel):
    """An OpenID provider: `key` names it in URLs (/login/oidc/<key>), `name` is shown on the login page."""

    key: str
    name: str = ""
    issuer: str
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", value):
            raise ValueError("a provider key must be 1 to 40 lowercase letters, digits, - or _")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        check_http_url(value)
        return value  # kept as given: it must equal the provider's own `issuer`, trailing slash included

    @model_validator(mode="after")
    def _default_name(self) -> OidcProvider:
        self.name = self.name or self.key
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    kyoso_env: Literal["dev", "production"] = "dev"
    database_url: str = Field(default_factory=lambda: f"sqlite://{VAR_DIR / 'kyoso.sqlite3'}")
    redis_url: str | None = None
    meili_url: str | None = None
    meili_master_key: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_from: str = "Kyoso <no-reply@kyoso.localhost>"
    contact_email: str = "support@kyoso.localhost"  # the operations team's address, on the contact page
    # OpenID Connect: one provider from the OIDC_* variables (its key is "default"), and/or several
    # from OIDC_PROVIDERS, a JSON list of {"key", "name", "issuer", "client_id", "client_secret"}.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str = "OpenID Connect"
    oidc_providers: Annotated[list[OidcProvider], NoDecode] = Field(default_factory=list)
    # Where attachment bytes are kept, content-addressed (<sha256[:2]>/<sha256>); back it up with the database.
    attachments_dir: Path = Field(default_factory=lambda: VAR_DIR / "attachments")
    # Request bodies: forms and JSON at most MAX_BODY_BYTES, attachment uploads at most MAX_UPLOAD_BYTES
    # (the file; its multipart envelope comes on top). Larger bodies are answered 413 (server/limits.py).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in DATABASE_SCHEMES:
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("meili_url", "base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return check_http_url(value)

    @field_validator("oidc_issuer")
    @classmethod
    def _oidc_issuer(cls, value: str | None) -> str | None:
        check_http_url(value)
        return value or None

    @field_validator("oidc_providers", mode="before")
    @classmethod
    def _oidc_providers(cls, value: object) -> list[OidcProvider]:
        expected = 'must be a JSON list of {"key", "name", "issuer", "client_id", "client_secret"}'
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except ValueError:
                raise ValueError(expected) from None
        if not isinstance(value, list):
            raise ValueError(expected)
        providers = []
        for number, item in enumerate(value, start=1):
            try:
                providers.append(OidcProvider.model_validate(item))
            except ValidationError as exc:
                # One line naming the entry and the field, e.g. "provider 2: client_secret: Field required".
                error = exc.errors()[0]
                where = ".".join(str(part) for part in error["loc"])
                message = error["msg"].removeprefix("Value error, ")
                raise ValueError(f"provider {number}: {where + ': ' if where else ''}{message}") from None
        return providers

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// or smtps://")
        return value or None

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.kyoso_env == "production" and not self.secret_key:
            raise ValueError("SECRET_KEY is required when KYOSO_ENV=production")
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError("OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required when OIDC_ISSUER is set")
        keys = [provider.key for provider in self.all_oidc_providers]
        if len(keys) != len(set(keys)):
            raise ValueError("OIDC_PROVIDERS: each provider needs its own key")
        return self

    @property
    def all_oidc_providers(self) -> list[OidcProvider]:
        single = []
        if self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret:
            single = [OidcProvider(key="default", name=self.oidc_name, issuer=self.oidc_issuer,
                                   client_id=self.oidc_client_id, client_secret=self.oidc_client_secret)]
        return single + self.oidc_providers

    @property
    def is_dev(self) -> bool:
        return self.kyoso_env == "dev"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _dev_secret_key() -> str:
    """A secret kept under ./var/ so that dev sessions survive a restart."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"configuration error: {name}: {message}") from None
    if settings.secret_key is None:
        settings.secret_key = _dev_secret_key()
    if settings.uses_sqlite:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
