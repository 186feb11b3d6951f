"""Solutions: who may see a case study, edit it, approve it, correct it, and state an adoption.

A solution is public once an operator has published it (withdrawn ones keep their page, marked, but leave
search, lists and feeds). Drafts and solutions in review are for their owners (the agencies that ran the
pilot), the company and operators. An adoption is stated only by the adopting agency itself; operators
re-confirm live ones yearly. Adoptions of a public solution are public.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor
from models.solutions.models import Adoption, Solution, SolutionStatus

S = SolutionStatus
LISTED_STATUSES = (S.PUBLISHED,)  # found, listed and in feeds
PUBLIC_STATUSES = (S.PUBLISHED, S.WITHDRAWN)  # their page can be opened by anyone
EDITABLE = (S.DRAFT,)


def is_listed(solution: Solution) -> bool:
    return solution.status in LISTED_STATUSES


def listed_filter() -> Q:
    return Q(status__in=[s.value for s in LISTED_STATUSES])


def owns_solution(actor: Actor, solution: Solution) -> bool:
    return bool(actor.organisation_ids(OrgKind.AGENCY) & set(solution.agency_ids or [solution.owner_id]))


def offers_solution(actor: Actor, solution: Solution) -> bool:
    """A member of the company behind the solution."""
    return solution.company_id in actor.organisation_ids(OrgKind.COMPANY)


def sees_internals(actor: Actor, solution: Solution) -> bool:
    return actor.is_operator or owns_solution(actor, solution) or offers_solution(actor, solution)


def may_view_solution(actor: Actor, solution: Solution) -> bool:
    return solution.status in PUBLIC_STATUSES or sees_internals(actor, solution)


def solution_filter(actor: Actor) -> Q:
    """Solutions the actor may list: published ones; their own drafts too (owners' co-owned ones are
    found by `agency_ids` in Python, as for pilots)."""
    listed = Q(status__in=[s.value for s in LISTED_STATUSES])
    if actor.is_operator:
        return Q()
    own = actor.organisation_ids(OrgKind.AGENCY) | actor.organisation_ids(OrgKind.COMPANY)
    if not own:
        return listed
    return listed | Q(owner_id__in=list(own)) | Q(company_id__in=list(own))


def may_draft_from_pilot(actor: Actor, pilot_agency_ids: list[int]) -> bool:
    return bool(actor.organisation_ids(OrgKind.AGENCY) & set(pilot_agency_ids))


def may_edit_solution(actor: Actor, solution: Solution) -> bool:
    return solution.status in EDITABLE and owns_solution(actor, solution)


def may_propose_correction(actor: Actor, solution: Solution) -> bool:
    return offers_solution(actor, solution) and solution.status != S.WITHDRAWN


def may_decide_correction(actor: Actor, solution: Solution) -> bool:
    return owns_solution(actor, solution)


def adopting_agencies(actor: Actor) -> list[Organisation]:
    """The approved agencies with a municipality code the person acts for (an adoption is keyed by it)."""
    return [
        m.organisation for m in actor.memberships
        if m.organisation.kind == OrgKind.AGENCY and m.organisation.municipality_code and m.organisation.status == OrgStatus.APPROVED
    ]


def may_adopt(actor: Actor, solution: Solution) -> bool:
    """An agency that did not run the pilot states its own adoption of a published solution."""
    if solution.status != S.PUBLISHED:
        return False
    return any(org.id not in set(solution.agency_ids or [solution.owner_id]) for org in adopting_agencies(actor))


def states_adoption(actor: Actor, adoption: Adoption) -> bool:
    """A member of the adopting agency: the only one who changes what it says."""
    return adoption.agency_id in actor.organisation_ids(OrgKind.AGENCY)


def may_confirm_adoption(actor: Actor) -> bool:
    return actor.is_operator


def solution_actions(actor: Actor, solution: Solution) -> set[str]:
    actions: set[str] = set()
    if sees_internals(actor, solution):
        actions.add("internals")
    if may_edit_solution(actor, solution):
        actions.add("edit")
    if may_propose_correction(actor, solution):
        actions.add("correct")
    if may_decide_correction(actor, solution):
        actions.add("decide_corrections")
    if may_adopt(actor, solution):
        actions.add("adopt")
    if may_confirm_adoption(actor):
        actions.add("confirm")
    return actions
