from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

_to_db_value = fields.DatetimeField.to_db_value


def _utc_to_db_value(self: fields.DatetimeField, value: Any, instance: Any) -> Any:
    """Every time goes to the database in UTC. Tortoise passes an aware time on with its own offset
    (say +09:00, from a form or the API), and SQLite stores and compares the text: a deadline written
    as Japan time was never reached by `<=` against UTC. Filters' values pass through here too."""
    value = _to_db_value(self, value, instance)
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo is not None else value


fields.DatetimeField.to_db_value = _utc_to_db_value  # type: ignore[method-assign]


class TimestampedModel(Model):
    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


def translated(value: dict[str, str] | None, locale: str) -> str:
    """Pick the text of a {"ja": ..., "en": ...} field in the reader's language, else the other."""
    if not value:
        return ""
    return value.get(locale) or next((text for text in value.values() if text), "")
