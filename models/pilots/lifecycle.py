"""Starting a pilot and moving it through its lifecycle: one function per transition.

planned → running → under_evaluation → adopted | extended | stopped, plus paused (from running, with a
reason, back to running). `extended` sets a new end date and the pilot runs again. Each move checks the
policy and the table, changes the row, and writes the audit event and the outbox rows in one transaction.
"""

from __future__ import annotations

import calendar
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeKpi, ChallengeStatus
from models.core import audit, outbox
from models.core.base import translated
from models.core.errors import JST, N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.core.transitions import next_states
from models.identity.accounts import User
from models.identity.orgs import Organisation
from models.pilots import evaluation
from models.pilots.models import KpiDirection, Pilot, PilotKpi, PilotStatus
from models.policy import Actor
from models.policy.challenges import owner_organisation_ids, owns_challenge
from models.policy.pilots import may_edit_kpis, may_view_pilot, owns_pilot, pilot_filter, runs_pilot
from models.proposals.models import Proposal, ProposalStatus
from models.review.closing import mail_context

S = PilotStatus

TRANSITIONS: dict[PilotStatus, dict[PilotStatus, str]] = {
    S.PLANNED: {S.RUNNING: "owner", S.STOPPED: "owner"},
    S.RUNNING: {S.PAUSED: "owner", S.UNDER_EVALUATION: "owner", S.STOPPED: "owner"},
    S.PAUSED: {S.RUNNING: "owner", S.STOPPED: "owner"},
    S.UNDER_EVALUATION: {S.ADOPTED: "owner", S.EXTENDED: "owner", S.STOPPED: "owner"},
    S.ADOPTED: {},
    S.STOPPED: {},
}
DECISIONS = (S.ADOPTED, S.EXTENDED, S.STOPPED)  # the company is told of each by e-mail
NEEDS_REASON = (S.PAUSED, S.STOPPED, *DECISIONS)
DEFAULT_MONTHS = 6
ADOPTED_TOPIC = "pilot_adopted"  # consumed by models/solutions: an adopted pilot drafts its solution

# The four service KPIs public digital services are commonly measured by (GOV.UK's mandatory set).
KPI_TEMPLATES: dict[str, dict[str, Any]] = {
    "completion_rate": {"name": {"ja": "完了率", "en": "Completion rate"}, "unit": "%", "direction": "higher", "is_rate": True},
    "user_satisfaction": {"name": {"ja": "利用者満足度", "en": "User satisfaction"}, "unit": "%", "direction": "higher", "is_rate": True},
    "cost_per_transaction": {"name": {"ja": "1件あたりの費用", "en": "Cost per transaction"}, "unit": "円", "direction": "lower", "is_rate": False},
    "digital_take_up": {"name": {"ja": "デジタル利用率", "en": "Digital take-up"}, "unit": "%", "direction": "higher", "is_rate": True},
}


@dataclass
class KpiInput:
    name: dict[str, str]
    unit: str = ""
    baseline: float | None = None
    target: float | None = None
    direction: str = KpiDirection.HIGHER.value
    is_rate: bool = False
    key: str = ""


def today() -> date:
    return timezone.now().astimezone(JST).date()


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _key(name: dict[str, str], position: int, taken: set[str]) -> str:
    english = "".join(c if c.isalnum() else "_" for c in (name.get("en") or "").lower()).strip("_")[:32]
    key = english or f"kpi{position + 1}"
    while key in taken:
        key = f"{key[:30]}_{position + 1}"
    return key


def _check_kpis(kpis: list[KpiInput]) -> dict[str, str]:
    for kpi in kpis:
        if not any((kpi.name or {}).values()):
            return {"kpis": N_("Every KPI needs a name.")}
        if kpi.direction not in (KpiDirection.HIGHER, KpiDirection.LOWER):
            return {"kpis": N_("A KPI's direction is higher or lower.")}
        if kpi.baseline is not None and kpi.target is not None and kpi.baseline == kpi.target:
            return {"kpis": N_("A KPI's target must differ from its baseline.")}
    return {}


async def _write_kpis(pilot: Pilot, kpis: list[KpiInput], connection: Any) -> None:
    await PilotKpi.filter(pilot_id=pilot.id).using_db(connection).delete()
    taken: set[str] = set()
    for position, kpi in enumerate(kpis):
        key = kpi.key.strip()[:40] if kpi.key.strip() and kpi.key.strip() not in taken else _key(kpi.name, position, taken)
        taken.add(key)
        await PilotKpi.create(pilot_id=pilot.id, position=position, key=key, name=kpi.name, unit=kpi.unit[:32],
                              baseline=kpi.baseline, target=kpi.target, direction=kpi.direction,
                              is_rate=kpi.is_rate, using_db=connection)


def _direction(baseline: float | None, target: float | None) -> str:
    return KpiDirection.LOWER.value if baseline is not None and target is not None and target < baseline else KpiDirection.HIGHER.value


def _copied_kpis(challenge_kpis: list[ChallengeKpi], proposal: Proposal) -> list[KpiInput]:
    """The challenge's KPIs, then the proposal's committed ones (by name, not repeated)."""
    kpis = [KpiInput(name=dict(k.name), unit=k.unit, baseline=k.baseline, target=k.target,
                     direction=_direction(k.baseline, k.target), is_rate=k.unit == "%") for k in challenge_kpis]
    seen = {translated(k.name, "ja") for k in kpis}
    for item in proposal.kpis or []:
        if not isinstance(item, dict):
            continue
        raw_name = item.get("name")
        name = raw_name if isinstance(raw_name, dict) else {"ja": str(raw_name or "")}
        if not any(name.values()) or translated(name, "ja") in seen:
            continue
        baseline, target = _number(item.get("baseline")), _number(item.get("target"))
        unit = str(item.get("unit") or "")[:32]
        kpis.append(KpiInput(name=name, unit=unit, baseline=baseline, target=target,
                             direction=str(item.get("direction") or _direction(baseline, target)), is_rate=unit == "%"))
        seen.add(translated(name, "ja"))
    return kpis


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


async def start_pilot(actor: Actor, proposal_id: int, starts_on: date | None = None, ends_on: date | None = None) -> Pilot:
    """An owner starts a pilot (planned) from a selected proposal of a decided challenge; one per proposal."""
    proposal = await Proposal.get_or_none(id=proposal_id)
    challenge = await Challenge.get_or_none(id=proposal.challenge_id) if proposal else None
    if proposal is None or challenge is None:
        raise NotFound("no such proposal")
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners start a pilot")
    if challenge.status != ChallengeStatus.DECIDED or proposal.status != ProposalStatus.SELECTED:
        raise InvalidTransition(N_("A pilot starts from a selected proposal of a decided challenge."), allowed=[])
    starts_on = starts_on or today()
    ends_on = ends_on or add_months(starts_on, challenge.pilot_months or DEFAULT_MONTHS)
    if ends_on <= starts_on:
        raise ValidationFailed({"ends_on": N_("The end date must come after the start date.")})
    agencies = sorted(await owner_organisation_ids(challenge))
    kpis = _copied_kpis(await ChallengeKpi.filter(challenge_id=challenge.id), proposal)
    async with in_transaction() as connection:
        if await Pilot.filter(proposal_id=proposal.id).using_db(connection).exists():
            raise InvalidTransition(N_("This proposal already has a pilot."), allowed=[])
        pilot = await Pilot.create(challenge_id=challenge.id, proposal_id=proposal.id, company_id=proposal.company_id,
                                   owner_id=challenge.owner_id, agency_ids=agencies, starts_on=starts_on,
                                   ends_on=ends_on, short_code=secrets.token_urlsafe(6), using_db=connection)
        await _write_kpis(pilot, kpis, connection)
        await audit.record("pilot.created", actor=actor.user, target=pilot,
                           after={"proposal": proposal.id, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
                           using_db=connection)
        await _notify(pilot, "pilot.created", members_of=[pilot.company_id], connection=connection)
    return pilot


async def get_pilot(actor: Actor, pilot_id: int) -> Pilot:
    pilot = await Pilot.get_or_none(id=pilot_id).prefetch_related("company", "owner", "challenge")
    if pilot is None or not may_view_pilot(actor, pilot):
        raise NotFound("no such pilot")
    return pilot


async def get_pilot_by_code(code: str) -> Pilot:
    pilot = await Pilot.get_or_none(short_code=code)
    if pilot is None:
        raise NotFound("no such pilot")
    return pilot


async def list_pilots(actor: Actor, *, status: str = "", agency: int | None = None, company: int | None = None,
                      challenge: int | None = None) -> list[Pilot]:
    query = Pilot.filter(pilot_filter(actor))
    if status:
        query = query.filter(status=status)
    if company:
        query = query.filter(company_id=company)
    if challenge:
        query = query.filter(challenge_id=challenge)
    pilots = await query.prefetch_related("company", "owner", "challenge").order_by("-id").limit(500)
    if agency:
        pilots = [p for p in pilots if agency in (p.agency_ids or [p.owner_id])]
    return [p for p in pilots if may_view_pilot(actor, p)]


async def update_kpis(actor: Actor, pilot: Pilot, kpis: list[KpiInput]) -> list[PilotKpi]:
    """Owners add or correct KPIs until the pilot runs."""
    if not owns_pilot(actor, pilot):
        raise NotAllowed("only the pilot's owners change its KPIs")
    if not may_edit_kpis(actor, pilot):
        raise InvalidTransition(N_("KPIs can be changed only before the pilot runs."),
                                allowed=allowed_transitions(actor, pilot))
    errors = _check_kpis(kpis)
    if errors:
        raise ValidationFailed(errors)
    async with in_transaction() as connection:
        await _write_kpis(pilot, kpis, connection)
        await audit.record("pilot.kpis_changed", actor=actor.user, target=pilot, after={"kpis": len(kpis)},
                           using_db=connection)
    return await PilotKpi.filter(pilot_id=pilot.id)


async def update_dates(actor: Actor, pilot: Pilot, starts_on: date, ends_on: date) -> Pilot:
    if not owns_pilot(actor, pilot):
        raise NotAllowed("only the pilot's owners change its dates")
    if not may_edit_kpis(actor, pilot):
        raise InvalidTransition(N_("The dates can be changed only before the pilot runs."),
                                allowed=allowed_transitions(actor, pilot))
    if ends_on <= starts_on:
        raise ValidationFailed({"ends_on": N_("The end date must come after the start date.")})
    async with in_transaction() as connection:
        pilot.starts_on, pilot.ends_on = starts_on, ends_on
        await pilot.save(update_fields=["starts_on", "ends_on"], using_db=connection)
        await audit.record("pilot.dates_changed", actor=actor.user, target=pilot,
                           after={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}, using_db=connection)
    return pilot


NOTES_MAX = 10_000


async def set_internal_notes(actor: Actor, pilot: Pilot, notes: str) -> Pilot:
    """Notes the company, the owners and operators share; never public."""
    if not (owns_pilot(actor, pilot) or runs_pilot(actor, pilot)):
        raise NotAllowed("only the company and the owners write the pilot's notes")
    if len(notes) > NOTES_MAX:
        raise ValidationFailed({"internal_notes": N_("The notes have at most 10,000 characters.")})
    async with in_transaction() as connection:
        pilot.internal_notes = notes.strip()
        await pilot.save(update_fields=["internal_notes", "updated_at"], using_db=connection)
        await audit.record("pilot.notes_changed", actor=actor.user, target=pilot, using_db=connection)
    return pilot


def allowed_transitions(actor: Actor, pilot: Pilot) -> list[str]:
    roles = {"owner"} if owns_pilot(actor, pilot) else set()
    return next_states(TRANSITIONS, S(pilot.status), roles)


async def transition(actor: Actor, pilot: Pilot, to: str, *, reason: str = "", ends_on: date | None = None) -> Pilot:
    """Move a pilot to `to`, as an owner. The job moves pilots past their end date (`end_due`)."""
    allowed = allowed_transitions(actor, pilot)
    if not owns_pilot(actor, pilot):
        raise NotAllowed("not an owner of this pilot")
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    target = S(to)
    if target in NEEDS_REASON and not reason.strip():
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    if target == S.EXTENDED and (ends_on is None or ends_on <= max(pilot.ends_on, today())):
        raise ValidationFailed({"ends_on": N_("Choose a new end date after the current one and after today.")})
    return await _move(actor.user, pilot, target, reason.strip(), ends_on=ends_on)


async def _move(user: User | None, pilot: Pilot, target: PilotStatus, reason: str = "", *, ends_on: date | None = None) -> Pilot:
    async with in_transaction() as connection:
        locked = await Pilot.filter(id=pilot.id).select_for_update().using_db(connection).get()
        if locked.status != pilot.status:  # moved meanwhile (a job, another owner)
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        before = {"status": pilot.status, "ends_on": pilot.ends_on.isoformat()}
        pilot.status = S.RUNNING.value if target == S.EXTENDED else target.value
        if target == S.EXTENDED and ends_on is not None:
            pilot.ends_on = ends_on
        if target == S.RUNNING and pilot.started_at is None:
            pilot.started_at = timezone.now()
        pilot.status_reason = reason
        await pilot.save(update_fields=["status", "ends_on", "started_at", "status_reason", "updated_at"], using_db=connection)
        await audit.record(f"pilot.{target.value}", actor=user, target=pilot, before=before,
                           after={"status": pilot.status, "ends_on": pilot.ends_on.isoformat(), "reason": reason},
                           using_db=connection)
        payload_kind = f"pilot.{target.value}"
        await _notify(pilot, payload_kind, members_of=[pilot.company_id, *pilot.agency_ids], connection=connection)
        if target in DECISIONS:
            await _tell_company(pilot, target, reason, connection)
        if target == S.UNDER_EVALUATION:
            await start_evaluation(pilot.id, using_db=connection)
        if target == S.ADOPTED:
            await outbox.enqueue(ADOPTED_TOPIC, f"pilot:{pilot.id}", {"kind": "pilot_adopted", "id": pilot.id},
                                 using_db=connection)
    return pilot


async def _notify(pilot: Pilot, kind: str, *, members_of: list[int], connection: Any) -> None:
    users = await User.filter(memberships__organisation_id__in=members_of, is_active=True).distinct().using_db(connection)
    for user in users:
        await Notification.create(user_id=user.id, kind=kind, payload={"pilot": pilot.id, "challenge": pilot.challenge_id}, using_db=connection)


async def _company_contact(pilot: Pilot, connection: Any) -> User | None:
    """The proposal's author if still an active member of the company, else its first admin or member."""
    proposal = await Proposal.get(id=pilot.proposal_id, using_db=connection)
    members = User.filter(memberships__organisation_id=pilot.company_id, is_active=True).using_db(connection)
    if proposal.created_by_id is not None:
        author = await members.filter(id=proposal.created_by_id).first()
        if author is not None:
            return author
    return await members.order_by("id").first()


async def _tell_company(pilot: Pilot, decision: PilotStatus, reason: str, connection: Any) -> None:
    """One decision e-mail to the company's contact, in their language."""
    contact = await _company_contact(pilot, connection)
    if contact is None:
        return
    challenge = await Challenge.get(id=pilot.challenge_id, using_db=connection)
    company = await Organisation.get(id=pilot.company_id, using_db=connection)
    context = {"pilot_id": pilot.id, "challenge_title": translated(challenge.title, contact.locale),
               "company_name": company.name(contact.locale), "decision": decision.value, "reason": reason,
               "ends_on": pilot.ends_on.isoformat(), "criteria_count": 0, "feedback_count": 0}
    found = await evaluation.decision_feedback(pilot)
    if found is not None:  # the evaluation's scores and feedback per criterion, as for proposals
        context |= mail_context(found, contact.locale)
    await queue_mail("pilot_decision", to=contact.email, locale=contact.locale, context=context,
                     key=f"pilot-decision:{pilot.id}", using_db=connection)


async def start_evaluation(pilot_id: int, *, using_db: Any = None) -> None:
    """The pilot went under evaluation (in that transaction): its evaluation round starts
    (models.pilots.evaluation.start: assignment queued for the worker) and the owners are mailed."""
    pilot = await Pilot.get(id=pilot_id, using_db=using_db)
    await evaluation.start(pilot, using_db)
    challenge = await Challenge.get(id=pilot.challenge_id, using_db=using_db)
    for user in await User.filter(memberships__organisation_id__in=pilot.agency_ids, is_active=True).distinct().using_db(using_db):
        await queue_mail("pilot_evaluation_due", to=user.email, locale=user.locale,
                         context={"pilot_id": pilot.id, "challenge_title": translated(challenge.title, user.locale),
                                  "ends_on": pilot.ends_on.isoformat()},
                         key=f"pilot-evaluation:{pilot.id}", using_db=using_db)


async def end_due(day: date | None = None) -> list[int]:
    """Move every running pilot past its end date to under_evaluation (a job; idempotent)."""
    day = day or today()
    moved = []
    for pilot in await Pilot.filter(status=S.RUNNING.value, ends_on__lt=day).order_by("id"):
        try:
            await _move(None, pilot, S.UNDER_EVALUATION, "")
        except InvalidTransition:
            continue  # moved meanwhile
        moved.append(pilot.id)
    return moved


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date from a form, or None; a malformed one is a ValidationFailed."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed({"ends_on": N_("Give the date as YYYY-MM-DD.")}) from None


async def challenge_pilots(actor: Actor, challenge: Challenge) -> tuple[list[Pilot], list[Proposal]]:
    """The challenge's pilots the actor may see, and (for its owners, once decided) the selected proposals
    still without a pilot, from which one can be started. Only a decided challenge has pilots."""
    if challenge.status != ChallengeStatus.DECIDED:
        return [], []
    pilots = await list_pilots(actor, challenge=challenge.id)
    startable: list[Proposal] = []
    if await owns_challenge(actor, challenge):
        started = {p.proposal_id for p in await Pilot.filter(challenge_id=challenge.id)}
        startable = [p for p in await Proposal.filter(challenge_id=challenge.id, status=ProposalStatus.SELECTED.value)
                     .prefetch_related("company") if p.id not in started]
    return pilots, startable
