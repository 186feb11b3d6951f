""""We use this too": an agency states its own adoption of a published solution, keyed by its municipality
code, and moves it considering → contracted → live, or dropped (with a reason). Operators re-confirm live
adoptions yearly; a job marks the ones not re-confirmed for a year as stale (never deleting them).

Each change is audited; the company and the original agencies are notified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.identity.orgs import Organisation
from models.policy import Actor
from models.policy.solutions import (
    adopting_agencies,
    may_adopt,
    may_confirm_adoption,
    may_view_solution,
    states_adoption,
)
from models.solutions.catalogue import YEN_MAX, notify, search_message
from models.solutions.models import Adoption, AdoptionStatus, Solution, SolutionStatus

A = AdoptionStatus
TRANSITIONS: dict[AdoptionStatus, tuple[AdoptionStatus, ...]] = {
    A.CONSIDERING: (A.CONTRACTED, A.LIVE, A.DROPPED),
    A.CONTRACTED: (A.LIVE, A.DROPPED),
    A.LIVE: (A.DROPPED,),
    A.DROPPED: (A.CONSIDERING,),  # an agency may take it up again
}
STATED = (A.CONSIDERING, A.CONTRACTED, A.LIVE)  # what an adoption may start as
USING = (A.CONTRACTED, A.LIVE)  # counted in "used by N municipalities"
CONFIRM_EVERY = timedelta(days=365)
SCALE_MAX = 200_000_000
REASON_MAX = 2_000


@dataclass
class AdoptionInput:
    status: str = A.CONSIDERING.value
    starts_on: Any = None
    scale: Any = None
    initial_cost_yen: Any = None
    yearly_cost_yen: Any = None
    agency_id: int | None = None  # which of the person's agencies, when they act for several


def _checked(given: AdoptionInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if given.starts_on in (None, ""):
        values["starts_on"] = None
    elif isinstance(given.starts_on, date):
        values["starts_on"] = given.starts_on
    else:
        try:
            values["starts_on"] = date.fromisoformat(str(given.starts_on))
        except ValueError:
            errors["starts_on"] = N_("Give the date as YYYY-MM-DD.")
    if given.scale is not None and (isinstance(given.scale, bool) or not isinstance(given.scale, int)
                                    or not 0 < given.scale <= SCALE_MAX):
        errors["scale"] = N_("The scale is a positive whole number of residents or users.")
    values["scale"] = given.scale
    for name in ("initial_cost_yen", "yearly_cost_yen"):
        value = getattr(given, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= YEN_MAX):
            errors[name] = N_("An amount is a whole number of yen, not negative.")
        values[name] = value
    if errors:
        raise ValidationFailed(errors)
    return values


def _snapshot(adoption: Adoption) -> dict[str, Any]:
    return {"status": adoption.status, "starts_on": adoption.starts_on.isoformat() if adoption.starts_on else None,
            "scale": adoption.scale, "initial_cost_yen": adoption.initial_cost_yen,
            "yearly_cost_yen": adoption.yearly_cost_yen, "stale": adoption.stale}


async def _tell(solution: Solution, adoption: Adoption, kind: str, connection: Any) -> None:
    """The company and the original agencies hear of every change in an adoption of their solution."""
    await notify([solution.company_id, *solution.agency_ids], kind,
                 {"solution": solution.id, "adoption": adoption.id, "agency": adoption.agency_id,
                  "status": adoption.status}, connection=connection)


async def adopt(actor: Actor, solution: Solution, given: AdoptionInput) -> Adoption:
    """An agency states that it considers, has contracted or runs this solution."""
    if not may_adopt(actor, solution):
        if solution.status != SolutionStatus.PUBLISHED:
            raise InvalidTransition(N_("Only a published solution can be adopted."), allowed=[])
        raise NotAllowed("only an agency other than the solution's own states an adoption")
    original = set(solution.agency_ids or [solution.owner_id])
    candidates = [org for org in adopting_agencies(actor) if org.id not in original]
    if given.agency_id is not None:
        candidates = [org for org in candidates if org.id == given.agency_id]
        if not candidates:
            raise NotAllowed("you do not act for that agency")
    agency: Organisation = candidates[0]
    if given.status not in [s.value for s in STATED]:
        raise ValidationFailed({"status": N_("An adoption starts as considering, contracted or live.")})
    values = _checked(given)
    try:
        async with in_transaction() as connection:
            adoption = await Adoption.create(
                solution_id=solution.id, agency_id=agency.id, municipality_code=agency.municipality_code,
                status=given.status, created_by=actor.user,
                last_confirmed_at=timezone.now() if given.status == A.LIVE else None, using_db=connection, **values,
            )
            await audit.record("adoption.stated", actor=actor.user, organisation=agency, target=adoption,
                               after=_snapshot(adoption), using_db=connection)
            await _tell(solution, adoption, "adoption.stated", connection)
            await search_message(solution.id, using_db=connection)
    except IntegrityError:
        raise InvalidTransition(N_("Your agency has already stated its adoption of this solution."), allowed=[]) from None
    return adoption


async def get_adoption(actor: Actor, adoption_id: int) -> tuple[Adoption, Solution]:
    adoption = await Adoption.get_or_none(id=adoption_id).prefetch_related("agency")
    solution = await Solution.get_or_none(id=adoption.solution_id) if adoption else None
    if adoption is None or solution is None or not may_view_solution(actor, solution):
        raise NotFound("no such adoption")
    return adoption, solution


def allowed_transitions(actor: Actor, adoption: Adoption) -> list[str]:
    allowed = [s.value for s in TRANSITIONS[A(adoption.status)]] if states_adoption(actor, adoption) else []
    if may_confirm_adoption(actor) and adoption.status == A.LIVE:
        allowed.append("confirmed")
    return allowed


async def transition(actor: Actor, adoption: Adoption, solution: Solution, to: str, *, reason: str = "",
                     given: AdoptionInput | None = None) -> Adoption:
    """The adopting agency moves its adoption; an operator "confirms" a live one (the yearly re-confirmation)."""
    if to == "confirmed":
        return await confirm(actor, adoption, solution)
    if not states_adoption(actor, adoption):
        raise NotAllowed("only the adopting agency changes its adoption")
    allowed = allowed_transitions(actor, adoption)
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    reason = (reason or "").strip()
    if to == A.DROPPED and not reason:
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": N_("The reason has at most 2,000 characters.")})
    values = _checked(given) if given is not None else {}
    values = {k: v for k, v in values.items() if v is not None}
    async with in_transaction() as connection:
        locked = await Adoption.filter(id=adoption.id).select_for_update().using_db(connection).get()
        if locked.status != adoption.status:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        before = _snapshot(adoption)
        adoption.status, adoption.status_reason = to, reason
        for name, value in values.items():
            setattr(adoption, name, value)
        if to == A.LIVE:  # the agency's own statement counts as this year's confirmation
            adoption.last_confirmed_at, adoption.stale = timezone.now(), False
        await adoption.save(using_db=connection)
        await audit.record(f"adoption.{to}", actor=actor.user, organisation=await Organisation.get(id=adoption.agency_id), target=adoption,
                           before=before, after={**_snapshot(adoption), "reason": reason}, using_db=connection)
        await _tell(solution, adoption, f"adoption.{to}", connection)
        await search_message(solution.id, using_db=connection)
    return adoption


async def confirm(actor: Actor, adoption: Adoption, solution: Solution) -> Adoption:
    """An operator re-confirms that a live adoption is still live (the yearly check)."""
    if not may_confirm_adoption(actor):
        raise NotAllowed("only operators re-confirm adoptions")
    if adoption.status != A.LIVE:
        raise InvalidTransition(N_("Only a live adoption is re-confirmed."), allowed=allowed_transitions(actor, adoption))
    async with in_transaction() as connection:
        before = _snapshot(adoption)
        adoption.last_confirmed_at, adoption.stale = timezone.now(), False
        await adoption.save(update_fields=["last_confirmed_at", "stale", "updated_at"], using_db=connection)
        await audit.record("adoption.confirmed", actor=actor.user, organisation=await Organisation.get(id=adoption.agency_id),
                           target=adoption, before=before, after=_snapshot(adoption), using_db=connection)
    return adoption


async def mark_stale(now: datetime | None = None) -> list[int]:
    """The yearly check's job: live adoptions not re-confirmed for a year are marked stale (kept, shown as
    such); the adopting agency and operators are told. Idempotent."""
    now = now or timezone.now()
    marked = []
    due = await Adoption.filter(status=A.LIVE.value, stale=False, last_confirmed_at__lt=now - CONFIRM_EVERY).order_by("id")
    for adoption in due:
        async with in_transaction() as connection:
            changed = await Adoption.filter(id=adoption.id, stale=False, status=A.LIVE.value).using_db(connection).update(stale=True)
            if not changed:
                continue
            await audit.record("adoption.stale", target=adoption, organisation=await Organisation.get(id=adoption.agency_id),
                               before={"stale": False}, after={"stale": True}, using_db=connection)
            await notify([adoption.agency_id], "adoption.stale", {"solution": adoption.solution_id, "adoption": adoption.id},
                         connection=connection)
        marked.append(adoption.id)
    return marked


# --- reading ---------------------------------------------------------------------------------------------

@dataclass
class UsedBy:
    original: list[Organisation]  # the agencies that ran the pilot
    adopters: list[Adoption]  # every adoption stated, with its agency (dropped ones too, marked)

    @property
    def using(self) -> list[Adoption]:
        return [a for a in self.adopters if a.status in USING]

    @property
    def adopted_count(self) -> int:
        """Agencies other than the original ones that contracted it or run it."""
        return len(self.using)

    @property
    def count(self) -> int:
        """"Used by N municipalities": the original agencies and the adopters that contracted or run it."""
        return len(self.original) + self.adopted_count


async def used_by(solution: Solution) -> UsedBy:
    original = await Organisation.filter(id__in=solution.agency_ids or [solution.owner_id]).order_by("id")
    adopters = await Adoption.filter(solution_id=solution.id).prefetch_related("agency").order_by("id")
    return UsedBy(original, list(adopters))


async def adopted_counts(solution_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = dict.fromkeys(solution_ids, 0)
    for solution_id in await Adoption.filter(solution_id__in=solution_ids, status__in=[s.value for s in USING]) \
            .values_list("solution_id", flat=True):
        counts[int(solution_id)] += 1  # type: ignore[call-overload]
    return counts


async def adoptions_of_agency(actor: Actor, agency_id: int) -> list[Adoption]:
    """An agency's adoptions of solutions the actor may see (the agency's page)."""
    adoptions = await Adoption.filter(agency_id=agency_id).prefetch_related("solution", "agency").order_by("-id")
    return [a for a in adoptions if may_view_solution(actor, a.solution)]


async def agency_by_code(code: str) -> Organisation:
    """An approved agency by its municipality code (the key its adoptions are stated under)."""
    agency = None
    if len(code) == 6 and code.isascii() and code.isdigit():
        agency = await Organisation.get_or_none(municipality_code=code, kind="agency", status="approved")
    if agency is None:
        raise NotFound(N_("There is no such agency."))
    return agency


async def adoptions_to_confirm(actor: Actor, now: datetime | None = None) -> list[Adoption]:
    """For operators: live adoptions marked stale or due for their yearly re-confirmation within a month."""
    if not may_confirm_adoption(actor):
        return []
    now = now or timezone.now()
    due = now - CONFIRM_EVERY + timedelta(days=30)
    return list(await Adoption.filter(status=A.LIVE.value).filter(Q(stale=True) | Q(last_confirmed_at__lt=due))
                .prefetch_related("agency", "solution").order_by("last_confirmed_at", "id").limit(200))
