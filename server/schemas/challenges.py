"""Challenge schemas: they validate the API's JSON and the pages' forms alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from starlette.datastructures import FormData

from models.challenges import listing
from models.challenges.lifecycle import ChallengeChanges, CriterionInput, KpiInput
from models.challenges.models import Challenge
from models.core.errors import N_
from server.i18n import TOKYO
from server.schemas.times import within_years
from server.text import Name

Language = Literal["ja", "en"]
LANGUAGES: tuple[Language, ...] = ("ja", "en")


def _clean_text(value: dict[str, str]) -> dict[str, str]:
    return {lang: text.strip() for lang, text in value.items() if text and text.strip()}


Text = Annotated[dict[Language, Annotated[str, Field(max_length=20000)]], AfterValidator(_clean_text)]
TitleText = Annotated[dict[Language, Annotated[Name, Field(max_length=20000)]], AfterValidator(_clean_text)]


def _tokyo_if_naive(value: Any) -> Any:
    """A time typed without an offset (a datetime-local field) is Japan time."""
    if isinstance(value, str) and value.strip() == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=TOKYO)
    return value


Moment = Annotated[datetime | None, BeforeValidator(_tokyo_if_naive), AfterValidator(within_years)]


class CriterionIn(BaseModel):
    name: TitleText
    weight: int = Field(ge=1, le=100)
    levels: list[Text] = Field(min_length=5, max_length=5, description="descriptions for scores 1 to 5")


class KpiIn(BaseModel):
    name: TitleText
    unit: str = Field(default="", max_length=32)
    baseline: float | None = None
    target: float | None = None


class ChallengeIn(BaseModel):
    """Fields to set; on PATCH only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'title': {'ja': '窓口の待ち時間を短くしたい', 'en': 'Shorter waiting times at the counter'}, 'summary': {'ja': '繁忙期の待ち時間が長い。', 'en': 'Long waits in busy months.'}, 'category': 'administrative-procedures', 'tags': ['窓口', '予約'], 'languages': ['ja', 'en'], 'budget_min_yen': 1000000, 'budget_max_yen': 3000000, 'pilot_months': 3, 'proposals_deadline': '2027-03-31T17:00:00+09:00'}]})

    title: TitleText | None = None
    summary: Text | None = None
    situation: Text | None = None
    problem: Text | None = None
    outcome: Text | None = None
    category: str | None = Field(default=None, max_length=64)
    # Fields whose type does not admit None default to None, meaning "not sent": an explicit null is refused.
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default=None, max_length=20)
    languages: list[Language] = None
    budget_min_yen: int | None = Field(default=None, ge=0, le=10**13)
    budget_max_yen: int | None = Field(default=None, ge=0, le=10**13)
    pilot_months: int | None = Field(default=None, ge=1, le=60)
    questions_deadline: Moment = None
    proposals_deadline: Moment = None
    review_deadline: Moment = None
    publish_at: Moment = None
    blind_review: bool = None
    criteria: list[CriterionIn] = Field(default=None, max_length=10)
    kpis: list[KpiIn] = Field(default=None, max_length=10)
    reason: str = Field(default="", max_length=2000, description="why a published challenge is amended")

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(tag.strip() for tag in value if tag.strip())) if value is not None else None

    def to_changes(self) -> ChallengeChanges:
        sent = self.model_fields_set - {"criteria", "kpis", "reason"}
        values = {name: getattr(self, name) for name in sent}
        for name in ("title", "summary", "situation", "problem", "outcome"):
            if name in values and values[name] is None:
                values[name] = {}
        return ChallengeChanges(
            values=values,
            criteria=[CriterionInput(name=c.name, weight=c.weight, levels=c.levels) for c in self.criteria]
            if self.criteria is not None else None,
            kpis=[KpiInput(name=k.name, unit=k.unit, baseline=k.baseline, target=k.target) for k in self.kpis]
            if self.kpis is not None else None,
        )


class NewChallengeIn(ChallengeIn):
    title: TitleText  # type: ignore[assignment]

    @field_validator("title")
    @classmethod
    def _title_present(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError(N_("Give the challenge a title."))
        return value


class ChallengeTransitionIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{'to': 'in_review'}]})

    to: str = Field(max_length=32)
    reason: str = Field(default="", max_length=2000)
    publish_at: Moment = None


class CriterionOut(BaseModel):
    id: int
    name: dict[str, str]
    weight: int
    levels: list[dict[str, str]]


class KpiOut(BaseModel):
    name: dict[str, str]
    unit: str
    baseline: float | None
    target: float | None


class OrganisationName(BaseModel):
    id: int
    name: dict[str, str]


class ChallengeOut(BaseModel):
    id: int
    title: dict[str, str]
    summary: dict[str, str]
    situation: dict[str, str]
    problem: dict[str, str]
    outcome: dict[str, str]
    category: str | None
    tags: list[str]
    budget_min_yen: int | None
    budget_max_yen: int | None
    pilot_months: int | None
    questions_deadline: datetime | None
    proposals_deadline: datetime | None
    review_deadline: datetime | None
    publish_at: datetime | None
    criteria: list[CriterionOut]
    kpis: list[KpiOut]
    languages: list[str]
    status: str
    status_message: str
    owner: OrganisationName
    co_owners: list[OrganisationName]
    published_at: datetime | None
    allowed_transitions: list[str] = []

    @classmethod
    async def of(cls, challenge: Challenge, allowed: list[str]) -> ChallengeOut:
        details = await listing.details(challenge)
        criteria, kpis = details.criteria, details.kpis

        def to_tokyo(moment: datetime | None) -> datetime | None:
            return moment.astimezone(TOKYO) if moment else None

        return cls(
            id=challenge.id, title=challenge.title, summary=challenge.summary, situation=challenge.situation,
            problem=challenge.problem, outcome=challenge.outcome,
            category=challenge.category.slug if challenge.category else None, tags=challenge.tags,
            budget_min_yen=challenge.budget_min_yen, budget_max_yen=challenge.budget_max_yen,
            pilot_months=challenge.pilot_months, questions_deadline=to_tokyo(challenge.questions_deadline),
            proposals_deadline=to_tokyo(challenge.proposals_deadline), review_deadline=to_tokyo(challenge.review_deadline),
            publish_at=to_tokyo(challenge.publish_at),
            criteria=[CriterionOut(id=c.id, name=c.name, weight=c.weight, levels=c.levels) for c in criteria],
            kpis=[KpiOut(name=k.name, unit=k.unit, baseline=k.baseline, target=k.target) for k in kpis],
            languages=challenge.languages, status=challenge.status, status_message=challenge.status_message,
            owner=OrganisationName(id=challenge.owner.id, name={"ja": challenge.owner.name_ja, "en": challenge.owner.name_en}),
            co_owners=[
                OrganisationName(id=c.organisation.id, name={"ja": c.organisation.name_ja, "en": c.organisation.name_en})
                for c in challenge.co_owners if c.accepted_at
            ],
            published_at=to_tokyo(challenge.published_at), allowed_transitions=allowed,
        )


CRITERIA_ROWS = 6
KPI_ROWS = 4


def challenge_input_from_form(form: FormData) -> dict[str, Any]:
    """The page's flat form fields, arranged as the API's JSON (blank rows left out)."""

    def text(prefix: str) -> dict[str, str]:
        return {lang: str(form.get(f"{prefix}_{lang}", "")) for lang in LANGUAGES}

    def number(name: str) -> str | None:
        value = str(form.get(name, "")).replace(",", "").strip()
        return value or None

    data: dict[str, Any] = {name: text(name) for name in ("title", "summary", "situation", "problem", "outcome")}
    data["category"] = str(form.get("category", "")) or None
    data["tags"] = [t.strip() for t in str(form.get("tags", "")).replace("、", ",").split(",") if t.strip()]
    data["languages"] = form.getlist("languages")
    for name in ("budget_min_yen", "budget_max_yen", "pilot_months"):
        data[name] = number(name)
    for name in ("questions_deadline", "proposals_deadline", "review_deadline", "publish_at"):
        data[name] = str(form.get(name, "")) or None
    data["blind_review"] = form.get("blind_review") == "true"
    data["criteria"] = []
    for i in range(CRITERIA_ROWS):
        name = text(f"criterion-{i}-name")
        if not any(v.strip() for v in name.values()):
            continue
        levels_by_lang = {lang: str(form.get(f"criterion-{i}-levels_{lang}", "")).splitlines() for lang in LANGUAGES}
        levels_by_lang = {lang: [line for line in lines if line.strip()] for lang, lines in levels_by_lang.items()}
        count = max(len(lines) for lines in levels_by_lang.values())
        levels = [{lang: lines[n] if n < len(lines) else "" for lang, lines in levels_by_lang.items()} for n in range(count)]
        data["criteria"].append({"name": name, "weight": number(f"criterion-{i}-weight"), "levels": levels})
    data["kpis"] = []
    for i in range(KPI_ROWS):
        name = text(f"kpi-{i}-name")
        if not any(v.strip() for v in name.values()):
            continue
        data["kpis"].append({"name": name, "unit": str(form.get(f"kpi-{i}-unit", "")),
                             "baseline": number(f"kpi-{i}-baseline"), "target": number(f"kpi-{i}-target")})
    data["reason"] = str(form.get("reason", ""))
    return data


# The form's own messages for a criterion's or a KPI's row ("*" stands for the row number).
ROW_MESSAGES = {
    "criterion-*-levels_ja": N_("Describe each score from 1 to 5: five lines, one line per score."),
    "criterion-*-weight": N_("Give the criterion a weight: a whole number from 1 to 100."),
    "kpi-*-baseline": N_("Enter a number."),
    "kpi-*-target": N_("Enter a number."),
}
# The order of the fields on the page: the error summary lists errors in it.
FORM_ORDER = ("reason", "title", "summary", "situation", "problem", "outcome", "category", "tags", "languages",
              "budget_min_yen", "budget_max_yen", "pilot_months", "questions_deadline", "proposals_deadline",
              "review_deadline", "publish_at", "criteria", "criterion", "kpis", "kpi")


def form_locator(form: FormData):
    """Where an error of the schema is on the page: ("criteria", 1, "weight") is the weight field of the second
    criterion row that was filled in (blank rows are left out of the JSON, so row numbers differ)."""
    rows = {
        "criteria": [i for i in range(CRITERIA_ROWS)
                     if any(str(form.get(f"criterion-{i}-name_{lang}", "")).strip() for lang in LANGUAGES)],
        "kpis": [i for i in range(KPI_ROWS) if any(str(form.get(f"kpi-{i}-name_{lang}", "")).strip() for lang in LANGUAGES)],
    }
    prefixes = {"criteria": "criterion", "kpis": "kpi"}

    def locate(loc: tuple) -> str:
        if len(loc) >= 3 and loc[0] in rows and isinstance(loc[1], int) and loc[1] < len(rows[loc[0]]):
            row, part = rows[loc[0]][loc[1]], str(loc[2])
            suffix = "_ja" if part in ("name", "levels") else ""
            return f"{prefixes[loc[0]]}-{row}-{part}{suffix}"
        if len(loc) >= 2 and loc[0] in ("title", "summary", "situation", "problem", "outcome"):
            return str(loc[0])
        return ""

    return locate
