"""Configuration, read from the environment once at start and validated.

A wrong value stops the start with one line naming the variable (see `load_settings`).
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path.cwd() / "var"

DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg", "psycopg")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line naming the variable."""


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
    # OpenID Connect: one provider, configured by issuer URL and client credentials.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str = "OpenID Connect"

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

    @field_validator("meili_url", "base_url", "oidc_issuer")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// or smtps://")
        return value or None

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> "Settings":
        if self.kyoso_env == "production" and not self.secret_key:
            raise ValueError("SECRET_KEY is required when KYOSO_ENV=production")
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        return self

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
