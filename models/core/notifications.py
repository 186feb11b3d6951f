"""In-app notifications; e-mail copies go out through the outbox."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    id = fields.IntField(primary_key=True)
    # A User, typed as a plain model: core imports no area (the areas import core).
    user: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField("models.User", related_name="notifications", on_delete=fields.CASCADE)
    user_id: int
    kind = fields.CharField(max_length=64)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        ordering = ["-created_at", "-id"]
