"""Partner profiles: registration with consent, editing, vetting, and withdrawal with erasure.

Every transition is one function: policy, lifecycle, row, audit, outbox, in one transaction. Audit rows
about partners hold ids, states and field names, never the personal data itself. Each change queues a
"partner_search" outbox message (search.partners keeps the index in step); withdrawing consent also
queues the erasure of the personal data ("partners" topic, `consume`). A partner who withdraws or is suspended
is no longer asked to review: their reviews not yet submitted go to other reviewers (models.review.reviewing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.core import audit, outbox
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.identifiers import is_valid_municipality_code
from models.core.mail import TOPIC as MAIL_TOPIC
from models.core.mail import redacted
from models.core.outbox import OutboxMessage
from models.core.transitions import next_states
from models.identity.accounts import User
from models.partners.models import PUBLIC_FIELDS, PartnerInvitation, PartnerProfile, PartnerSkill, PartnerStatus
from models.partners.skills import LANGUAGES, SKILLS, EngagementType, WorkMode
from models.policy import Actor, require_user
from models.policy.partners import may_edit_partner, may_vet_partners, offers_reviewing, visible_fields
from models.review.common import REVIEWER_LEFT, REVIEWER_STOPPED
from models.review.reviewing import release_reviewer

log = logging.getLogger(__name__)

TOPIC = "partners"  # the outbox topic `consume` handles: erasing a withdrawn partner's personal data
SEARCH_TOPIC = "partner_search"  # consumed by search.partners: index a partner's document or remove it
# The version of the purpose-of-use text a partner consents to (templates/partners/consent_*.html).
CONSENT_VERSION = "2026-11"
MAX_SKILLS = 30
MAX_TAGS = 20

# state -> {next state: who}
TRANSITIONS: dict[PartnerStatus, dict[PartnerStatus, str]] = {
    PartnerStatus.PENDING: {PartnerStatus.APPROVED: "operator", PartnerStatus.WITHDRAWN: "partner"},
    PartnerStatus.APPROVED: {PartnerStatus.SUSPENDED: "operator", PartnerStatus.WITHDRAWN: "partner"},
    PartnerStatus.SUSPENDED: {PartnerStatus.APPROVED: "operator", PartnerStatus.WITHDRAWN: "partner"},
}
# The states in which a partner leaves the reviewer pool (models.policy.partners.offers_reviewing).
LEAVING = (PartnerStatus.SUSPENDED, PartnerStatus.WITHDRAWN)


@dataclass
class SkillClaim:
    skill: str
    experience: str  # where, when, what


@dataclass
class ProfileInput:
    """What a partner enters; on an update only `present` fields change."""

    name: str = ""
    profile: dict[str, str] = field(default_factory=dict)
    skills: list[SkillClaim] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    years_experience: int = 0
    public_sector_years: int = 0
    public_sector_experience: str = ""
    languages: list[str] = field(default_factory=list)
    days_per_month: int = 0
    work_mode: str = WorkMode.EITHER.value
    areas: list[str] = field(default_factory=list)
    engagement_types: list[str] = field(default_factory=list)
    affiliations: list[dict[str, Any]] = field(default_factory=list)
    available: bool = True
    max_engagements: int | None = None  # open engagements at once; None or 0: no limit
    public_profile: bool = False
    public_fields: list[str] = field(default_factory=list)
    present: set[str] | None = None  # None: every field (registration)

    def given(self, name: str) -> bool:
        return self.present is None or name in self.present


def _check(values: ProfileInput) -> None:
    errors: dict[str, str] = {}
    if values.given("name") and not values.name.strip():
        errors["name"] = N_("Enter a name.")
    if values.given("profile") and not any(text.strip() for text in values.profile.values()):
        errors["profile"] = N_("Describe yourself in Japanese or English.")
    if values.given("skills"):
        slugs = [claim.skill for claim in values.skills]
        if not slugs or len(slugs) > MAX_SKILLS:
            errors["skills"] = N_("Choose between 1 and 30 skills.")
        elif any(slug not in SKILLS for slug in slugs) or len(set(slugs)) != len(slugs):
            errors["skills"] = N_("Choose skills from the list, each once.")
        elif any(not claim.experience.strip() for claim in values.skills):
            errors["skills"] = N_("Back each skill with a line of experience: where, when, what.")
    if values.given("tags") and len(values.tags) > MAX_TAGS:
        errors["tags"] = N_("Use at most 20 tags.")
    for name in ("years_experience", "public_sector_years"):
        if values.given(name) and not 0 <= getattr(values, name) <= 70:
            errors[name] = N_("Enter a number of years between 0 and 70.")
    if values.given("max_engagements") and values.max_engagements is not None and not 0 <= values.max_engagements <= 20:
        errors["max_engagements"] = N_("Enter a number of engagements between 0 and 20.")
    if values.given("days_per_month") and not 0 <= values.days_per_month <= 31:
        errors["days_per_month"] = N_("Enter a number of days between 0 and 31.")
    if values.given("languages") and any(lang not in LANGUAGES for lang in values.languages):
        errors["languages"] = N_("Choose languages from the list.")
    if values.given("work_mode") and values.work_mode not in set(WorkMode):
        errors["work_mode"] = N_("Choose one of the options.")
    if values.given("areas") and any(not (is_valid_municipality_code(code) and code.startswith("13"))
                                     for code in values.areas):
        errors["areas"] = N_("Choose areas of Tokyo from the list.")
    if values.given("engagement_types") and any(kind not in set(EngagementType) for kind in values.engagement_types):
        errors["engagement_types"] = N_("Choose one of the options.")
    if values.given("affiliations") and any(not str(a.get("name", "")).strip() for a in values.affiliations):
        errors["affiliations"] = N_("Name each employer or client.")
    if values.given("public_fields") and any(name not in PUBLIC_FIELDS for name in values.public_fields):
        errors["public_fields"] = N_("Choose one of the options.")
    if errors:
        raise ValidationFailed(errors)


def _search_text(partner: PartnerProfile, skills: list[str]) -> str:
    names = [part for slug in skills for part in SKILLS[slug][:2]]
    return " ".join([partner.name, *partner.profile.values(), *partner.tags, *names]).lower()


SIMPLE_FIELDS = ("name", "profile", "tags", "years_experience", "public_sector_years", "public_sector_experience",
                 "languages", "days_per_month", "work_mode", "areas", "engagement_types", "affiliations",
                 "available", "max_engagements", "public_profile", "public_fields")


def _apply(partner: PartnerProfile, values: ProfileInput) -> list[str]:
    changed = []
    for name in SIMPLE_FIELDS:
        if values.given(name):
            value = getattr(values, name)
            if name == "name":
                value = value.strip()
            elif name == "tags":
                value = list(dict.fromkeys(tag.strip() for tag in value if tag.strip()))
            elif name == "max_engagements":
                value = value or None  # 0: no limit
            elif name in ("languages", "areas", "engagement_types", "public_fields"):
                value = list(dict.fromkeys(value))
            if getattr(partner, name) != value:
                setattr(partner, name, value)
                changed.append(name)
    return changed


async def _write_skills(partner: PartnerProfile, claims: list[SkillClaim], connection: Any) -> None:
    await PartnerSkill.filter(partner_id=partner.id).using_db(connection).delete()
    await PartnerSkill.bulk_create(
        [PartnerSkill(partner_id=partner.id, skill=claim.skill, experience=claim.experience.strip()) for claim in claims],
        using_db=connection,
    )


async def queue_search_update(partner_id: int, connection: Any) -> None:
    await outbox.enqueue(SEARCH_TOPIC, f"partner:{partner_id}", {"kind": "partner", "id": partner_id},
                         using_db=connection)


async def own_profile(actor: Actor) -> PartnerProfile | None:
    """The caller's live partner profile (not withdrawn), if any."""
    if actor.user is None:
        return None
    return await PartnerProfile.get_or_none(user_id=actor.user.id, consent_withdrawn_at__isnull=True)


async def register(actor: Actor, values: ProfileInput, *, consent_version: str) -> PartnerProfile:
    """A person registers as a partner with their own account; the profile waits for vetting."""
    user = require_user(actor)
    if consent_version != CONSENT_VERSION:
        raise ValidationFailed({"consent": N_("Read and accept the purpose of use to register.")})
    if await own_profile(actor) is not None:
        raise ValidationFailed({"form": N_("You are already registered as a partner.")})
    _check(values)
    partner = PartnerProfile(user_id=user.id, consent_version=consent_version, consented_at=timezone.now())
    _apply(partner, values)
    partner.search_text = _search_text(partner, [claim.skill for claim in values.skills])
    async with in_transaction() as connection:
        await partner.save(using_db=connection)
        await _write_skills(partner, values.skills, connection)
        await audit.record("partner.registered", actor=user, target=partner, using_db=connection,
                           after={"status": partner.status, "consent_version": consent_version})
        await queue_search_update(partner.id, connection)
    return partner


async def update(actor: Actor, partner: PartnerProfile, values: ProfileInput) -> PartnerProfile:
    if not may_edit_partner(actor, partner):
        raise NotAllowed("only the partner edits their profile")
    _check(values)
    offered_reviewing = offers_reviewing(partner)
    changed = _apply(partner, values)
    skills: list[str] = [claim.skill for claim in values.skills] if values.given("skills") else \
        await PartnerSkill.filter(partner_id=partner.id).values_list("skill", flat=True)  # type: ignore[assignment]  # Tortoise types values_list(flat=True) as tuples
    if values.given("skills"):
        changed.append("skills")
    partner.search_text = _search_text(partner, list(skills))
    async with in_transaction() as connection:
        await partner.save(using_db=connection)
        if values.given("skills"):
            await _write_skills(partner, values.skills, connection)
        await audit.record("partner.updated", actor=actor.user, target=partner, using_db=connection,
                           after={"fields": sorted(changed)})
        await queue_search_update(partner.id, connection)
        if offered_reviewing and not offers_reviewing(partner):
            await _hand_back_reviews(partner, actor.user, connection, REVIEWER_STOPPED)
    return partner


async def _hand_back_reviews(partner: PartnerProfile, actor: User | None, connection: Any, reason: str) -> None:
    """A partner who may no longer review hands back the reviews not yet submitted, unless the operators also
    made them a reviewer of their own (then they stay one)."""
    if partner.user_id is not None and not await User.exists(id=partner.user_id, is_reviewer=True):
        await release_reviewer(partner.user_id, actor, connection, reason)


async def get_partner(actor: Actor, partner_id: int) -> PartnerProfile:
    """A profile the actor may see (some fields only, see models.policy.partners.visible_fields)."""
    partner = await PartnerProfile.get_or_none(id=partner_id)
    if partner is None or visible_fields(actor, partner) is None:
        raise NotFound("no such partner")
    return partner


def roles_on(actor: Actor, partner: PartnerProfile) -> set[str]:
    roles = set()
    if may_vet_partners(actor):
        roles.add("operator")
    if may_edit_partner(actor, partner):
        roles.add("partner")
    return roles


def allowed_transitions(actor: Actor, partner: PartnerProfile) -> list[str]:
    return next_states(TRANSITIONS, PartnerStatus(partner.status), roles_on(actor, partner))


async def transition(actor: Actor, partner: PartnerProfile, to: str, reason: str = "") -> PartnerProfile:
    """Vetting by operators (approved, suspended, with a reason), or withdrawal by the partner."""
    user = require_user(actor)
    allowed = allowed_transitions(actor, partner)
    if to not in allowed:
        if not roles_on(actor, partner):
            raise NotAllowed("operators vet partners; partners withdraw")
        raise InvalidTransition(N_("This partner cannot be moved to %(state)s now."), allowed, {"state": to})
    target = PartnerStatus(to)
    if target != PartnerStatus.WITHDRAWN and "operator" in roles_on(actor, partner) and not reason.strip():
        raise ValidationFailed({"reason": N_("Give a reason.")})
    before = partner.status
    now = timezone.now()
    partner.status = target.value
    partner.status_reason = reason.strip()
    if target == PartnerStatus.APPROVED:
        partner.approved_at = partner.approved_at or now
    if target == PartnerStatus.WITHDRAWN:
        partner.consent_withdrawn_at = now  # hidden at once, from every list and page
    async with in_transaction() as connection:
        await partner.save(using_db=connection)
        after: dict[str, Any] = {"status": target.value}
        if target != PartnerStatus.WITHDRAWN:
            after["reason"] = partner.status_reason
        await audit.record(f"partner.{target.value}", actor=user, target=partner, using_db=connection,
                           before={"status": before}, after=after)
        await queue_search_update(partner.id, connection)
        if target in LEAVING:
            await _hand_back_reviews(partner, user, connection, REVIEWER_LEFT)
        if target == PartnerStatus.WITHDRAWN:
            await outbox.enqueue(TOPIC, f"partner:{partner.id}", {"kind": "erase", "id": partner.id},
                                 using_db=connection)
    return partner


async def withdraw_consent(actor: Actor, partner: PartnerProfile) -> PartnerProfile:
    return await transition(actor, partner, PartnerStatus.WITHDRAWN.value)


async def erase_personal_data(partner_id: int) -> bool:
    """Erase a withdrawn partner's personal data (a job; idempotent). The row stays, anonymous, so that
    counts and placements still add up; the audit row names only the profile's id."""
    partner = await PartnerProfile.get_or_none(id=partner_id)
    if partner is None or partner.consent_withdrawn_at is None or partner.erased_at is not None:
        return False
    emails = await User.filter(id=partner.user_id).values_list("email", flat=True) if partner.user_id else []
    async with in_transaction() as connection:
        for name, empty in (("name", ""), ("profile", {}), ("tags", []), ("public_sector_experience", ""),
                            ("languages", []), ("areas", []), ("engagement_types", []), ("affiliations", []),
                            ("public_fields", []), ("search_text", ""), ("status_reason", "")):
            setattr(partner, name, empty)
        partner.user_id = None
        partner.public_profile = False
        partner.available = False
        partner.erased_at = timezone.now()
        await partner.save(using_db=connection)
        await PartnerSkill.filter(partner_id=partner.id).using_db(connection).delete()
        if emails:
            await _forget_mails(partner.id, str(emails[0]), connection)
        await audit.record("partner.erased", target=partner, using_db=connection, after={"erased": True})
        await queue_search_update(partner.id, connection)
    return True


async def _forget_mails(partner_id: int, email: str, connection: Any) -> None:
    """The invitation mails to the partner keep their address in the outbox: blank it (and stop the unsent)."""
    ids = await PartnerInvitation.filter(partner_id=partner_id).using_db(connection).values_list("id", flat=True)
    keys = [f"partner_invitation:{invitation_id}" for invitation_id in ids]
    if not keys:
        return
    for message in await OutboxMessage.filter(topic=MAIL_TOPIC, key__in=keys).using_db(connection):
        if message.payload.get("to") != email:
            continue  # an answer to the agency: no personal data of the partner's
        message.payload = {**redacted(message.payload), "to": "", "context": {}}
        if message.processed_at is None:
            message.processed_at = timezone.now()
            message.last_error = "cancelled: the partner withdrew consent"
        await message.save(update_fields=["payload", "processed_at", "last_error"], using_db=connection)


async def consume(message: OutboxMessage) -> None:
    """The outbox consumer for the "partners" topic."""
    if message.payload.get("kind") == "erase":
        await erase_personal_data(int(message.payload["id"]))
    else:
        log.warning("outbox message %s: no partners handler for %r", message.id, message.payload.get("kind"))
