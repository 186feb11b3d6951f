"""Schemas for solutions (case studies), their corrections and adoptions (API and forms)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.datastructures import QueryParams

from models.identity.orgs import MunicipalityType, Organisation
from models.solutions.adoptions import UsedBy
from models.solutions.models import Adoption, Solution, SolutionCorrection
from search.solutions import BANDS, SolutionQuery
from server.ids import Id

Text = dict[Literal["ja", "en"], str]
Yen = Annotated[int, Field(ge=0, le=10**13)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
MunicipalityKind = Literal[tuple(kind.value for kind in MunicipalityType)]  # type: ignore[valid-type]
Band = Literal[tuple(label for _, label in BANDS)]  # type: ignore[valid-type]
LIST_FIELDS = ("category", "municipality_type", "adoption")


def _names(organisation: Organisation) -> dict[str, str]:
    return {lang: name for lang, name in (("ja", organisation.name_ja), ("en", organisation.name_en)) if name}


class SolutionDocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200)
    url: str = Field(max_length=500, pattern=r"^https?://")


class SolutionPatchIn(BaseModel):
    """What the owners change in their draft (and what the company proposes as a correction)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": {"ja": "窓口予約システム", "en": "Counter booking system"},
        "summary": {"ja": "窓口の待ち時間を半分にした。", "en": "Halved the waiting time at the counter."},
        "initial_cost_yen": 1200000, "yearly_cost_yen": 480000, "spec_shareable": True,
        "contact": "dx@city.example.jp", "documents": [{"title": "仕様書", "url": "https://city.example.jp/spec.pdf"}]}]})

    title: Text | None = None
    summary: Text | None = None
    cost_yen: Yen | None = None
    initial_cost_yen: Yen | None = None
    yearly_cost_yen: Yen | None = None
    spec_shareable: bool | None = None
    contact: str | None = Field(default=None, max_length=300)
    documents: list[SolutionDocumentIn] | None = Field(default=None, max_length=20)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class SolutionTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "in_review", "reason": ""}]})

    to: str = Field(max_length=32)
    reason: str = Field(default="", max_length=2000)


class SolutionCorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "changes": {"yearly_cost_yen": 360000}, "note": "2027年度から値下げしました。"}]})

    changes: SolutionPatchIn
    note: str = Field(default="", max_length=2000)


class SolutionCorrectionTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "accepted", "reason": ""}]})

    to: Literal["accepted", "rejected"]
    reason: str = Field(default="", max_length=2000)


class AdoptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "status": "considering", "starts_on": "2027-04-01", "scale": 52000, "initial_cost_yen": 1000000,
        "yearly_cost_yen": 450000}]})

    status: Literal["considering", "contracted", "live"] = "considering"
    starts_on: date | None = None
    scale: int | None = Field(default=None, ge=1, le=200_000_000, description="residents or users covered")
    initial_cost_yen: Yen | None = None
    yearly_cost_yen: Yen | None = None
    agency_id: Id | None = Field(default=None, description="which of your agencies, if you act for several")


class AdoptionTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "live", "starts_on": "2027-04-01"},
                                                                              {"to": "dropped", "reason": "予算が付かなかった"}]})

    to: Literal["considering", "contracted", "live", "dropped", "confirmed"]
    reason: str = Field(default="", max_length=2000)
    starts_on: date | None = None
    scale: int | None = Field(default=None, ge=1, le=200_000_000)
    initial_cost_yen: Yen | None = None
    yearly_cost_yen: Yen | None = None


class SolutionSearchQueryIn(BaseModel):
    """Query parameters; a facet filter may repeat or list values with commas (values are alternatives)."""

    model_config = ConfigDict(extra="ignore")
    blank_means_absent: ClassVar[bool] = True

    q: str = Field(default="", max_length=200, description="words to find; every word must match")
    category: list[Slug] = Field(default=[], max_length=20)
    municipality_type: list[MunicipalityKind] = Field(default=[], max_length=5)
    adoption: list[Band] = Field(default=[], max_length=4, description="how many agencies adopted it: 0, 1, 2-4, 5+")
    has_savings: bool | None = Field(default=None, description="a joint procurement recorded a saving")
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _from_strings(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        cleaned: dict[str, Any] = {}
        for name, value in values.items():
            if name in LIST_FIELDS:
                items = value if isinstance(value, list) else [value]
                cleaned[name] = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
            elif isinstance(value, str) and value.strip() == "":
                continue
            else:
                cleaned[name] = value
        return cleaned

    @classmethod
    def from_params(cls, params: QueryParams) -> SolutionSearchQueryIn:
        values: dict[str, Any] = {}
        for name in params.keys():
            values[name] = params.getlist(name) if name in LIST_FIELDS else params.get(name)
        return cls.model_validate(values)

    def to_query(self) -> SolutionQuery:
        return SolutionQuery(q=self.q, category=tuple(self.category), municipality_type=tuple(self.municipality_type),
                             adoption=tuple(self.adoption), has_savings=self.has_savings, page=self.page,
                             per_page=self.per_page)


class SolutionOrgOut(BaseModel):
    id: int
    name: dict[str, str]
    municipality_code: str | None = None

    @classmethod
    def of(cls, org: Organisation) -> SolutionOrgOut:
        return cls(id=org.id, name=_names(org), municipality_code=org.municipality_code)


class SolutionResultOut(BaseModel):
    kpi: dict[str, str]
    baseline: float | None
    latest: float | None
    unit: str


class AdoptionOut(BaseModel):
    id: int
    solution_id: int
    agency: SolutionOrgOut
    municipality_code: str
    status: str
    reason: str
    starts_on: date | None
    scale: int | None
    initial_cost_yen: int | None
    yearly_cost_yen: int | None
    last_confirmed_at: datetime | None
    stale: bool

    @classmethod
    def of(cls, adoption: Adoption, agency: Organisation) -> AdoptionOut:
        return cls(id=adoption.id, solution_id=adoption.solution_id, agency=SolutionOrgOut.of(agency),
                   municipality_code=adoption.municipality_code, status=adoption.status, reason=adoption.status_reason,
                   starts_on=adoption.starts_on, scale=adoption.scale, initial_cost_yen=adoption.initial_cost_yen,
                   yearly_cost_yen=adoption.yearly_cost_yen, last_confirmed_at=adoption.last_confirmed_at,
                   stale=adoption.stale)


class AdoptionListOut(BaseModel):
    items: list[AdoptionOut]


class SolutionCorrectionOut(BaseModel):
    id: int
    solution_id: int
    changes: dict[str, Any]
    note: str
    status: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, c: SolutionCorrection) -> SolutionCorrectionOut:
        return cls(id=c.id, solution_id=c.solution_id, changes=c.changes, note=c.note, status=c.status, reason=c.reason,
                   created_at=c.created_at)


class SolutionOut(BaseModel):
    id: int
    title: dict[str, str]
    summary: dict[str, str]
    challenge_id: int | None
    pilot_id: int | None
    company: SolutionOrgOut
    agencies: list[SolutionOrgOut] = Field(description="the agencies that ran the pilot")
    results: list[SolutionResultOut]
    positive_share: float | None
    feedback_count: int
    cost_yen: int | None
    initial_cost_yen: int | None
    yearly_cost_yen: int | None
    starts_on: date | None
    ends_on: date | None
    spec_shareable: bool
    contact: str
    documents: list[dict[str, str]]
    adopters: list[AdoptionOut]
    adopted_count: int = Field(description="other agencies that contracted it or run it")
    used_by_count: int = Field(description="the original agencies and the adopters that contracted it or run it")
    savings_yen: int
    status: str
    status_reason: str
    published_at: datetime | None
    allowed: list[str]
    corrections: list[SolutionCorrectionOut] = Field(default=[], description="for the owners, the company, operators")

    @classmethod
    def of(cls, s: Solution, company: Organisation, used_by: UsedBy, savings_yen: int, allowed: list[str],
           corrections: list[SolutionCorrection]) -> SolutionOut:
        return cls(
            id=s.id, title=s.title, summary=s.summary, challenge_id=s.challenge_id, pilot_id=s.pilot_id,
            company=SolutionOrgOut.of(company), agencies=[SolutionOrgOut.of(o) for o in used_by.original],
            results=[SolutionResultOut(kpi=r.get("kpi") or {}, baseline=r.get("baseline"), latest=r.get("latest"),
                                       unit=r.get("unit") or "") for r in s.results],
            positive_share=s.positive_share, feedback_count=s.feedback_count, cost_yen=s.cost_yen,
            initial_cost_yen=s.initial_cost_yen, yearly_cost_yen=s.yearly_cost_yen, starts_on=s.starts_on,
            ends_on=s.ends_on, spec_shareable=s.spec_shareable, contact=s.contact, documents=s.documents,
            adopters=[AdoptionOut.of(a, a.agency) for a in used_by.adopters], adopted_count=used_by.adopted_count,
            used_by_count=used_by.count, savings_yen=savings_yen, status=s.status, status_reason=s.status_reason,
            published_at=s.published_at, allowed=allowed, corrections=[SolutionCorrectionOut.of(c) for c in corrections],
        )


class SolutionHitOut(BaseModel):
    id: int
    title: dict[str, str]
    summary: dict[str, str]
    company: dict[str, str]
    category: str
    municipality_type: list[str]
    adopted_count: int
    savings_yen: int


class SolutionSearchOut(BaseModel):
    items: list[SolutionHitOut]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]
    degraded: bool = Field(description="Meilisearch was unavailable: the database answered")

    @staticmethod
    def hit(document: dict[str, Any]) -> SolutionHitOut:
        def text(prefix: str) -> dict[str, str]:
            return {lang: document.get(f"{prefix}_{lang}") or "" for lang in ("ja", "en") if document.get(f"{prefix}_{lang}")}
        return SolutionHitOut(id=document["id"], title=text("title"), summary=text("summary"), company=text("company"),
                              category=document.get("category") or "", municipality_type=document.get("municipality_type") or [],
                              adopted_count=document.get("adopted_count") or 0, savings_yen=document.get("savings_yen") or 0)
