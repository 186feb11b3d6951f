"""Agencies' needs for digital experts, and their shortlists (the funnel's second step).

A shortlist is what the agency chose from the match list, by an explicit action (`set_shortlist`); reading the
match list changes nothing. Inviting a partner puts them on the shortlist too, so that the funnel
need → shortlist → invitation → placement never counts an invited need as not shortlisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, NotAllowed, NotFound, ValidationFailed
from models.core.identifiers import is_valid_municipality_code
from models.identity.orgs import OrgKind
from models.partners.matching import NeedSpec
from models.partners.models import Need, PartnerProfile
from models.partners.skills import LANGUAGES, ROLES, SKILLS, WorkMode
from models.policy import Actor, require_user
from models.policy.partners import (
    findable_filter,
    is_findable,
    may_manage_need,
    may_post_needs,
    may_view_need,
    need_filter,
)

MAX_SHORTLIST = 50


@dataclass
class NeedInput:
    role: str
    skills: list[tuple[str, bool]] = field(default_factory=list)  # (skill slug, essential)
    description: dict[str, str] = field(default_factory=dict)
    starts_on: date | None = None
    ends_on: date | None = None
    days_per_month: int = 0
    work_mode: str = WorkMode.EITHER.value
    area: str = ""
    languages: list[str] = field(default_factory=list)
    cap_days: int | None = None
    cap_hours: int | None = None
    named_partner_id: int | None = None


async def _check(values: NeedInput) -> None:
    errors: dict[str, str] = {}
    if values.role not in ROLES:
        errors["role"] = N_("Choose a role from the list.")
    slugs = [slug for slug, _ in values.skills]
    if values.named_partner_id is None and not slugs:
        errors["skills"] = N_("Choose the skills needed, or name a partner.")
    elif any(slug not in SKILLS for slug in slugs) or len(set(slugs)) != len(slugs):
        errors["skills"] = N_("Choose skills from the list, each once.")
    if values.starts_on and values.ends_on and values.ends_on < values.starts_on:
        errors["ends_on"] = N_("The end must not be before the start.")
    if not 0 <= values.days_per_month <= 31:
        errors["days_per_month"] = N_("Enter a number of days between 0 and 31.")
    if values.work_mode not in set(WorkMode):
        errors["work_mode"] = N_("Choose one of the options.")
    if values.area and not (is_valid_municipality_code(values.area) and values.area.startswith("13")):
        errors["area"] = N_("Choose areas of Tokyo from the list.")
    if any(lang not in LANGUAGES for lang in values.languages):
        errors["languages"] = N_("Choose languages from the list.")
    if values.cap_days is not None and not 1 <= values.cap_days <= 366:
        errors["cap_days"] = N_("Enter a number of days between 1 and 366.")
    if values.cap_hours is not None and not 1 <= values.cap_hours <= 3000:
        errors["cap_hours"] = N_("Enter a number of hours between 1 and 3,000.")
    if values.named_partner_id is not None:
        partner = await PartnerProfile.get_or_none(id=values.named_partner_id)
        if partner is None or not is_findable(partner):
            errors["named_partner_id"] = N_("This partner cannot be asked for.")
    if errors:
        raise ValidationFailed(errors)


async def post_need(actor: Actor, values: NeedInput) -> Need:
    """An agency member posts a need for their agency."""
    user = require_user(actor)
    if not may_post_needs(actor):
        raise NotAllowed("agency members post needs")
    await _check(values)
    agency = next(m.organisation for m in actor.memberships if m.organisation.kind == OrgKind.AGENCY)
    async with in_transaction() as connection:
        need = await Need.create(
            agency_id=agency.id, created_by_id=user.id, role=values.role, description=values.description,
            skills=[{"skill": slug, "essential": essential} for slug, essential in values.skills],
            starts_on=values.starts_on, ends_on=values.ends_on, days_per_month=values.days_per_month,
            work_mode=values.work_mode, area=values.area or (agency.municipality_code or ""),
            languages=list(dict.fromkeys(values.languages)), cap_days=values.cap_days, cap_hours=values.cap_hours,
            named_partner_id=values.named_partner_id, using_db=connection,
        )
        await audit.record("partner_need.posted", actor=user, organisation=agency, target=need, using_db=connection,
                           after={"role": need.role, "skills": need.skills})
    return need


async def get_need(actor: Actor, need_id: int) -> Need:
    need = await Need.get_or_none(id=need_id).prefetch_related("agency")
    if need is None or not may_view_need(actor, need):
        raise NotFound("no such need")
    return need


async def needs_for(actor: Actor) -> list[Need]:
    return await Need.filter(need_filter(actor)).order_by("-created_at", "-id").prefetch_related("agency")


def need_spec(need: Need) -> NeedSpec:
    return NeedSpec(
        essential=tuple(item["skill"] for item in need.skills if item.get("essential")),
        assets=tuple(item["skill"] for item in need.skills if not item.get("essential")),
        days_per_month=need.days_per_month, work_mode=need.work_mode, area=need.area,
        languages=tuple(need.languages), named_partner_id=need.named_partner_id,
    )


async def set_shortlist(actor: Actor, need: Need, partner_ids: list[int]) -> Need:
    """Members of the need's agency choose its shortlist: findable partners, in their order."""
    user = require_user(actor)
    if not may_manage_need(actor, need):
        raise NotAllowed("members of the need's agency shortlist")
    wanted = list(dict.fromkeys(int(i) for i in partner_ids))
    if len(wanted) > MAX_SHORTLIST:
        raise ValidationFailed({"partner_ids": N_("Shortlist at most 50 partners.")})
    found = set(await PartnerProfile.filter(findable_filter(), id__in=wanted).values_list("id", flat=True))
    if any(partner_id not in found for partner_id in wanted):
        raise ValidationFailed({"partner_ids": N_("Shortlist approved partners only.")})
    before = list(need.shortlist or [])
    if wanted == before:
        return need
    await need.fetch_related("agency")
    async with in_transaction() as connection:
        await Need.filter(id=need.id).using_db(connection).update(shortlist=wanted, updated_at=timezone.now())
        await audit.record("partner_need.shortlisted", actor=user, organisation=need.agency, target=need,
                           using_db=connection, before={"shortlist": before}, after={"shortlist": wanted})
    need.shortlist = wanted
    return need


async def add_to_shortlist(need: Need, partner_id: int, connection: Any) -> None:
    """In the caller's transaction (an invitation): the invited partner joins the need's shortlist."""
    stored = await Need.filter(id=need.id).using_db(connection).values_list("shortlist", flat=True)
    current = list(stored[0] or []) if stored else []  # the row as it is now
    if partner_id not in current:
        need.shortlist = [*current, partner_id]
        await Need.filter(id=need.id).using_db(connection).update(shortlist=need.shortlist)
