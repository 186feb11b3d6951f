"""Review workflow schemas: they validate the API's JSON and the pages' forms alike, and describe the output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.datastructures import FormData

from models.review.closing import REVIEW_COLUMNS, Feedback
from models.review.conflicts import CONFLICT_KINDS, reason_of
from models.review.models import Assignment, Conflict, Review
from models.review.reviewing import ReviewChanges
from models.review.rubric import PROPOSAL_FIELDS, TEXT, Rubric, RubricField
from models.review.scoring import ProposalScore
from server.i18n import TOKYO, gettext, using_locale
from server.ids import Id

Score = Annotated[StrictInt, Field(ge=1, le=5)]
LongText = Annotated[str, Field(max_length=20000)]
ConflictKindName = Literal[CONFLICT_KINDS]  # type: ignore[valid-type]


def _tokyo(moment: datetime | None) -> datetime | None:
    return moment.astimezone(TOKYO) if moment else None


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=50, ge=1, le=200)


# --- panel -----------------------------------------------------------------------------------


class PanelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'reviewers': [31, 32, 33], 'reviews_per_proposal': 2, 'max_per_reviewer': 10}]})

    reviewers: list[Id] = Field(max_length=500, description="user ids from the reviewer pool")
    reviews_per_proposal: int = Field(default=3, ge=1, le=20)
    max_per_reviewer: int | None = Field(default=None, ge=1, le=10000, description="null: no cap")


class PersonRef(BaseModel):
    id: int
    name: str


class PanelReviewer(PersonRef):
    expertise: list[str]
    partner_id: int | None = Field(default=None, description="a partner of the talent pool sitting as an external reviewer")


class PanelOut(BaseModel):
    reviewers: list[PanelReviewer]
    reviews_per_proposal: int
    max_per_reviewer: int | None


# --- assignments -----------------------------------------------------------------------------


class SubjectRef(BaseModel):
    kind: Literal["proposal", "pilot"]
    id: int


class AssignmentItem(BaseModel):
    id: int
    proposal_id: int | None = Field(description="the proposal reviewed, for a proposal's assignment")
    challenge_id: int
    subject: SubjectRef = Field(description="what the assignment reviews")
    status: Literal["assigned", "submitted", "recused"]
    due_at: datetime | None = Field(description="the review deadline")

    @classmethod
    def of(cls, assignment: Assignment) -> AssignmentItem:
        return cls(id=assignment.id, proposal_id=assignment.proposal_id, challenge_id=assignment.the_round.challenge_id,
                   subject=SubjectRef(kind=assignment.subject_kind, id=assignment.subject_id),
                   status=assignment.status, due_at=_tokyo(assignment.due_at))


class AssignmentOut(AssignmentItem):
    allowed_transitions: list[str] = Field(default=[], description="what the caller may move it to")

    @classmethod
    def of(cls, assignment: Assignment, allowed: list[str] | None = None) -> AssignmentOut:  # type: ignore[override]
        return cls(**AssignmentItem.of(assignment).model_dump(), allowed_transitions=allowed or [])


class AssignmentQuery(PageQuery):
    status: Literal["assigned", "submitted", "recused"] | None = None
    challenge_id: Id | None = None


class AssignmentList(BaseModel):
    items: list[AssignmentItem]
    total: int
    page: int
    per_page: int


class AssignmentTransitionIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{'to': 'submitted'}]})

    to: str = Field(max_length=32, description="submitted or recused (the reviewer); assigned: reopen (an owner)")
    reason: str = Field(default="", max_length=2000, description="required to recuse and to reopen")


class AssignmentAddIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'proposal_id': 7, 'reviewer_id': 31}]})

    proposal_id: Id
    reviewer_id: Id


class AssignedReviewer(BaseModel):
    id: int
    reviewer: PersonRef
    status: str
    due_at: datetime | None
    recusal_reason: str


class ProposalAssignments(BaseModel):
    proposal_id: int
    title: str
    status: str
    assignments: list[AssignedReviewer]


class ShortfallOut(BaseModel):
    proposal_id: int
    missing: int = Field(description="reviewers the proposal still lacks")
    eligible: int = Field(description="panel members who could review it (no conflict, not already on it)")
    limited_by: Literal["eligibility", "capacity"]


class ChallengeAssignmentsOut(BaseModel):
    items: list[ProposalAssignments]
    feasible: bool
    shortfalls: list[ShortfallOut]
    pending: int = Field(description="assignments the next assignment run will add (0 once it has run)")


# --- reviews ---------------------------------------------------------------------------------


class ReviewIn(BaseModel):
    """The review's fields; only those sent are changed. Criterion ids are the keys of `scores` and `comments`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'scores': {'101': 4, '102': 3}, 'comments': {'101': 'A clear plan for the first month.'}, 'strengths': 'Proven at two wards.', 'weaknesses': 'No plan for the busiest week.', 'feedback': 'A strong, realistic proposal.', 'confidence': 4, 'no_conflict': True}]})

    # Fields whose type does not admit None default to None, meaning "not sent": an explicit null is refused.
    scores: dict[str, Score] = Field(default=None, max_length=50)
    comments: dict[str, Annotated[str, Field(max_length=5000)]] = Field(default=None, max_length=50)
    strengths: LongText = None
    weaknesses: LongText = None
    feedback: LongText = Field(default=None, description="for the company, sent with the decision")
    confidence: Score | None = None
    answers: dict[str, LongText | StrictInt | None] = Field(
        default=None, max_length=50, description="the round's other review form fields, by key (see its rubric)")
    no_conflict: bool = Field(default=None, description="attests no conflict of interest; required to submit")

    def to_changes(self) -> ReviewChanges:
        sent = self.model_fields_set
        return ReviewChanges(**{name: getattr(self, name) for name in sent})


class ReviewOut(BaseModel):
    id: int
    assignment_id: int
    scores: dict[str, int]
    comments: dict[str, str]
    strengths: str
    weaknesses: str
    feedback: str
    confidence: int | None
    answers: dict[str, Any] = Field(description="the round's other review form fields, by key")
    no_conflict: bool
    status: str
    total: float | None
    submitted_at: datetime | None
    reviewer: PersonRef | None = Field(default=None, description="shown to the challenge's owners and operators only")

    @classmethod
    def of(cls, review: Review, reviewer: Any = None) -> ReviewOut:
        return cls(id=review.id, assignment_id=review.assignment_id, scores=review.scores or {},
                   comments=review.comments or {}, strengths=review.strengths, weaknesses=review.weaknesses,
                   feedback=review.feedback, confidence=review.confidence, answers=review.answers or {},
                   no_conflict=review.no_conflict,
                   status=review.status, total=review.total, submitted_at=_tokyo(review.submitted_at),
                   reviewer=PersonRef(id=reviewer.id, name=reviewer.name) if reviewer is not None else None)


class ReviewList(BaseModel):
    items: list[ReviewOut]
    total: int


def review_input_from_form(form: FormData, criterion_keys: list[str],
                           fields: tuple[RubricField, ...] = PROPOSAL_FIELDS) -> dict[str, Any]:
    """The scoring form's flat fields as the API's JSON (blank scores left out): the rubric's fields that
    are columns of the review by name, the others in `answers`."""
    data: dict[str, Any] = {"scores": {}, "comments": {}}
    for key in criterion_keys:
        score = str(form.get(f"score-{key}", "")).strip()
        if score:
            data["scores"][key] = int(score) if score.isdigit() else score
        comment = str(form.get(f"comment-{key}", ""))
        data["comments"][key] = comment
    answers: dict[str, Any] = {}
    for f in fields:
        into = data if f.key in REVIEW_COLUMNS else answers
        if f.kind == TEXT:
            into[f.key] = str(form.get(f.key, ""))
        elif value := str(form.get(f.key, "")).strip():
            into[f.key] = int(value) if value.isdigit() else value
    if answers:
        data["answers"] = answers
    data["no_conflict"] = form.get("no_conflict") == "yes"
    return data


# --- the review form (a round's rubric) --------------------------------------------------------

Reader = Literal["owners", "reviewers", "company"]


class Bilingual(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ja: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class RubricItemIn(BaseModel):
    """A field of the review form; "score": a scored criterion (a proposal round's are the challenge's)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=40, description="lower-case letters, digits and underscores")
    kind: Literal["text", "scale", "score"] = "text"
    label: Bilingual
    required: bool = Field(default=False, description="needed to submit")
    visible_to: list[Reader] = Field(default=["owners", "reviewers"], max_length=3,
                                     description="who reads it besides its reviewer")
    weight: StrictInt | None = Field(default=None, ge=0, le=100, description="a scored criterion's weight")


class RubricIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'rubric': [{'key': 'strengths', 'kind': 'text', 'label': {'ja': '強み', 'en': 'Strengths'}, 'visible_to': ['owners', 'reviewers']}, {'key': 'confidence', 'kind': 'scale', 'label': {'ja': '確信度', 'en': 'Confidence'}, 'required': True}]}]})

    rubric: list[RubricItemIn] = Field(min_length=1, max_length=50)

    def items(self) -> list[dict[str, Any]]:
        return [{**item.model_dump(exclude_none=True), "label": item.label.model_dump()} for item in self.rubric]


class RubricCriterionOut(BaseModel):
    key: str
    label: dict[str, str]
    weight: int


class RubricFieldOut(BaseModel):
    key: str
    kind: str
    label: dict[str, str]
    required: bool
    visible_to: list[str]


class RubricOut(BaseModel):
    criteria: list[RubricCriterionOut] = Field(description="scored 1 to 5; the weights add up to 100")
    fields: list[RubricFieldOut]
    editable: bool = Field(description="owners may change it until the review starts")

    @classmethod
    def of(cls, rubric: Rubric, editable: bool) -> RubricOut:
        return cls(criteria=[RubricCriterionOut(key=c.key, label=bilingual(c.label), weight=c.weight)
                             for c in rubric.criteria],
                   fields=[RubricFieldOut(key=f.key, kind=f.kind, label=bilingual(f.label), required=f.required,
                                          visible_to=sorted(f.visible_to)) for f in rubric.fields],
                   editable=editable)


def bilingual(label: str | dict[str, str]) -> dict[str, str]:
    """A rubric label in both languages: as written, or a message id translated."""
    if isinstance(label, dict):
        return dict(label)
    found = {}
    for locale in ("ja", "en"):
        with using_locale(locale):
            found[locale] = gettext(label)
    return found


# --- ranking, feedback, conflicts ------------------------------------------------------------


class RankingRow(BaseModel):
    proposal_id: int
    title: str
    status: str
    total: float | None
    mean: float | None
    median: float | None
    spread: float | None
    disagreement: bool
    calibrated: float | None
    reviews_done: int
    reviews_assigned: int

    @classmethod
    def of(cls, score: ProposalScore, title: str, status: str) -> RankingRow:
        return cls(title=title, status=status, **{name: getattr(score, name) for name in (
            "proposal_id", "total", "mean", "median", "spread", "disagreement", "calibrated", "reviews_done",
            "reviews_assigned")})


class RankingOut(BaseModel):
    items: list[RankingRow]
    reviews_done: int
    reviews_assigned: int
    hidden: int = Field(description="proposals left out because you have a conflict of interest with them")
    finalisable: bool
    problem: str | None = Field(description="why the challenge cannot be decided yet")


class CriterionFeedbackOut(BaseModel):
    id: int
    name: dict[str, str]
    weight: int
    scores: list[int]
    mean: float | None
    comments: list[str]


class FeedbackOut(BaseModel):
    proposal_id: int
    status: str
    reason: str
    total: float | None
    criteria: list[CriterionFeedbackOut]
    feedback: list[str]

    @classmethod
    def of(cls, feedback: Feedback) -> FeedbackOut:
        return cls(proposal_id=feedback.proposal_id, status=feedback.status, reason=feedback.reason,
                   total=feedback.total, feedback=feedback.feedback,
                   criteria=[CriterionFeedbackOut(**vars(c)) for c in feedback.criteria])


class ConflictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'kind': 'advised', 'organisation_id': 15, 'note': 'I advised them in 2025.'}]})

    kind: ConflictKindName  # type: ignore[valid-type]
    organisation_id: Id
    note: str = Field(default="", max_length=2000)


class ConflictOrganisation(BaseModel):
    id: int
    name: dict[str, str]
    code: str | None


class ConflictOut(BaseModel):
    id: int
    kind: str
    reason: str = Field(description="declared, or how it was detected")
    detected: bool
    organisation: ConflictOrganisation | None
    proposal_id: int | None
    note: str
    created_at: datetime

    @classmethod
    def of(cls, conflict: Conflict) -> ConflictOut:
        organisation = conflict.organisation if conflict.organisation_id else None
        return cls(id=conflict.id, kind=conflict.kind, reason=reason_of(conflict), detected=conflict.detected,
                   organisation=ConflictOrganisation(id=organisation.id, name={"ja": organisation.name_ja, "en": organisation.name_en},
                                                code=organisation.code) if organisation else None,
                   proposal_id=conflict.proposal_id, note=conflict.note if not conflict.detected else "",
                   created_at=_tokyo(conflict.created_at))


class ConflictList(BaseModel):
    items: list[ConflictOut]
    total: int
