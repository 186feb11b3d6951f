"""Schemas for the talent pool (partners, needs, matches, invitations, placements): API and forms alike."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.partners.models import PartnerInvitation, PartnerProfile, Placement
from models.partners.needs import NeedInput
from models.partners.profiles import ProfileInput, SkillClaim
from server.ids import Id

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class SkillClaimIn(BaseModel):
    skill: Slug
    experience: Line = Field(description="where, when, what")


class AffiliationIn(BaseModel):
    name: Short
    kind: str = Field(default="employer", pattern="^(employer|client)$")
    organisation_id: int | None = None


class PartnerIn(BaseModel):
    """A partner's profile. On PATCH only the fields sent change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'name': '山田 花子', 'profile': {'ja': '自治体のデータ活用を支援して10年。', 'en': 'Ten years helping municipalities use their data.'}, 'skills': [{'skill': 'open-data', 'experience': '2019–2024 区のオープンデータ公開を主導'}], 'years_experience': 12, 'languages': ['ja', 'en'], 'days_per_month': 4, 'work_mode': 'remote', 'engagement_types': ['advisor', 'reviewer']}]})

    name: Short | None = None
    profile: dict[str, Annotated[str, Field(max_length=5000)]] | None = Field(default=None,
                                                                            description='{"ja": ..., "en": ...}')
    skills: list[SkillClaimIn] | None = None
    tags: list[Short] | None = None
    years_experience: int | None = Field(default=None, ge=0, le=70)
    public_sector_years: int | None = Field(default=None, ge=0, le=70)
    public_sector_experience: Line | None = None
    languages: list[str] | None = None
    days_per_month: int | None = Field(default=None, ge=0, le=31)
    work_mode: str | None = Field(default=None, description="remote, on_site or either")
    areas: list[str] | None = Field(default=None, description="Tokyo municipality codes; empty: anywhere")
    engagement_types: list[str] | None = Field(default=None,
                                               description="advisor, reviewer, part_time_staff, project_lead")
    affiliations: list[AffiliationIn] | None = Field(default=None, description="employers and clients")
    available: bool | None = None
    max_engagements: int | None = Field(default=None, ge=0, le=20,
                                        description="open engagements taken at once; 0: no limit")
    public_profile: bool | None = None
    public_fields: list[str] | None = None

    def to_input(self, *, partial: bool) -> ProfileInput:
        sent = self.model_fields_set
        values: dict[str, Any] = {name: getattr(self, name) for name in sent if name not in ("skills", "affiliations",
                                                                                             "consent_version")}
        if "profile" in values:
            values["profile"] = {lang: text.strip() for lang, text in (self.profile or {}).items()
                                 if lang in ("ja", "en") and text.strip()}
        if "skills" in sent:
            values["skills"] = [SkillClaim(skill=c.skill, experience=c.experience) for c in self.skills or []]
        if "affiliations" in sent:
            values["affiliations"] = [a.model_dump() for a in self.affiliations or []]
        values = {name: value for name, value in values.items() if value is not None}
        return ProfileInput(**values, present=set(values) if partial else None)


class PartnerRegistrationIn(PartnerIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{**{'name': '山田 花子', 'profile': {'ja': '自治体のデータ活用を支援して10年。', 'en': 'Ten years helping municipalities use their data.'}, 'skills': [{'skill': 'open-data', 'experience': '2019–2024 区のオープンデータ公開を主導'}], 'years_experience': 12, 'languages': ['ja', 'en'], 'days_per_month': 4, 'work_mode': 'remote', 'engagement_types': ['advisor', 'reviewer']}, 'consent_version': '2026-11'}]})

    consent_version: str = Field(description="the version of the purpose-of-use text the person accepted")


class TransitionIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{'to': 'approved', 'reason': 'Experience checked.'}]})

    to: str = Field(max_length=32)
    reason: str = Field(default="", max_length=2000)


class PartnerOut(BaseModel):
    """The fields the caller may see; the others are null (a public profile shows only the chosen ones)."""

    id: int
    status: str | None = None
    name: str | None = None
    email: str | None = Field(default=None, description="to agencies only once the partner accepted their invitation")
    profile: dict[str, str] | None = None
    skills: list[dict[str, str]] | None = None
    tags: list[str] | None = None
    years_experience: int | None = None
    public_sector_years: int | None = None
    public_sector_experience: str | None = None
    languages: list[str] | None = None
    days_per_month: int | None = None
    work_mode: str | None = None
    areas: list[str] | None = None
    engagement_types: list[str] | None = None
    affiliations: list[dict[str, Any]] | None = None
    available: bool | None = None
    max_engagements: int | None = None
    public_profile: bool | None = None
    public_fields: list[str] | None = None
    consent_version: str | None = None
    allowed_transitions: list[str] = []

    @classmethod
    def of(cls, partner: PartnerProfile, skills: list[dict[str, str]], fields: set[str] | str,
           email: str | None, allowed: list[str]) -> PartnerOut:
        everything = fields == "all"
        shown = {"id": partner.id, "allowed_transitions": allowed, "email": email}
        values = {
            "status": partner.status, "name": partner.name, "profile": partner.profile, "skills": skills,
            "tags": partner.tags, "years_experience": partner.years_experience,
            "public_sector_years": partner.public_sector_years,
            "public_sector_experience": partner.public_sector_experience, "languages": partner.languages,
            "days_per_month": partner.days_per_month, "work_mode": partner.work_mode, "areas": partner.areas,
            "engagement_types": partner.engagement_types, "affiliations": partner.affiliations,
            "available": partner.available, "max_engagements": partner.max_engagements,
            "public_profile": partner.public_profile,
            "public_fields": partner.public_fields, "consent_version": partner.consent_version,
        }
        for name, value in values.items():
            if everything or name in fields:
                shown[name] = value
        return cls(**shown)


class PartnerSearchQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str = Field(default="", max_length=200)
    skills: list[Slug] = Field(default=[], max_length=30, description="skill slugs (any of them); commas allowed")
    available: bool | None = None
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=20, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _from_strings(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        cleaned = {name: value for name, value in values.items() if not (isinstance(value, str) and not value.strip())}
        if "skills" in cleaned:
            items = cleaned["skills"] if isinstance(cleaned["skills"], list) else [cleaned["skills"]]
            cleaned["skills"] = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        return cleaned


class PartnerHit(BaseModel):
    id: int
    name: str
    skills: list[str]
    tags: list[str]
    languages: list[str]
    days_per_month: int
    work_mode: str
    areas: list[str]
    available: bool


class PartnerListOut(BaseModel):
    items: list[PartnerHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[dict[str, Any]]]
    degraded: bool


class NeedSkillIn(BaseModel):
    skill: Slug
    essential: bool = True


class NeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'role': 'data-scientist', 'skills': [{'skill': 'open-data', 'essential': True}], 'description': {'ja': '区のデータ公開を進める専門家を探しています。'}, 'starts_on': '2027-04-01', 'ends_on': '2027-09-30', 'days_per_month': 4, 'remote': True}]})

    role: Slug
    skills: list[NeedSkillIn] = Field(default=[], max_length=30)
    description: dict[str, Annotated[str, Field(max_length=5000)]] = {}
    starts_on: date | None = None
    ends_on: date | None = None
    days_per_month: int = Field(default=0, ge=0, le=31)
    remote: bool | None = Field(default=None, description="true: remote, false: on site, null: either")
    area: str = Field(default="", max_length=6, description="a Tokyo municipality code; default: the agency's")
    languages: list[str] = Field(default=[], max_length=10)
    cap_days: int | None = Field(default=None, ge=1, le=366, description="an engagement may be capped in days")
    cap_hours: int | None = Field(default=None, ge=1, le=3000, description="or in hours")
    partner_id: int | None = Field(default=None, description="ask for a named partner")

    def to_input(self) -> NeedInput:
        mode = "either" if self.remote is None else "remote" if self.remote else "on_site"
        return NeedInput(role=self.role, skills=[(s.skill, s.essential) for s in self.skills],
                         description={k: v.strip() for k, v in self.description.items() if v.strip()},
                         starts_on=self.starts_on, ends_on=self.ends_on, days_per_month=self.days_per_month,
                         work_mode=mode, area=self.area.strip(), languages=self.languages, cap_days=self.cap_days,
                         cap_hours=self.cap_hours,
                         named_partner_id=self.partner_id)


class NeedOut(BaseModel):
    id: int
    agency_id: int
    role: str
    skills: list[dict[str, Any]]
    description: dict[str, str]
    starts_on: date | None
    ends_on: date | None
    days_per_month: int
    remote: bool | None
    area: str
    languages: list[str]
    cap_days: int | None
    cap_hours: int | None = None
    partner_id: int | None
    status: str
    shortlist: list[int] = Field(default=[], description="the partners the agency shortlisted")

    @classmethod
    def of(cls, need: Any) -> NeedOut:
        remote = None if need.work_mode == "either" else need.work_mode == "remote"
        return cls(id=need.id, agency_id=need.agency_id, role=need.role, skills=need.skills,
                   description=need.description, starts_on=need.starts_on, ends_on=need.ends_on,
                   days_per_month=need.days_per_month, remote=remote, area=need.area, languages=need.languages,
                   cap_days=need.cap_days, cap_hours=need.cap_hours, partner_id=need.named_partner_id, status=need.status,
                   shortlist=list(need.shortlist or []))


class NeedListOut(BaseModel):
    items: list[NeedOut]
    total: int
    page: int
    per_page: int


class MatchOut(BaseModel):
    partner_id: int
    score: float
    reasons: list[dict[str, Any]]


class MatchListOut(BaseModel):
    items: list[MatchOut]
    total: int
    degraded: bool


class PartnerInvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'partner_id': 12, 'message': 'Would you advise our open-data work?'}]})

    partner_id: int
    message: Line = ""


class ShortlistIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"partner_ids": [12, 15]}]})

    partner_ids: list[Id] = Field(max_length=50, description="approved partners from the match list, in order")


class ShortlistOut(BaseModel):
    need_id: int
    partner_ids: list[int]


class PanelPartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"partner_id": 12}]})

    partner_id: Id = Field(description="an approved partner who offers to review (engagement type reviewer)")


class PartnerInvitationOut(BaseModel):
    id: int
    need_id: int
    partner_id: int
    agency_id: int
    role: str
    status: str
    message: str
    allowed_transitions: list[str] = []

    @classmethod
    def of(cls, invitation: PartnerInvitation, allowed: list[str] | None = None) -> PartnerInvitationOut:
        return cls(id=invitation.id, need_id=invitation.need_id, partner_id=invitation.partner_id,
                   agency_id=invitation.need.agency_id, role=invitation.need.role, status=invitation.status,
                   message=invitation.message, allowed_transitions=allowed or [])


class InvitationListOut(BaseModel):
    items: list[PartnerInvitationOut]
    total: int


class PlacementSurveyOut(BaseModel):
    still_in_use: bool
    knowhow_retained: int = Field(description="1 (nothing stayed) to 5 (the agency carries it on alone)")
    would_engage_again: bool
    comment: str


class PlacementOut(BaseModel):
    id: int
    partner_id: int
    agency_id: int
    role: str
    starts_on: date | None
    ends_on: date | None
    status: str = Field(default="open", description="open, or ended (with its report)")
    days_per_month: int = 0
    cap_days: int | None = None
    cap_hours: int | None = None
    report: str = ""
    days_worked: int | None = None
    hours_worked: int | None = None
    survey_due_on: date | None = Field(default=None, description="when the follow-up survey opens")
    survey: PlacementSurveyOut | None = Field(default=None, description="the agency's answers (agency, operators)")
    allowed_transitions: list[str] = []

    @classmethod
    def of(cls, placement: Placement, *, survey: bool = False, allowed: list[str] | None = None) -> PlacementOut:
        answers = placement.survey if survey and placement.survey_answered_at is not None else None
        return cls(id=placement.id, partner_id=placement.partner_id, agency_id=placement.agency_id,
                   role=placement.role, starts_on=placement.starts_on, ends_on=placement.ends_on,
                   status="ended" if placement.ended_at is not None else "open",
                   days_per_month=placement.days_per_month, cap_days=placement.cap_days, cap_hours=placement.cap_hours,
                   report=placement.report, days_worked=placement.days_worked, hours_worked=placement.hours_worked,
                   survey_due_on=placement.survey_due_on,
                   survey=PlacementSurveyOut(**answers) if answers else None, allowed_transitions=allowed or [])


class PlacementTransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "to": "ended", "report": "Opened 12 datasets; the ward's staff now publish updates themselves.",
        "days_worked": 20, "hours_worked": 140}]})

    to: str = Field(max_length=32, description="ended")
    report: str = Field(default="", max_length=4000, description="what was done, and what is left to do")
    days_worked: int | None = Field(default=None, ge=0, le=366)
    hours_worked: int | None = Field(default=None, ge=0, le=3000)


class PlacementSurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "still_in_use": True, "knowhow_retained": 4, "would_engage_again": True,
        "comment": "Two staff members now maintain the datasets."}]})

    still_in_use: bool = Field(description="is the partner's work still in use?")
    knowhow_retained: int = Field(ge=1, le=5, description="1 (nothing stayed) to 5 (the agency carries it on alone)")
    would_engage_again: bool
    comment: str = Field(default="", max_length=4000)


class PlacementListOut(BaseModel):
    items: list[PlacementOut]
    total: int
