"""Proposal schemas: they validate the API's JSON and the pages' forms alike, and describe the output."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import FormData

from models.challenges.models import ChallengeKpi
from models.core.errors import N_, ValidationFailed
from models.core.identifiers import identifier_kind, normalize_digits
from models.identity.orgs import Organisation, OrgStatus, organisation_with_code, organisations_with_ids
from models.proposals.lifecycle import KpiCommitment, ProposalChanges, ProposalView
from models.proposals.models import Proposal, ProposalVersion
from server.i18n import TOKYO
from server.ids import Id
from server.text import Name

LongText = Annotated[str, Field(max_length=20000)]
Yen = Annotated[int, Field(ge=0, le=10**13)]
TEXT_FIELDS = ("title", "summary", "approach", "schedule", "team", "track_record")


class KpiCommitmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kpi: Annotated[int, Field(ge=0, le=99)] | Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="the challenge KPI's position in its `kpis` list (from 0), or its name in either language"
    )
    value: float = Field(allow_inf_nan=False, description="the value the company commits to reach")


class ProposalIn(BaseModel):
    """Fields to set; on PATCH only the fields sent are changed. Text is plain, in the company's language."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{'title': 'Halve the wait with online booking', 'summary': 'Online booking and a call-by-text notice.', 'approach': 'We connect to the counter system and go live within three months.', 'cost_yen': 2400000, 'schedule': 'Month 1: design; month 2: roll-out; month 3: evaluation', 'team': '1 project manager, 2 engineers', 'track_record': 'Running at two other wards', 'kpis': [{'kpi': 0, 'value': 18}]}]})

    # Fields whose type does not admit None default to None, meaning "not sent": an explicit null is refused.
    title: Name = Field(default=None, max_length=300)
    summary: LongText = None
    approach: LongText = None
    cost_yen: Yen | None = Field(default=None, description="the cost estimate in yen")
    schedule: LongText = None
    team: LongText = None
    track_record: LongText = None
    kpis: list[KpiCommitmentIn] = Field(default=None, max_length=20)
    declared_conflicts: list[Id] = Field(
        default=None, max_length=50, description="ids of organisations the company declares a conflict of interest with"
    )

    def to_changes(self) -> ProposalChanges:
        sent = self.model_fields_set - {"kpis", "declared_conflicts"}
        values: dict[str, Any] = {name: getattr(self, name) for name in sent}
        for name in TEXT_FIELDS:
            if name in values and values[name] is None:
                values[name] = ""
        return ProposalChanges(
            values=values,
            kpis=[KpiCommitment(kpi=k.kpi, value=k.value) for k in self.kpis] if self.kpis is not None else None,
            declared_conflicts=self.declared_conflicts if "declared_conflicts" in self.model_fields_set else None,
        )


class NewProposalIn(ProposalIn):
    title: Name = Field(max_length=300)  # type: ignore[assignment]

    @field_validator("title")
    @classmethod
    def _title_present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(N_("Give the proposal a title."))
        return value


class ProposalTransitionIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{'to': 'submitted'}]})

    to: str = Field(max_length=32, description="submitted, withdrawn, ineligible (or, for owners, a decision)")
    reason: str = Field(default="", max_length=2000, description="required to withdraw, screen out or decide")


class ProposalListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    challenge_id: Id | None = None
    status: str | None = Field(default=None, max_length=24)
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=20, ge=1, le=100)


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=20, ge=1, le=100)


class CompanyRef(BaseModel):
    id: int
    name: dict[str, str]


class KpiCommitmentOut(BaseModel):
    kpi: int
    name: dict[str, str]
    unit: str
    value: float


def _tokyo(moment: datetime | None) -> datetime | None:
    return moment.astimezone(TOKYO) if moment else None


def _company(organisation: Organisation) -> CompanyRef:
    return CompanyRef(id=organisation.id, name={"ja": organisation.name_ja, "en": organisation.name_en})


def kpi_rows(kpis: list[ChallengeKpi], commitments: list[dict[str, Any]]) -> list[KpiCommitmentOut]:
    out = []
    for commitment in commitments or []:
        index = commitment.get("kpi")
        if isinstance(index, int) and 0 <= index < len(kpis):
            kpi = kpis[index]
            out.append(KpiCommitmentOut(kpi=index, name=kpi.name, unit=kpi.unit, value=commitment["value"]))
    return out


class ProposalOut(BaseModel):
    id: int
    challenge_id: int
    company: CompanyRef | None = Field(description="null for reviewers when the challenge's review is blind")
    title: str
    summary: str
    approach: str
    cost_yen: int | None
    schedule: str
    team: str
    track_record: str
    kpis: list[KpiCommitmentOut]
    declared_conflicts: list[int]
    status: str
    status_reason: str
    submitted_at: datetime | None
    version: int = Field(description="the number of the last version submitted (0: never submitted)")
    reference: str | None = Field(description="the receipt's reference of the last version submitted")
    sha256: str | None = Field(description="the SHA-256 digest of the last version submitted")
    unsubmitted_changes: bool = Field(description="the company has saved changes it has not submitted again")
    proposals_deadline: datetime | None
    allowed_transitions: list[str] = []

    @classmethod
    def of(cls, proposal: Proposal, view: ProposalView, kpis: list[ChallengeKpi], allowed: list[str]) -> ProposalOut:
        assert view.challenge is not None
        challenge, content = view.challenge, view.content
        company = _company(view.company) if view.company is not None else None
        return cls(
            id=proposal.id, challenge_id=proposal.challenge_id, company=company,
            **{name: content.get(name) or "" for name in TEXT_FIELDS},
            cost_yen=content.get("cost_yen"), kpis=kpi_rows(kpis, content.get("kpis") or []),
            declared_conflicts=content.get("declared_conflicts") or [],
            status=view.status or proposal.status, status_reason=view.status_reason if view.status else proposal.status_reason,
            submitted_at=_tokyo(proposal.submitted_at), version=proposal.version, reference=proposal.reference,
            sha256=view.version.sha256 if view.version else None, unsubmitted_changes=view.unsubmitted_changes,
            proposals_deadline=_tokyo(challenge.proposals_deadline), allowed_transitions=allowed,
        )


class ProposalSummary(BaseModel):
    id: int
    challenge_id: int
    company: CompanyRef | None
    title: str
    status: str
    submitted_at: datetime | None
    version: int
    reference: str | None


class ProposalList(BaseModel):
    items: list[ProposalSummary]
    total: int
    page: int
    per_page: int


class VersionOut(BaseModel):
    version: int
    reference: str
    sha256: str = Field(description="SHA-256 of `content` as canonical JSON: sorted keys, no spaces, UTF-8")
    submitted_at: datetime
    submitted_by: str | None
    content: dict[str, Any]

    @classmethod
    def of(cls, proposal: Proposal, version: ProposalVersion) -> VersionOut:
        submitted_at = datetime.fromisoformat(version.content["submitted_at"])
        return cls(
            version=version.version, reference=f"KY-{proposal.challenge_id}-{proposal.id}-v{version.version}",
            sha256=version.sha256, submitted_at=submitted_at.astimezone(TOKYO),
            submitted_by=version.submitted_by.name if version.submitted_by else None, content=version.content,
        )


class VersionList(BaseModel):
    items: list[VersionOut]
    total: int
    page: int
    per_page: int


# --- the pages' forms ------------------------------------------------------------------------

_CODE_SEPARATORS = re.compile(r"[\s,、，]+")


async def conflict_ids_from_codes(text: str) -> list[int]:
    """Organisations named by municipality code or corporate number, one or more per line."""
    ids = []
    for token in filter(None, _CODE_SEPARATORS.split(text or "")):
        code = normalize_digits(token)
        kind = identifier_kind(code)
        organisation = await organisation_with_code(code, kind)
        # Only approved organisations can be named: a pending one is unknown everywhere else.
        if organisation is None or organisation.status != OrgStatus.APPROVED.value:
            raise ValidationFailed({"declared_conflicts": N_(
                "Enter the municipality code or corporate number of organisations registered on Kyoso, one per line."
            )})
        ids.append(organisation.id)
    return ids


async def codes_for_ids(ids: list[int]) -> str:
    organisations = await organisations_with_ids(ids)
    return "\n".join(organisation.code or "" for organisation in organisations if organisation.code)


def proposal_input_from_form(form: FormData, kpi_count: int) -> dict[str, Any]:
    """The page's flat form fields, arranged as the API's JSON (blank KPI rows left out).

    `declared_conflicts` is left as typed (codes); the caller turns it into ids.
    """
    data: dict[str, Any] = {name: str(form.get(name, "")) for name in TEXT_FIELDS}
    cost = re.sub(r"[,\s円¥￥]", "", str(form.get("cost_yen", "")))
    data["cost_yen"] = cost or None
    data["kpis"] = []
    for i in range(kpi_count):
        value = str(form.get(f"kpi-{i}-value", "")).replace(",", "").strip()
        if value:
            data["kpis"].append({"kpi": i, "value": value})
    return data


def proposal_values(proposal_content: dict[str, Any], conflict_codes: str) -> dict[str, str]:
    """A proposal's content as the flat form fields the edit page shows."""
    values = {name: proposal_content.get(name) or "" for name in TEXT_FIELDS}
    cost = proposal_content.get("cost_yen")
    values["cost_yen"] = "" if cost is None else str(cost)
    for commitment in proposal_content.get("kpis") or []:
        value = commitment["value"]
        values[f"kpi-{commitment['kpi']}-value"] = str(int(value)) if float(value).is_integer() else repr(float(value))
    values["declared_conflicts"] = conflict_codes
    return values
