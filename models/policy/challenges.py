"""Challenges: who may see, list, draft and act as owner of a challenge.

A challenge is public once published, and stays public when closed, decided, or cancelled after
publication (its page then says why). That one rule decides the page, the API, search (documents,
both backends), feeds and agency pages. Its owners are the owner agency and the co-owner agencies
that accepted their invitation; their members act as owners.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.challenges.models import PUBLIC_STATUSES, Challenge, ChallengeStatus, CoOwner
from models.identity.orgs import OrgKind
from models.policy import Actor

# Public whenever in one of these states; a challenge in PUBLIC_ONCE_PUBLISHED is public only if it was published.
PUBLIC_ONCE_PUBLISHED = (ChallengeStatus.CANCELLED,)
# Every status a visitor may see a challenge in, so the statuses search can filter by.
VISIBLE_STATUSES = (*PUBLIC_STATUSES, *PUBLIC_ONCE_PUBLISHED)


def is_public(challenge: Challenge) -> bool:
    return challenge.status in PUBLIC_STATUSES or (
        challenge.status in PUBLIC_ONCE_PUBLISHED and challenge.published_at is not None
    )


def public_challenge_filter() -> Q:
    """`is_public` as a query."""
    return Q(status__in=[str(status) for status in PUBLIC_STATUSES]) | Q(
        status__in=[str(status) for status in PUBLIC_ONCE_PUBLISHED], published_at__not_isnull=True
    )


def accepted_co_owner_filter(agencies: set[int] | list[int]) -> Q:
    """Co-owner rows of these agencies that were accepted (query on CoOwner)."""
    return Q(organisation_id__in=list(agencies), accepted_at__not_isnull=True)


def owned_challenge_filter(agencies: set[int] | list[int]) -> Q:
    """Challenges these agencies own or co-own (query on Challenge; may join co-owners: use distinct())."""
    return Q(owner_id__in=list(agencies)) | Q(
        co_owners__organisation_id__in=list(agencies), co_owners__accepted_at__not_isnull=True
    )


def challenge_filter(actor: Actor) -> Q:
    """Challenges the actor may list: the public ones, plus everything of their own agency's."""
    if actor.is_operator:
        return Q()
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if not agencies:
        return public_challenge_filter()
    return public_challenge_filter() | owned_challenge_filter(agencies)


def fetched_co_owners(challenge: Challenge) -> list[CoOwner] | None:
    """The challenge's co-owner rows when they were fetched onto it already (listing.details), else None."""
    relation = challenge.__dict__.get("_co_owners")
    return list(relation) if relation is not None and relation._fetched else None


async def owner_organisation_ids(challenge: Challenge) -> set[int]:
    """The owner agency and the co-owners that accepted."""
    fetched = fetched_co_owners(challenge)
    if fetched is not None:
        return {challenge.owner_id, *(c.organisation_id for c in fetched if c.accepted_at is not None)}
    accepted = await CoOwner.filter(accepted_co_owner_filter_for(challenge)).values_list("organisation_id", flat=True)
    return {challenge.owner_id, *accepted}  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples


def accepted_co_owner_filter_for(challenge: Challenge) -> Q:
    return Q(challenge_id=challenge.id, accepted_at__not_isnull=True)


async def owns_challenge(actor: Actor, challenge: Challenge) -> bool:
    """The owner agency's members and accepted co-owners' members act as owners."""
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if not agencies:
        return False
    if challenge.owner_id in agencies:
        return True
    if fetched_co_owners(challenge) is not None:
        return bool(await owner_organisation_ids(challenge) & set(agencies))
    return await CoOwner.filter(accepted_co_owner_filter_for(challenge), organisation_id__in=list(agencies)).exists()


async def may_view_challenge(actor: Actor, challenge: Challenge) -> bool:
    return is_public(challenge) or actor.is_operator or await owns_challenge(actor, challenge)


def may_draft_challenges(actor: Actor) -> bool:
    return bool(actor.organisation_ids(OrgKind.AGENCY))


async def may_edit_challenge(actor: Actor, challenge: Challenge) -> bool:
    """Owners edit drafts and amend published challenges; operators may amend a published one too."""
    if actor.is_operator and challenge.status == ChallengeStatus.PUBLISHED:
        return True
    return await owns_challenge(actor, challenge)


async def may_see_askers(actor: Actor, challenge: Challenge) -> bool:
    """Who asked a question: owners and operators see it; nobody else ever does."""
    return actor.is_operator or await owns_challenge(actor, challenge)


async def may_answer_questions(actor: Actor, challenge: Challenge) -> bool:
    return challenge.status != ChallengeStatus.CANCELLED and await owns_challenge(actor, challenge)


# Co-owners can be invited and accept until the challenge is decided or cancelled.
CLOSED_FOR_CO_OWNERS = (ChallengeStatus.DECIDED.value, ChallengeStatus.CANCELLED.value)


def may_invite_co_owners(is_owner: bool, challenge: Challenge) -> bool:
    """`is_owner`: `owns_challenge(actor, challenge)`, asked once per page."""
    return is_owner and challenge.status not in CLOSED_FOR_CO_OWNERS


def may_register_interest(actor: Actor, challenge: Challenge, owner_ids: set[int]) -> bool:
    """An agency other than the owners says "we have this problem too" on a published or past challenge."""
    agency = next((m.organisation for m in actor.memberships if m.organisation.kind == OrgKind.AGENCY), None)
    return (agency is not None and agency.id not in owner_ids and is_public(challenge)
            and challenge.status != ChallengeStatus.CANCELLED)


async def challenge_actions(actor: Actor, challenge: Challenge, is_owner: bool) -> set[str]:
    """What the person may do from the challenge's page, for its template: "manage" (see the owners'
    panel and messages), "edit" (a draft), "amend" (a published challenge), "follow"."""
    actions = {"follow"} if may_follow(actor) else set()
    if is_owner:
        actions.add("manage")
    if challenge.status in (ChallengeStatus.DRAFT, ChallengeStatus.CHANGES_REQUESTED) and is_owner:
        actions.add("edit")
    if challenge.status == ChallengeStatus.PUBLISHED and (is_owner or actor.is_operator):
        actions.add("amend")
    return actions


def may_follow(actor: Actor) -> bool:
    """Follow a challenge or save a search: anyone signed in."""
    return actor.user is not None


# Owners add and remove a challenge's attachments while it is a draft, sent back, or open.
ATTACHMENTS_CHANGEABLE = (ChallengeStatus.DRAFT, ChallengeStatus.CHANGES_REQUESTED, ChallengeStatus.PUBLISHED)


async def may_change_attachments(actor: Actor, challenge: Challenge) -> bool:
    return challenge.status in ATTACHMENTS_CHANGEABLE and await owns_challenge(actor, challenge)
