from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


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
