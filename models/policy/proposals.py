"""Who may see and do what with proposals, and which proposals a person may list.

A proposal is seen by its company's members, the challenge's owners once it has been submitted (never a
draft), its assigned reviewers without a conflict, and operators; by nobody else. Its company's members
draft, edit and submit it; the challenge's owners screen it out and decide.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from models.challenges.models import Challenge, CoOwner
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor
from models.policy.challenges import owns_challenge
from models.proposals.models import Proposal
from models.review.models import Assignment, AssignmentStatus, Conflict


def is_proposal_company_member(actor: Actor, proposal: Proposal) -> bool:
    return proposal.company_id in actor.organisation_ids(OrgKind.COMPANY)


async def owns_proposal_challenge(actor: Actor, proposal: Proposal) -> bool:
    """Whether the actor is among the owners of the challenge the proposal answers."""
    if not actor.organisation_ids(OrgKind.AGENCY):
        return False
    loaded = proposal.challenge  # loaded with the proposal by `get_proposal` and the lists, else read now
    challenge = loaded if isinstance(loaded, Challenge) else await Challenge.get(id=proposal.challenge_id)
    return await owns_challenge(actor, challenge)



def company_of(actor: Actor) -> Organisation | None:
    """The company the person drafts proposals for (their first company membership)."""
    return next((m.organisation for m in actor.memberships if m.organisation.kind == OrgKind.COMPANY), None)


def may_draft_proposals(actor: Actor) -> bool:
    """Members of a company that is approved or awaiting approval (pending companies draft, not submit)."""
    company = company_of(actor)
    return actor.user is not None and company is not None and company.status in (OrgStatus.APPROVED, OrgStatus.PENDING)


def may_edit_proposal(actor: Actor, proposal: Proposal) -> bool:
    """Change the working copy and submit it: the company's members (the lifecycle checks the state)."""
    return actor.user is not None and is_proposal_company_member(actor, proposal)


async def roles_on(actor: Actor, proposal: Proposal) -> set[str]:
    """"company" and/or "owner": the parts the actor may play in the proposal's transitions."""
    roles = set()
    if is_proposal_company_member(actor, proposal):
        roles.add("company")
    if proposal.submitted_at is not None and await owns_proposal_challenge(actor, proposal):
        roles.add("owner")
    return roles


async def may_see_versions(actor: Actor, proposal: Proposal) -> bool:
    """Every submitted version: the company, the challenge's owners (once submitted) and operators."""
    return (actor.is_operator or is_proposal_company_member(actor, proposal)
            or (proposal.submitted_at is not None and await owns_proposal_challenge(actor, proposal)))


def may_see_receipts(actor: Actor, proposal: Proposal) -> bool:
    return actor.is_operator or is_proposal_company_member(actor, proposal)


async def may_list_challenge_proposals(actor: Actor, challenge: Challenge) -> bool:
    """The proposals a challenge received: its owners and operators."""
    return actor.is_operator or await owns_challenge(actor, challenge)


async def owned_challenge_ids(actor: Actor, challenges: list[Challenge]) -> set[int]:
    """Which of the challenges the actor owns (`owns_challenge` for many), in at most one query."""
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    owned = {challenge.id for challenge in challenges if challenge.owner_id in agencies}
    others = [challenge.id for challenge in challenges if challenge.id not in owned]
    if agencies and others:
        owned |= set(await CoOwner.filter(challenge_id__in=others, organisation_id__in=agencies,
                                          accepted_at__not_isnull=True).values_list("challenge_id", flat=True))  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples
    return owned



async def is_assigned_reviewer(actor: Actor, proposal: Proposal) -> bool:
    """Assigned (and not recused) to review the proposal, with no conflict with it or its company."""
    if actor.user is None:
        return False
    assigned = await Assignment.filter(proposal_id=proposal.id, reviewer_id=actor.user.id).exclude(
        status=AssignmentStatus.RECUSED.value
    ).exists()
    if not assigned:
        return False
    conflicted = await Conflict.filter(
        Q(proposal_id=proposal.id) | Q(organisation_id=proposal.company_id), reviewer_id=actor.user.id
    ).exists()
    return not conflicted


async def may_view_proposal(actor: Actor, proposal: Proposal) -> bool:
    if actor.user is None:
        return False
    if actor.is_operator or is_proposal_company_member(actor, proposal):
        return True
    if proposal.submitted_at is None:  # never submitted: nobody outside the company sees it
        return False
    return await owns_proposal_challenge(actor, proposal) or await is_assigned_reviewer(actor, proposal)


def proposal_filter(actor: Actor) -> Q:
    """The proposals the actor may list (the same rule as `may_view_proposal`, as a query)."""
    if actor.user is None:
        return Q(id__in=[])
    if actor.is_operator:
        return Q()
    allowed = Q(company_id__in=list(actor.organisation_ids(OrgKind.COMPANY)))
    agencies = list(actor.organisation_ids(OrgKind.AGENCY))
    if agencies:
        co_owned = Subquery(
            CoOwner.filter(organisation_id__in=agencies, accepted_at__not_isnull=True).values("challenge_id")
        )
        allowed |= Q(submitted_at__not_isnull=True) & (
            Q(challenge__owner_id__in=agencies) | Q(challenge_id__in=co_owned)
        )
    user_id = actor.user.id
    assigned = Subquery(
        Assignment.filter(reviewer_id=user_id).exclude(status=AssignmentStatus.RECUSED.value).values("proposal_id")
    )
    conflicted_proposals = Subquery(
        Conflict.filter(reviewer_id=user_id, proposal_id__not_isnull=True).values("proposal_id")
    )
    conflicted_companies = Subquery(
        Conflict.filter(reviewer_id=user_id, organisation_id__not_isnull=True).values("organisation_id")
    )
    allowed |= (
        Q(submitted_at__not_isnull=True)
        & Q(id__in=assigned)
        & ~Q(id__in=conflicted_proposals)
        & ~Q(company_id__in=conflicted_companies)
    )
    return allowed
