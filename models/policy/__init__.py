"""Who may see and do what: the one place access is decided.

`Actor` is the person behind a request, job or CLI call (or a visitor, with no user). The functions
here answer "may this actor do this action on this object" and build the query filter for "which
objects may this actor list"; pages, API, search, exports, feeds and e-mails all ask them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.expressions import Q

from models.challenges.models import PUBLIC_STATUSES, Challenge, ChallengeStatus, CoOwner
from models.core.errors import NotAllowed
from models.identity.accounts import Membership, Role, User
from models.identity.orgs import Organisation, OrgKind


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @property
    def is_visitor(self) -> bool:
        return self.user is None

    @property
    def is_operator(self) -> bool:
        return bool(self.user and self.user.is_active and self.user.is_operator)

    @property
    def is_reviewer(self) -> bool:
        return bool(self.user and self.user.is_active and self.user.is_reviewer)

    @property
    def organisation(self) -> Organisation | None:
        """The organisation the person acts for (their first membership)."""
        return self.memberships[0].organisation if self.memberships else None

    def organisation_ids(self, kind: OrgKind | None = None) -> set[int]:
        return {
            m.organisation_id
            for m in self.memberships
            if kind is None or m.organisation.kind == kind
        }

    def is_admin_of(self, organisation_id: int) -> bool:
        return any(m.organisation_id == organisation_id and m.role == Role.ADMIN for m in self.memberships)

    @property
    def roles(self) -> list[str]:
        """Role names as the API shows them, e.g. ["agency_admin", "reviewer"]."""
        names = [f"{m.organisation.kind}_{m.role}" for m in self.memberships]
        if self.is_reviewer:
            names.append("reviewer")
        if self.is_operator:
            names.append("operator")
        return names


VISITOR = Actor()


async def actor_for(user: User | None) -> Actor:
    if user is None or not user.is_active:
        return VISITOR
    memberships = await Membership.filter(user=user).prefetch_related("organisation").order_by("id")
    return Actor(user=user, memberships=tuple(memberships))


def public_challenge_filter() -> Q:
    """What everyone may see: published and later, and cancelled after publication (with its reason)."""
    return Q(status__in=[str(status) for status in PUBLIC_STATUSES]) | Q(
        status=ChallengeStatus.CANCELLED.value, published_at__not_isnull=True
    )


def challenge_filter(actor: Actor) -> Q:
    """Challenges the actor may list: the public ones, plus everything of their own agency's."""
    if actor.is_operator:
        return Q()
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if not agencies:
        return public_challenge_filter()
    return public_challenge_filter() | Q(owner_id__in=agencies) | Q(
        co_owners__organisation_id__in=agencies, co_owners__accepted_at__not_isnull=True
    )


async def owns_challenge(actor: Actor, challenge: Challenge) -> bool:
    """The owner agency's members and accepted co-owners' members act as owners."""
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if not agencies:
        return False
    if challenge.owner_id in agencies:
        return True
    return await CoOwner.exists(challenge_id=challenge.id, organisation_id__in=agencies, accepted_at__not_isnull=True)


def is_public(challenge: Challenge) -> bool:
    return challenge.status in PUBLIC_STATUSES or (
        challenge.status == ChallengeStatus.CANCELLED and challenge.published_at is not None
    )


async def may_view_challenge(actor: Actor, challenge: Challenge) -> bool:
    return is_public(challenge) or actor.is_operator or await owns_challenge(actor, challenge)


def may_draft_challenges(actor: Actor) -> bool:
    return bool(actor.organisation_ids(OrgKind.AGENCY))


def require_user(actor: Actor) -> User:
    if actor.user is None:
        raise NotAllowed("login required")
    return actor.user


def may_manage_organisation(actor: Actor, organisation: Organisation) -> bool:
    return actor.is_operator or actor.is_admin_of(organisation.id)


# --- proposals ----------------------------------------------------------------------------------
# A proposal is seen by its company's members, the challenge's owners once it has been submitted
# (never a draft), its assigned reviewers without a conflict, and operators; by nobody else.

from tortoise.expressions import Subquery  # noqa: E402

from models.proposals.models import Proposal  # noqa: E402
from models.review.models import Assignment, AssignmentStatus, Conflict  # noqa: E402


def is_proposal_company_member(actor: Actor, proposal: Proposal) -> bool:
    return proposal.company_id in actor.organisation_ids(OrgKind.COMPANY)


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


async def owns_proposal_challenge(actor: Actor, proposal: Proposal) -> bool:
    """Whether the actor is among the owners of the challenge the proposal answers."""
    if not actor.organisation_ids(OrgKind.AGENCY):
        return False
    challenge = await Challenge.get(id=proposal.challenge_id)
    return await owns_challenge(actor, challenge)


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


# --- reviews ------------------------------------------------------------------------------------
# A challenge's panel, assignments and ranking are managed by its owners and seen by operators.
# A proposal's reviews are seen by the challenge's owners and operators, and by a reviewer of the
# proposal once they have submitted their own; never by anyone with a conflict of interest with the
# proposal (declared or detected, see models.review.conflicts), never by the company. Companies never see
# assignments or who reviewed them; they get the feedback meant for them once the challenge is decided.


def may_declare_conflicts(actor: Actor) -> bool:
    return actor.user is not None and (actor.is_reviewer or actor.is_operator or may_draft_challenges(actor))


async def may_follow_reviews(actor: Actor, challenge: Challenge) -> bool:
    """Read the panel, the assignments and the ranking: owners and operators."""
    return actor.is_operator or await owns_challenge(actor, challenge)


def assignment_filter(actor: Actor) -> Q:
    """The assignments a person lists as theirs: only their own."""
    return Q(reviewer_id=actor.user.id) if actor.user else Q(id__in=[])


async def may_see_reviews(actor: Actor, proposal: Proposal) -> bool:
    from models.review.conflicts import is_conflicted  # reads memberships and proposals: imported when needed

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
