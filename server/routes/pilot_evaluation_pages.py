"""The pilot's evaluation round, pages: the owners' page (panel, form's weights, scores per criterion and who
has reviewed) and the company's feedback page. Every change is a call to `models.pilots.evaluation`; the
reviewers write their reviews on the review pages (/reviews/<id>), as for proposals."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.core.errors import N_, DomainError, ValidationFailed
from models.pilots import evaluation, lifecycle
from models.review import workflow as review_workflow
from server import flash
from server.forms import checked_form, errors_from, read_form
from server.problems import page_message, signed_in
from server.schemas.reviews import bilingual
from server.templating import templates

SEE_OTHER = 303


def _number(text: Any, name: str, message: str, *, optional: bool = False) -> int | None:
    text = str(text or "").strip()
    if optional and not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise ValidationFailed({name: message})
    return int(text)


async def evaluation_page(request: Request, errors: dict[str, str] | None = None, message: str = "",
                          status: int = 200) -> Response:
    actor = signed_in(request)
    pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
    found = await evaluation.evaluation_of(actor, pilot)
    context = {
        "pilot": pilot, "evaluation": found, "ranking": await evaluation.ranking(actor, pilot),
        "pool": await review_workflow.reviewer_pool() if found.plannable else [],
        "members": {u.id for u in found.panel}, "errors": errors or {}, "message": message,
    }
    return templates.TemplateResponse(request, "pilots/evaluation.html", context, status_code=status)


async def save_panel_page(request: Request) -> Response:
    actor = signed_in(request)
    pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
    form = await checked_form(request)
    try:
        await read_form(request)  # control characters refused
        reviewers = [_number(v, "reviewers", N_("Choose reviewers from the pool of reviewers.")) or 0
                     for v in form.getlist("reviewers")]
        per = _number(form.get("reviews_per_subject"), "reviews_per_subject", N_("Choose between 1 and 20 reviews of the pilot."))
        cap = _number(form.get("max_per_reviewer"), "max_per_reviewer",
                      N_("A reviewer must be able to take at least one review."), optional=True)
        if per is None or not 1 <= per <= 20:
            raise ValidationFailed({"reviews_per_subject": N_("Choose between 1 and 20 reviews of the pilot.")})
        await evaluation.set_panel(actor, pilot, reviewers, per, cap)
    except ValidationFailed as exc:
        return await evaluation_page(request, errors_from(exc), status=400)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return await evaluation_page(request, {}, page_message(exc), exc.status)
    return flash.redirect(f"/pilots/{pilot.id}/evaluation", "panel.saved")


async def save_weights_page(request: Request) -> Response:
    """Owners change the scored criteria's weights (the other fields stay) until the round starts."""
    actor = signed_in(request)
    pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
    try:
        form = await read_form(request)
        found = await evaluation.evaluation_of(actor, pilot)
        current = found.rubric
        # The labels in both languages, as an owner's form holds them (a default form's are message ids).
        # Not editable (started, or not an owner): the form as it is, which the domain refuses with the reason.
        items = [c.as_data() | {"label": bilingual(c.label), "weight": _number(
            form.get(f"weight-{c.key}"), f"weight-{c.key}", N_("A weight is a whole number from 0 to 100."))
            if found.editable else c.weight} for c in current.criteria] + [
            f.as_data() | {"label": bilingual(f.label)} for f in current.fields]
        await evaluation.set_rubric(actor, pilot, items)
    except ValidationFailed as exc:
        return await evaluation_page(request, errors_from(exc), status=400)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return await evaluation_page(request, {}, page_message(exc), exc.status)
    return flash.redirect(f"/pilots/{pilot.id}/evaluation", "rubric.saved")


async def feedback_page(request: Request) -> Response:
    actor = signed_in(request)
    pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
    try:
        found = await evaluation.feedback_for(actor, pilot)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        context = {"pilot": pilot, "feedback": None, "message": page_message(exc)}
        return templates.TemplateResponse(request, "pilots/evaluation_feedback.html", context, status_code=exc.status)
    context = {"pilot": pilot, "feedback": found, "message": ""}
    return templates.TemplateResponse(request, "pilots/evaluation_feedback.html", context)


routes: list[BaseRoute] = [
    Route("/pilots/{pilot_id:int}/evaluation", evaluation_page, methods=["GET"], name="pilot_evaluation"),
    Route("/pilots/{pilot_id:int}/panel", save_panel_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/rubric", save_weights_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/evaluation/feedback", feedback_page, methods=["GET"]),
]

