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
from models.proposals.models import Proposal


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


# --- proposals: what the review rules share with models.policy.proposals --------------------------


def is_proposal_company_member(actor: Actor, proposal: Proposal) -> bool:
    return proposal.company_id in actor.organisation_ids(OrgKind.COMPANY)


async def owns_proposal_challenge(actor: Actor, proposal: Proposal) -> bool:
    """Whether the actor is among the owners of the challenge the proposal answers."""
    if not actor.organisation_ids(OrgKind.AGENCY):
        return False
    loaded = proposal.challenge  # loaded with the proposal by `get_proposal` and the lists, else read now
    challenge = loaded if isinstance(loaded, Challenge) else await Challenge.get(id=proposal.challenge_id)
    return await owns_challenge(actor, challenge)


