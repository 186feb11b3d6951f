"""A person's in-app notifications and what they follow (challenges and saved searches): pages and API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.challenges import follows, joint, listing
from models.challenges import lifecycle as lifecycle
from models.challenges.models import Follow
from models.core.base import translated
from models.core.errors import N_, ValidationFailed
from models.core.notifications import Notification
from models.policy import Actor
from models.policy.challenges import is_public
from server import flash
from server.api import api
from server.forms import checked_form, errors_from
from server.i18n import TOKYO, get_locale
from server.i18n import gettext as _
from server.problems import signed_in
from server.routes.discovery import VALUE_LABELS
from server.schemas.questions import (
    FollowIn,
    FollowListOut,
    FollowOut,
    NotificationListOut,
    NotificationOut,
    NotificationQuery,
    PageQuery,
    ReadOut,
    saved_query_from_params,
)
from server.templating import templates

PILOT_MESSAGES = {
    "pilot.created": N_("A pilot of your proposal to “%(title)s” is planned."),
    "pilot.running": N_("The pilot for “%(title)s” is running."),
    "pilot.paused": N_("The pilot for “%(title)s” is paused."),
    "pilot.under_evaluation": N_("The pilot for “%(title)s” has ended and is under evaluation."),
    "pilot.adopted": N_("The pilot for “%(title)s” is adopted."),
    "pilot.extended": N_("The pilot for “%(title)s” is extended."),
    "pilot.stopped": N_("The pilot for “%(title)s” is stopped."),
    "milestone.done": N_("A milestone of the pilot for “%(title)s” is done and awaits acceptance."),
    "milestone.accepted": N_("A milestone of the pilot for “%(title)s” was accepted."),
    "milestone.returned": N_("A milestone of the pilot for “%(title)s” was returned."),
    "milestone.reminder": N_("Reminder: a milestone of the pilot for “%(title)s” is due."),
}
# Notification kind -> the sentence shown; %(title)s is the challenge's title, %(agency)s an agency's name.
MESSAGES = {
    "challenge.amended": N_("The challenge “%(title)s” was amended."),
    "challenge.published": N_("Your challenge “%(title)s” was approved and is published."),
    "challenge.scheduled": N_("Your challenge “%(title)s” was approved; it is published at the time set."),
    "challenge.changes_requested": N_("Your challenge “%(title)s” was sent back: see the operator's reason on its page."),
    "question.asked": N_("A company asked a question on “%(title)s”."),
    "question.answered": N_("A question on “%(title)s” was answered."),
    "search.matched": N_("A new challenge matches a search you follow: “%(title)s”."),
    "co_owner.invited": N_("%(agency)s is invited to co-own “%(title)s”."),
    "co_owner.accepted": N_("%(agency)s now co-owns “%(title)s”."),
    "interest.registered": N_("%(agency)s has this problem too: “%(title)s”."),
    "challenge.closed": N_("Proposals for “%(title)s” are closed; the review has started."),
    "review.panel_added": N_("You have been added to the review panel of “%(title)s”."),
    "review.assigned": N_("A proposal to “%(title)s” has been assigned to you for review."),
    "review.recused": N_("A reviewer withdrew from a review of “%(title)s”; it is being reassigned."),
    "review.reopened": N_("Your review for “%(title)s” was reopened by the challenge's owners."),
    "review.reminder": N_("Reminder: your review for “%(title)s” is due soon."),
    "review.overdue": N_("A review for “%(title)s” is overdue."),
    "review.all_submitted": N_("Every review for “%(title)s” is in; the ranking is ready."),
    "proposal.decision": N_("The decision on your proposal to “%(title)s” is available, with feedback."),
    "proposal.shortlisted": N_("Your proposal to “%(title)s” has been shortlisted."),
    "proposal.not_selected": N_("Your proposal to “%(title)s” was not selected."),
    "proposal.selected": N_("Your proposal to “%(title)s” has been selected."),
    "proposal.ineligible": N_("Your proposal to “%(title)s” was found ineligible."),
    **PILOT_MESSAGES,
}
# The talent pool's notifications (models.partners.invitations): a sentence and where to answer or look.
PARTNER_MESSAGES = {
    "partner.invited": (N_("An agency invites you through Kyoso Partners."), "/partners/me"),
    "partner.accepted": (N_("A partner accepted your invitation."), "/needs"),
    "partner.declined": (N_("A partner declined your invitation."), "/needs"),
    "partner.ended": (N_("An engagement through Kyoso Partners has ended, with its report."), "/placements/{placement}"),
    "partner.survey": (N_("A follow-up survey on a partner's engagement waits for your answers."),
                       "/placements/{placement}#survey"),
}
# Joint procurement rounds' notifications (models.solutions.procurement): the round's page.
PROCUREMENT_MESSAGES = {
    "procurement.joined": N_("An agency joined your joint procurement round."),
    "procurement.closed": N_("A joint procurement round you are in is closed."),
    "procurement.contracted": N_("The joint contract of a round you are in is recorded: see your share and saving."),
}
# The solution catalogue's notifications (models.solutions): a sentence; the link is the solution's page.
SOLUTION_MESSAGES = {
    "solution.drafted": N_("A solution (case study) was drafted from your adopted pilot: check it and submit it."),
    "solution.in_review": N_("A solution is waiting for an operator's approval."),
    "solution.published": N_("A solution you are part of is published in the catalogue."),
    "solution.draft": N_("A solution was returned to draft."),
    "solution.withdrawn": N_("A solution you are part of was withdrawn."),
    "solution.correction_proposed": N_("The company proposed a correction to a solution."),
    "solution.correction_accepted": N_("Your correction to a solution was accepted."),
    "solution.correction_rejected": N_("Your correction to a solution was rejected."),
    "adoption.stated": N_("Another agency stated that it adopts a solution of yours."),
    "adoption.considering": N_("An agency's adoption of a solution of yours changed."),
    "adoption.contracted": N_("An agency's adoption of a solution of yours changed."),
    "adoption.live": N_("An agency's adoption of a solution of yours changed."),
    "adoption.dropped": N_("An agency dropped its adoption of a solution of yours."),
    "adoption.stale": N_("Your agency's adoption of a solution was not re-confirmed this year: is it still in use?"),
}
SOMETHING_NEW = N_("You have a new notification.")
UNTITLED = N_("(untitled)")


# --- notifications ---------------------------------------------------------------------------


async def _views(actor: Actor, notifications: list[Notification]) -> list[dict[str, Any]]:
    """Each notification as a sentence in the reader's language, a link, and whether an invitation waits."""
    locale = get_locale()

    def ids(key: str) -> set[int]:
        return {n.payload[key] for n in notifications if isinstance(n.payload.get(key), int)}

    challenge_ids = ids("challenge")
    challenges = await listing.challenges_by_id(challenge_ids)
    agencies = await listing.organisations(ids("organisation"))
    waiting = await joint.waiting_invitations(actor, challenge_ids)
    views = []
    for n in notifications:
        challenge = challenges.get(n.payload.get("challenge"))
        agency = agencies.get(n.payload.get("organisation"))
        message, link, invitation = _(SOMETHING_NEW), None, False
        if challenge is not None and n.kind in MESSAGES:
            title = translated(challenge.title, locale) or _(UNTITLED)
            message = _(MESSAGES[n.kind], title=title, agency=agency.name(locale) if agency else "")
            link = f"/challenges/{challenge.id}" + ("#questions" if n.kind.startswith("question.") else "")
            if n.kind.startswith("review.") and isinstance(n.payload.get("assignment"), int):
                link = f"/reviews/{n.payload['assignment']}"
            elif isinstance(n.payload.get("pilot"), int):
                link = f"/pilots/{n.payload['pilot']}"
            elif n.kind.startswith("proposal.") and isinstance(n.payload.get("proposal"), int):
                # the decision comes with the reviewers' feedback: the notification leads straight to it
                link = f"/proposals/{n.payload['proposal']}" + ("/feedback" if n.kind == "proposal.decision" else "")
            invitation = n.kind == "co_owner.invited" and challenge.id in waiting
            if invitation and not is_public(challenge):
                link = None  # a draft: the agency sees it once it has accepted
        elif n.kind in PARTNER_MESSAGES:
            message, link = _(PARTNER_MESSAGES[n.kind][0]), PARTNER_MESSAGES[n.kind][1]
            if "{placement}" in link:
                link = link.format(placement=int(n.payload.get("placement") or 0)) if isinstance(
                    n.payload.get("placement"), int) else "/needs"
        elif n.kind in PROCUREMENT_MESSAGES and isinstance(n.payload.get("procurement"), int):
            message, link = _(PROCUREMENT_MESSAGES[n.kind]), f"/procurements/{n.payload['procurement']}"
        elif n.kind in SOLUTION_MESSAGES and isinstance(n.payload.get("solution"), int):
            message, link = _(SOLUTION_MESSAGES[n.kind]), f"/solutions/{n.payload['solution']}"
        views.append({"notification": n, "message": message, "link": link, "invitation": invitation,
                      "challenge_id": challenge.id if challenge else None})
    return views


@api.operation("/notifications", summary="The caller's notifications, newest first", query=NotificationQuery,
               response=NotificationListOut, tags=["notifications"])
async def list_notifications(request: Request, actor: Actor, query: NotificationQuery) -> NotificationListOut:
    page, total, unread = await follows.notifications_page(actor, query.offset, query.per_page, query.unread)
    items = [
        NotificationOut(id=v["notification"].id, kind=v["notification"].kind, payload=v["notification"].payload,
                        message=v["message"], link=v["link"], created_at=v["notification"].created_at.astimezone(TOKYO),
                        read_at=v["notification"].read_at.astimezone(TOKYO) if v["notification"].read_at else None,
                        unread=v["notification"].read_at is None)
        for v in await _views(actor, page)
    ]
    return NotificationListOut(items=items, total=total, page=query.page, per_page=query.per_page, unread=unread)


@api.operation("/notifications/read", "POST", summary="Mark all the caller's notifications read", response=ReadOut,
               tags=["notifications"])
async def mark_notifications_read(request: Request, actor: Actor) -> ReadOut:
    return ReadOut(marked=await follows.mark_read(actor))


async def read_page(request: Request) -> Response:
    await follows.mark_read(signed_in(request))
    return flash.redirect("/notifications", "notifications.read")


# --- follows ---------------------------------------------------------------------------------


@api.operation("/follows", summary="What the caller follows: challenges and saved searches", query=PageQuery,
               response=FollowListOut, tags=["follows"])
async def list_follows(request: Request, actor: Actor, query: PageQuery) -> FollowListOut:
    page, total = await follows.follows_page(actor, query.offset, query.per_page)
    return FollowListOut(items=[FollowOut.of(f) for f in page], total=total, page=query.page, per_page=query.per_page)


async def _follow(actor: Actor, body: FollowIn) -> Follow:
    if body.challenge_id is not None:
        challenge = await lifecycle.get_challenge(actor, body.challenge_id)
        return await follows.follow(actor, challenge=challenge)
    return await follows.follow(actor, saved_query=body.saved_query)


@api.operation("/follows", "POST", summary="Follow a challenge, or save a search to hear of new challenges matching it",
               body=FollowIn, response=FollowOut, status=201, tags=["follows"])
async def create_follow(request: Request, actor: Actor, body: FollowIn) -> FollowOut:
    return FollowOut.of(await follows.with_challenge(await _follow(actor, body)))


@api.operation("/follows/{follow_id:int}", "DELETE", summary="Stop following", status=204, tags=["follows"])
async def delete_follow(request: Request, actor: Actor, follow_id: int) -> Response:
    await follows.unfollow(actor, follow_id)
    return Response(status_code=204)


async def _search_views(searches: list[Follow]) -> list[dict[str, Any]]:
    """A saved search described in words, with a link to the search page showing it."""
    locale = get_locale()
    categories = {slug: translated(name, locale) for slug, name in (await listing.category_names()).items()}
    agency_ids = {a for f in searches for a in (f.saved_query or {}).get("agency", [])}
    agencies = {i: translated(name, locale) for i, name in (await listing.agency_names(agency_ids)).items()} if agency_ids else {}
    types = VALUE_LABELS["municipality_type"]
    views = []
    for f in searches:
        query = f.saved_query or {}
        parts = []
        if query.get("q"):
            parts.append(_("Words: %(words)s", words=query["q"]))
        if query.get("category"):
            parts.append(_("Category: %(names)s", names=", ".join(categories.get(s, s) for s in query["category"])))
        if query.get("agency"):
            parts.append(_("Agency: %(names)s", names=", ".join(agencies.get(a, str(a)) for a in query["agency"])))
        if query.get("municipality_type"):
            parts.append(_("Type of municipality: %(names)s",
                           names=", ".join(_(types[t]) if t in types else t for t in query["municipality_type"])))
        pairs = [(name, str(v)) for name, value in query.items() for v in (value if isinstance(value, list) else [value])]
        views.append({"follow": f, "description": " · ".join(parts) or _("All new challenges"),
                      "url": "/challenges" + ("?" + urlencode(pairs) if pairs else "")})
    return views


async def _page(request: Request, actor: Actor, errors: dict[str, str], values: dict[str, Any],
                status: int = 200) -> Response:
    """The notifications page: notifications (paged), then what the person follows, and a search to save."""
    try:
        query = PageQuery.model_validate(dict(request.query_params))
    except ValidationError:
        query = PageQuery()
    page, total, unread = await follows.notifications_page(actor, query.offset, query.per_page)
    followed, _count = await follows.follows_page(actor)
    context = {
        "items": await _views(actor, page),
        "unread": unread,
        "page": query.page,
        "has_next": query.offset + query.per_page < total,
        "followed_challenges": [f for f in followed if f.challenge_id],
        "searches": await _search_views([f for f in followed if not f.challenge_id]),
        "categories": await listing.categories(),
        "municipality_types": [(value, _(label)) for value, label in VALUE_LABELS["municipality_type"].items()],
        "errors": errors,
        "values": values,
    }
    return templates.TemplateResponse(request, "notifications.html", context, status_code=status)


async def notifications_page(request: Request) -> Response:
    return await _page(request, signed_in(request), {}, {})


async def follow_form(request: Request) -> Response:
    """Follow a challenge (`challenge_id`) or a search: the search page's fields (q, category, ...)."""
    actor = signed_in(request)
    form = await checked_form(request)
    params = saved_query_from_params(form)
    challenge_id = params.pop("challenge_id", None)
    data = {"challenge_id": challenge_id} if challenge_id else {"saved_query": params}
    try:
        await _follow(actor, FollowIn.model_validate(data))
    except (ValidationError, ValidationFailed) as exc:
        return await _page(request, actor, errors_from(exc), params, 400)
    return flash.redirect("/notifications#follows", "follows.changed")


async def unfollow_form(request: Request) -> Response:
    await follows.unfollow(signed_in(request), request.path_params["follow_id"])
    return flash.redirect("/notifications#follows", "follows.changed")


routes: list[BaseRoute] = [
    Route("/notifications", notifications_page, methods=["GET"], name="notifications"),
    Route("/notifications/read", read_page, methods=["POST"]),
    Route("/follows", follow_form, methods=["POST"]),
    Route("/follows/{follow_id:int}/delete", unfollow_form, methods=["POST"]),
]
