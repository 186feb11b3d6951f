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
    # A member of a round's panel (the round's challenge is repeated for the challenge's queries).
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="panel", on_delete=fields.CASCADE)
    challenge_id: int
    round: fields.ForeignKeyNullableRelation[ReviewRound] = fields.ForeignKeyField(
        "models.ReviewRound", related_name="panel", null=True, on_delete=fields.CASCADE)
    round_id: int | None  # null only before migration 0003 ran
    reviewer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="panels", on_delete=fields.CASCADE)
    reviewer_id: int

    async def save(self, using_db: Any = None, *args: Any, **kwargs: Any) -> None:
        if self.round_id is None:  # made for a challenge: its proposal round's panel
            self.round_id = await proposal_round_id(self.challenge_id, using_db)
        await super().save(using_db, *args, **kwargs)

    class Meta:
        table = "panel_member"
        unique_together = (("round", "reviewer"),)


class Conflict(TimestampedModel):
    # A reviewer's conflict with an organisation (or one subject under review): declared or detected; always
    # excludes. A conflict with a subject names it (subject_kind, subject_id); `proposal` is kept for proposals.

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
    subject_kind = fields.CharField(max_length=16, null=True)
    subject_id = fields.IntField(null=True)
    kind = fields.CharField(max_length=32)
    detected = fields.BooleanField(default=False)
    note = fields.TextField(default="")

    class Meta:
        table = "conflict"


class Assignment(TimestampedModel):
    # A reviewer's review of one subject of a round. `proposal` is the subject when it is a proposal (kept for
    # the proposal flow's queries and the API's `proposal_id`); null for any other kind.
    round: fields.ForeignKeyNullableRelation[ReviewRound] = fields.ForeignKeyField(
        "models.ReviewRound", related_name="assignments", null=True, on_delete=fields.CASCADE)
    round_id: int | None  # null only before migration 0003 ran
    subject_kind = fields.CharField(max_length=16, default="proposal")
    subject_id = fields.IntField(db_index=True)
    proposal: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "models.Proposal", related_name="assignments", null=True, on_delete=fields.CASCADE)
    proposal_id: int | None
    reviewer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="assignments", on_delete=fields.CASCADE)
    reviewer_id: int
    status = fields.CharField(max_length=16, default=AssignmentStatus.ASSIGNED.value, db_index=True)
    due_at = fields.DatetimeField(null=True)
    recusal_reason = fields.TextField(default="")
    review: fields.BackwardOneToOneRelation[Review]

    async def save(self, using_db: Any = None, *args: Any, **kwargs: Any) -> None:
        if self.round_id is None and self.proposal_id is not None:  # made for a proposal: its challenge's round
            challenge_ids = await self._meta.fields_map["proposal"].related_model.filter(  # type: ignore[attr-defined]
                id=self.proposal_id).using_db(using_db).values_list("challenge_id", flat=True)
            self.round_id = await proposal_round_id(challenge_ids[0], using_db)
            self.subject_kind, self.subject_id = SubjectKind.PROPOSAL.value, self.proposal_id
        await super().save(using_db, *args, **kwargs)

    @property
    def the_proposal(self) -> Proposal:
        """The proposal reviewed (fetched), for an assignment whose subject is a proposal."""
        assert self.proposal is not None, "not a proposal's assignment"
        return self.proposal

    @property
    def the_round(self) -> ReviewRound:
        """The round (fetched); every assignment has one since migration 0003."""
        assert isinstance(self.round, ReviewRound), "an assignment without its round fetched"
        return self.round

    class Meta:
        table = "assignment"
        unique_together = (("round", "subject_kind", "subject_id", "reviewer"),)


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
    # A round reviews a set of subjects of one kind for a challenge (its proposals; next, a pilot) with its own
    # panel and rubric: the review form's fields as data (models.review.rubric; empty: the kind's default).
    # `scope_id` says which subjects when the kind needs it (e.g. the pilot); a proposal round has 0.
    # A proposal round takes its deadline, reviews per subject and cap from the challenge; others store them.

    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="review_rounds", on_delete=fields.CASCADE)
    challenge_id: int
    subject_kind = fields.CharField(max_length=16, default=SubjectKind.PROPOSAL.value)
    scope_id = fields.IntField(default=0)  # 0: the whole challenge
    rubric: list = fields.JSONField(default=list)  # [{"key", "kind", "label", "visible_to", "required", ...}]
    due_at = fields.DatetimeField(null=True)
    reviews_per_subject = fields.IntField(null=True)
    max_per_reviewer = fields.IntField(null=True)
    started_at = fields.DatetimeField(null=True)

    class Meta:
        table = "review_round"
        unique_together = (("challenge", "subject_kind", "scope_id"),)


async def proposal_round_id(challenge_id: int, using_db: Any = None) -> int:
    """The id of the challenge's proposal round, made if missing (the full helper: models.review.rounds)."""
    found = await ReviewRound.filter(challenge_id=challenge_id, subject_kind=SubjectKind.PROPOSAL.value,
                                     scope_id=0).using_db(using_db).values_list("id", flat=True)
    if found:
        return int(str(found[0]))
    return (await ReviewRound.create(challenge_id=challenge_id, using_db=using_db)).id
