"""Who may see and do what in the review (panel, assignments, reviews, ranking, feedback).

A challenge's panel, assignments and ranking are managed by its owners and seen by operators.
A proposal's reviews are seen by the challenge's owners and operators, and by a reviewer of the
proposal once they have submitted their own; never by anyone with a conflict of interest with the
proposal (declared or detected, see models.review.conflicts), never by the company. Companies never see
assignments or who reviewed them; they get the feedback meant for them once the challenge is decided.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.challenges.models import Challenge
from models.policy import (
    Actor,
    is_proposal_company_member,
    may_draft_challenges,
    owns_challenge,
    owns_proposal_challenge,
)
from models.proposals.lifecycle import TRANSITIONS
from models.proposals.models import Proposal, ProposalStatus
from models.review.conflicts import is_conflicted
from models.review.models import Assignment, AssignmentStatus


def may_declare_conflicts(actor: Actor) -> bool:
    return actor.user is not None and (actor.is_reviewer or actor.is_operator or may_draft_challenges(actor))


async def may_follow_reviews(actor: Actor, challenge: Challenge) -> bool:
    """Read the panel, the assignments and the ranking: owners and operators."""
    return actor.is_operator or await owns_challenge(actor, challenge)


def assignment_filter(actor: Actor) -> Q:
    """The assignments a person lists as theirs: only their own."""
    return Q(reviewer_id=actor.user.id) if actor.user else Q(id__in=[])


async def may_see_reviews(actor: Actor, proposal: Proposal) -> bool:
    if actor.user is None or is_proposal_company_member(actor, proposal) or proposal.submitted_at is None:
        return False
    if await is_conflicted(actor.user, proposal):
        return False
    if actor.is_operator or await owns_proposal_challenge(actor, proposal):
        return True
    return await Assignment.exists(proposal_id=proposal.id, reviewer_id=actor.user.id,
                                   status=AssignmentStatus.SUBMITTED.value)


def may_see_feedback(actor: Actor, proposal: Proposal) -> bool:
    """The decision's feedback: the company's members, and operators."""
    return actor.is_operator or is_proposal_company_member(actor, proposal)


async def decision_moves(actor: Actor, challenge: Challenge, statuses: dict[int, str]) -> dict[int, list[str]]:
    """Proposal id -> the decisions the actor may take on it now (the owners' moves of the proposal
    transitions), for proposals of `challenge` that were submitted; one check for them all."""
    if not await owns_challenge(actor, challenge):
        return {proposal_id: [] for proposal_id in statuses}
    return {proposal_id: [str(target) for target, who in TRANSITIONS[ProposalStatus(status)].items() if who == "owner"]
            for proposal_id, status in statuses.items()}
