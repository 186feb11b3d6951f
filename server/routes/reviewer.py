"""The reviewer's side of the review, pages and API: their assignments, conflicts of interest and reviews.

Every change is a call to `models.review.reviewing`; access is decided in `models.policy.review`. Anyone
without access to an assignment gets a 404, so its existence is not revealed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.policy import Actor
from models.policy.review import may_declare_conflicts
from models.proposals import lifecycle as proposal_lifecycle
from models.review import conflicts, reviewing, rounds
from models.review.closing import value_of
from models.review.common import assignment_challenge, challenge_of, get_assignment
from models.review.models import Assignment, AssignmentStatus, Review
from models.review.rubric import TEXT, RubricCriterion, panel_discussion
from server import confirm, flash
from server.api import api
from server.forms import checked_form, errors_from
from server.i18n import gettext as _
from server.labels import assignment_status_name
from server.problems import page_message, signed_in
from server.routes.review_common import SEE_OTHER
from server.routes.review_panel import assignments_page
from server.schemas.proposals import conflict_ids_from_codes
from server.schemas.reviews import (
    AssignmentItem,
    AssignmentList,
    AssignmentOut,
    AssignmentQuery,
    AssignmentTransitionIn,
    ConflictIn,
    ConflictList,
    ConflictOut,
    ReviewIn,
    ReviewOut,
    review_input_from_form,
)
from server.templating import templates

# --- API ---------------------------------------------------------------------------------------


@api.operation("/assignments", summary="Your own assignments", query=AssignmentQuery, response=AssignmentList,
               tags=["reviews"])
async def list_assignments(request: Request, actor: Actor, query: AssignmentQuery) -> AssignmentList:
    page, total = await reviewing.assignments_of(actor, status=query.status, challenge_id=query.challenge_id,
                                                 page=query.page, per_page=query.per_page)
    return AssignmentList(items=[AssignmentItem.of(a) for a in page], total=total, page=query.page, per_page=query.per_page)


def _review_out(assignment: Assignment, review: Review | None) -> ReviewOut:
    if review is None:
        review = Review(assignment_id=assignment.id)
    return ReviewOut.of(review)


@api.operation("/assignments/{assignment_id:int}/review", summary="Your review (draft or submitted)",
               response=ReviewOut, tags=["reviews"])
async def get_review(request: Request, actor: Actor, assignment_id: int) -> ReviewOut:
    assignment = await reviewing.own_assignment(actor, assignment_id)
    review = await reviewing.review_of(assignment)
    if review is None:
        raise NotFound("No review has been saved for this assignment yet.")
    return ReviewOut.of(review)


@api.operation("/assignments/{assignment_id:int}/review", "PUT", summary="Save your review's draft",
               body=ReviewIn, response=ReviewOut, tags=["reviews"])
async def put_review(request: Request, actor: Actor, assignment_id: int, body: ReviewIn) -> ReviewOut:
    assignment = await reviewing.own_assignment(actor, assignment_id)
    return _review_out(assignment, await reviewing.save_review(actor, assignment, body.to_changes()))


@api.operation("/assignments/{assignment_id:int}/transitions", "POST",
               summary="Submit your review or recuse yourself; owners reopen a submitted review (to: assigned)",
               body=AssignmentTransitionIn, response=AssignmentOut, tags=["reviews"])
async def transition_assignment(request: Request, actor: Actor, assignment_id: int,
                                body: AssignmentTransitionIn) -> AssignmentOut:
    assignment = await get_assignment(actor, assignment_id)
    assignment = await reviewing.transition(actor, assignment, body.to, body.reason)
    return AssignmentOut.of(assignment, await reviewing.allowed_transitions(actor, assignment))


@api.operation("/conflicts", summary="The conflicts of interest you declared", response=ConflictList, tags=["reviews"])
async def list_conflicts(request: Request, actor: Actor) -> ConflictList:
    declared = await reviewing.declared_conflicts(actor)
    return ConflictList(items=[ConflictOut.of(c) for c in declared], total=len(declared))


@api.operation("/conflicts", "POST", summary="Declare a conflict of interest with an organisation", body=ConflictIn,
               response=ConflictOut, status=201, tags=["reviews"])
async def declare_conflict(request: Request, actor: Actor, body: ConflictIn) -> ConflictOut:
    conflict = await reviewing.declare_conflict(actor, kind=body.kind, organisation_id=body.organisation_id, note=body.note)
    await conflict.fetch_related("organisation")
    return ConflictOut.of(conflict)


# --- pages -------------------------------------------------------------------------------------


async def inbox(request: Request, errors: dict | None = None, values: dict | None = None, status: int = 200) -> Response:
    actor = signed_in(request)
    context = {
        "rows": await reviewing.inbox_of(actor),
        "declared": await reviewing.declared_conflicts(actor), "may_declare": await may_declare_conflicts(actor),
        "kinds": conflicts.KIND_NAMES,
        "errors": errors or {}, "values": values or {}, "assignment_status_name": assignment_status_name,
        "saved": request.query_params.get("declared") == "1",
    }
    return templates.TemplateResponse(request, "reviews/inbox.html", context, status_code=status)


async def declare_conflict_page(request: Request) -> Response:
    actor = signed_in(request)
    if not await may_declare_conflicts(actor):
        raise NotAllowed("reviewers, agency members and operators declare conflicts")
    form = await checked_form(request)
    values = {key: str(value) for key, value in form.items() if key != "csrftoken"}
    try:
        ids = await conflict_ids_from_codes(values.get("organisation", ""))
        if len(ids) != 1:
            raise ValidationFailed({"organisation": N_("Enter the municipality code or corporate number of one organisation registered on Kyoso.")})
        body = ConflictIn.model_validate({"kind": values.get("kind", ""), "organisation_id": ids[0],
                                          "note": values.get("note", "")})
        await reviewing.declare_conflict(actor, kind=body.kind, organisation_id=body.organisation_id, note=body.note)
    except ValidationFailed as exc:
        errors = errors_from(exc)
        for field in ("declared_conflicts", "organisation_id"):
            if field in errors:
                errors["organisation"] = errors.pop(field)
        return await inbox(request, errors, values, 400)
    except ValidationError as exc:
        return await inbox(request, errors_from(exc), values, 400)
    return RedirectResponse("/reviews?declared=1", status_code=SEE_OTHER)


def running_total(scores: dict[str, Any], criteria: tuple[RubricCriterion, ...]) -> dict[str, Any]:
    """The weighted total so far: of the criteria scored, on the 0-100 scale, and whether all are scored."""
    scored = [c for c in criteria if isinstance(scores.get(c.key), int)]
    points = sum(c.weight * (scores[c.key] - 1) for c in scored) / 4
    return {"points": points, "complete": bool(criteria) and len(scored) == len(criteria),
            "weight_scored": sum(c.weight for c in scored)}


# What a reviewer reads of each kind of subject, beside the review form: its page.
SUBJECT_PAGES = {"proposal": ("/proposals/{id}", N_("Read the proposal")),
                 "pilot": ("/pilots/{id}", N_("Read the pilot's page"))}
NO_CONFLICT_LABELS = {
    "proposal": N_("I confirm that I have no conflict of interest with this proposal or its company."),
    "pilot": N_("I confirm that I have no conflict of interest with this pilot or its company."),
}


async def _subject_context(actor: Actor, assignment: Assignment) -> dict[str, Any]:
    """The subject's title, page, company (unless withheld) and challenge, whatever its kind."""
    kind = assignment.subject_kind
    page, label = SUBJECT_PAGES.get(kind, ("", ""))
    out: dict[str, Any] = {"subject_page": page.format(id=assignment.subject_id) if page else "",
                           "subject_page_label": _(label) if label else "",
                           "no_conflict_label": _(NO_CONFLICT_LABELS.get(kind, NO_CONFLICT_LABELS["proposal"]))}
    if kind == "proposal":
        proposal = assignment.the_proposal
        view = await proposal_lifecycle.view_of(actor, proposal)
        return out | {"challenge": await challenge_of(proposal), "title": str(view.content.get("title") or ""),
                      "company": await reviewing.proposal_company(proposal) if view.show_company else None}
    subject = await rounds.subject_of(assignment)
    return out | {"challenge": await assignment_challenge(assignment), "title": subject.title,
                  "company": await reviewing.subject_company(subject)}


async def _scoring_page(request: Request, actor: Actor, assignment: Assignment, values: dict | None = None,
                        errors: dict | None = None, message: str = "", status: int = 200) -> Response:
    form = await reviewing.rubric_of_assignment(assignment)
    criteria = form.criteria
    review = await reviewing.review_of(assignment)
    if values is None:
        values = {"scores": dict(review.scores) if review else {}, "comments": dict(review.comments) if review else {},
                  "no_conflict": review.no_conflict if review else False}
        values |= {f.key: value_of(review, f.key) if review else ("" if f.kind == TEXT else None) for f in form.fields}
    else:
        values = values | values.get("answers", {})
    others = []
    if assignment.status == AssignmentStatus.SUBMITTED:
        try:
            others = await reviewing.subject_reviews(actor, assignment)
        except NotAllowed:
            others = []
    context = {
        **await _subject_context(actor, assignment),
        "assignment": assignment, "criteria": criteria,
        "fields": form.fields, "discussed": panel_discussion(form.fields), "review": review, "value_of": value_of,
        "values": values, "errors": errors or {}, "message": message,
        "total": running_total(values.get("scores") or {}, criteria),
        "others": others, "transitions": await reviewing.allowed_transitions(actor, assignment),
        "assignment_status_name": assignment_status_name,
    }
    return templates.TemplateResponse(request, "reviews/form.html", context, status_code=status)


async def scoring_form(request: Request) -> Response:
    actor = signed_in(request)
    assignment = await reviewing.own_assignment(actor, request.path_params["assignment_id"])
    return await _scoring_page(request, actor, assignment)


async def save_scoring_form(request: Request) -> Response:
    actor = signed_in(request)
    assignment = await reviewing.own_assignment(actor, request.path_params["assignment_id"])
    form = await checked_form(request)
    rubric = await reviewing.rubric_of_assignment(assignment)
    data = review_input_from_form(form, [c.key for c in rubric.criteria], rubric.fields)
    shown = {**data, "scores": {k: v for k, v in data["scores"].items() if isinstance(v, int)}}
    try:
        body = ReviewIn.model_validate(data)
        if form.get("action") == "submit" and not form.get("confirm"):  # asked on a page of its own first;
            await reviewing.save_review(actor, assignment, body.to_changes())  # going back keeps what was typed
            title = (await _subject_context(actor, assignment))["title"] or _("(untitled)")
            hidden = {k: str(v) for k, v in form.items() if k not in ("csrftoken", "action", "confirm")}
            return confirm.confirmation_page(request, confirm.Confirmation(
                confirm.REVIEW, title, f"/reviews/{assignment.id}", hidden | {"action": "submit"},
                back=f"/reviews/{assignment.id}"))
        if form.get("action") == "submit":
            await reviewing.submit_review(actor, assignment, body.to_changes())
        else:
            await reviewing.save_review(actor, assignment, body.to_changes())
    except ValidationError as exc:
        return await _scoring_page(request, actor, assignment, shown, errors_from(exc), status=400)
    except ValidationFailed as exc:
        await assignment.refresh_from_db()
        return await _scoring_page(request, actor, assignment, shown, errors_from(exc), status=400)
    except InvalidTransition as exc:
        await assignment.refresh_from_db()
        return await _scoring_page(request, actor, assignment, shown, {}, page_message(exc), exc.status)
    if form.get("action") == "submit":
        return flash.redirect(f"/reviews/{assignment.id}", "review.submitted")
    return flash.redirect(f"/reviews/{assignment.id}", "review.saved")


async def assignment_transition_page(request: Request) -> Response:
    """Recuse (the reviewer) or reopen (an owner), from the scoring page or the assignment page."""
    actor = signed_in(request)
    assignment = await get_assignment(actor, request.path_params["assignment_id"])
    form = await checked_form(request)
    reviewer = assignment.reviewer_id == actor.user.id
    try:
        body = AssignmentTransitionIn.model_validate({k: v for k, v in form.items() if k != "csrftoken"})
        await reviewing.transition(actor, assignment, body.to, body.reason)
    except (ValidationError, ValidationFailed, InvalidTransition) as exc:
        await assignment.refresh_from_db()
        if isinstance(exc, InvalidTransition):
            errors, message = {}, page_message(exc)
        else:
            errors, message = errors_from(exc), ""
        if reviewer:
            return await _scoring_page(request, actor, assignment, None, errors, message, 400)
        if assignment.subject_kind != "proposal":  # an owner reopening a pilot's review: its evaluation page
            return RedirectResponse(f"/pilots/{assignment.subject_id}/evaluation", status_code=SEE_OTHER)
        return await assignments_page(request, await challenge_of(assignment.proposal), errors, message, 400)
    if reviewer:
        return RedirectResponse("/reviews" if body.to == "recused" else f"/reviews/{assignment.id}", status_code=SEE_OTHER)
    if assignment.subject_kind != "proposal":
        return flash.redirect(f"/pilots/{assignment.subject_id}/evaluation", "assignments.changed")
    return flash.redirect(f"/challenges/{assignment.proposal.challenge_id}/assignments", "assignments.changed")


routes: list[BaseRoute] = [
    Route("/reviews", inbox, methods=["GET"], name="reviews"),
    Route("/reviews/conflicts", declare_conflict_page, methods=["POST"]),
    Route("/reviews/{assignment_id:int}", scoring_form, methods=["GET"], name="review"),
    Route("/reviews/{assignment_id:int}", save_scoring_form, methods=["POST"]),
    Route("/assignments/{assignment_id:int}/transitions", assignment_transition_page, methods=["POST"]),
]
