"""Proposals and their submitted versions."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.core.base import TimestampedModel


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
    challenge = fields.ForeignKeyField("models.Challenge", related_name="proposals", on_delete=fields.RESTRICT)
    company = fields.ForeignKeyField("models.Organisation", related_name="proposals", on_delete=fields.RESTRICT)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="proposals_created", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharField(max_length=24, default=ProposalStatus.DRAFT.value, db_index=True)
    title = fields.CharField(max_length=300, default="")
    summary = fields.TextField(default="")
    approach = fields.TextField(default="")
    cost_yen = fields.BigIntField(null=True)
    schedule = fields.TextField(default="")
    team = fields.TextField(default="")
    track_record = fields.TextField(default="")
    kpis = fields.JSONField(default=list)
    declared_conflicts = fields.JSONField(default=list)  # organisation ids the company declares
    version = fields.IntField(default=0)
    submitted_at = fields.DatetimeField(null=True)
    reference = fields.CharField(max_length=32, null=True, unique=True)
    status_reason = fields.TextField(default="")  # withdrawal or decision reason

    class Meta:
        table = "proposal"
        unique_together = (("challenge", "company"),)


class ProposalVersion(TimestampedModel):
    # What was submitted, frozen, with the SHA-256 digest given in the receipt.

    proposal = fields.ForeignKeyField("models.Proposal", related_name="versions", on_delete=fields.CASCADE)
    version = fields.IntField()
    content = fields.JSONField()
    sha256 = fields.CharField(max_length=64)
    submitted_by = fields.ForeignKeyField(
        "models.User", related_name="proposal_versions", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "proposal_version"
        unique_together = (("proposal", "version"),)
