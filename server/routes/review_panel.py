"""The owners' side of the review, pages and API: the reviewer panel and the assignments.

Every change is a call to `models.review.workflow`; access is decided in `models.policy.review`, and the
pages offer only what it allows (`review_actions`, `assignment_actions`).
"""

from __future__ import annotations

import json

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge
from models.core.errors import InvalidTransition, ValidationFailed
from models.partners.panels import partner_skills, reviewing_partners
from models.partners.skills import SKILLS
from models.policy import Actor, require_user
from models.policy.review import assignment_actions, review_actions
from models.review import rounds, workflow
from models.review.closing import REVIEWABLE
from models.review.common import SYSTEM_REASONS, challenge_of, get_assignment
from server import flash
from server.api import api
from server.auth.ratelimit import MAILS_USED_UP
from server.forms import checked_form, errors_from
from server.i18n import TOKYO, ngettext
from server.i18n import gettext as _
from server.ids import id_or_none
from server.labels import assignment_status_name
from server.problems import page_message, signed_in
from server.routes.review_common import owned
from server.schemas.reviews import (
    AssignedReviewer,
    AssignmentAddIn,
    AssignmentOut,
    ChallengeAssignmentsOut,
    PanelIn,
    PanelOut,
    PanelReviewer,
    PersonRef,
    ProposalAssignments,
    RubricIn,
    RubricOut,
    ShortfallOut,
)
from server.templating import templates

HAND_ASSIGNMENT = "hand-assignment"  # the e-mail kind counted (server/auth/ratelimit.py): each e-mails the reviewer

# --- API ---------------------------------------------------------------------------------------


async def panel_out(actor: Actor, challenge: Challenge) -> PanelOut:
    members = await workflow.panel_of(actor, challenge)
    partners = await reviewing_partners([u.id for u in members])
    return PanelOut(reviewers=[PanelReviewer(id=u.id, name=u.name, expertise=u.expertise or [],
                                             partner_id=partners[u.id].id if u.id in partners else None)
                               for u in members],
                    reviews_per_proposal=challenge.reviews_per_proposal, max_per_reviewer=challenge.max_per_reviewer)


@api.operation("/challenges/{challenge_id:int}/panel", summary="A challenge's reviewer panel", response=PanelOut,
               tags=["reviews"])
async def get_panel(request: Request, actor: Actor, challenge_id: int) -> PanelOut:
    return await panel_out(actor, await challenge_lifecycle.get_challenge(actor, challenge_id))


@api.operation("/challenges/{challenge_id:int}/panel", "PUT",
               summary="Choose the reviewers, the reviews per proposal and the cap per reviewer (owners)",
               body=PanelIn, response=PanelOut, tags=["reviews"])
async def put_panel(request: Request, actor: Actor, challenge_id: int, body: PanelIn) -> PanelOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    await workflow.set_panel(actor, challenge, body.reviewers, body.reviews_per_proposal, body.max_per_reviewer)
    return await panel_out(actor, challenge)


def _recusal_reason(reason: str) -> str:
    return _(reason) if reason in SYSTEM_REASONS else reason


async def assignments_overview(actor: Actor, challenge: Challenge) -> ChallengeAssignmentsOut:
    """Who reviews what, and what the assignment cannot fill and why (before closing: a preview)."""
    found = await workflow.overview(actor, challenge)
    items = [ProposalAssignments(proposal_id=p.id, title=found.titles[p.id], status=p.status, assignments=[
        AssignedReviewer(id=a.id, reviewer=PersonRef(id=a.reviewer.id, name=a.reviewer.name), status=a.status,
                         due_at=a.due_at.astimezone(TOKYO) if a.due_at else None,
                         recusal_reason=_recusal_reason(a.recusal_reason))
        for a in found.assignments.get(p.id, [])]) for p in found.proposals]
    shortfalls = [ShortfallOut(proposal_id=s.proposal_id, missing=s.missing, eligible=s.eligible,
                               limited_by=s.limited_by) for s in found.plan.result.shortfalls]
    return ChallengeAssignmentsOut(items=items, feasible=not shortfalls, shortfalls=shortfalls,
                                   pending=len(found.plan.result.assignments))


@api.operation("/challenges/{challenge_id:int}/assignments",
               summary="Who reviews which proposal, and which proposals lack how many eligible reviewers",
               response=ChallengeAssignmentsOut, tags=["reviews"])
async def get_assignments(request: Request, actor: Actor, challenge_id: int) -> ChallengeAssignmentsOut:
    return await assignments_overview(actor, await challenge_lifecycle.get_challenge(actor, challenge_id))


@api.operation("/challenges/{challenge_id:int}/assignments", "POST",
               summary="Assign a reviewer by hand (owners; never one with a conflict of interest)",
               body=AssignmentAddIn, response=AssignmentOut, status=201, tags=["reviews"], errors=(429,))
async def add_assignment(request: Request, actor: Actor, challenge_id: int, body: AssignmentAddIn) -> AssignmentOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    limiter = request.app.state.services.limiter
    if used_up := await limiter.mails_used_up(HAND_ASSIGNMENT, require_user(actor).id, challenge.owner_id):
        raise HTTPException(429, MAILS_USED_UP[used_up])
    assignment = await workflow.add_assignment(actor, challenge, body.proposal_id, body.reviewer_id)
    await limiter.count_mail(HAND_ASSIGNMENT, require_user(actor).id, challenge.owner_id)
    await assignment.fetch_related("proposal")
    return AssignmentOut.of(assignment)


@api.operation("/assignments/{assignment_id:int}", "DELETE", summary="Take a reviewer off a proposal (owners)",
               response=AssignmentOut, tags=["reviews"])
async def delete_assignment(request: Request, actor: Actor, assignment_id: int) -> AssignmentOut:
    assignment = await get_assignment(actor, assignment_id)
    return AssignmentOut.of(await workflow.remove_assignment(actor, assignment))


# --- pages -------------------------------------------------------------------------------------


async def panel_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                     values: dict | None = None, status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await owned(request)
    members = await workflow.panel_of(actor, challenge)
    if values is None:
        values = {"reviewers": {u.id for u in members}, "reviews_per_proposal": challenge.reviews_per_proposal,
                  "max_per_reviewer": challenge.max_per_reviewer or ""}
    pool = await workflow.reviewer_pool()
    context = {"challenge": challenge, "pool": pool, "members": members, "values": values,
               "partners": await partner_skills(await reviewing_partners([u.id for u in pool])), "skill_choices": SKILLS,
               "errors": errors or {}, "allowed": await review_actions(actor, challenge)}
    return templates.TemplateResponse(request, "reviews/panel.html", context, status_code=status)


async def save_panel_page(request: Request) -> Response:
    actor, challenge = await owned(request, changing=True)
    form = await checked_form(request)
    values = {"reviewers": {id for v in form.getlist("reviewers") if (id := id_or_none(v)) is not None},
              "reviews_per_proposal": str(form.get("reviews_per_proposal", "")),
              "max_per_reviewer": str(form.get("max_per_reviewer", ""))}
    try:
        body = PanelIn.model_validate({"reviewers": sorted(values["reviewers"]),
                                       "reviews_per_proposal": values["reviews_per_proposal"] or 3,
                                       "max_per_reviewer": values["max_per_reviewer"].strip() or None})
        await workflow.set_panel(actor, challenge, body.reviewers, body.reviews_per_proposal, body.max_per_reviewer)
    except (ValidationError, ValidationFailed) as exc:
        return await panel_page(request, challenge, errors_from(exc), values, 400)
    return flash.redirect(f"/challenges/{challenge.id}/panel", "panel.saved")


async def assignments_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                           message: str = "", status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await owned(request)
    overview = await assignments_overview(actor, challenge)
    titles = {item.proposal_id: item.title for item in overview.items}
    allowed = await review_actions(actor, challenge)
    statuses = {a.id: a.status for item in overview.items for a in item.assignments}
    context = {"challenge": challenge, "overview": overview, "errors": errors or {},
               "shortfall_texts": [shortfall_text(s, titles.get(s.proposal_id) or _("(untitled)")) for s in overview.shortfalls],
               "message": message, "allowed": allowed, "assignment_allowed": assignment_actions(allowed, statuses),
               "panel": await workflow.panel_of(actor, challenge), "assignment_status_name": assignment_status_name,
               "reviewable": [i for i in overview.items if i.status in REVIEWABLE]}
    return templates.TemplateResponse(request, "reviews/assignments.html", context, status_code=status)


def shortfall_text(shortfall: ShortfallOut, title: str) -> str:
    """Why the assignment cannot fill a proposal's places, in the reader's language."""
    if shortfall.limited_by == "eligibility":
        return ngettext(
            "“%(title)s” lacks %(num)d reviewer: besides those assigned, %(eligible)d panel members can review it without a conflict of interest.",
            "“%(title)s” lacks %(num)d reviewers: besides those assigned, %(eligible)d panel members can review it without a conflict of interest.",
            shortfall.missing, title=title, eligible=shortfall.eligible)
    return ngettext(
        "“%(title)s” lacks %(num)d reviewer: the %(eligible)d other panel members who could review it have reached their maximum number of reviews.",
        "“%(title)s” lacks %(num)d reviewers: the %(eligible)d other panel members who could review it have reached their maximum number of reviews.",
        shortfall.missing, title=title, eligible=shortfall.eligible)


async def add_assignment_page(request: Request) -> Response:
    actor, challenge = await owned(request, changing=True)
    form = await checked_form(request)
    limiter = request.app.state.services.limiter
    if used_up := await limiter.mails_used_up(HAND_ASSIGNMENT, require_user(actor).id, challenge.owner_id):
        return await assignments_page(request, challenge, {}, _(MAILS_USED_UP[used_up]), 429)
    try:
        body = AssignmentAddIn.model_validate({k: v for k, v in form.items() if k != "csrftoken"})
        await workflow.add_assignment(actor, challenge, body.proposal_id, body.reviewer_id)
        await limiter.count_mail(HAND_ASSIGNMENT, require_user(actor).id, challenge.owner_id)
    except (ValidationError, ValidationFailed) as exc:
        return await assignments_page(request, challenge, errors_from(exc), "", 400)
    except InvalidTransition as exc:
        return await assignments_page(request, challenge, {}, page_message(exc), exc.status)
    return flash.redirect(f"/challenges/{challenge.id}/assignments", "assignments.changed")


async def remove_assignment_page(request: Request) -> Response:
    actor = signed_in(request)
    assignment = await get_assignment(actor, request.path_params["assignment_id"])
    challenge = await challenge_of(assignment.proposal)
    try:
        await workflow.remove_assignment(actor, assignment)
    except InvalidTransition as exc:
        return await assignments_page(request, challenge, {}, page_message(exc), exc.status)
    return flash.redirect(f"/challenges/{challenge.id}/assignments", "assignments.changed")


routes: list[BaseRoute] = [
    Route("/assignments/{assignment_id:int}/remove", remove_assignment_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/panel", panel_page, methods=["GET"], name="review_panel"),
    Route("/challenges/{challenge_id:int}/panel", save_panel_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/assignments", assignments_page, methods=["GET"], name="review_assignments"),
    Route("/challenges/{challenge_id:int}/assignments", add_assignment_page, methods=["POST"]),
]


# --- the review form ---------------------------------------------------------------------------


@api.operation("/challenges/{challenge_id:int}/rubric", summary="The review form of a challenge's proposals",
               response=RubricOut, tags=["reviews"])
async def get_rubric(request: Request, actor: Actor, challenge_id: int) -> RubricOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    rubric, editable = (await rounds.proposal_rubric_for(actor, challenge))[1:]
    return RubricOut.of(rubric, editable)


@api.operation("/challenges/{challenge_id:int}/rubric", "PUT",
               summary="Change the review form's fields before the review starts (owners); the scored criteria "
                       "are the challenge's", body=RubricIn, response=RubricOut, tags=["reviews"])
async def put_rubric(request: Request, actor: Actor, challenge_id: int, body: RubricIn) -> RubricOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    row = (await rounds.proposal_rubric_for(actor, challenge))[0]
    await rounds.set_rubric(actor, row, body.items())
    rubric, editable = (await rounds.proposal_rubric_for(actor, challenge))[1:]
    return RubricOut.of(rubric, editable)


async def rubric_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                      text: str | None = None, message: str = "", status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await owned(request)
    rubric, editable = (await rounds.proposal_rubric_for(actor, challenge))[1:]
    out = RubricOut.of(rubric, editable)
    if text is None:
        text = json.dumps([{k: v for k, v in f.model_dump().items()} for f in out.fields], ensure_ascii=False, indent=2)
    context = {"challenge": challenge, "rubric": out, "text": text, "errors": errors or {}, "message": message}
    return templates.TemplateResponse(request, "reviews/rubric.html", context, status_code=status)


async def save_rubric_page(request: Request) -> Response:
    actor, challenge = await owned(request, changing=True)
    text = str((await checked_form(request)).get("rubric", ""))
    try:
        items = json.loads(text)
        body = RubricIn.model_validate({"rubric": items if isinstance(items, list) else []})
        row = (await rounds.proposal_rubric_for(actor, challenge))[0]
        await rounds.set_rubric(actor, row, body.items())
    except ValidationFailed as exc:
        return await rubric_page(request, challenge, errors_from(exc), text, status=400)
    except (ValueError, ValidationError):  # not JSON, or not the shape of a review form
        return await rubric_page(request, challenge, {"rubric": _("Give the review form as a list of fields.")}, text,
                                 status=400)
    except InvalidTransition as exc:
        return await rubric_page(request, challenge, {}, text, page_message(exc), exc.status)
    return flash.redirect(f"/challenges/{challenge.id}/rubric", "rubric.saved")


routes += [
    Route("/challenges/{challenge_id:int}/rubric", rubric_page, methods=["GET"], name="review_rubric"),
    Route("/challenges/{challenge_id:int}/rubric", save_rubric_page, methods=["POST"]),
]
