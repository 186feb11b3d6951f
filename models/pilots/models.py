"""The pilots' tables."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models.core.base import TimestampedModel

if TYPE_CHECKING:
    from models.challenges.models import Attachment, Challenge
    from models.identity.accounts import User
    from models.identity.orgs import Organisation
    from models.proposals.models import Proposal


class PilotStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    PAUSED = "paused"
    UNDER_EVALUATION = "under_evaluation"
    ADOPTED = "adopted"
    EXTENDED = "extended"  # a move, not a resting state: the pilot runs again with a new end date
    STOPPED = "stopped"


class Pilot(TimestampedModel):
    challenge: fields.ForeignKeyRelation[Challenge] = fields.ForeignKeyField("models.Challenge", related_name="pilots", on_delete=fields.RESTRICT)
    challenge_id: int
    proposal: fields.OneToOneRelation[Proposal] = fields.OneToOneField("models.Proposal", related_name="pilot", on_delete=fields.RESTRICT)
    proposal_id: int
    company: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField("models.Organisation", related_name="pilots", on_delete=fields.RESTRICT)
    company_id: int
    owner: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField("models.Organisation", related_name="pilots_owned", on_delete=fields.RESTRICT)
    owner_id: int
    agency_ids: list[int] = fields.JSONField(default=list)  # the owner and the co-owners taking part
    status = fields.CharField(max_length=24, default=PilotStatus.PLANNED.value, db_index=True)
    starts_on = fields.DateField()
    ends_on = fields.DateField(db_index=True)
    status_reason = fields.TextField(default="")
    internal_notes = fields.TextField(default="")
    short_code = fields.CharField(max_length=16, unique=True)  # the residents' short link, /p/<code>
    started_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pilot"


class KpiDirection(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class PilotKpi(TimestampedModel):
    pilot: fields.ForeignKeyRelation[Pilot] = fields.ForeignKeyField("models.Pilot", related_name="kpis", on_delete=fields.CASCADE)
    pilot_id: int
    position = fields.IntField(default=0)
    key = fields.CharField(max_length=40)  # matches CSV rows
    name: dict[str, str] = fields.JSONField(default=dict)
    unit = fields.CharField(max_length=32, default="")
    baseline = fields.FloatField(null=True)
    target = fields.FloatField(null=True)
    direction = fields.CharField(max_length=8, default=KpiDirection.HIGHER.value)
    is_rate = fields.BooleanField(default=False)  # recorded as two counts, shown as a percentage

    class Meta:
        table = "pilot_kpi"
        ordering = ["position", "id"]
        unique_together = (("pilot", "key"),)


class MeasurementStatus(StrEnum):
    RECORDED = "recorded"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Measurement(TimestampedModel):
    kpi: fields.ForeignKeyRelation[PilotKpi] = fields.ForeignKeyField("models.PilotKpi", related_name="measurements", on_delete=fields.CASCADE)
    kpi_id: int
    value = fields.FloatField()  # a rate's percentage, computed from its counts
    numerator = fields.FloatField(null=True)
    denominator = fields.FloatField(null=True)
    measured_on = fields.DateField(db_index=True)
    source = fields.CharField(max_length=200, default="")
    status = fields.CharField(max_length=16, default=MeasurementStatus.RECORDED.value, db_index=True)
    reason = fields.TextField(default="")
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", related_name="measurements", null=True, on_delete=fields.SET_NULL)
    recorded_by_id: int | None

    class Meta:
        table = "pilot_measurement"
        ordering = ["measured_on", "id"]


class MilestoneStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class Milestone(TimestampedModel):
    pilot: fields.ForeignKeyRelation[Pilot] = fields.ForeignKeyField("models.Pilot", related_name="milestones", on_delete=fields.CASCADE)
    pilot_id: int
    title = fields.CharField(max_length=200)
    deliverable = fields.TextField(default="")
    due_on = fields.DateField(db_index=True)
    status = fields.CharField(max_length=16, default=MilestoneStatus.PLANNED.value)
    evidence = fields.TextField(default="")
    # The file sent with the evidence (optional), kept like a challenge's attachments; seen with the evidence.
    evidence_file: fields.ForeignKeyNullableRelation[Attachment] = fields.ForeignKeyField(
        "models.Attachment", related_name="milestones", null=True, on_delete=fields.SET_NULL)
    evidence_file_id: int | None
    reason = fields.TextField(default="")

    class Meta:
        table = "pilot_milestone"
        ordering = ["due_on", "id"]


class MilestoneReminder(TimestampedModel):
    """One row per reminder sent: the unique pair keeps a reminder from going out twice."""

    milestone: fields.ForeignKeyRelation[Milestone] = fields.ForeignKeyField("models.Milestone", related_name="reminders", on_delete=fields.CASCADE)
    milestone_id: int
    moment = fields.CharField(max_length=16)  # "before" or "overdue"

    class Meta:
        table = "pilot_milestone_reminder"
        unique_together = (("milestone", "moment"),)


class Feedback(TimestampedModel):
    """A resident's answer: no account, no personal data."""

    pilot: fields.ForeignKeyRelation[Pilot] = fields.ForeignKeyField("models.Pilot", related_name="feedback", on_delete=fields.CASCADE)
    pilot_id: int
    satisfaction = fields.SmallIntField()
    comment = fields.TextField(default="")
    published = fields.BooleanField(default=False)

    class Meta:
        table = "pilot_feedback"
        ordering = ["-id"]


class CompanySurvey(TimestampedModel):
    """The company's view of how the pilot was run, at its end."""

    pilot: fields.OneToOneRelation[Pilot] = fields.OneToOneField("models.Pilot", related_name="company_survey", on_delete=fields.CASCADE)
    pilot_id: int
    satisfaction = fields.SmallIntField()
    answers: dict[str, Any] = fields.JSONField(default=dict)
    comment = fields.TextField(default="")

    class Meta:
        table = "pilot_company_survey"
