"""Who may see and do what in the review (panel, assignments, reviews, ranking, feedback).

A challenge's panel, assignments and ranking are managed by its owners and seen by operators.
A proposal's reviews are seen by the challenge's owners and operators, and by a reviewer of the
proposal once they have submitted their own; never by anyone with a conflict of interest with the
proposal (declared or detected, see models.review.conflicts), never by the company. Companies never see
assignments or who reviewed them; they get the feedback meant for them once the challenge is decided.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.challenges.models import Challenge, ChallengeStatus
from models.core.errors import NotAllowed
from models.identity.accounts import User
from models.policy import Actor
from models.policy.challenges import may_draft_challenges, owns_challenge
from models.policy.partners import reviewing_partner_user_ids
from models.policy.proposals import is_proposal_company_member, owns_proposal_challenge
from models.proposals.lifecycle import TRANSITIONS
from models.proposals.models import Proposal, ProposalStatus
from models.review.conflicts import CONFLICT_DECLARED, is_conflicted
from models.review.models import Assignment, AssignmentStatus, PanelMember


async def may_declare_conflicts(actor: Actor) -> bool:
    """Reviewers, agency members and operators; and anyone on a panel (a partner reviewing, say)."""
    if actor.user is None:
        return False
    return actor.is_reviewer or actor.is_operator or may_draft_challenges(actor) or \
        await PanelMember.exists(reviewer_id=actor.user.id)


async def reviewer_pool_filter(user_ids: list[int] | None = None) -> Q:
    """The pool owners choose review panels from (and the panel members the assignment uses): active people
    the operators made reviewers, and approved partners of the talent pool who offer to review
    (models.policy.partners.offers_reviewing). `user_ids` narrows the partners looked up."""
    partners = await reviewing_partner_user_ids(user_ids)
    return Q(is_active=True) & (Q(is_reviewer=True) | Q(id__in=sorted(partners)))


async def in_reviewer_pool(users: list[User]) -> list[User]:
    """Those of `users` in the pool (as `reviewer_pool_filter`); looks partners up only for people not reviewers."""
    others = [u.id for u in users if u.is_active and not u.is_reviewer]
    partners = await reviewing_partner_user_ids(others) if others else set()
    return [u for u in users if u.is_active and (u.is_reviewer or u.id in partners)]


async def may_follow_reviews(actor: Actor, challenge: Challenge) -> bool:
    """Read the panel, the assignments and the ranking: owners and operators."""
    return actor.is_operator or await owns_challenge(actor, challenge)


def assignment_filter(actor: Actor) -> Q:
    """The assignments a person lists as theirs: only their own, less those a conflict they declared took away."""
    if actor.user is None:
        return Q(id__in=[])
    return Q(reviewer_id=actor.user.id) & ~Q(status=AssignmentStatus.RECUSED.value, recusal_reason=CONFLICT_DECLARED)


def hidden_from_its_reviewer(assignment: Assignment) -> bool:
    """An assignment taken away by a conflict its reviewer declared: gone for them, like any they never had, so
    that declaring a conflict with an organisation does not show which proposal is the organisation's. (The
    owners see the recusal and its reason; a reviewer who recuses themselves still sees theirs.)"""
    return assignment.status == AssignmentStatus.RECUSED.value and assignment.recusal_reason == CONFLICT_DECLARED


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


# --- what the review pages offer -----------------------------------------------------------------
# The pages show a form or a button only for what the person may do; the domain checks again on submit.

CHANGE_PANEL, ADJUST_ASSIGNMENTS, FINALISE = "change_panel", "adjust_assignments", "finalise"
REMOVE, REOPEN = "remove", "reopen"


async def review_actions(actor: Actor, challenge: Challenge) -> set[str]:
    """What the person may do on the challenge's review pages: change the panel (owners, until the challenge
    is decided or cancelled); adjust the assignments and finalise (owners, while it is under review)."""
    if not await owns_challenge(actor, challenge):
        return set()
    allowed = set()
    if challenge.status not in (ChallengeStatus.DECIDED, ChallengeStatus.CANCELLED):
        allowed.add(CHANGE_PANEL)
    if challenge.status == ChallengeStatus.CLOSED:
        allowed |= {ADJUST_ASSIGNMENTS, FINALISE}
    return allowed


def assignment_actions(challenge_actions: set[str], statuses: dict[int, str]) -> dict[int, list[str]]:
    """Assignment id -> what an owner may do with it on the assignments page: take off a reviewer who has
    not submitted, reopen a submitted review."""
    if ADJUST_ASSIGNMENTS not in challenge_actions:
        return {assignment_id: [] for assignment_id in statuses}
    moves = {AssignmentStatus.ASSIGNED.value: [REMOVE], AssignmentStatus.SUBMITTED.value: [REOPEN]}
    return {assignment_id: moves.get(status, []) for assignment_id, status in statuses.items()}


async def require_review_access(actor: Actor, challenge: Challenge, *, changing: bool = False) -> None:
    """The review pages of a challenge: its owners change them; its owners and operators read them."""
    if changing and not await owns_challenge(actor, challenge):
        raise NotAllowed("the challenge's owners only")
    if not changing and not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")


async def may_see_review_links(actor: Actor, challenge: Challenge) -> bool:
    """The links to the review pages on the challenge page: owners and operators, once it is published."""
    return challenge.status in (ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.DECIDED) and \
        await may_follow_reviews(actor, challenge)


def may_see_round_reviews(actor: Actor, assignment: Assignment) -> bool:
    """The other reviews of a subject that is not a proposal (a pilot): its reviewer, once theirs is submitted
    (the owners read the round's ranking and feedback instead)."""
    return actor.user is not None and assignment.reviewer_id == actor.user.id and \
        assignment.status == AssignmentStatus.SUBMITTED
