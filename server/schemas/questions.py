"""Schemas for questions and answers, joint challenges, follows and notifications (API and forms alike)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from starlette.datastructures import ImmutableMultiDict

from models.challenges.follows import SAVED_QUERY_LISTS
from models.challenges.models import CoOwner, Follow, Interest, Question
from models.challenges.questions import ANSWER_MAX, QUESTION_MAX
from models.core.errors import N_
from models.identity.orgs import Organisation
from server.i18n import TOKYO
from server.ids import Id
from server.schemas.discovery import ChallengeSearchQuery


def _tokyo(moment: datetime | None) -> datetime | None:
    return moment.astimezone(TOKYO) if moment else None


def _names(organisation: Organisation) -> dict[str, str]:
    return {lang: name for lang, name in (("ja", organisation.name_ja), ("en", organisation.name_en)) if name}


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=10000)
    per_page: int = Field(default=50, ge=1, le=100)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class OrganisationBrief(BaseModel):
    id: int
    name: dict[str, str]
    municipality_type: str | None = None

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationBrief:
        return cls(id=organisation.id, name=_names(organisation), municipality_type=organisation.municipality_type)


# --- questions -------------------------------------------------------------------------------


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'body': 'Can the system show the queue on the existing display at the counter?'}]})

    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=QUESTION_MAX)]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'answer': 'Yes: the display takes an HDMI input and the system may use it.'}]})

    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ANSWER_MAX)]


class AskerOut(BaseModel):
    name: str | None
    organisation: OrganisationBrief | None


class QuestionOut(BaseModel):
    id: int
    challenge_id: int
    body: str
    answer: str | None = Field(description="null until an owner answers")
    asked_at: datetime
    answered_at: datetime | None
    status: str = Field(description="unanswered or answered")
    asked_by_you: bool = Field(description="asked by the caller's company")
    asker: AskerOut | None = Field(
        default=None, description="who asked; only for the challenge's owners and operators, never public"
    )

    @classmethod
    def of(cls, question: Question, *, mine: bool, show_asker: bool) -> QuestionOut:
        """`question.asker` and `question.asker_organisation` must be fetched when `show_asker`."""
        asker = None
        if show_asker:
            organisation = question.asker_organisation
            asker = AskerOut(
                name=question.asker.name if question.asker else None,
                organisation=OrganisationBrief.of(organisation) if organisation else None,
            )
        return cls(
            id=question.id, challenge_id=question.challenge_id, body=question.body,
            answer=question.answer if question.answered_at else None,
            asked_at=question.created_at.astimezone(TOKYO), answered_at=_tokyo(question.answered_at),
            status="answered" if question.answered_at else "unanswered", asked_by_you=mine, asker=asker,
        )


class QuestionListOut(BaseModel):
    items: list[QuestionOut]
    total: int
    page: int
    per_page: int


# --- joint challenges ------------------------------------------------------------------------


class InterestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'note': 'Our counters have the same waiting times in March and April.'}]})

    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class InterestOut(BaseModel):
    organisation: OrganisationBrief
    note: str
    registered_at: datetime

    @classmethod
    def of(cls, interest: Interest) -> InterestOut:
        return cls(organisation=OrganisationBrief.of(interest.organisation), note=interest.note,
                   registered_at=interest.created_at.astimezone(TOKYO))


class InterestListOut(BaseModel):
    items: list[InterestOut]
    total: int = Field(description="how many agencies have this problem too")
    page: int
    per_page: int


class CoOwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'organisation_id': 12}]})

    organisation_id: Id = Field(description="the agency (organisation) to invite")


class CoOwnerOut(BaseModel):
    challenge_id: int
    organisation: OrganisationBrief
    status: str = Field(description="invited or accepted")
    invited_at: datetime
    accepted_at: datetime | None

    @classmethod
    def of(cls, co_owner: CoOwner, organisation: Organisation) -> CoOwnerOut:
        return cls(challenge_id=co_owner.challenge_id, organisation=OrganisationBrief.of(organisation),
                   status="accepted" if co_owner.accepted_at else "invited",
                   invited_at=co_owner.created_at.astimezone(TOKYO), accepted_at=_tokyo(co_owner.accepted_at))


# --- follows ---------------------------------------------------------------------------------


def saved_query_of(params: dict[str, Any]) -> dict[str, Any]:
    """The part of the search page's query that a saved search keeps (words and filters), validated."""
    query = ChallengeSearchQuery.model_validate(params)
    kept: dict[str, Any] = {"q": query.q.strip()} if query.q.strip() else {}
    for name in SAVED_QUERY_LISTS:
        values = getattr(query, name)
        if values:
            kept[name] = values
    return kept


def saved_query_from_params(params: ImmutableMultiDict) -> dict[str, Any]:
    """From a form or query string, keeping every value of a repeated filter."""
    return {name: params.getlist(name) if name in SAVED_QUERY_LISTS else params[name]
            for name in params.keys() if name != "csrftoken"}


class FollowIn(BaseModel):
    """Either a challenge or a saved search: the search page's query parameters, e.g.
    `{"q": "保育 申請", "category": ["childcare"]}`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'challenge_id': 42}]})

    challenge_id: Id | None = None
    saved_query: dict[str, Any] | None = None

    @field_validator("saved_query")
    @classmethod
    def _search(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            return saved_query_of(value)
        except ValidationError:
            raise ValueError(N_("This search cannot be saved: check its words and filters.")) from None

    @model_validator(mode="after")
    def _one_thing(self) -> FollowIn:
        if (self.challenge_id is None) == (self.saved_query is None):
            raise ValueError(N_("Follow either a challenge or a search."))
        return self


class FollowOut(BaseModel):
    id: int
    challenge_id: int | None
    challenge_title: dict[str, str] | None
    saved_query: dict[str, Any] | None
    created_at: datetime

    @classmethod
    def of(cls, follow: Follow) -> FollowOut:
        """`follow.challenge` must be fetched."""
        return cls(id=follow.id, challenge_id=follow.challenge_id,
                   challenge_title=follow.challenge.title if follow.challenge_id and follow.challenge else None,
                   saved_query=follow.saved_query, created_at=follow.created_at.astimezone(TOKYO))


class FollowListOut(BaseModel):
    items: list[FollowOut]
    total: int
    page: int
    per_page: int


# --- notifications ---------------------------------------------------------------------------


class NotificationQuery(PageQuery):
    unread: bool = Field(default=False, description="only unread notifications")


class NotificationOut(BaseModel):
    id: int
    kind: str
    payload: dict[str, Any]
    message: str = Field(description="a sentence in the caller's language")
    link: str | None = Field(description="where to read more (a page path)")
    created_at: datetime
    read_at: datetime | None
    unread: bool


class NotificationListOut(BaseModel):
    items: list[NotificationOut]
    total: int
    page: int
    per_page: int
    unread: int = Field(description="how many of all the caller's notifications are unread")


class ReadOut(BaseModel):
    marked: int = Field(description="how many notifications were marked read")
