"""Challenges and what hangs off them: criteria, KPIs, co-owners, interest, amendments, Q&A, follows.

Translatable text is stored as {"ja": ..., "en": ...}, as the API shows it.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.core.base import TimestampedModel


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
    owner = fields.ForeignKeyField("models.Organisation", related_name="challenges", on_delete=fields.RESTRICT)
    created_by = fields.ForeignKeyField(
        "models.User", related_name="challenges_created", null=True, on_delete=fields.SET_NULL
    )
    category = fields.ForeignKeyField(
        "models.Category", related_name="challenges", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharField(max_length=24, default=ChallengeStatus.DRAFT.value, db_index=True)
    title = fields.JSONField(default=dict)
    summary = fields.JSONField(default=dict)
    situation = fields.JSONField(default=dict)
    problem = fields.JSONField(default=dict)
    outcome = fields.JSONField(default=dict)
    tags = fields.JSONField(default=list)
    languages = fields.JSONField(default=list)
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

    class Meta:
        table = "challenge"


class Criterion(TimestampedModel):
    challenge = fields.ForeignKeyField("models.Challenge", related_name="criteria", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.JSONField(default=dict)
    weight = fields.IntField()
    levels = fields.JSONField(default=list)  # five descriptions, for scores 1 to 5

    class Meta:
        table = "criterion"
        ordering = ["position", "id"]


class ChallengeKpi(TimestampedModel):
    challenge = fields.ForeignKeyField("models.Challenge", related_name="kpis", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.JSONField(default=dict)
    unit = fields.CharField(max_length=32, default="")
    baseline = fields.FloatField(null=True)
    target = fields.FloatField(null=True)

    class Meta:
        table = "challenge_kpi"
        ordering = ["position", "id"]


class CoOwner(TimestampedModel):
    challenge = fields.ForeignKeyField("models.Challenge", related_name="co_owners", on_delete=fields.CASCADE)
    organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="co_owned", on_delete=fields.CASCADE
    )
    accepted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "challenge_co_owner"
        unique_together = (("challenge", "organisation"),)


class Interest(TimestampedModel):
    # An agency saying "we have this problem too".

    challenge = fields.ForeignKeyField("models.Challenge", related_name="interests", on_delete=fields.CASCADE)
    organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="interests", on_delete=fields.CASCADE
    )
    note = fields.TextField(default="")

    class Meta:
        table = "challenge_interest"
        unique_together = (("challenge", "organisation"),)


class Amendment(TimestampedModel):
    challenge = fields.ForeignKeyField("models.Challenge", related_name="amendments", on_delete=fields.CASCADE)
    author = fields.ForeignKeyField("models.User", related_name="amendments", null=True, on_delete=fields.SET_NULL)
    changes = fields.JSONField(default=dict)  # field -> {"before": ..., "after": ...}
    reason = fields.TextField(default="")

    class Meta:
        table = "challenge_amendment"


class Question(TimestampedModel):
    challenge = fields.ForeignKeyField("models.Challenge", related_name="questions", on_delete=fields.CASCADE)
    asker = fields.ForeignKeyField("models.User", related_name="questions", null=True, on_delete=fields.SET_NULL)
    asker_organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="questions", null=True, on_delete=fields.SET_NULL
    )
    body = fields.TextField()
    answer = fields.TextField(default="")
    answered_by = fields.ForeignKeyField(
        "models.User", related_name="answers", null=True, on_delete=fields.SET_NULL
    )
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "challenge_question"


class Follow(TimestampedModel):
    # A person following one challenge, or a saved search (its query parameters).

    user = fields.ForeignKeyField("models.User", related_name="follows", on_delete=fields.CASCADE)
    challenge = fields.ForeignKeyField(
        "models.Challenge", related_name="followers", null=True, on_delete=fields.CASCADE
    )
    saved_query = fields.JSONField(null=True)

    class Meta:
        table = "follow"


class Attachment(TimestampedModel):
    # A file on a challenge or a proposal; its type is checked by content, its bytes kept by digest.

    challenge = fields.ForeignKeyField(
        "models.Challenge", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    proposal = fields.ForeignKeyField(
        "models.Proposal", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    uploaded_by = fields.ForeignKeyField(
        "models.User", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)

    class Meta:
        table = "attachment"
