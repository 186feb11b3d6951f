"""Solutions (case studies): drafted from an adopted pilot, edited by its owners, approved by an operator,
corrected at the company's proposal. One function per transition: policy check, row change, audit event,
outbox rows and notifications in one transaction.

Adopting a pilot drafts its solution through the outbox: the pilots' lifecycle queues a "pilot_adopted"
message in the adopting transaction (models/pilots knows nothing of solutions, so there is no import
cycle), and `consume_pilot_adopted` drafts it, once (one solution per pilot; a second delivery finds it).
The owners may also draft it themselves (`draft_from_pilot`), which is equally idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge
from models.core import audit, outbox
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.notifications import Notification
from models.identity.accounts import User
from models.pilots.feedback import satisfaction_of
from models.pilots.lifecycle import ADOPTED_TOPIC
from models.pilots.measurements import progress_for
from models.pilots.models import Pilot, PilotStatus
from models.policy import Actor
from models.policy.solutions import (
    may_decide_correction,
    may_draft_from_pilot,
    may_edit_solution,
    may_propose_correction,
    may_view_solution,
    owns_solution,
    solution_filter,
)
from models.proposals.models import Proposal
from models.solutions.models import CorrectionStatus, Solution, SolutionCorrection, SolutionStatus

S = SolutionStatus
SEARCH_TOPIC = "solution_search"  # search/solutions.py keeps the catalogue's index in step
TOPIC = ADOPTED_TOPIC  # consumed here: an adopted pilot drafts its solution

# Who may move a solution: "owner" (the agencies that ran the pilot), "operator".
TRANSITIONS: dict[SolutionStatus, dict[SolutionStatus, tuple[str, ...]]] = {
    S.DRAFT: {S.IN_REVIEW: ("owner",), S.WITHDRAWN: ("owner",)},
    S.IN_REVIEW: {S.PUBLISHED: ("operator",), S.DRAFT: ("operator", "owner"), S.WITHDRAWN: ("owner",)},
    S.PUBLISHED: {S.WITHDRAWN: ("owner", "operator")},
    S.WITHDRAWN: {},
}
NEEDS_REASON = (S.WITHDRAWN,)
TEXT_FIELDS = ("title", "summary")
YEN_FIELDS = ("cost_yen", "initial_cost_yen", "yearly_cost_yen")
EDITABLE_FIELDS = (*TEXT_FIELDS, *YEN_FIELDS, "spec_shareable", "contact", "documents")
TITLE_MAX, SUMMARY_MAX, CONTACT_MAX, REASON_MAX = 200, 10_000, 300, 2_000
YEN_MAX = 10**13  # ten trillion yen: beyond any municipal contract
DOCUMENTS_MAX = 20


def search_message(solution_id: int, *, using_db: Any = None) -> Any:
    return outbox.enqueue(SEARCH_TOPIC, f"solution:{solution_id}", {"kind": "solution", "id": solution_id}, using_db=using_db)


async def notify(org_ids: list[int], kind: str, payload: dict[str, Any], *, connection: Any) -> None:
    users = await User.filter(memberships__organisation_id__in=org_ids, is_active=True).distinct().using_db(connection)
    for user in users:
        await Notification.create(user_id=user.id, kind=kind, payload=payload, using_db=connection)


# --- drafting from a pilot ---------------------------------------------------------------------------------

async def _results_of(pilot: Pilot) -> list[dict[str, Any]]:
    """Each KPI's baseline and latest verified value, as measured (only verified values count)."""
    return [
        {"key": p.kpi.key, "kpi": dict(p.kpi.name), "baseline": p.kpi.baseline, "latest": p.latest, "unit": p.kpi.unit}
        for p in await progress_for(pilot)
    ]


async def _draft(pilot: Pilot, user: User | None) -> tuple[Solution, bool]:
    existing = await Solution.get_or_none(pilot_id=pilot.id)
    if existing is not None:
        return existing, False
    challenge = await Challenge.get(id=pilot.challenge_id)
    proposal = await Proposal.get(id=pilot.proposal_id)
    satisfaction = await satisfaction_of(pilot)
    summary = {"ja": challenge.outcome.get("ja", "") or challenge.summary.get("ja", ""),
               "en": challenge.outcome.get("en", "") or challenge.summary.get("en", "")}
    if proposal.summary and not any(summary.values()):
        summary = {"ja": proposal.summary, "en": ""}
    try:
        async with in_transaction() as connection:
            solution = await Solution.create(
                challenge_id=challenge.id, pilot_id=pilot.id, company_id=pilot.company_id, owner_id=pilot.owner_id,
                agency_ids=list(pilot.agency_ids or [pilot.owner_id]), created_by=user,
                title={k: v[:TITLE_MAX] for k, v in challenge.title.items()}, summary=summary,
                results=await _results_of(pilot), positive_share=satisfaction.positive_share,
                feedback_count=satisfaction.responses, cost_yen=proposal.cost_yen,
                starts_on=pilot.starts_on, ends_on=pilot.ends_on, using_db=connection,
            )
            await audit.record("solution.drafted", actor=user, target=solution, after={"pilot": pilot.id},
                               using_db=connection)
            await notify(solution.agency_ids, "solution.drafted", {"solution": solution.id, "pilot": pilot.id},
                         connection=connection)
    except IntegrityError:  # drafted meanwhile by the other path
        return await Solution.get(pilot_id=pilot.id), False
    return solution, True


async def draft_from_pilot(actor: Actor, pilot_id: int) -> tuple[Solution, bool]:
    """The owners draft the solution of their adopted pilot; returns it and whether it is new."""
    pilot = await Pilot.get_or_none(id=pilot_id)
    if pilot is None:
        raise NotFound("no such pilot")
    if not may_draft_from_pilot(actor, pilot.agency_ids or [pilot.owner_id]):
        raise NotAllowed("only the pilot's owners draft its solution")
    if pilot.status != PilotStatus.ADOPTED:
        raise InvalidTransition(N_("Only an adopted pilot becomes a solution."), allowed=[])
    return await _draft(pilot, actor.user)


async def draft_adopted(pilot_id: int) -> Solution | None:
    """The solution of an adopted pilot, drafted by the platform if there is none yet (idempotent; the worker's
    consumer and the demo seed); None when the pilot is not adopted."""
    pilot = await Pilot.get_or_none(id=pilot_id)
    if pilot is None or pilot.status != PilotStatus.ADOPTED:
        return None
    return (await _draft(pilot, None))[0]


async def consume_pilot_adopted(message: outbox.OutboxMessage) -> None:
    """Outbox consumer of "pilot_adopted": draft the pilot's solution (idempotent)."""
    await draft_adopted(int(message.payload.get("id") or 0))


# --- reading ---------------------------------------------------------------------------------------------

async def get_solution(actor: Actor, solution_id: int) -> Solution:
    solution = await Solution.get_or_none(id=solution_id).prefetch_related("company", "owner", "challenge")
    if solution is None or not may_view_solution(actor, solution):
        raise NotFound("no such solution")
    return solution


async def list_solutions(actor: Actor, *, status: str = "", company: int | None = None, agency: int | None = None,
                         limit: int = 500) -> list[Solution]:
    query = Solution.filter(solution_filter(actor))
    if status:
        query = query.filter(status=status)
    if company:
        query = query.filter(company_id=company)
    solutions = await query.prefetch_related("company", "owner", "challenge").order_by("-published_at", "-id").limit(limit)
    if agency:
        solutions = [s for s in solutions if agency in (s.agency_ids or [s.owner_id])]
    return [s for s in solutions if may_view_solution(actor, s)]


# --- editing ---------------------------------------------------------------------------------------------

def _text(value: Any, name: str, limit: int, errors: dict[str, str]) -> dict[str, str] | None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()) \
            or not set(value) <= {"ja", "en"}:
        errors[name] = N_("Give the text in Japanese and/or English.")
        return None
    if any(len(v) > limit for v in value.values()):
        errors[name] = N_("This text is too long.")
        return None
    return {k: v.strip() for k, v in value.items()}


def checked_changes(values: dict[str, Any]) -> dict[str, Any]:
    """The editable fields, checked; bad input is a ValidationFailed naming each field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in EDITABLE_FIELDS:
            errors[name] = N_("This field cannot be changed.")
        elif name in TEXT_FIELDS:
            text = _text(value, name, TITLE_MAX if name == "title" else SUMMARY_MAX, errors)
            if text is not None:
                clean[name] = text
        elif name in YEN_FIELDS:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= YEN_MAX):
                errors[name] = N_("An amount is a whole number of yen, not negative.")
            else:
                clean[name] = value
        elif name == "spec_shareable":
            if not isinstance(value, bool):
                errors[name] = N_("Choose yes or no.")
            else:
                clean[name] = value
        elif name == "contact":
            if not isinstance(value, str) or len(value) > CONTACT_MAX:
                errors[name] = N_("The contact has at most 300 characters.")
            else:
                clean[name] = value.strip()
        elif name == "documents":
            if not isinstance(value, list) or len(value) > DOCUMENTS_MAX or not all(
                isinstance(d, dict) and isinstance(d.get("title"), str) and isinstance(d.get("url"), str)
                and d["url"].startswith(("https://", "http://")) and len(d["url"]) <= 500 and len(d["title"]) <= 200
                for d in value
            ):
                errors[name] = N_("Documents are up to 20 links, each with a title and an http(s) address.")
            else:
                clean[name] = [{"title": d["title"].strip(), "url": d["url"]} for d in value]
    if errors:
        raise ValidationFailed(errors)
    return clean


def _apply(solution: Solution, changes: dict[str, Any]) -> dict[str, Any]:
    before = {}
    for name, value in changes.items():
        before[name] = getattr(solution, name)
        setattr(solution, name, value)
    return before


async def update_solution(actor: Actor, solution: Solution, values: dict[str, Any]) -> Solution:
    """The owners edit their draft (once published, changes go through corrections)."""
    if not owns_solution(actor, solution):
        raise NotAllowed("only the solution's owners edit it")
    if not may_edit_solution(actor, solution):
        raise InvalidTransition(N_("A solution can be edited only as a draft."), allowed=allowed_transitions(actor, solution))
    changes = checked_changes(values)
    async with in_transaction() as connection:
        before = _apply(solution, changes)
        await solution.save(using_db=connection)
        await audit.record("solution.edited", actor=actor.user, target=solution, before=_jsonable(before),
                           after=_jsonable(changes), using_db=connection)
    return solution


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items()}


# --- lifecycle -------------------------------------------------------------------------------------------

def _roles(actor: Actor, solution: Solution) -> set[str]:
    roles = set()
    if owns_solution(actor, solution):
        roles.add("owner")
    if actor.is_operator:
        roles.add("operator")
    return roles


def allowed_transitions(actor: Actor, solution: Solution) -> list[str]:
    roles = _roles(actor, solution)
    return [str(to.value) for to, who in TRANSITIONS.get(S(solution.status), {}).items() if roles & set(who)]


def _ready_errors(solution: Solution) -> dict[str, str]:
    errors = {}
    if not any((solution.title or {}).values()):
        errors["title"] = N_("Give the solution a title.")
    if not any((solution.summary or {}).values()):
        errors["summary"] = N_("Give the solution a summary.")
    return errors


async def transition(actor: Actor, solution: Solution, to: str, *, reason: str = "") -> Solution:
    if not _roles(actor, solution) or not may_view_solution(actor, solution):
        raise NotAllowed("not an owner of this solution nor an operator")
    allowed = allowed_transitions(actor, solution)
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    target = S(to)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": N_("The reason has at most 2,000 characters.")})
    if target in NEEDS_REASON and not reason:
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    if target == S.IN_REVIEW:
        errors = _ready_errors(solution)
        if errors:
            raise ValidationFailed(errors)
    async with in_transaction() as connection:
        locked = await Solution.filter(id=solution.id).select_for_update().using_db(connection).get()
        if locked.status != solution.status:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        before = {"status": solution.status}
        solution.status = target.value
        solution.status_reason = reason
        if target == S.PUBLISHED and solution.published_at is None:
            solution.published_at = timezone.now()
        await solution.save(update_fields=["status", "status_reason", "published_at", "updated_at"], using_db=connection)
        await audit.record(f"solution.{target.value}", actor=actor.user, target=solution, before=before,
                           after={"status": solution.status, "reason": reason}, using_db=connection)
        await notify([solution.company_id, *solution.agency_ids], f"solution.{target.value}",
                     {"solution": solution.id, "reason": reason}, connection=connection)
        await search_message(solution.id, using_db=connection)
    return solution


# --- corrections -----------------------------------------------------------------------------------------

@dataclass
class CorrectionInput:
    changes: dict[str, Any] = field(default_factory=dict)
    note: str = ""


async def propose_correction(actor: Actor, solution: Solution, given: CorrectionInput) -> SolutionCorrection:
    """The company proposes a change to the text or figures; the owners decide."""
    if not may_propose_correction(actor, solution):
        raise NotAllowed("only the solution's company proposes corrections")
    if not given.changes:
        raise ValidationFailed({"changes": N_("Say what should change.")})
    changes = checked_changes(given.changes)
    note = (given.note or "").strip()
    if len(note) > REASON_MAX:
        raise ValidationFailed({"note": N_("The note has at most 2,000 characters.")})
    async with in_transaction() as connection:
        correction = await SolutionCorrection.create(
            solution_id=solution.id, proposed_by=actor.user, note=note,
            changes={k: {"before": getattr(solution, k), "after": v} for k, v in changes.items()}, using_db=connection,
        )
        await audit.record("solution.correction_proposed", actor=actor.user, target=solution,
                           after={"correction": correction.id, "fields": sorted(changes)}, using_db=connection)
        await notify(solution.agency_ids, "solution.correction_proposed",
                     {"solution": solution.id, "correction": correction.id}, connection=connection)
    return correction


async def get_correction(actor: Actor, correction_id: int) -> tuple[SolutionCorrection, Solution]:
    correction = await SolutionCorrection.get_or_none(id=correction_id)
    solution = await Solution.get_or_none(id=correction.solution_id) if correction else None
    if correction is None or solution is None or not (may_decide_correction(actor, solution)
                                                      or may_propose_correction(actor, solution) or actor.is_operator):
        raise NotFound("no such correction")
    return correction, solution


async def corrections_of(actor: Actor, solution: Solution) -> list[SolutionCorrection]:
    if not (owns_solution(actor, solution) or may_propose_correction(actor, solution) or actor.is_operator):
        return []
    return await SolutionCorrection.filter(solution_id=solution.id)


async def decide_correction(actor: Actor, correction: SolutionCorrection, solution: Solution, to: str,
                            reason: str = "") -> SolutionCorrection:
    """An owner accepts (the changes apply) or rejects (with a reason) a proposed correction."""
    if not may_decide_correction(actor, solution):
        raise NotAllowed("only the solution's owners decide corrections")
    allowed = [CorrectionStatus.ACCEPTED.value, CorrectionStatus.REJECTED.value] \
        if correction.status == CorrectionStatus.PROPOSED else []
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    reason = (reason or "").strip()
    if to == CorrectionStatus.REJECTED and not reason:
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": N_("The reason has at most 2,000 characters.")})
    async with in_transaction() as connection:
        locked = await SolutionCorrection.filter(id=correction.id).select_for_update().using_db(connection).get()
        if locked.status != CorrectionStatus.PROPOSED:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        correction.status, correction.reason = to, reason
        correction.decided_by, correction.decided_at = actor.user, timezone.now()
        await correction.save(using_db=connection)
        if to == CorrectionStatus.ACCEPTED:
            changes = {k: v["after"] for k, v in correction.changes.items()}
            before = _apply(solution, changes)
            await solution.save(using_db=connection)
            await audit.record("solution.corrected", actor=actor.user, target=solution, before=before, after=changes,
                               using_db=connection)
            await search_message(solution.id, using_db=connection)
        await audit.record(f"solution.correction_{to}", actor=actor.user, target=correction,
                           after={"reason": reason}, using_db=connection)
        await notify([solution.company_id], f"solution.correction_{to}",
                     {"solution": solution.id, "correction": correction.id, "reason": reason}, connection=connection)
    return correction


def public_filter() -> Q:
    return Q(status=S.PUBLISHED.value)
