"""Joint procurement rounds: agencies buy one item together and share the contract by quantity.

open → closed → contracted. An agency member opens a round for a published solution (or a decided
challenge's outcome): item, unit, closing time; their agency leads it. Agencies join while it is open
and before its closing time, each with its quantity and the price it would pay alone (its solo estimate,
in yen, and where that figure came from). The lead closes the round, then records the joint contract
price: each member's share is the price apportioned by quantity with the largest-remainder method, so the
shares are whole yen and sum exactly to the price; each member's saving is its estimate minus its share,
and the round's saving the sum of its members'. Each step is one transaction with its audit event,
notifications and outbox mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import timezone
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeStatus
from models.core import audit
from models.core.base import translated
from models.core.errors import JST, N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.core.transitions import next_states
from models.identity.accounts import User
from models.identity.orgs import Organisation, OrgKind
from models.policy import VISITOR, Actor
from models.policy.procurement import (
    acting_agency,
    leads_round,
    may_join,
    may_open_round,
    may_view_round,
    round_actions,
    round_filter,
    sees_member_figures,
)
from models.solutions.catalogue import search_message
from models.solutions.models import (
    EstimateSource,
    ProcurementRound,
    RoundMember,
    RoundStatus,
    Solution,
    SolutionStatus,
)

S = RoundStatus
TRANSITIONS: dict[RoundStatus, dict[RoundStatus, str]] = {
    S.OPEN: {S.CLOSED: "lead"},
    S.CLOSED: {S.CONTRACTED: "lead"},
    S.CONTRACTED: {},
}
# What is bought, by the unit: data (ja, en), shown as is on pages and in the API.
UNITS: dict[str, tuple[str, str]] = {
    "licence": ("ライセンス", "licence"),
    "seat": ("席", "seat"),
    "user": ("利用者", "user"),
    "resident": ("住民", "resident"),
    "device": ("台", "device"),
    "site": ("拠点", "site"),
    "case": ("件", "case"),
    "year": ("年", "year"),
}
ESTIMATE_SOURCES: dict[str, tuple[str, str]] = {
    EstimateSource.QUOTE.value: ("見積り", "quote"),
    EstimateSource.LAST_CONTRACT.value: ("前年度の契約", "last year's contract"),
    EstimateSource.ESTIMATE.value: ("概算", "estimate"),
}
ITEM_MAX = 200
MAX_QUANTITY = 100_000_000
MAX_YEN = 10**13  # ten trillion yen: far above any municipal contract, far below a 64-bit column
TOPIC_KEY = "procurement:{id}"
# The solution catalogue's search index (models.solutions.catalogue.SEARCH_TOPIC on the solutions branch): a
# recorded contract changes the solution's savings and its has_savings facet, so the solution is indexed again.


# ---------------------------------------------------------------------------------------------------------
# The apportionment (pure)


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """`total` yen split in proportion to `weights` into whole yen that sum exactly to `total`.

    Largest remainder (Hamilton): each part gets the floor of its exact share, and the yen left over go one
    each to the parts with the largest remainders; ties go to the earlier part (members are passed in the
    order they joined), so the result is deterministic. Each part is within one yen of its exact share.
    """
    if total < 0:
        raise ValueError("total must be non-negative")
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("weights must be positive and at least one")
    whole = sum(weights)
    floors = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


# ---------------------------------------------------------------------------------------------------------
# Reading


@dataclass
class MemberView:
    member: RoundMember
    agency: Organisation
    figures: bool  # the viewer sees this member's quantity, estimate, share and saving


@dataclass
class RoundView:
    round: ProcurementRound
    lead: Organisation
    solution: Solution | None
    challenge: Challenge | None
    company: Organisation | None
    members: list[MemberView]
    joinable: bool
    allowed: list[str]
    actions: set[str] = field(default_factory=set)

    @property
    def total_quantity(self) -> int:
        return sum(m.member.quantity for m in self.members)

    @property
    def saving_yen(self) -> int | None:
        if self.round.status != S.CONTRACTED:
            return None
        return sum(m.member.saving_yen or 0 for m in self.members)

    @property
    def solo_total_yen(self) -> int:
        return sum(m.member.solo_estimate_yen for m in self.members)


def unit_name(unit: str, locale: str) -> str:
    ja, en = UNITS.get(unit, (unit, unit))
    return ja if locale == "ja" else en


def source_name(source: str, locale: str) -> str:
    ja, en = ESTIMATE_SOURCES.get(source, (source, source))
    return ja if locale == "ja" else en


def is_joinable(round_: ProcurementRound, now: datetime | None = None) -> bool:
    """Agencies may join an open round until its closing time."""
    return round_.status == S.OPEN and (now or timezone.now()) < round_.closes_at


async def get_round(actor: Actor, round_id: int) -> ProcurementRound:
    round_ = await ProcurementRound.get_or_none(id=round_id)
    if round_ is None or not may_view_round(actor, round_):
        raise NotFound("no such procurement round")
    return round_


async def list_rounds(actor: Actor, *, status: str = "", solution: int | None = None, agency: int | None = None,
                      limit: int = 500) -> list[ProcurementRound]:
    query = ProcurementRound.filter(round_filter(actor))
    if status:
        query = query.filter(status=status)
    if solution:
        query = query.filter(solution_id=solution)
    if agency:
        query = query.filter(members__agency_id=agency).distinct()
    return await query.prefetch_related("lead").order_by("-id").limit(limit)


async def contracted_rounds(limit: int) -> list[RoundView]:
    """The latest contracted rounds (public), as the visitor sees them: for feeds."""
    rounds = await ProcurementRound.filter(status=S.CONTRACTED.value).order_by("-contracted_at", "-id").limit(limit)
    return await round_views(VISITOR, rounds)


async def member_agency_ids(round_id: int) -> set[int]:
    return {m.agency_id for m in await RoundMember.filter(round_id=round_id).only("id", "agency_id")}


def allowed_transitions(actor: Actor, round_: ProcurementRound) -> list[str]:
    roles = {"lead"} if leads_round(actor, round_) else set()
    return next_states(TRANSITIONS, S(round_.status), roles)


async def round_view(actor: Actor, round_: ProcurementRound) -> RoundView:
    return (await round_views(actor, [round_]))[0]


async def _by_id(model: Any, ids: Iterable[int | None]) -> dict[int, Any]:
    wanted = sorted({i for i in ids if i is not None})
    return {row.id: row for row in await model.filter(id__in=wanted)} if wanted else {}


async def round_views(actor: Actor, rounds: list[ProcurementRound]) -> list[RoundView]:
    """The rounds' views, one query per related table whatever the number of rounds (for lists and feeds)."""
    members: dict[int, list[RoundMember]] = {round_.id: [] for round_ in rounds}
    if rounds:
        for member in await RoundMember.filter(round_id__in=list(members)).prefetch_related("agency").order_by("id"):
            members[member.round_id].append(member)
    organisations = await _by_id(Organisation, [*(r.lead_id for r in rounds), *(r.company_id for r in rounds)])
    solutions = await _by_id(Solution, [r.solution_id for r in rounds])
    challenges = await _by_id(Challenge, [r.challenge_id for r in rounds])
    views = []
    for round_ in rounds:
        agencies = {m.agency_id for m in members[round_.id]}
        figures = sees_member_figures(actor, round_, agencies)
        joinable = is_joinable(round_)
        views.append(RoundView(
            round=round_,
            lead=organisations[round_.lead_id],
            solution=solutions.get(round_.solution_id) if round_.solution_id else None,
            challenge=challenges.get(round_.challenge_id) if round_.challenge_id else None,
            company=organisations.get(round_.company_id) if round_.company_id else None,
            members=[MemberView(m, m.agency, figures) for m in members[round_.id]],
            joinable=joinable,
            allowed=allowed_transitions(actor, round_),
            actions=round_actions(actor, round_, agencies, joinable),
        ))
    return views


# ---------------------------------------------------------------------------------------------------------
# Totals: the round, the solution, agencies, the platform (contracted rounds only)


@dataclass(frozen=True)
class Savings:
    rounds: int = 0
    contract_yen: int = 0  # the sum of shares
    solo_yen: int = 0  # the sum of solo estimates
    saving_yen: int = 0  # solo - contract


def _savings(rows: list[dict[str, Any]]) -> Savings:
    if not rows:
        return Savings()
    row = rows[0]
    contract, solo = int(row["contract"] or 0), int(row["solo"] or 0)
    return Savings(rounds=int(row["rounds"] or 0), contract_yen=contract, solo_yen=solo,
                   saving_yen=int(row["saving"] or 0))


async def _summed(**filters: Any) -> dict[Any, Savings]:
    """Savings of contracted rounds' members grouped by `group` (a field of RoundMember, or a relation's)."""
    group = filters.pop("group")
    query = RoundMember.filter(round__status=S.CONTRACTED.value, **filters).annotate(
        rounds=Count("round_id", distinct=True), contract=Sum("share_yen"), solo=Sum("solo_estimate_yen"),
        saving=Sum("saving_yen"))
    rows = await query.group_by(group).values(group, "rounds", "contract", "solo", "saving")
    return {row[group]: _savings([row]) for row in rows}


async def platform_savings() -> Savings:
    return (await _summed(group="round__status")).get(S.CONTRACTED.value, Savings())


async def solution_savings(solution_ids: list[int]) -> dict[int, Savings]:
    found = await _summed(round__solution_id__in=solution_ids or [0], group="round__solution_id")
    return {sid: found.get(sid, Savings()) for sid in solution_ids}


async def agency_savings(agency_ids: list[int]) -> dict[int, Savings]:
    found = await _summed(agency_id__in=agency_ids or [0], group="agency_id")
    return {aid: found.get(aid, Savings()) for aid in agency_ids}


async def agency_memberships(agency_id: int) -> list[RoundMember]:
    """An agency's memberships in contracted rounds, newest first (its savings page; public)."""
    return await RoundMember.filter(agency_id=agency_id, round__status=S.CONTRACTED.value).prefetch_related(
        "round").order_by("-round_id")


# ---------------------------------------------------------------------------------------------------------
# Transitions


async def _users_of(organisation_ids: set[int] | list[int], connection: Any) -> list[User]:
    if not organisation_ids:
        return []
    return await User.filter(memberships__organisation_id__in=list(organisation_ids), is_active=True).distinct().using_db(
        connection).order_by("id")


async def _notify(round_: ProcurementRound, kind: str, organisation_ids: set[int] | list[int], connection: Any) -> None:
    for user in await _users_of(organisation_ids, connection):
        await Notification.create(user_id=user.id, kind=kind, payload={"procurement": round_.id},
                                  using_db=connection)


def _check_item(item: dict[str, str]) -> dict[str, str]:
    clean = {lang: (item.get(lang) or "").strip() for lang in ("ja", "en")}
    if not any(clean.values()):
        raise ValidationFailed({"item": N_("Name what is bought, in Japanese or English.")})
    if any(len(text) > ITEM_MAX for text in clean.values()):
        raise ValidationFailed({"item": N_("The item's name has at most 200 characters.")})
    return clean


async def open_round(actor: Actor, *, item: dict[str, str], unit: str, closes_at: datetime,
                     solution_id: int | None = None, challenge_id: int | None = None) -> ProcurementRound:
    """An agency member opens a round (their agency leads it) for a published solution or a decided
    challenge's outcome."""
    lead = acting_agency(actor)
    if lead is None or not may_open_round(actor):
        raise NotAllowed("only agency members open procurement rounds")
    clean = _check_item(item)
    if unit not in UNITS:
        raise ValidationFailed({"unit": N_("Choose a unit from the list.")})
    if closes_at.tzinfo is None:
        closes_at = closes_at.replace(tzinfo=JST)
    if closes_at <= timezone.now():
        raise ValidationFailed({"closes_at": N_("The closing time must be in the future.")})
    if (solution_id is None) == (challenge_id is None):
        raise ValidationFailed({"solution_id": N_("A round is for one solution or one challenge's outcome.")})
    solution = challenge = None
    if solution_id is not None:
        solution = await Solution.get_or_none(id=solution_id)
        if solution is None or (solution.status != SolutionStatus.PUBLISHED
                                and lead not in (solution.agency_ids or [solution.owner_id])):
            raise ValidationFailed({"solution_id": N_("A round is opened for a published solution.")})
    if challenge_id is not None:
        challenge = await Challenge.get_or_none(id=challenge_id)
        if challenge is None or challenge.status != ChallengeStatus.DECIDED:
            raise ValidationFailed({"challenge_id": N_("A round is opened for a decided challenge's outcome.")})
    async with in_transaction() as connection:
        round_ = await ProcurementRound.create(
            lead_id=lead, solution_id=solution_id, challenge_id=challenge_id, created_by_id=actor.user.id if actor.user else None,
            item_ja=clean["ja"], item_en=clean["en"], unit=unit, closes_at=closes_at,
            company_id=solution.company_id if solution else None, using_db=connection)
        await audit.record("procurement.opened", actor=actor.user, organisation=await Organisation.get(id=lead, using_db=connection),
                           target=round_, after={"item": clean, "unit": unit, "closes_at": closes_at.isoformat(),
                                                 "solution": solution_id, "challenge": challenge_id},
                           using_db=connection)
    return round_


@dataclass
class JoinInput:
    quantity: int
    solo_estimate_yen: int
    estimate_source: str = EstimateSource.ESTIMATE.value
    population: int | None = None
    staff: int | None = None


def _check_join(data: JoinInput) -> None:
    errors: dict[str, str] = {}
    if not isinstance(data.quantity, int) or not 0 < data.quantity <= MAX_QUANTITY:
        errors["quantity"] = N_("The quantity is a whole number, at least 1.")
    if not isinstance(data.solo_estimate_yen, int) or not 0 <= data.solo_estimate_yen <= MAX_YEN:
        errors["solo_estimate_yen"] = N_("Amounts are whole yen, zero or more.")
    if data.estimate_source not in ESTIMATE_SOURCES:
        errors["estimate_source"] = N_("Say where the estimate came from: a quote, last year's contract or an estimate.")
    for name in ("population", "staff"):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= MAX_QUANTITY:
            errors[name] = N_("A count is a whole number, zero or more.")
    if errors:
        raise ValidationFailed(errors)


async def join_round(actor: Actor, round_id: int, data: JoinInput) -> RoundMember:
    """The actor's agency joins an open round (or changes its figures while the round is open)."""
    round_ = await get_round(actor, round_id)
    agency = acting_agency(actor)
    if agency is None or not may_join(actor):
        raise NotAllowed("only agency members join procurement rounds")
    _check_join(data)
    async with in_transaction() as connection:
        locked = await ProcurementRound.filter(id=round_.id).select_for_update().using_db(connection).get()
        if not is_joinable(locked):
            raise InvalidTransition(N_("This round is closed: agencies can no longer join it."), allowed=[])
        member = await RoundMember.get_or_none(round_id=round_.id, agency_id=agency, using_db=connection)
        figures = {"quantity": data.quantity, "solo_estimate_yen": data.solo_estimate_yen,
                   "estimate_source": data.estimate_source, "population": data.population, "staff": data.staff}
        organisation = await Organisation.get(id=agency, using_db=connection)
        if member is None:
            member = await RoundMember.create(round_id=round_.id, agency_id=agency, using_db=connection, **figures)
            await audit.record("procurement.joined", actor=actor.user, organisation=organisation, target=round_,
                               after={"agency": agency, **figures}, using_db=connection)
            await _notify(round_, "procurement.joined", {round_.lead_id} - {agency}, connection)
        else:
            before = {name: getattr(member, name) for name in figures}
            for name, value in figures.items():
                setattr(member, name, value)
            await member.save(using_db=connection)
            await audit.record("procurement.member_changed", actor=actor.user, organisation=organisation,
                               target=round_, before={"agency": agency, **before}, after={"agency": agency, **figures},
                               using_db=connection)
    return member


async def transition(actor: Actor, round_id: int, to: str, *, contract_price_yen: int | None = None,
                     company_id: int | None = None) -> ProcurementRound:
    """The lead closes the round, then records the joint contract (`contracted` with its price)."""
    round_ = await get_round(actor, round_id)
    if not leads_round(actor, round_):
        raise NotAllowed("only the lead agency moves a procurement round")
    allowed = allowed_transitions(actor, round_)
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    if to == S.CLOSED:
        return await _close(actor, round_)
    return await _contract(actor, round_, contract_price_yen, company_id)


async def _close(actor: Actor | None, round_: ProcurementRound) -> ProcurementRound:
    async with in_transaction() as connection:
        locked = await ProcurementRound.filter(id=round_.id).select_for_update().using_db(connection).get()
        if locked.status != S.OPEN:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        if not await RoundMember.filter(round_id=round_.id).using_db(connection).exists():
            raise InvalidTransition(N_("A round closes once at least one agency has joined it."), allowed=[])
        round_.status, round_.closed_at = S.CLOSED.value, timezone.now()
        await round_.save(update_fields=["status", "closed_at", "updated_at"], using_db=connection)
        await audit.record("procurement.closed", actor=actor.user if actor else None, target=round_,
                           before={"status": S.OPEN.value}, after={"status": S.CLOSED.value}, using_db=connection)
        agencies = {m.agency_id for m in await RoundMember.filter(round_id=round_.id).using_db(connection)}
        await _notify(round_, "procurement.closed", agencies | {round_.lead_id}, connection)
    return round_


async def _contract(actor: Actor, round_: ProcurementRound, price: int | None, company_id: int | None) -> ProcurementRound:
    if price is None or isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_YEN:
        raise ValidationFailed({"contract_price_yen": N_("Amounts are whole yen, zero or more.")})
    company_id = company_id if company_id is not None else round_.company_id
    if company_id is not None:
        company = await Organisation.get_or_none(id=company_id)
        if company is None or company.kind != OrgKind.COMPANY:
            raise ValidationFailed({"company_id": N_("The contractor is a company registered on Kyoso.")})
    async with in_transaction() as connection:
        locked = await ProcurementRound.filter(id=round_.id).select_for_update().using_db(connection).get()
        if locked.status != S.CLOSED:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        members = await RoundMember.filter(round_id=round_.id).using_db(connection).order_by("id")
        shares = apportion(price, [m.quantity for m in members])
        for member, share in zip(members, shares, strict=True):
            member.share_yen, member.saving_yen = share, member.solo_estimate_yen - share
            await member.save(update_fields=["share_yen", "saving_yen", "updated_at"], using_db=connection)
        round_.status, round_.contract_price_yen = S.CONTRACTED.value, price
        round_.company_id, round_.contracted_at = company_id, timezone.now()
        await round_.save(update_fields=["status", "contract_price_yen", "company_id", "contracted_at", "updated_at"],
                          using_db=connection)
        saving = sum(m.saving_yen or 0 for m in members)
        await audit.record("procurement.contracted", actor=actor.user, target=round_, before={"status": S.CLOSED.value},
                           after={"status": S.CONTRACTED.value, "contract_price_yen": price, "company": company_id,
                                  "saving_yen": saving,
                                  "shares": {str(m.agency_id): [m.share_yen, m.saving_yen] for m in members}},
                           using_db=connection)
        await _notify(round_, "procurement.contracted", {m.agency_id for m in members} | {round_.lead_id}, connection)
        await _mail_members(round_, members, saving, connection)
        if round_.solution_id is not None:
            await search_message(round_.solution_id, using_db=connection)  # its savings and has_savings facet
    return round_


async def _mail_members(round_: ProcurementRound, members: list[RoundMember], saving: int, connection: Any) -> None:
    """Each member agency's people are told their share and saving, in their language (through the outbox)."""
    for member in members:
        for user in await _users_of([member.agency_id], connection):
            await queue_mail("procurement_contracted", to=user.email, locale=user.locale, context={
                "round_id": round_.id, "item": round_.item(user.locale),
                "contract_price_yen": round_.contract_price_yen, "share_yen": member.share_yen,
                "saving_yen": member.saving_yen, "round_saving_yen": saving,
            }, key=TOPIC_KEY.format(id=round_.id), using_db=connection)


async def close_due(now: datetime | None = None) -> list[int]:
    """Close every open round past its closing time that has members (a job; idempotent)."""
    now = now or timezone.now()
    closed = []
    for round_ in await ProcurementRound.filter(status=S.OPEN.value, closes_at__lte=now).order_by("id"):
        try:
            await _close(None, round_)
        except InvalidTransition:
            continue
        closed.append(round_.id)
    return closed


def item_of(round_: ProcurementRound, locale: str) -> str:
    return translated({"ja": round_.item_ja, "en": round_.item_en}, locale)
