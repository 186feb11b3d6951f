"""Joint procurement rounds: who may see a round and what of it, and who may act on it.

Only agency members act on rounds: any agency member may open one (their agency leads it) and join an
open one; the lead agency's members close it and record the contract. While a round is open or closed
it is seen by agency members and operators (so that agencies can find rounds to join). Once the contract
is recorded the round is public: its item, its members (agencies) and the total saving. Each member's
quantity, solo estimate, share and saving are seen by the round's members and operators ("members see
each other's quantities"); the agency totals on agencies' pages and the platform figures are public.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.identity.orgs import OrgKind
from models.policy import Actor
from models.solutions.models import ProcurementRound, RoundStatus

S = RoundStatus
PUBLIC_STATUSES = (S.CONTRACTED,)


def is_public(round_: ProcurementRound) -> bool:
    return round_.status in PUBLIC_STATUSES


def agency_ids(actor: Actor) -> set[int]:
    return actor.organisation_ids(OrgKind.AGENCY)


def acting_agency(actor: Actor) -> int | None:
    """The agency an agency member acts for on rounds: their first agency membership."""
    for membership in actor.memberships:
        if membership.organisation.kind == OrgKind.AGENCY:
            return membership.organisation_id
    return None


def leads_round(actor: Actor, round_: ProcurementRound) -> bool:
    return round_.lead_id in agency_ids(actor)


def is_member(actor: Actor, member_agency_ids: set[int] | list[int]) -> bool:
    return bool(agency_ids(actor) & set(member_agency_ids))


def may_view_round(actor: Actor, round_: ProcurementRound) -> bool:
    return is_public(round_) or actor.is_operator or bool(agency_ids(actor))


def round_filter(actor: Actor) -> Q:
    """Rounds the actor may list."""
    if actor.is_operator or agency_ids(actor):
        return Q()
    return Q(status__in=[s.value for s in PUBLIC_STATUSES])


def sees_member_figures(actor: Actor, round_: ProcurementRound, member_agency_ids: set[int] | list[int]) -> bool:
    """Quantities, solo estimates, shares and savings of each member: the members (the lead too) and operators."""
    return actor.is_operator or leads_round(actor, round_) or is_member(actor, member_agency_ids)


def sees_agency_figures(actor: Actor, agency_id: int) -> bool:
    """An agency's share and saving round by round (its page shows everyone its totals only)."""
    return actor.is_operator or agency_id in agency_ids(actor)


def may_open_round(actor: Actor) -> bool:
    return acting_agency(actor) is not None


def may_join(actor: Actor) -> bool:
    return acting_agency(actor) is not None


def round_actions(actor: Actor, round_: ProcurementRound, member_agency_ids: set[int] | list[int],
                  joinable: bool) -> set[str]:
    """What the round's page offers this person, for its template."""
    actions: set[str] = set()
    if sees_member_figures(actor, round_, member_agency_ids):
        actions.add("figures")
    if joinable and may_join(actor):
        actions.add("join")
    if leads_round(actor, round_):
        if round_.status == S.OPEN:
            actions.add("close")
        if round_.status == S.CLOSED:
            actions.add("contract")
    return actions
