"""The solutions' tables: the case study, its corrections, adoptions, joint procurement rounds."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from models.core.base import TimestampedModel, translated

if TYPE_CHECKING:
    from models.challenges.models import Challenge
    from models.identity.accounts import User
    from models.identity.orgs import Organisation
    from models.pilots.models import Pilot


class SolutionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Solution(TimestampedModel):
    """A case study: what a pilot solved, for whom, at what cost, with which measured results."""

    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="solutions", null=True, on_delete=fields.RESTRICT
    )
    challenge_id: int | None
    pilot: fields.OneToOneNullableRelation[Pilot] = fields.OneToOneField(
        "models.Pilot", related_name="solution", null=True, on_delete=fields.RESTRICT
    )
    pilot_id: int | None
    company: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="solutions", on_delete=fields.RESTRICT
    )
    company_id: int
    owner: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="solutions_owned", on_delete=fields.RESTRICT
    )
    owner_id: int
    agency_ids: list[int] = fields.JSONField(default=list)  # the original agencies (the pilot's owner and co-owners)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="solutions_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    status = fields.CharField(max_length=16, default=SolutionStatus.DRAFT.value, db_index=True)
    status_reason = fields.TextField(default="")  # operator's request for changes, or why it was withdrawn
    title: dict[str, str] = fields.JSONField(default=dict)
    summary: dict[str, str] = fields.JSONField(default=dict)
    # Snapshot of the pilot's measured results when drafted: [{"key", "kpi": {ja, en}, "baseline", "latest", "unit"}]
    results: list[dict[str, Any]] = fields.JSONField(default=list)
    positive_share = fields.FloatField(null=True)  # residents' feedback, 0..1
    feedback_count = fields.IntField(default=0)
    cost_yen = fields.BigIntField(null=True)  # what the pilot cost
    initial_cost_yen = fields.BigIntField(null=True)  # what adopting it costs up front (the company's figure)
    yearly_cost_yen = fields.BigIntField(null=True)  # and per year
    starts_on = fields.DateField(null=True)  # the pilot period
    ends_on = fields.DateField(null=True)
    spec_shareable = fields.BooleanField(default=False)  # whether the specification can be shared
    contact = fields.CharField(max_length=300, default="")
    documents: list[dict[str, str]] = fields.JSONField(default=list)  # [{"title", "url"}]
    published_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "solution"

    def title_in(self, locale: str) -> str:
        return translated(self.title, locale)

    def summary_in(self, locale: str) -> str:
        return translated(self.summary, locale)


class CorrectionStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class SolutionCorrection(TimestampedModel):
    """A change the company proposes to a solution's text or figures, which the owners accept or reject."""

    solution: fields.ForeignKeyRelation[Solution] = fields.ForeignKeyField(
        "models.Solution", related_name="corrections", on_delete=fields.CASCADE
    )
    solution_id: int
    proposed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="solution_corrections", null=True, on_delete=fields.SET_NULL
    )
    proposed_by_id: int | None
    changes: dict[str, Any] = fields.JSONField(default=dict)  # field -> {"before": ..., "after": ...}
    note = fields.TextField(default="")
    status = fields.CharField(max_length=16, default=CorrectionStatus.PROPOSED.value, db_index=True)
    reason = fields.TextField(default="")
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="solution_corrections_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "solution_correction"
        ordering = ["-id"]


class AdoptionStatus(StrEnum):
    CONSIDERING = "considering"
    CONTRACTED = "contracted"
    LIVE = "live"
    DROPPED = "dropped"


class Adoption(TimestampedModel):
    """"We use this too", stated by the adopting agency itself, keyed by its municipality code."""

    solution: fields.ForeignKeyRelation[Solution] = fields.ForeignKeyField(
        "models.Solution", related_name="adoptions", on_delete=fields.CASCADE
    )
    solution_id: int
    agency: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="adoptions", on_delete=fields.RESTRICT
    )
    agency_id: int
    municipality_code = fields.CharField(max_length=6, db_index=True)  # the adopting agency's, copied when stated
    status = fields.CharField(max_length=16, default=AdoptionStatus.CONSIDERING.value, db_index=True)
    status_reason = fields.TextField(default="")  # why it was dropped
    starts_on = fields.DateField(null=True)
    scale = fields.IntField(null=True)  # residents or users covered
    initial_cost_yen = fields.BigIntField(null=True)
    yearly_cost_yen = fields.BigIntField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="adoptions_stated", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    last_confirmed_at = fields.DatetimeField(null=True, db_index=True)  # an operator's yearly re-confirmation of a live one
    stale = fields.BooleanField(default=False, db_index=True)  # live but not re-confirmed for over a year

    class Meta:
        table = "solution_adoption"
        unique_together = (("solution", "agency"),)


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CONTRACTED = "contracted"


class EstimateSource(StrEnum):
    QUOTE = "quote"
    LAST_CONTRACT = "last_contract"
    ESTIMATE = "estimate"


class ProcurementRound(TimestampedModel):
    """A joint procurement round: agencies buy one item together and share the contract by quantity."""

    lead: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="procurement_rounds_led", on_delete=fields.RESTRICT
    )
    lead_id: int
    solution: fields.ForeignKeyNullableRelation[Solution] = fields.ForeignKeyField(
        "models.Solution", related_name="procurement_rounds", null=True, on_delete=fields.RESTRICT
    )
    solution_id: int | None
    challenge: fields.ForeignKeyNullableRelation[Challenge] = fields.ForeignKeyField(
        "models.Challenge", related_name="procurement_rounds", null=True, on_delete=fields.RESTRICT
    )
    challenge_id: int | None
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="procurement_rounds_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    item_ja = fields.CharField(max_length=200, default="")
    item_en = fields.CharField(max_length=200, default="")
    unit = fields.CharField(max_length=32)  # licence, seat, resident...
    closes_at = fields.DatetimeField(db_index=True)
    status = fields.CharField(max_length=16, default=RoundStatus.OPEN.value, db_index=True)
    closed_at = fields.DatetimeField(null=True)
    contract_price_yen = fields.BigIntField(null=True)
    company: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="procurement_rounds_won", null=True, on_delete=fields.RESTRICT
    )
    company_id: int | None
    contracted_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "procurement_round"

    def item(self, locale: str) -> str:
        return translated({"ja": self.item_ja, "en": self.item_en}, locale)


class RoundMember(TimestampedModel):
    """An agency in a round: its quantity, what it would pay alone (and where that figure came from), its share."""

    round: fields.ForeignKeyRelation[ProcurementRound] = fields.ForeignKeyField(
        "models.ProcurementRound", related_name="members", on_delete=fields.CASCADE
    )
    round_id: int
    agency: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="procurement_memberships", on_delete=fields.RESTRICT
    )
    agency_id: int
    quantity = fields.IntField()
    solo_estimate_yen = fields.BigIntField()
    estimate_source = fields.CharField(max_length=16, default=EstimateSource.ESTIMATE.value)
    population = fields.IntField(null=True)  # the participant's population and staff, as the dashboard records them
    staff = fields.IntField(null=True)
    share_yen = fields.BigIntField(null=True)  # set when the contract is recorded; the shares sum to the price
    saving_yen = fields.BigIntField(null=True)  # solo estimate - share (may be negative)

    class Meta:
        table = "procurement_round_member"
        ordering = ["id"]
        unique_together = (("round", "agency"),)
