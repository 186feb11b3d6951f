"""Joint challenges: co-owner agencies, and agencies saying "we have this problem too".

An invited co-owner is a `CoOwner` row without `accepted_at`; once a member of the invited agency
accepts, its members act as owners (`models.policy.challenges.owns_challenge`). Interest is one row per agency,
public with its note, and the owners can invite an interested agency as a co-owner.
"""

from __future__ import annotations

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.follows import notify
from models.challenges.models import Challenge, CoOwner, Interest
from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.identity.accounts import Membership
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor
from models.policy.challenges import (
    CLOSED_FOR_CO_OWNERS,
    fetched_co_owners,
    may_register_interest,
    owner_organisation_ids,
    owns_challenge,
)

NOTE_MAX = 2000


async def members_of(organisation_ids: set[int]) -> set[int]:
    if not organisation_ids:
        return set()
    return set(await Membership.filter(organisation_id__in=list(organisation_ids)).values_list("user_id", flat=True))  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples


async def owner_member_ids(challenge: Challenge) -> set[int]:
    """Everyone who acts as an owner of the challenge."""
    return await members_of(await owner_organisation_ids(challenge))


def acting_agency(actor: Actor) -> Organisation | None:
    """The agency the person acts for (their first agency membership)."""
    return next((m.organisation for m in actor.memberships if m.organisation.kind == OrgKind.AGENCY), None)


# --- co-owners -------------------------------------------------------------------------------


async def co_owners_of(challenge: Challenge) -> list[CoOwner]:
    """Accepted and invited co-owners, oldest first (the owners' view)."""
    fetched = fetched_co_owners(challenge)  # with their organisations, by listing.details
    if fetched is not None:
        return sorted(fetched, key=lambda co_owner: (co_owner.created_at, co_owner.id))
    return await CoOwner.filter(challenge_id=challenge.id).order_by("created_at", "id").prefetch_related("organisation")


async def invite_co_owner(actor: Actor, challenge: Challenge, organisation_id: int) -> CoOwner:
    """An owner invites another agency to co-own the challenge."""
    if not await owns_challenge(actor, challenge):
        raise NotAllowed(N_("Only the challenge's owners can invite co-owners."))
    if challenge.status in CLOSED_FOR_CO_OWNERS:
        raise InvalidTransition(N_("Co-owners can no longer be invited to this challenge."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    agency = await Organisation.get_or_none(id=organisation_id, kind=OrgKind.AGENCY.value, status=OrgStatus.APPROVED.value)
    if agency is None:
        raise ValidationFailed({"organisation_id": N_("Choose one of the agencies.")})
    if agency.id == challenge.owner_id:
        raise ValidationFailed({"organisation_id": N_("This agency already owns the challenge.")})
    if await CoOwner.exists(challenge_id=challenge.id, organisation_id=agency.id):
        raise ValidationFailed({"organisation_id": N_("This agency is already a co-owner or has been invited.")})
    async with in_transaction():
        co_owner = await CoOwner.create(challenge_id=challenge.id, organisation=agency)
        await audit.record("challenge.co_owner_invited", actor=actor.user, organisation=acting_agency(actor),
                           target=challenge, after={"organisation": agency.id})
        await notify(await members_of({agency.id}), "co_owner.invited", {"challenge": challenge.id, "organisation": agency.id})
    co_owner.organisation = agency
    return co_owner


async def waiting_invitations(actor: Actor, challenge_ids: set[int]) -> set[int]:
    """Which of these challenges one of the actor's agencies is invited to co-own and has not yet accepted."""
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if not agencies or not challenge_ids:
        return set()
    return set(await CoOwner.filter(
        challenge_id__in=list(challenge_ids), organisation_id__in=list(agencies), accepted_at__isnull=True
    ).values_list("challenge_id", flat=True))  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples


async def pending_invitation(actor: Actor, challenge_id: int) -> CoOwner | None:
    """The invitation to co-own this challenge that one of the actor's agencies has not yet accepted."""
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if not agencies:
        return None
    return await CoOwner.filter(
        challenge_id=challenge_id, organisation_id__in=list(agencies), accepted_at__isnull=True
    ).prefetch_related("organisation").first()


async def accept_co_ownership(actor: Actor, challenge_id: int) -> CoOwner:
    """A member of an invited agency accepts; from then on its members act as owners.

    The challenge may still be a draft the agency cannot see yet, so it is found by the invitation.
    """
    invitation = await pending_invitation(actor, challenge_id)
    if invitation is None:
        agencies = actor.organisation_ids(OrgKind.AGENCY)
        accepted = agencies and await CoOwner.filter(
            challenge_id=challenge_id, organisation_id__in=list(agencies), accepted_at__not_isnull=True
        ).first()
        if accepted:
            await accepted.fetch_related("organisation")
            return accepted  # accepting twice changes nothing
        raise NotFound("no invitation to co-own this challenge")
    challenge = await Challenge.get(id=challenge_id)
    if challenge.status in CLOSED_FOR_CO_OWNERS:
        raise InvalidTransition(N_("This challenge can no longer get co-owners."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    owners_before = await owner_member_ids(challenge)
    async with in_transaction():
        invitation.accepted_at = timezone.now()
        await invitation.save(update_fields=["accepted_at", "updated_at"])
        await audit.record("challenge.co_owner_accepted", actor=actor.user, organisation=invitation.organisation,
                           target=challenge, after={"organisation": invitation.organisation_id})
        await notify(owners_before, "co_owner.accepted", {"challenge": challenge.id, "organisation": invitation.organisation_id})
    return invitation


# --- interest ("we have this problem too") ---------------------------------------------------


async def interests_of(challenge: Challenge) -> list[Interest]:
    """Public: the agencies that have this problem too, first come first."""
    return await Interest.filter(challenge_id=challenge.id).order_by("created_at", "id").prefetch_related("organisation")


async def register_interest(actor: Actor, challenge: Challenge, note: str = "") -> Interest:
    """An agency member says their agency has this problem too (once per agency; again updates the note)."""
    agency = acting_agency(actor)
    if agency is None:
        raise NotAllowed(N_("Only agency members can say their agency has this problem too."))
    owners = await owner_organisation_ids(challenge)
    if agency.id in owners:
        raise NotAllowed(N_("Your agency already owns this challenge."))
    if not may_register_interest(actor, challenge, owners):
        raise InvalidTransition(N_("Interest can only be registered on a published challenge."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": N_("The note is too long.")})
    async with in_transaction():
        interest = await Interest.get_or_none(challenge_id=challenge.id, organisation_id=agency.id)
        if interest is not None:
            before = {"note": interest.note}
            interest.note = note
            await interest.save(update_fields=["note", "updated_at"])
            await audit.record("challenge.interest_updated", actor=actor.user, organisation=agency, target=challenge,
                               before=before, after={"note": note})
            interest.organisation = agency
            return interest
        interest = await Interest.create(challenge_id=challenge.id, organisation=agency, note=note)
        await audit.record("challenge.interest_registered", actor=actor.user, organisation=agency, target=challenge,
                           after={"note": note})
        await notify(await owner_member_ids(challenge), "interest.registered",
                     {"challenge": challenge.id, "organisation": agency.id})
    interest.organisation = agency
    return interest
