"""Joint challenges (co-owners, "we have this problem too"), following from the challenge page, and the
public agency page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.challenges import follows, joint, listing
from models.challenges import lifecycle as lifecycle
from models.challenges.models import Challenge
from models.challenges.reader import ReaderRows
from models.core.errors import NotAllowed, NotFound
from models.pilots import lifecycle as pilot_lifecycle
from models.policy import Actor
from models.policy.challenges import (
    is_public,
    may_invite_co_owners,
    may_register_interest,
    owner_organisation_ids,
    owns_challenge,
)
from server.api import api
from server.caching import shared
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
    return InterestOut.of(await joint.register_interest(actor, challenge, body.note))


@api.operation("/challenges/{challenge_id:int}/co-owners", "POST", summary="Invite an agency to co-own the challenge (owners)",
               body=CoOwnerIn, response=CoOwnerOut, status=201, tags=["joint challenges"])
async def invite_co_owner(request: Request, actor: Actor, challenge_id: int, body: CoOwnerIn) -> CoOwnerOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    co_owner = await joint.invite_co_owner(actor, challenge, body.organisation_id)
    return CoOwnerOut.of(co_owner, co_owner.organisation)


@api.operation("/challenges/{challenge_id:int}/co-owners/accept", "POST",
               summary="Accept the invitation to co-own a challenge (members of the invited agency)",
               response=CoOwnerOut, tags=["joint challenges"])
async def accept_co_ownership(request: Request, actor: Actor, challenge_id: int) -> CoOwnerOut:
    co_owner = await joint.accept_co_ownership(actor, challenge_id)
    return CoOwnerOut.of(co_owner, co_owner.organisation)


# --- the challenge page ----------------------------------------------------------------------


async def detail_context(actor: Actor, challenge: Challenge, theirs: ReaderRows | None = None) -> dict:
    """What this area adds to the challenge page's template context. `theirs`: which of their own rows the reader
    has on the challenge (models.challenges.reader), when the page asked already."""
    is_owner = await owns_challenge(actor, challenge)
    interests = await shared(("interests", challenge.id), lambda: joint.interests_of(challenge), public=is_public(challenge))
    owners = await owner_organisation_ids(challenge)
    agency = joint.acting_agency(actor)
    co_owners = await joint.co_owners_of(challenge) if is_owner else []
    taken = owners | {c.organisation_id for c in co_owners}
    may_invite = may_invite_co_owners(is_owner, challenge)
    return {
        "joint_interests": interests,
        "joint_my_interest": next((i for i in interests if agency and i.organisation_id == agency.id), None),
        "joint_may_register": may_register_interest(actor, challenge, owners),
        "joint_co_owners": co_owners,
        "joint_taken": taken,
        "joint_may_invite": may_invite,
        "joint_invitable": await listing.invitable_agencies(taken) if may_invite else [],
        "joint_invitation": await joint.pending_invitation(actor, challenge.id),
        "follow_current": await follows.current_follow(actor, challenge) if theirs is None or theirs.follows else None,
    }


async def _challenge(request: Request) -> tuple[Actor, Challenge]:
    actor = signed_in(request)
    return actor, await lifecycle.get_challenge(actor, request.path_params["challenge_id"])


async def interest_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    if joint.acting_agency(actor) is None:
        raise NotAllowed("agency members only")
    return await submit_one_field(request, challenge, "interest_note", InterestIn, "note",
                                  lambda body: joint.register_interest(actor, challenge, body.note), "joint.interest")


async def invite_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("owners only")
    return await submit_one_field(request, challenge, "co_owner", CoOwnerIn, "organisation_id",
                                  lambda body: joint.invite_co_owner(actor, challenge, body.organisation_id), "joint.invited")


async def accept_page(request: Request) -> Response:
    actor = signed_in(request)
    challenge_id = request.path_params["challenge_id"]
    await joint.accept_co_ownership(actor, challenge_id)  # the challenge may be a draft only owners see
    return back_to(challenge_id, "joint.accepted")


async def follow_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    await follows.follow(actor, challenge=challenge)
    return back_to(challenge.id, "follow.on")


async def unfollow_page(request: Request) -> Response:
    actor, challenge = await _challenge(request)
    await follows.unfollow_challenge(actor, challenge)
    return back_to(challenge.id, "follow.off")


# --- the agency page -------------------------------------------------------------------------


async def agency_page(request: Request) -> Response:
    found = await listing.agency_challenges(request.path_params["org_id"])
    if found is None:
        raise NotFound("no such agency")
    type_label = VALUE_LABELS["municipality_type"].get(found.agency.municipality_type or "")
    context: dict[str, Any] = {
        "agency": found.agency,
        "municipality_type": _(type_label) if type_label else "",
        "owned": found.owned,
        "co_owned": found.co_owned,
        "interest_count": found.interest_count,
        "pilots": await pilot_lifecycle.list_pilots(request.state.actor, agency=found.agency.id),
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
