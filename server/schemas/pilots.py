"""Schemas for pilots, their KPIs, measurements, milestones and residents' feedback (API and forms)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.core.errors import JST
from models.identity.orgs import Organisation
from models.pilots.evaluation import Evaluation, PilotRanking
from models.pilots.feedback import COMMENT_MAX, Satisfaction
from models.pilots.measurements import KpiProgress
from models.pilots.models import Measurement, Milestone, Pilot, PilotKpi
from models.review.closing import Feedback
from server.ids import Id
from server.schemas.reviews import PanelReviewer, RubricIn, RubricOut, bilingual

Text = dict[Literal["ja", "en"], str]


def _names(organisation: Organisation) -> dict[str, str]:
    return {lang: name for lang, name in (("ja", organisation.name_ja), ("en", organisation.name_en)) if name}


class PilotIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'proposal_id': 42, 'starts_on': '2027-04-01', 'ends_on': '2027-09-30'}]})

    proposal_id: Id
    starts_on: date | None = None
    ends_on: date | None = None


class PilotPatchIn(BaseModel):
    """Dates (owners, while planned) and internal notes (the company and the owners)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'ends_on': '2027-10-31', 'internal_notes': 'Extended by one month for the busy season.'}]})

    starts_on: date | None = None
    ends_on: date | None = None
    internal_notes: str | None = Field(default=None, max_length=10_000)


class PilotKpiIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(default="", max_length=40)
    name: Text
    unit: str = Field(default="", max_length=32)
    baseline: float | None = Field(default=None, allow_inf_nan=False)
    target: float | None = Field(default=None, allow_inf_nan=False)
    direction: Literal["higher", "lower"] = "higher"
    is_rate: bool = False


class PilotKpisIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'kpis': [{'key': 'completion', 'name': {'ja': '10分以内に完了した割合', 'en': 'Completed within 10 minutes'}, 'unit': '%', 'baseline': 7, 'target': 60, 'direction': 'higher', 'is_rate': True}]}]})

    kpis: list[PilotKpiIn] = Field(max_length=30)


class PilotTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'to': 'running', 'reason': ''}]})

    to: str = Field(max_length=32)
    reason: str = Field(default="", max_length=2000)
    ends_on: date | None = None


class PilotListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str = Field(default="", max_length=16, pattern="^[a-z_]*$")
    agency: Id | None = None
    company: Id | None = None
    challenge: Id | None = None


class PilotKpiOut(BaseModel):
    id: int
    key: str
    name: dict[str, str]
    unit: str
    baseline: float | None
    target: float | None
    direction: str
    is_rate: bool
    latest: float | None = Field(description="the latest verified value")
    progress: float | None = Field(description="(latest − baseline) / (target − baseline)")
    on_track: bool | None

    @classmethod
    def of(cls, kpi: PilotKpi, progress: KpiProgress | None = None) -> PilotKpiOut:
        return cls(id=kpi.id, key=kpi.key, name=kpi.name, unit=kpi.unit, baseline=kpi.baseline, target=kpi.target,
                   direction=kpi.direction, is_rate=kpi.is_rate, latest=progress.latest if progress else None,
                   progress=round(progress.progress, 4) if progress and progress.progress is not None else None,
                   on_track=progress.on_track if progress else None)


class MilestoneOut(BaseModel):
    id: int
    title: str
    due_on: date
    status: str
    deliverable: str
    evidence: str | None = Field(default=None, description="for the company, the owners and operators")
    reason: str | None = Field(default=None, description="for the company, the owners and operators")
    evidence_file_url: str | None = Field(default=None, description="the file sent with the evidence, if any; "
                                          "for the company, the owners and operators")

    @classmethod
    def of(cls, milestone: Milestone, internals: bool) -> MilestoneOut:
        file_url = f"/milestones/{milestone.id}/evidence" if internals and milestone.evidence_file_id else None
        return cls(id=milestone.id, title=milestone.title, due_on=milestone.due_on, status=milestone.status,
                   deliverable=milestone.deliverable, evidence=milestone.evidence if internals else None,
                   reason=milestone.reason if internals else None, evidence_file_url=file_url)


class SatisfactionOut(BaseModel):
    responses: int
    positive_share: float | None = Field(description="the share of 4 and 5 answers")
    per_level: dict[str, int]

    @classmethod
    def of(cls, satisfaction: Satisfaction) -> SatisfactionOut:
        share = satisfaction.positive_share
        return cls(responses=satisfaction.responses, positive_share=round(share, 4) if share is not None else None,
                   per_level={str(level): count for level, count in satisfaction.per_level.items()})


class PilotOrganisationRef(BaseModel):
    id: int
    name: dict[str, str]


class PilotOut(BaseModel):
    id: int
    challenge_id: int
    proposal_id: int
    company: PilotOrganisationRef
    agencies: list[PilotOrganisationRef]
    status: str
    starts_on: date
    ends_on: date
    status_reason: str
    feedback_url: str = Field(description="the residents' short link, a path")
    kpis: list[PilotKpiOut]
    milestones: list[MilestoneOut]
    satisfaction: SatisfactionOut
    allowed_transitions: list[str]
    internal_notes: str | None = Field(default=None, description="for the company, the owners and operators")

    @classmethod
    def of(cls, pilot: Pilot, agencies: list[Organisation], progress: list[KpiProgress], milestones: list[Milestone],
           satisfaction: Satisfaction, allowed: list[str], internals: bool) -> PilotOut:
        return cls(
            id=pilot.id, challenge_id=pilot.challenge_id, proposal_id=pilot.proposal_id,
            company=PilotOrganisationRef(id=pilot.company.id, name=_names(pilot.company)),
            agencies=[PilotOrganisationRef(id=a.id, name=_names(a)) for a in agencies], status=pilot.status,
            starts_on=pilot.starts_on, ends_on=pilot.ends_on, status_reason=pilot.status_reason,
            feedback_url=f"/p/{pilot.short_code}", kpis=[PilotKpiOut.of(p.kpi, p) for p in progress],
            milestones=[MilestoneOut.of(m, internals) for m in milestones], satisfaction=SatisfactionOut.of(satisfaction),
            allowed_transitions=allowed, internal_notes=pilot.internal_notes if internals else None,
        )


class PilotBrief(BaseModel):
    id: int
    challenge_id: int
    proposal_id: int
    company: PilotOrganisationRef
    status: str
    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, pilot: Pilot) -> PilotBrief:
        return cls(id=pilot.id, challenge_id=pilot.challenge_id, proposal_id=pilot.proposal_id,
                   company=PilotOrganisationRef(id=pilot.company.id, name=_names(pilot.company)), status=pilot.status,
                   starts_on=pilot.starts_on, ends_on=pilot.ends_on)


class PilotListOut(BaseModel):
    items: list[PilotBrief]
    total: int


class KpiListOut(BaseModel):
    items: list[PilotKpiOut]


class MeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'numerator': 1000, 'denominator': 2000, 'measured_on': '2027-05-31', 'source': 'Service analytics, May'}]})

    value: float | None = Field(default=None, allow_inf_nan=False)
    numerator: float | None = Field(default=None, allow_inf_nan=False, ge=0)
    denominator: float | None = Field(default=None, allow_inf_nan=False, gt=0)
    measured_on: date
    source: str = Field(default="", max_length=200)


class MeasurementOut(BaseModel):
    id: int
    kpi_id: int
    value: float
    numerator: float | None
    denominator: float | None
    measured_on: date
    source: str
    status: str
    reason: str

    @classmethod
    def of(cls, m: Measurement) -> MeasurementOut:
        return cls(id=m.id, kpi_id=m.kpi_id, value=m.value, numerator=m.numerator, denominator=m.denominator,
                   measured_on=m.measured_on, source=m.source, status=m.status, reason=m.reason)


class MeasurementListOut(BaseModel):
    items: list[MeasurementOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'to': 'adopted', 'reason': 'The completion rate reached its target.'}]})

    to: str = Field(max_length=32)
    reason: str = Field(default="", max_length=2000)


class CsvRefusal(BaseModel):
    line: int
    message: str


class CsvReportOut(BaseModel):
    recorded: int
    refused: list[CsvRefusal]


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'title': 'Reservation system live at two counters', 'due_on': '2027-05-15', 'deliverable': 'Go-live report'}]})

    title: str = Field(min_length=1, max_length=200)
    due_on: date
    deliverable: str = Field(default="", max_length=2000)


class MilestoneListOut(BaseModel):
    items: list[MilestoneOut]


class MilestoneTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'to': 'done', 'note': 'Live since 12 May; report attached.'}]})

    to: str = Field(max_length=32)
    note: str = Field(default="", max_length=4000, description="the evidence (done) or the reason (returned)")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'satisfaction': 5, 'comment': '予約できて待ち時間がなかった。'}]})

    satisfaction: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=COMMENT_MAX)


class PilotFeedbackOut(BaseModel):
    id: int
    satisfaction: int
    comment: str
    published: bool


class CommentListOut(BaseModel):
    items: list[PilotFeedbackOut]


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'published': True}]})

    published: bool = True


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'satisfaction': 4, 'answers': {'support': 4}, 'comment': 'Clear milestones; payments were slow.'}]})

    satisfaction: int = Field(ge=1, le=5)
    answers: dict[str, int] = Field(default_factory=dict)
    comment: str = Field(default="", max_length=COMMENT_MAX)


class SurveyOut(BaseModel):
    satisfaction: int
    answers: dict[str, Any]
    comment: str


class KpiTemplateOut(BaseModel):
    key: str
    name: dict[str, str]
    unit: str
    direction: str
    is_rate: bool


class KpiTemplateListOut(BaseModel):
    items: list[KpiTemplateOut]


# --- the evaluation round (models.pilots.evaluation) -------------------------------------------


class PilotPanelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'reviewers': [31, 32], 'reviews_per_subject': 2, 'max_per_reviewer': None}]})

    reviewers: list[Id] = Field(max_length=500, description="user ids from the reviewer pool")
    reviews_per_subject: int = Field(default=2, ge=1, le=20, description="how many reviewers evaluate the pilot")
    max_per_reviewer: int | None = Field(default=None, ge=1, le=10000, description="null: no cap")


class PilotEvaluationOut(BaseModel):
    """The pilot's evaluation round: its panel, settings and form (scored criteria and other fields)."""

    round_id: int
    reviewers: list[PanelReviewer]
    reviews_per_subject: int
    max_per_reviewer: int | None
    started: bool = Field(description="the round started when the pilot went under evaluation")
    due_at: datetime | None
    rubric: RubricOut
    panel_editable: bool = Field(description="owners may change the panel until the pilot is adopted or stopped")

    @classmethod
    def of(cls, found: Evaluation) -> PilotEvaluationOut:
        row = found.row
        return cls(round_id=row.id, reviews_per_subject=row.reviews_per_subject or 1,
                   max_per_reviewer=row.max_per_reviewer, started=row.started_at is not None,
                   due_at=row.due_at.astimezone(JST) if row.due_at else None,
                   reviewers=[PanelReviewer(id=u.id, name=u.name, expertise=list(u.expertise or []))
                              for u in found.panel],
                   rubric=RubricOut.of(found.rubric, found.editable), panel_editable=found.plannable)


class PilotCriterionScore(BaseModel):
    key: str
    label: dict[str, str]
    weight: int
    mean: float | None = Field(description="the mean of the submitted scores, 1 to 5")
    scores: list[int]


class PilotRankingOut(BaseModel):
    """The evaluation's result so far (the round reviews one pilot): scores overall and per criterion."""

    pilot_id: int
    total: float | None = Field(description="the mean of the submitted reviews' totals, 0 to 100")
    median: float | None
    spread: float | None
    disagreement: bool
    reviews_done: int
    reviews_assigned: int
    criteria: list[PilotCriterionScore]
    hidden: bool = Field(description="true when you have a conflict of interest with the pilot: nothing is shown")

    @classmethod
    def of(cls, pilot_id: int, found: PilotRanking) -> PilotRankingOut:
        score = found.score
        return cls(pilot_id=pilot_id, total=score.total if score else None, median=score.median if score else None,
                   spread=score.spread if score else None, disagreement=bool(score and score.disagreement),
                   reviews_done=score.reviews_done if score else 0,
                   reviews_assigned=score.reviews_assigned if score else 0, hidden=found.hidden,
                   criteria=[PilotCriterionScore(key=c.key, label=bilingual(c.label), weight=c.weight, mean=c.mean,
                                                 scores=c.scores) for c in found.criteria])


class PilotCriterionFeedback(BaseModel):
    key: str
    name: dict[str, str]
    weight: int
    scores: list[int]
    mean: float | None
    comments: list[str]


class PilotEvaluationFeedbackOut(BaseModel):
    """What the company learns of the evaluation: no reviewer is named."""

    pilot_id: int
    status: str
    reason: str
    total: float | None
    criteria: list[PilotCriterionFeedback]
    feedback: list[str]

    @classmethod
    def of(cls, feedback: Feedback) -> PilotEvaluationFeedbackOut:
        return cls(pilot_id=feedback.proposal_id, status=feedback.status, reason=feedback.reason,
                   total=feedback.total, feedback=feedback.feedback,
                   criteria=[PilotCriterionFeedback(key=str(c.id), name=bilingual(c.name), weight=c.weight,
                                                    scores=c.scores, mean=c.mean, comments=c.comments)
                             for c in feedback.criteria])


class PilotRubricIn(RubricIn):
    """The evaluation's form: scored criteria ("score", weights adding up to 100) and other fields."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'rubric': [
        {'key': 'kpi_achievement', 'kind': 'score', 'label': {'ja': 'KPIの達成度', 'en': 'KPI achievement'}, 'weight': 50},
        {'key': 'satisfaction', 'kind': 'score', 'label': {'ja': '住民の満足度', 'en': "Residents' satisfaction"}, 'weight': 20},
        {'key': 'cost', 'kind': 'score', 'label': {'ja': '費用', 'en': 'Cost'}, 'weight': 20},
        {'key': 'reusability', 'kind': 'score', 'label': {'ja': '他の自治体での再利用性', 'en': 'Reusability by other municipalities'}, 'weight': 10},
        {'key': 'feedback', 'kind': 'text', 'label': {'ja': '企業へのフィードバック', 'en': 'Feedback for the company'}, 'visible_to': ['owners', 'reviewers', 'company']},
        {'key': 'confidence', 'kind': 'scale', 'label': {'ja': '確信度', 'en': 'Confidence'}, 'required': True}]}]})
