"""What the review's modules share: who is told (owners, the escalation contact), notifications, reading an
assignment with its access check, and the recusal reasons Kyoso writes itself."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from models.challenges.models import Challenge, CoOwner
from models.core.errors import N_, NotFound
from models.core.notifications import Notification
from models.identity.accounts import Membership, Role, User
from models.policy import Actor
from models.policy.review import hidden_from_its_reviewer, may_follow_reviews
from models.proposals.models import Proposal
from models.review.conflicts import CONFLICT_DECLARED
from models.review.models import Assignment

JST = ZoneInfo("Asia/Tokyo")
REMOVED_BY_OWNER = N_("Taken off the proposal by an owner.")
REVIEWER_LEFT = N_("The reviewer is no longer among Kyoso's partners.")  # withdrew or was suspended
REVIEWER_STOPPED = N_("The reviewer, a Kyoso partner, no longer offers to review.")  # took "reviewer" off their profile
SYSTEM_REASONS = (REMOVED_BY_OWNER, CONFLICT_DECLARED, REVIEWER_LEFT, REVIEWER_STOPPED)  # written by Kyoso: message ids


async def challenge_of(proposal: Proposal) -> Challenge:
    return await Challenge.get(id=proposal.challenge_id)


async def assignment_challenge(assignment: Assignment, using_db: Any = None) -> Challenge:
    """The challenge of the assignment's round (a proposal's: its challenge)."""
    proposal = getattr(assignment, "proposal", None) if assignment.proposal_id is not None else None
    if isinstance(proposal, Proposal):  # fetched
        return await Challenge.get(id=proposal.challenge_id, using_db=using_db)
    return await Challenge.get(review_rounds__id=assignment.round_id, using_db=using_db)


async def owner_people(challenge: Challenge) -> list[User]:
    """Active members of the owner agency and of accepted co-owners: the people told about the review."""
    agencies = {challenge.owner_id} | set(await CoOwner.filter(
        challenge_id=challenge.id, accepted_at__not_isnull=True).values_list("organisation_id", flat=True))
    return await User.filter(memberships__organisation_id__in=list(agencies), is_active=True).distinct().order_by("id")


async def escalation_contact(challenge: Challenge) -> User | None:
    """Who gets the owners' e-mails: the challenge's author while active and still an owner, else an admin."""
    if challenge.created_by_id is not None:
        author = await User.get_or_none(id=challenge.created_by_id, is_active=True)
        if author is not None and await Membership.exists(user_id=author.id, organisation_id=challenge.owner_id):
            return author
    return await User.filter(memberships__organisation_id=challenge.owner_id, memberships__role=Role.ADMIN.value,
                             is_active=True).order_by("id").first()


async def notify(users: list[User] | list[int], kind: str, payload: dict[str, Any], using_db: Any) -> None:
    for user in users:
        await Notification.create(user_id=user if isinstance(user, int) else user.id, kind=kind, payload=payload,
                                  using_db=using_db)


async def get_assignment(actor: Actor, assignment_id: int) -> Assignment:
    """The assignment, for its reviewer and the challenge's owners and operators; NotFound for anyone else."""
    assignment = await Assignment.get_or_none(id=assignment_id).prefetch_related("proposal", "reviewer", "round")
    if assignment is None or actor.user is None:
        raise NotFound("no such assignment")
    if assignment.reviewer_id == actor.user.id and not hidden_from_its_reviewer(assignment):
        return assignment
    challenge = await assignment_challenge(assignment)
    if not await may_follow_reviews(actor, challenge):
        raise NotFound("no such assignment")
    return assignment
