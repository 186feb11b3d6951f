"""Pilots' pages: the list, a pilot's page (public once it runs; more for the company, the owners and
operators), the forms that act on it, and the residents' feedback page behind the short link /p/<code>."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.core.errors import N_, DomainError, NotFound, ValidationFailed
from models.pilots import feedback, lifecycle, measurements, milestones
from models.pilots.measurements import MeasurementInput
from models.pilots.views import pilot_view
from server import flash
from server.forms import errors_from, read_form
from server.problems import page_message, signed_in
from server.routes.attachments import content_disposition, store_for, uploaded
from server.routes.pilots import BROWSER_COOKIE, feedback_allowed
from server.schemas.pilots import FeedbackIn, MilestoneIn
from server.templating import templates
from server.text import CONTROL_CHARACTER, has_control_character

log = logging.getLogger("kyoso.pilots")
SEE_OTHER = 303
BROWSER_COOKIE_AGE = 60 * 60 * 24 * 365


async def detail_context(actor: Any, challenge: Any) -> dict:
    """What this area adds to the challenge page: its pilots, and the proposals an owner may start one from."""
    pilots, startable = await lifecycle.challenge_pilots(actor, challenge)
    return {"pilots": pilots, "pilot_startable": startable}


def _back(pilot_id: int, banner: str = "") -> RedirectResponse:
    if banner:
        return flash.redirect(f"/pilots/{pilot_id}", banner)
    return RedirectResponse(f"/pilots/{pilot_id}", status_code=SEE_OTHER)


async def list_page(request: Request) -> Response:
    actor = request.state.actor
    pilots = await lifecycle.list_pilots(actor, status=request.query_params.get("status", "")[:32])
    return templates.TemplateResponse(request, "pilots/list.html", {"pilots": pilots})


async def _detail(request: Request, pilot_id: int, errors: dict[str, str] | None = None, status: int = 200,
                  extra: dict[str, Any] | None = None) -> Response:
    actor = request.state.actor
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    view = await pilot_view(actor, pilot)
    measurement_rows = {}
    if view.internals:
        for p in view.progress:
            measurement_rows[p.kpi.id] = await measurements.measurements_of(actor, pilot, p.kpi)
    context = {"view": view, "pilot": pilot, "errors": errors or {}, "measurement_rows": measurement_rows,
               "milestone_moves": {m.id: milestones.allowed_transitions(actor, pilot, m) for m in view.milestones},
               **(extra or {})}
    return templates.TemplateResponse(request, "pilots/detail.html", context, status_code=status)


async def detail_page(request: Request) -> Response:
    return await _detail(request, request.path_params["pilot_id"])


async def _act(request: Request, act) -> Response:
    """Run a form's action; on a refusal show the pilot's page again with the message."""
    pilot_id = request.path_params.get("pilot_id")
    try:
        result = await act(await read_form(request))
    except (ValidationError, ValidationFailed) as exc:
        if pilot_id is None:
            raise
        return await _detail(request, pilot_id, errors_from(exc), 400)
    except DomainError as exc:
        if pilot_id is None or exc.status in (403, 404):
            raise
        return await _detail(request, pilot_id, {"form": page_message(exc)}, exc.status)
    return result


async def start_page(request: Request) -> Response:
    actor = signed_in(request)
    form = await read_form(request)
    try:
        proposal_id = int(str(form.get("proposal_id", "")))
    except ValueError:
        raise HTTPException(400, "proposal_id") from None
    pilot = await lifecycle.start_pilot(actor, proposal_id)
    return _back(pilot.id)


async def transition_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict) -> Response:
        pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
        ends_on = lifecycle.parse_day(str(form.get("ends_on", "")))
        await lifecycle.transition(actor, pilot, str(form.get("to", "")), reason=str(form.get("reason", "")), ends_on=ends_on)
        return _back(pilot.id)

    return await _act(request, act)


async def record_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict) -> Response:
        pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
        kpi = await measurements.get_kpi(actor, pilot, request.path_params["kpi_id"])
        await measurements.record(actor, pilot, kpi, MeasurementInput(
            measured_on=form.get("measured_on", ""), value=form.get("value"), numerator=form.get("numerator"),
            denominator=form.get("denominator"), source=str(form.get("source", ""))))
        return _back(pilot.id)

    return await _act(request, act)


async def import_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict) -> Response:
        pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
        upload = form.get("file")
        raw = await upload.read() if upload is not None and hasattr(upload, "read") else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed({"file": N_("The CSV file is not UTF-8.")}) from None
        report = await measurements.import_csv(actor, pilot, text)
        return await _detail(request, pilot.id, extra={"csv_report": report})

    return await _act(request, act)


async def decide_measurement_page(request: Request) -> Response:
    actor = signed_in(request)
    measurement, pilot = await measurements.get_measurement(actor, request.path_params["measurement_id"])
    request.path_params["pilot_id"] = pilot.id

    async def act(form: dict) -> Response:
        await measurements.decide(actor, measurement, pilot, str(form.get("to", "")), str(form.get("reason", "")))
        return _back(pilot.id)

    return await _act(request, act)


async def add_milestone_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict) -> Response:
        pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
        body = MilestoneIn.model_validate({k: form.get(k) for k in ("title", "due_on", "deliverable") if form.get(k)})
        await milestones.add_milestone(actor, pilot, body.title, body.due_on, body.deliverable)
        return _back(pilot.id)

    return await _act(request, act)


async def milestone_transition_page(request: Request) -> Response:
    """The milestone forms; marking one done is a multipart form with the evidence and, optionally, one file."""
    actor = signed_in(request)
    milestone, pilot = await milestones.get_milestone(actor, request.path_params["milestone_id"])
    try:
        async with uploaded(request) as (source, filename, form):
            refused = sorted(key for key, value in form.items() if has_control_character(value))
            if refused:
                raise ValidationFailed(dict.fromkeys(refused, CONTROL_CHARACTER))
            await milestones.transition(actor, milestone, pilot, str(form.get("to", "")), note=str(form.get("note", "")),
                                        file=source, filename=filename, store=store_for(request))
    except ValidationFailed as exc:
        return await _detail(request, pilot.id, errors_from(exc), 400)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return await _detail(request, pilot.id, {"form": page_message(exc)}, exc.status)
    return _back(pilot.id)


async def evidence_download(request: Request) -> Response:
    """The file sent with a milestone's evidence, for those who see the evidence (the company, the owners,
    operators); for anyone else there is no such file."""
    file = await milestones.evidence_file(request.state.actor, request.path_params["milestone_id"])
    path = store_for(request).path_for(file.sha256)
    if not path.is_file():
        log.error("milestone %s: the evidence's bytes %s are missing from the store", request.path_params["milestone_id"], file.sha256)
        raise NotFound("the evidence's file is missing")
    headers = {"Content-Disposition": content_disposition(file.filename), "Cache-Control": "private, no-store"}
    return FileResponse(path, media_type=file.content_type, headers=headers)


async def publish_comment_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict) -> Response:
        pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
        await feedback.publish_comment(actor, pilot, request.path_params["feedback_id"], form.get("published") != "0")
        return _back(pilot.id)

    return await _act(request, act)


async def survey_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict) -> Response:
        pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
        answers = {}
        for name in feedback.SURVEY_QUESTIONS:
            if str(form.get(name, "")).isdigit():
                answers[name] = int(str(form[name]))
        satisfaction = int(str(form["satisfaction"])) if str(form.get("satisfaction", "")).isdigit() else None
        await feedback.answer_survey(actor, pilot, satisfaction, answers, str(form.get("comment", "")))
        return _back(pilot.id, "pilot.survey")

    return await _act(request, act)


# --- residents -------------------------------------------------------------------------------


def _resident_page(request: Request, pilot: Any, view: Any, errors: dict, status: int = 200, thanks: bool = False) -> Response:
    response = templates.TemplateResponse(request, "pilots/feedback.html",
                                          {"pilot": pilot, "view": view, "errors": errors, "thanks": thanks},
                                          status_code=status)
    if BROWSER_COOKIE not in request.cookies:
        response.set_cookie(BROWSER_COOKIE, secrets.token_urlsafe(16), max_age=BROWSER_COOKIE_AGE, httponly=True,
                            samesite="lax")
    return response


async def resident_page(request: Request) -> Response:
    actor = request.state.actor
    pilot = await lifecycle.get_pilot_by_code(request.path_params["code"])
    pilot = await lifecycle.get_pilot(actor, pilot.id)
    return _resident_page(request, pilot, await pilot_view(actor, pilot), {}, thanks=request.query_params.get("thanks") == "1")


async def resident_answer(request: Request) -> Response:
    actor = request.state.actor
    pilot = await lifecycle.get_pilot_by_code(request.path_params["code"])
    pilot = await lifecycle.get_pilot(actor, pilot.id)
    form = await read_form(request)
    try:
        body = FeedbackIn.model_validate({"satisfaction": form.get("satisfaction") or 0, "comment": form.get("comment", "")})
    except ValidationError as exc:
        return _resident_page(request, pilot, await pilot_view(actor, pilot), errors_from(exc), 400)
    if not await feedback_allowed(request, pilot.id):
        return _resident_page(request, pilot, await pilot_view(actor, pilot), {"form": "too_many"}, 429)
    try:
        await feedback.give_feedback(pilot, body.satisfaction, body.comment)
    except DomainError as exc:
        return _resident_page(request, pilot, await pilot_view(actor, pilot), {"form": page_message(exc)}, exc.status)
    return RedirectResponse(f"/p/{pilot.short_code}?thanks=1", status_code=SEE_OTHER)


routes: list[BaseRoute] = [
    Route("/pilots", list_page, methods=["GET"]),
    Route("/pilots", start_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}", detail_page, methods=["GET"], name="pilot"),
    Route("/pilots/{pilot_id:int}/transitions", transition_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/kpis/{kpi_id:int}/measurements", record_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/measurements.csv", import_page, methods=["POST"]),
    Route("/measurements/{measurement_id:int}/transitions", decide_measurement_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/milestones", add_milestone_page, methods=["POST"]),
    Route("/milestones/{milestone_id:int}/transitions", milestone_transition_page, methods=["POST"]),
    Route("/milestones/{milestone_id:int}/evidence", evidence_download, methods=["GET"], name="milestone_evidence"),
    Route("/pilots/{pilot_id:int}/comments/{feedback_id:int}/publish", publish_comment_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/survey", survey_page, methods=["POST"]),
    Route("/p/{code:str}", resident_page, methods=["GET"]),
    Route("/p/{code:str}", resident_answer, methods=["POST"]),
]
