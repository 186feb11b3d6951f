"""Schemas for joint procurement rounds (API and forms). Names start with Procurement: they share the
OpenAPI document with every other area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from models.core.errors import JST
from models.identity.orgs import Organisation
from models.solutions.procurement import MAX_QUANTITY, MAX_YEN, RoundView
from server.ids import Id
from server.schemas.times import within_years

Text = dict[Literal["ja", "en"], str]
Unit = Literal["licence", "seat", "user", "resident", "device", "site", "case", "year"]
Source = Literal["quote", "last_contract", "estimate"]
Yen = Annotated[int, Field(ge=0, le=MAX_YEN, description="whole yen")]
Count = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]


def _tokyo_if_naive(value: Any) -> Any:
    """A time typed without an offset (a datetime-local field) is Japan time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=JST)
    return value


Closing = Annotated[datetime, BeforeValidator(_tokyo_if_naive), AfterValidator(within_years)]


class ProcurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"solution_id": 12, "item": {"ja": "窓口予約システムの利用ライセンス", "en": "Counter booking licences"},
         "unit": "licence", "closes_at": "2027-03-31T17:00:00+09:00"}]})

    solution_id: Id | None = None
    challenge_id: Id | None = Field(default=None, description="a decided challenge whose outcome is bought, instead of a solution")
    item: Text = Field(description="what is bought, in Japanese and/or English (at most 200 characters each)")
    unit: Unit
    closes_at: Closing = Field(description="agencies may join until then (without an offset: Japan time)")


class ProcurementMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"quantity": 120, "solo_estimate_yen": 3600000, "estimate_source": "quote", "population": 240000, "staff": 1900}]})

    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="how many units the caller's agency buys")
    solo_estimate_yen: Yen = Field(description="what the agency would pay alone")
    estimate_source: Source = Field(default="estimate", description="where the solo estimate came from")
    population: Count | None = None
    staff: Count | None = None


class ProcurementTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"to": "closed"}, {"to": "contracted", "contract_price_yen": 9800000, "company_id": 31}]})

    to: Literal["closed", "contracted"]
    contract_price_yen: Yen | None = Field(default=None, description="the joint contract's price; required for contracted")
    company_id: Id | None = Field(default=None, description="the contractor (defaults to the solution's company)")


class ProcurementListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["", "open", "closed", "contracted"] = ""
    solution: Id | None = None
    agency: Id | None = None


class ProcurementAgencyRef(BaseModel):
    id: int
    code: str | None = Field(description="the municipality code")
    name: dict[str, str]


def agency_ref(organisation: Organisation) -> ProcurementAgencyRef:
    names = {lang: name for lang, name in (("ja", organisation.name_ja), ("en", organisation.name_en)) if name}
    return ProcurementAgencyRef(id=organisation.id, code=organisation.municipality_code, name=names)


class ProcurementMemberOut(BaseModel):
    agency: ProcurementAgencyRef
    quantity: int | None = Field(description="seen by the round's members and operators")
    solo_estimate_yen: int | None
    estimate_source: str | None
    share_yen: int | None = Field(description="once the contract is recorded")
    saving_yen: int | None = Field(description="solo estimate - share; may be negative")


class ProcurementCompanyRef(BaseModel):
    id: int
    corporate_number: str | None
    name: dict[str, str]


class ProcurementOut(BaseModel):
    id: int
    solution_id: int | None
    challenge_id: int | None
    lead: ProcurementAgencyRef
    item: dict[str, str]
    unit: str
    closes_at: datetime
    status: str
    joinable: bool
    members: list[ProcurementMemberOut]
    total_quantity: int | None = Field(description="seen by the round's members and operators")
    contract_price_yen: int | None
    company: ProcurementCompanyRef | None
    saving_yen: int | None = Field(description="the round's saving, once the contract is recorded")
    contracted_at: datetime | None
    allowed_transitions: list[str]

    @classmethod
    def of(cls, view: RoundView) -> ProcurementOut:
        r = view.round
        figures = "figures" in view.actions
        company = view.company
        return cls(
            id=r.id, solution_id=r.solution_id, challenge_id=r.challenge_id, lead=agency_ref(view.lead),
            item={lang: text for lang, text in (("ja", r.item_ja), ("en", r.item_en)) if text}, unit=r.unit,
            closes_at=r.closes_at.astimezone(JST), status=r.status, joinable=view.joinable,
            members=[ProcurementMemberOut(
                agency=agency_ref(m.agency), quantity=m.member.quantity if figures else None,
                solo_estimate_yen=m.member.solo_estimate_yen if figures else None,
                estimate_source=m.member.estimate_source if figures else None,
                share_yen=m.member.share_yen if figures else None, saving_yen=m.member.saving_yen if figures else None)
                for m in view.members],
            total_quantity=view.total_quantity if figures else None, contract_price_yen=r.contract_price_yen,
            company=ProcurementCompanyRef(id=company.id, corporate_number=company.corporate_number, name={
                lang: name for lang, name in (("ja", company.name_ja), ("en", company.name_en)) if name})
            if company and r.status == "contracted" else None,
            saving_yen=view.saving_yen, contracted_at=r.contracted_at.astimezone(JST) if r.contracted_at else None,
            allowed_transitions=view.allowed,
        )


class ProcurementBrief(BaseModel):
    id: int
    solution_id: int | None
    challenge_id: int | None
    lead: ProcurementAgencyRef
    item: dict[str, str]
    unit: str
    closes_at: datetime
    status: str


class ProcurementListOut(BaseModel):
    items: list[ProcurementBrief]
    total: int


class ProcurementSavingsOut(BaseModel):
    agency: ProcurementAgencyRef
    rounds: int
    solo_estimate_yen: int
    contract_yen: int = Field(description="the sum of the agency's shares")
    saving_yen: int
