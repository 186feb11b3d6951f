"""How the ORM is configured: one list of model modules, one migrations package."""

from __future__ import annotations

from typing import Any

from tortoise import connections

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


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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
