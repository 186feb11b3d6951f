"""Discovery schemas: one query schema for the search page and `GET /api/v1/challenges`, and the result."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.datastructures import QueryParams

from models.core.errors import N_
from models.identity.orgs import MunicipalityType
from models.policy.challenges import VISIBLE_STATUSES
from search.backend import SORTS, SearchQuery
from server.i18n import TOKYO
from server.ids import Id
from server.schemas.times import Day

PublicStatus = Literal[tuple(str(status) for status in VISIBLE_STATUSES)]  # type: ignore[valid-type]
MunicipalityKind = Literal[tuple(kind.value for kind in MunicipalityType)]  # type: ignore[valid-type]
SortName = Literal[SORTS]  # type: ignore[valid-type]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Yen = Annotated[int, Field(ge=0, le=10**13)]
MAX_PER_PAGE = 100


class ChallengeSearchQuery(BaseModel):
    """Query parameters. A filter may repeat (`category=a&category=b`) or list values with commas;
    values of one filter are alternatives, different filters all apply, and every tag must be present."""

    model_config = ConfigDict(extra="ignore")
    blank_means_absent: ClassVar[bool] = True  # a search form sends its empty fields (server/api.py documents it)

    q: str = Field(default="", max_length=200, description="words to find; every word must match")
    category: list[Slug] = Field(default=[], max_length=20, description="category slugs")
    agency: list[Id] = Field(default=[], max_length=50, description="agency (organisation) ids")
    municipality_type: list[MunicipalityKind] = Field(default=[], max_length=5)
    status: list[PublicStatus] = Field(default=[], max_length=len(VISIBLE_STATUSES),
                                       description="published, closed, decided, or cancelled (after publication)")
    budget_min: Yen | None = Field(default=None, description="the budget range reaches at least this many yen")
    budget_max: Yen | None = Field(default=None, description="the budget range starts at no more than this")
    tag: list[Tag] = Field(default=[], max_length=10, description="tags that must all be present")
    deadline_after: Day | None = Field(default=None, description="proposals due on or after this day (Japan time)")
    deadline_before: Day | None = Field(default=None, description="proposals due on or before this day (Japan time)")
    sort: SortName = Field(default="relevance", description="relevance, newest, deadline (soonest open first) or budget (highest first)")
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)

    @model_validator(mode="before")
    @classmethod
    def _from_strings(cls, values: Any) -> Any:
        """Blank form fields mean "not given"; list filters also take comma-separated values."""
        if not isinstance(values, dict):
            return values
        cleaned: dict[str, Any] = {}
        for name, value in values.items():
            if name in LIST_FIELDS:
                items = value if isinstance(value, list) else [value]
                parts = [part.strip() for item in items for part in str(item).split(",")]
                cleaned[name] = [part for part in parts if part]
            elif isinstance(value, str) and value.strip() == "":
                continue
            else:
                cleaned[name] = value
        return cleaned

    @model_validator(mode="after")
    def _ranges(self) -> ChallengeSearchQuery:
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError(N_("The lowest budget must not be more than the highest budget."))
        if self.deadline_after and self.deadline_before and self.deadline_after > self.deadline_before:
            raise ValueError(N_("The first deadline day must not be after the last one."))
        return self

    @classmethod
    def from_params(cls, params: QueryParams) -> ChallengeSearchQuery:
        """From a query string, keeping every value of a repeated filter."""
        values: dict[str, Any] = {}
        for name in params.keys():
            values[name] = params.getlist(name) if name in LIST_FIELDS else params[name]
        return cls.model_validate(values)

    def to_search_query(self) -> SearchQuery:
        def start_of(day: date) -> datetime:
            return datetime.combine(day, time(), TOKYO)

        return SearchQuery(
            q=self.q.strip(),
            categories=tuple(dict.fromkeys(self.category)),
            agencies=tuple(dict.fromkeys(self.agency)),
            municipality_types=tuple(dict.fromkeys(self.municipality_type)),
            statuses=tuple(dict.fromkeys(self.status)),
            budget_min=self.budget_min,
            budget_max=self.budget_max,
            tags=tuple(dict.fromkeys(self.tag)),
            deadline_after=start_of(self.deadline_after) if self.deadline_after else None,
            deadline_before=start_of(self.deadline_before + timedelta(days=1)) if self.deadline_before else None,
            sort=self.sort,
            page=self.page,
            per_page=self.per_page,
        )

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """This query as query-string pairs (defaults left out), with some values changed."""
        values = {**self.model_dump(), **changes}
        pairs: list[tuple[str, str]] = []
        for name, field in type(self).model_fields.items():
            value = values.get(name)
            if value is None or value == field.default or value == [] or value == "":
                continue
            for item in value if isinstance(value, list) else [value]:
                pairs.append((name, item.isoformat() if isinstance(item, date) else str(item)))
        return pairs


LIST_FIELDS = {"category", "agency", "municipality_type", "status", "tag"}


class AgencyRef(BaseModel):
    id: int
    name: dict[str, str]


class ChallengeHit(BaseModel):
    id: int
    title: dict[str, str]
    summary: dict[str, str]
    category: str | None = Field(description="category slug")
    agency: AgencyRef
    municipality_type: str | None
    status: str
    tags: list[str]
    budget_min_yen: int | None
    budget_max_yen: int | None
    proposals_deadline: datetime | None
    published_at: datetime | None
    highlight: dict[str, dict[str, str]] | None = Field(
        default=None,
        description="title/summary by language as HTML-escaped snippets with matches in <mark> (Meilisearch only)",
    )


class FacetValue(BaseModel):
    value: str
    count: int
    name: dict[str, str] | None = None


class ChallengeSearchOut(BaseModel):
    items: list[ChallengeHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetValue]] = Field(description="category, agency, municipality_type, status: value counts")
    degraded: bool = Field(description="true while the search engine is unavailable and the database answers")


class CategoryOut(BaseModel):
    slug: str
    name: dict[str, str]


class CategoryListOut(BaseModel):
    items: list[CategoryOut]
    total: int
    page: int
    per_page: int


class CategoryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=100, ge=1, le=MAX_PER_PAGE)
