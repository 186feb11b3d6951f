"""How the ORM is configured: one list of model modules, one migrations package."""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url

MODEL_MODULES = [
    "models.identity.orgs",
    "models.identity.accounts",
    "models.challenges.models",
    "models.proposals.models",
    "models.review.models",
    "models.partners.models",
    "models.pilots.models",
    "models.solutions.models",
    "models.core.notifications",
    "models.core.audit",
    "models.core.outbox",
    "models.insights.models",
]


class PooledConnection(asyncpg.Connection):
    """A PostgreSQL connection handed back to the pool without asyncpg's reset statement (advisory locks, cursors,
    LISTEN, SET), a round trip after every statement outside a transaction: Kyoso leaves none of these behind.
    An open transaction is still rolled back (asyncpg does that before asking for the reset statement)."""

    def get_reset_query(self) -> str:
        return ""


def tortoise_config(database_url: str) -> dict[str, Any]:
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(("postgres://", "postgresql://")):
        connection = expand_db_url(database_url)
        if connection["engine"] == "tortoise.backends.asyncpg":
            connection["credentials"]["connection_class"] = PooledConnection
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def database_up() -> bool:
    """A round trip to the database (readiness checks)."""
    await connections.get("default").execute_query("SELECT 1")
    return True


# For Tortoise's own CLI when writing a new migration:
#   tortoise -c models.database.MIGRATIONS_CONFIG makemigrations --name what_changed
MIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether an error says the database cannot be reached now (refused, restarting, a connection cut), as
    opposed to a mistake in a query: the first is a 503 to try again, the second a bug."""
    import asyncpg  # the PostgreSQL driver; SQLite has no server to lose

    unavailable = (
        ConnectionError,  # refused or reset (Tortoise's DBConnectionError is one)
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, terminated by the operator
        asyncpg.InterfaceError,  # e.g. the connection was closed in the middle of an operation
        asyncpg.exceptions.InternalClientError,  # a pooled connection left in a broken state by the cut
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, unavailable):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
