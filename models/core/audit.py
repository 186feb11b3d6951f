"""The audit log: append-only, who did what to which object, when and from where."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    # Typed as plain models: core imports no area (the areas import core).
    actor: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField("models.User", related_name="audit_events", null=True, on_delete=fields.SET_NULL)
    actor_id: int | None
    organisation: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.Organisation", related_name="audit_events", null=True, on_delete=fields.SET_NULL
    )
    organisation_id: int | None
    action = fields.CharField(max_length=64, db_index=True)
    target_type = fields.CharField(max_length=32, default="")
    target_id = fields.CharField(max_length=64, default="")
    before: dict[str, Any] | None = fields.JSONField(null=True)
    after: dict[str, Any] | None = fields.JSONField(null=True)
    client_address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "audit_event"
        ordering = ["-id"]


async def record(
    action: str,
    *,
    actor: Any = None,
    organisation: Any = None,
    target: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    client_address: str = "",
    using_db: Any = None,
) -> AuditEvent:
    """Write one audit event; call it inside the transaction that made the change."""
    return await AuditEvent.create(
        action=action,
        actor=actor,
        organisation=organisation,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        before=before,
        after=after,
        client_address=client_address,
        using_db=using_db,
    )


def search(
    *,
    action: str = "",
    actor_email: str = "",
    target_type: str = "",
    target_id: str = "",
    since: Any = None,
    until: Any = None,
):
    """The audit events matching the filters, newest first (a queryset, to page or export)."""
    query = AuditEvent.all().prefetch_related("actor", "organisation")
    if action:
        query = query.filter(action__startswith=action)
    if actor_email:
        query = query.filter(actor__email=actor_email.strip().lower())
    if target_type:
        query = query.filter(target_type=target_type)
    if target_id:
        query = query.filter(target_id=target_id)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    return query.order_by("-id")
