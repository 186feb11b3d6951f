"""Proposals and their submitted versions."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models.core.base import TimestampedModel

if TYPE_CHECKING:
    from models.challenges.models import Challenge
    from models.identity.accounts import User
    from models.identity.orgs import Organisation


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    SHORTLISTED = "shortlisted"
    NOT_SELECTED = "not_selected"
    SELECTED = "selected"
    WITHDRAWN = "withdrawn"
    INELIGIBLE = "ineligible"


class Proposal(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="proposals", on_delete=fields.RESTRICT)
    challenge_id: int
    company: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField("models.Organisation", related_name="proposals", on_delete=fields.RESTRICT)
    company_id: int
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="proposals_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    status = fields.CharField(max_length=24, default=ProposalStatus.DRAFT.value, db_index=True)
    title = fields.CharField(max_length=300, default="")
    summary = fields.TextField(default="")
    approach = fields.TextField(default="")
    cost_yen = fields.BigIntField(null=True)
    schedule = fields.TextField(default="")
    team = fields.TextField(default="")
    track_record = fields.TextField(default="")
    kpis: list[Any] = fields.JSONField(default=list)
    declared_conflicts: list[int] = fields.JSONField(default=list)  # organisation ids the company declares
    version = fields.IntField(default=0)
    submitted_at = fields.DatetimeField(null=True)
    reference = fields.CharField(max_length=32, null=True, unique=True)
    status_reason = fields.TextField(default="")  # withdrawal or decision reason

    class Meta:
        table = "proposal"
        unique_together = (("challenge", "company"),)


class ProposalVersion(TimestampedModel):
    # What was submitted, frozen, with the SHA-256 digest given in the receipt.

    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField("models.Proposal", related_name="versions", on_delete=fields.CASCADE)
    proposal_id: int
    version = fields.IntField()
    content: dict[str, Any] = fields.JSONField()
    sha256 = fields.CharField(max_length=64)
    submitted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="proposal_versions", null=True, on_delete=fields.SET_NULL
    )
    submitted_by_id: int | None

    class Meta:
        table = "proposal_version"
        unique_together = (("proposal", "version"),)
