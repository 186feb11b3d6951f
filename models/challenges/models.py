"""Challenges and what hangs off them: criteria, KPIs, co-owners, interest, amendments, Q&A, follows.

Translatable text is stored as {"ja": ..., "en": ...}, as the API shows it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.core.base import TimestampedModel

if TYPE_CHECKING:
    from models.identity.accounts import User
    from models.identity.orgs import Category, Organisation


class ChallengeStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    SCHEDULED = "scheduled"  # approved by an operator, published automatically at publish_at
    PUBLISHED = "published"
    CLOSED = "closed"
    DECIDED = "decided"
    CANCELLED = "cancelled"


# States a visitor may see; everything else is private to the owners and operators.
PUBLIC_STATUSES = (
    ChallengeStatus.PUBLISHED,
    ChallengeStatus.CLOSED,
    ChallengeStatus.DECIDED,
)


class Challenge(TimestampedModel):
    owner: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField("models.Organisation", related_name="challenges", on_delete=fields.RESTRICT)
    owner_id: int
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="challenges_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    category: fields.ForeignKeyNullableRelation[Category] = fields.ForeignKeyField(
        "models.Category", related_name="challenges", null=True, on_delete=fields.SET_NULL
    )
    category_id: int | None
    status = fields.CharField(max_length=24, default=ChallengeStatus.DRAFT.value, db_index=True)
    title: dict[str, str] = fields.JSONField(default=dict)
    summary: dict[str, str] = fields.JSONField(default=dict)
    situation: dict[str, str] = fields.JSONField(default=dict)
    problem: dict[str, str] = fields.JSONField(default=dict)
    outcome: dict[str, str] = fields.JSONField(default=dict)
    tags: list[str] = fields.JSONField(default=list)
    languages: list[str] = fields.JSONField(default=list)
    budget_min_yen = fields.BigIntField(null=True)
    budget_max_yen = fields.BigIntField(null=True)
    pilot_months = fields.IntField(null=True)
    questions_deadline = fields.DatetimeField(null=True)
    proposals_deadline = fields.DatetimeField(null=True, db_index=True)
    review_deadline = fields.DatetimeField(null=True)
    publish_at = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True, db_index=True)
    status_message = fields.TextField(default="")  # operator's request for changes, or the cancel reason
    blind_review = fields.BooleanField(default=False)
    reviews_per_proposal = fields.IntField(default=3)
    max_per_reviewer = fields.IntField(null=True)
    followers: fields.ReverseRelation[Follow]

    class Meta:
        table = "challenge"


class Criterion(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="criteria", on_delete=fields.CASCADE)
    challenge_id: int
    position = fields.IntField(default=0)
    name: dict[str, str] = fields.JSONField(default=dict)
    weight = fields.IntField()
    levels: list[dict[str, str]] = fields.JSONField(default=list)  # five descriptions, for scores 1 to 5

    class Meta:
        table = "criterion"
        ordering = ["position", "id"]


class ChallengeKpi(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="kpis", on_delete=fields.CASCADE)
    challenge_id: int
    position = fields.IntField(default=0)
    name: dict[str, str] = fields.JSONField(default=dict)
    unit = fields.CharField(max_length=32, default="")
    baseline = fields.FloatField(null=True)
    target = fields.FloatField(null=True)

    class Meta:
        table = "challenge_kpi"
        ordering = ["position", "id"]


class CoOwner(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="co_owners", on_delete=fields.CASCADE)
    challenge_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="co_owned", on_delete=fields.CASCADE
    )
    organisation_id: int
    accepted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "challenge_co_owner"
        unique_together = (("challenge", "organisation"),)


class Interest(TimestampedModel):
    # An agency saying "we have this problem too".

    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="interests", on_delete=fields.CASCADE)
    challenge_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="interests", on_delete=fields.CASCADE
    )
    organisation_id: int
    note = fields.TextField(default="")

    class Meta:
        table = "challenge_interest"
        unique_together = (("challenge", "organisation"),)


class Amendment(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="amendments", on_delete=fields.CASCADE)
    challenge_id: int
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", related_name="amendments", null=True, on_delete=fields.SET_NULL)
    author_id: int | None
    changes: dict[str, Any] = fields.JSONField(default=dict)  # field -> {"before": ..., "after": ...}
    reason = fields.TextField(default="")

    class Meta:
        table = "challenge_amendment"


class Question(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="questions", on_delete=fields.CASCADE)
    challenge_id: int
    asker: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", related_name="questions", null=True, on_delete=fields.SET_NULL)
    asker_id: int | None
    asker_organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="questions", null=True, on_delete=fields.SET_NULL
    )
    asker_organisation_id: int | None
    body = fields.TextField()
    answer = fields.TextField(default="")
    answered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="answers", null=True, on_delete=fields.SET_NULL
    )
    answered_by_id: int | None
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "challenge_question"


class Follow(TimestampedModel):
    # A person following one challenge, or a saved search (its query parameters).

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField("models.User", related_name="follows", on_delete=fields.CASCADE)
    user_id: int
    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="followers", null=True, on_delete=fields.CASCADE
    )
    challenge_id: int | None
    saved_query: dict[str, Any] | None = fields.JSONField(null=True)

    class Meta:
        table = "follow"


class Attachment(TimestampedModel):
    # A file on a challenge or a proposal; its type is checked by content, its bytes kept by digest.

    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    challenge_id: int | None
    # A Proposal; plain Model since proposals import challenges, not the other way round.
    proposal: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.Proposal", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    proposal_id: int | None
    uploaded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_id: int | None
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)

    class Meta:
        table = "attachment"
