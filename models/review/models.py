"""Review panels, conflicts of interest, assignments, reviews and the reminders sent for them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models.core.base import TimestampedModel

if TYPE_CHECKING:
    from models.challenges.models import Challenge
    from models.identity.accounts import User
    from models.identity.orgs import Organisation
    from models.proposals.models import Proposal


class ConflictKind(StrEnum):
    EMPLOYED_BY = "employed_by"
    ADVISED = "advised"
    FINANCIAL_INTEREST = "financial_interest"
    FAMILY = "family"
    OTHER = "other"


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    RECUSED = "recused"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class PanelMember(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="panel", on_delete=fields.CASCADE)
    challenge_id: int
    reviewer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="panels", on_delete=fields.CASCADE)
    reviewer_id: int

    class Meta:
        table = "panel_member"
        unique_together = (("challenge", "reviewer"),)


class Conflict(TimestampedModel):
    # A reviewer's conflict with an organisation (or one proposal): declared or detected; always excludes.

    reviewer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="conflicts", on_delete=fields.CASCADE)
    reviewer_id: int
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="reviewer_conflicts", null=True, on_delete=fields.CASCADE
    )
    organisation_id: int | None
    proposal: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "models.Proposal", related_name="conflicts", null=True, on_delete=fields.CASCADE
    )
    proposal_id: int | None
    kind = fields.CharField(max_length=32)
    detected = fields.BooleanField(default=False)
    note = fields.TextField(default="")

    class Meta:
        table = "conflict"


class Assignment(TimestampedModel):
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField("models.Proposal", related_name="assignments", on_delete=fields.CASCADE)
    proposal_id: int
    reviewer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="assignments", on_delete=fields.CASCADE)
    reviewer_id: int
    status = fields.CharField(max_length=16, default=AssignmentStatus.ASSIGNED.value, db_index=True)
    due_at = fields.DatetimeField(null=True)
    recusal_reason = fields.TextField(default="")
    review: fields.BackwardOneToOneRelation[Review]

    class Meta:
        table = "assignment"
        unique_together = (("proposal", "reviewer"),)


class Review(TimestampedModel):
    assignment: fields.OneToOneRelation[Assignment] = fields.OneToOneField("models.Assignment", related_name="review", on_delete=fields.CASCADE)
    assignment_id: int
    scores: dict[str, Any] = fields.JSONField(default=dict)  # criterion id -> 1..5
    comments: dict[str, Any] = fields.JSONField(default=dict)  # criterion id -> text
    strengths = fields.TextField(default="")
    weaknesses = fields.TextField(default="")
    feedback = fields.TextField(default="")
    confidence = fields.IntField(null=True)
    answers: dict = fields.JSONField(default=dict)  # the round's rubric fields that are not columns: key -> value
    no_conflict = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16, default=ReviewStatus.DRAFT.value)
    total = fields.FloatField(null=True)
    submitted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "review"


class ReminderSent(TimestampedModel):
    # One row per (assignment, moment), so that a reminder is never sent twice.

    assignment: fields.ForeignKeyRelation[Assignment] = fields.ForeignKeyField("models.Assignment", related_name="reminders", on_delete=fields.CASCADE)
    assignment_id: int
    moment = fields.CharField(max_length=32)

    class Meta:
        table = "reminder_sent"
        unique_together = (("assignment", "moment"),)


class SubjectKind(StrEnum):
    PROPOSAL = "proposal"
    PILOT = "pilot"


class ReviewRound(TimestampedModel):
    # A round reviews a set of subjects of one kind for a challenge (today its proposals; next its pilots) with
    # its own rubric: the review form's fields as data (models.review.rubric). No row: the kind's default.

    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="review_rounds", on_delete=fields.CASCADE)
    challenge_id: int
    subject_kind = fields.CharField(max_length=16, default=SubjectKind.PROPOSAL.value)
    rubric: list = fields.JSONField(default=list)  # [{"key", "kind", "label", "visible_to", "required", "low", "high"}]

    class Meta:
        table = "review_round"
        unique_together = (("challenge", "subject_kind"),)
