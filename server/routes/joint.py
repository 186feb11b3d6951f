"""Joint challenges (co-owners, "we have this problem too"), following from the challenge page, and the
public agency page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.challenges import follows, joint
from models.challenges import lifecycle as lifecycle
from models.challenges.models import Challenge, ChallengeStatus, CoOwner, Follow, Interest
from models.core.errors import NotAllowed, NotFound
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor
from models.policy.challenges import is_public, owns_challenge, public_challenge_filter
from server.api import api
from server.i18n import gettext as _
from server.routes.discovery import VALUE_LABELS
from server.routes.questions import back_to, signed_in, submit_one_field
from server.schemas.questions import CoOwnerIn, CoOwnerOut, InterestIn, InterestListOut, InterestOut, PageQuery
from server.templating import templates

# --- API -------------------------------------------------------------------------------------


@api.operation("/challenges/{challenge_id:int}/interest", summary="The agencies that have this problem too (public)",
               query=PageQuery, response=InterestListOut, public=True, tags=["joint challenges"])
async def list_interest(request: Request, actor: Actor, challenge_id: int, query: PageQuery) -> InterestListOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    interests = await joint.interests_of(challenge)
    return InterestListOut(items=[InterestOut.of(i) for i in interests[query.offset:query.offset + query.per_page]],
                           total=len(interests), page=query.page, per_page=query.per_page)


@api.operation("/challenges/{challenge_id:int}/interest", "POST",
               summary="Say that the caller's agency has this problem too (agency members; again updates the note)",
               body=InterestIn, response=InterestOut, tags=["joint challenges"])
async def register_interest(request: Request, actor: Actor, challenge_id: int, body: InterestIn) -> InterestOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    interest = await joint.register_interest(actor, challenge, body.note)
    await interest.fetch_related("organisation")
    return InterestOut.of(interest)


@api.operation("/challenges/{challenge_id:int}/co-owners", "POST", summary="Invite an agency to co-own the challenge (owners)",
               body=CoOwnerIn, response=CoOwnerOut, status=201, tags=["joint challenges"])
async def invite_co_owner(request: Request, actor: Actor, challenge_id: int, body: CoOwnerIn) -> CoOwnerOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    co_owner = await joint.invite_co_owner(actor, challenge, body.organisation_id)
    return CoOwnerOut.of(co_owner, await Organisation.get(id=co_owner.organisation_id))


@api.operation("/challenges/{challenge_id:int}/co-owners/accept", "POST",
               summary="Accept the invitation to co-own a challenge (members of the invited agency)",
               response=CoOwnerOut, tags=["joint challenges"])
async def accept_co_ownership(request: Request, actor: Actor, challenge_id: int) -> CoOwnerOut:
    co_owner = await joint.accept_co_ownership(actor, challenge_id)
    return CoOwnerOut.of(co_owner, await Organisation.get(id=co_owner.organisation_id))


# --- the challenge page ----------------------------------------------------------------------


async def _invitable(taken: set[int]) -> list[Organisation]:
    agencies = await Organisation.filter(kind=OrgKind.AGENCY.value, status=OrgStatus.APPROVED.value).order_by(
        "municipality_code", "id"
    )
    return [agency for agency in agencies if agency.id not in taken]


async def detail_context(actor: Actor, challenge: Challenge) -> dict:
    """What this area adds to the challenge page's template context."""
    is_owner = await owns_challenge(actor, challenge)
    interests = await joint.interests_of(challenge)
    owners = await joint.owner_organisation_ids(challenge)
    agency = joint.acting_agency(actor)
    open_for_co_owners = challenge.status not in joint.CLOSED_FOR_CO_OWNERS
    co_owners = await joint.co_owners_of(challenge) if is_owner else []
    taken = owners | {c.organisation_id for c in co_owners}
    may_invite = is_owner and open_for_co_owners
    return {
        "joint_interests": interests,
        "joint_my_interest": next((i for i in interests if agency and i.organisation_id == agency.id), None),
        "joint_may_register": agency is not None and agency.id not in owners and is_public(challenge)
        and challenge.status != ChallengeStatus.CANCELLED.value,
        "joint_co_owners": co_owners,
        "joint_taken": taken,
        "joint_may_invite": may_invite,
        "joint_invitable": await _invitable(taken) if may_invite else [],
        "joint_invitation": await joint.pending_invitation(actor, challenge.id),
        "follow_current": await Follow.get_or_none(user_id=actor.user.id, challenge_id=challenge.id) if actor.user else None,
    }


async def _challenge(request: Request) -> tuple[Actor, Challenge]:
    actor = signed_in(request)
    return actor, await lifecycle.get_challenge(actor, request.path_params["challenge_id"])


async def interest_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    if joint.acting_agency(actor) is None:
        raise NotAllowed("agency members only")
    return await submit_one_field(request, challenge, "interest_note", InterestIn, "note",
                                  lambda body: joint.register_interest(actor, challenge, body.note))


async def invite_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("owners only")
    return await submit_one_field(request, challenge, "co_owner", CoOwnerIn, "organisation_id",
                                  lambda body: joint.invite_co_owner(actor, challenge, body.organisation_id))


async def accept_page(request: Request) -> Response:
    actor = signed_in(request)
    challenge_id = request.path_params["challenge_id"]
    await joint.accept_co_ownership(actor, challenge_id)  # the challenge may be a draft only owners see
    return back_to(challenge_id)


async def follow_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    await follows.follow(actor, challenge=challenge)
    return back_to(challenge.id)


async def unfollow_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    await follows.unfollow_challenge(actor, challenge)
    return back_to(challenge.id)


# --- the agency page -------------------------------------------------------------------------


async def agency_page(request: Request) -> Response:
    agency = await Organisation.get_or_none(id=request.path_params["org_id"], kind=OrgKind.AGENCY.value)
    if agency is None:
        raise NotFound("no such agency")
    public = Challenge.filter(public_challenge_filter())
    owned = await public.filter(owner_id=agency.id).order_by("-published_at", "-id").prefetch_related("category")
    co_owned_ids = await CoOwner.filter(organisation_id=agency.id, accepted_at__not_isnull=True).values_list(
        "challenge_id", flat=True
    )
    co_owned = await Challenge.filter(public_challenge_filter(), id__in=list(co_owned_ids)).order_by(
        "-published_at", "-id"
    ).prefetch_related("category", "owner") if co_owned_ids else []
    type_label = VALUE_LABELS["municipality_type"].get(agency.municipality_type or "")
    context: dict[str, Any] = {
        "agency": agency,
        "municipality_type": _(type_label) if type_label else "",
        "owned": owned,
        "co_owned": co_owned,
        "interest_count": await Interest.filter(organisation_id=agency.id).count(),
    }
    return templates.TemplateResponse(request, "agencies/detail.html", context)


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/interest", interest_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/co-owners", invite_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/co-owners/accept", accept_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/follow", follow_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/unfollow", unfollow_page, methods=["POST"]),
    Route("/agencies/{org_id:int}", agency_page, methods=["GET"], name="agency"),
]
