"""Challenges: drafting, editing, the lifecycle, and the detail page — pages and API side by side."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.challenges import lifecycle as lifecycle
from models.challenges import listing
from models.challenges.models import Challenge, ChallengeKpi, Criterion
from models.core.errors import NotAllowed, ValidationFailed
from models.policy import Actor
from models.policy.challenges import challenge_actions, may_draft_challenges, may_edit_challenge, owns_challenge
from server.api import api
from server.forms import errors_from
from server.i18n import TOKYO
from server.problems import signed_in
from server.routes import attachments, feeds, joint, pilot_pages, proposals, questions, reviews, solution_pages
from server.schemas.challenges import (
    CRITERIA_ROWS,
    KPI_ROWS,
    ChallengeIn,
    ChallengeOut,
    ChallengeTransitionIn,
    NewChallengeIn,
    challenge_input_from_form,
)
from server.templating import templates

SEE_OTHER = 303


# --- API -------------------------------------------------------------------------------------


@api.operation("/challenges", "POST", summary="Draft a new challenge", body=NewChallengeIn, response=ChallengeOut,
               status=201, tags=["challenges"])
async def create_challenge(request: Request, actor: Actor, body: NewChallengeIn) -> ChallengeOut:
    challenge = await lifecycle.create_challenge(actor, body.to_changes())
    return await ChallengeOut.of(challenge, await lifecycle.allowed_transitions(actor, challenge))


@api.operation("/challenges/{challenge_id:int}", summary="One challenge", response=ChallengeOut, public=True,
               tags=["challenges"])
async def get_challenge(request: Request, actor: Actor, challenge_id: int) -> ChallengeOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    return await ChallengeOut.of(challenge, await lifecycle.allowed_transitions(actor, challenge))


@api.operation("/challenges/{challenge_id:int}", "PATCH", summary="Edit a draft, or amend a published challenge",
               body=ChallengeIn, response=ChallengeOut, tags=["challenges"])
async def patch_challenge(request: Request, actor: Actor, challenge_id: int, body: ChallengeIn) -> ChallengeOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    challenge = await lifecycle.update_challenge(actor, challenge, body.to_changes(), reason=body.reason)
    return await ChallengeOut.of(challenge, await lifecycle.allowed_transitions(actor, challenge))


@api.operation("/challenges/{challenge_id:int}/transitions", "POST", summary="Change a challenge's state",
               body=ChallengeTransitionIn, response=ChallengeOut, tags=["challenges"])
async def transition_challenge(request: Request, actor: Actor, challenge_id: int, body: ChallengeTransitionIn) -> ChallengeOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    challenge = await lifecycle.transition(actor, challenge, body.to, reason=body.reason, publish_at=body.publish_at)
    return await ChallengeOut.of(challenge, await lifecycle.allowed_transitions(actor, challenge))


# --- pages -----------------------------------------------------------------------------------


async def _form_page(request: Request, challenge: Challenge | None, values: dict, errors: dict, status: int = 200) -> Response:
    context = {
        "challenge": challenge,
        "values": values,
        "errors": errors,
        "categories": await listing.categories(),
        "criteria_rows": CRITERIA_ROWS,
        "kpi_rows": KPI_ROWS,
        "amending": challenge is not None and challenge.status == "published",
        "similar": await feeds.similar_for_form(request.state.actor, challenge, values),
        "similar_solutions": await solution_pages.similar_for_form(values) if challenge is None or challenge.status == "draft" else [],
    }
    return templates.TemplateResponse(request, "challenges/form.html", context, status_code=status)


def _values_of(challenge: Challenge, criteria: list[Criterion], kpis: list[ChallengeKpi]) -> dict:
    """A challenge as the flat form fields the edit page shows."""
    values: dict = {}
    for name in ("title", "summary", "situation", "problem", "outcome"):
        for lang in ("ja", "en"):
            values[f"{name}_{lang}"] = getattr(challenge, name).get(lang, "")
    values["category"] = challenge.category.slug if challenge.category else ""
    values["tags"] = ", ".join(challenge.tags)
    values["languages"] = challenge.languages
    for name in ("budget_min_yen", "budget_max_yen", "pilot_months"):
        value = getattr(challenge, name)
        values[name] = "" if value is None else str(value)
    for name in ("questions_deadline", "proposals_deadline", "review_deadline", "publish_at"):
        moment = getattr(challenge, name)
        values[name] = moment.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M") if moment else ""
    values["blind_review"] = challenge.blind_review
    for i, c in enumerate(criteria):
        for lang in ("ja", "en"):
            values[f"criterion-{i}-name_{lang}"] = c.name.get(lang, "")
            values[f"criterion-{i}-levels_{lang}"] = "\n".join(level.get(lang, "") for level in c.levels)
        values[f"criterion-{i}-weight"] = str(c.weight)
    for i, k in enumerate(kpis):
        for lang in ("ja", "en"):
            values[f"kpi-{i}-name_{lang}"] = k.name.get(lang, "")
        values[f"kpi-{i}-unit"] = k.unit
        values[f"kpi-{i}-baseline"] = "" if k.baseline is None else f"{k.baseline:g}"
        values[f"kpi-{i}-target"] = "" if k.target is None else f"{k.target:g}"
    return values


def _typed(form) -> dict:
    values = {key: value for key, value in form.items() if key != "csrftoken"}
    values["languages"] = form.getlist("languages")
    values["blind_review"] = form.get("blind_review") == "true"
    return values


async def new_challenge_form(request: Request) -> Response:
    actor = signed_in(request)
    if not may_draft_challenges(actor):
        raise NotAllowed("agency members only")
    return await _form_page(request, None, {"languages": ["ja"]}, {})


async def new_challenge(request: Request) -> Response:
    actor = signed_in(request)
    if not may_draft_challenges(actor):
        raise NotAllowed("agency members only")
    form = await request.form()
    try:
        body = NewChallengeIn.model_validate(challenge_input_from_form(form))
        challenge = await lifecycle.create_challenge(actor, body.to_changes())
    except (ValidationError, ValidationFailed) as exc:
        return await _form_page(request, None, _typed(form), errors_from(exc), 400)
    return RedirectResponse(f"/challenges/{challenge.id}", status_code=SEE_OTHER)


async def edit_challenge_form(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    if not await may_edit_challenge(actor, challenge):
        raise NotAllowed("owners only")
    criteria, kpis = await listing.criteria_and_kpis(challenge)
    return await _form_page(request, challenge, _values_of(challenge, criteria, kpis), {})


async def edit_challenge(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    form = await request.form()
    data = challenge_input_from_form(form)
    if challenge.status == "published":  # the amendment form carries only what may be amended
        data = {key: data[key] for key in (*lifecycle.AMENDABLE_FIELDS, "reason")}
    try:
        body = ChallengeIn.model_validate(data)
        await lifecycle.update_challenge(actor, challenge, body.to_changes(), reason=body.reason)
    except (ValidationError, ValidationFailed) as exc:
        return await _form_page(request, challenge, _typed(form), errors_from(exc), 400)
    return RedirectResponse(f"/challenges/{challenge.id}", status_code=SEE_OTHER)


async def challenge_page(request: Request) -> Response:
    actor: Actor = request.state.actor
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    return await _detail(request, actor, challenge, {})


async def _detail(request: Request, actor: Actor, challenge: Challenge, errors: dict, status: int = 200) -> Response:
    details = await listing.details(challenge, amendments=True)
    is_owner = await owns_challenge(actor, challenge)
    context = {
        "challenge": challenge,
        "criteria": details.criteria,
        "kpis": details.kpis,
        "is_owner": is_owner,  # the review area's panels still read it
        "allowed": await challenge_actions(actor, challenge, is_owner),
        "transitions": await lifecycle.allowed_transitions(actor, challenge),
        "errors": errors,
    }
    for area in (questions, joint, attachments, feeds, proposals, reviews, pilot_pages, solution_pages):  # each area adds its panel's data
        context |= await area.detail_context(actor, challenge)
    return templates.TemplateResponse(request, "challenges/detail.html", context, status_code=status)


async def change_state(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    form = await request.form()
    try:
        body = ChallengeTransitionIn.model_validate({key: value for key, value in form.items() if key != "csrftoken"})
        await lifecycle.transition(actor, challenge, body.to, reason=body.reason, publish_at=body.publish_at)
    except (ValidationError, ValidationFailed) as exc:
        return await _detail(request, actor, challenge, errors_from(exc), 400)
    return RedirectResponse(f"/challenges/{challenge.id}", status_code=SEE_OTHER)


async def my_challenges(request: Request) -> Response:
    actor = signed_in(request)
    if not may_draft_challenges(actor):
        raise NotAllowed("agency members only")
    challenges = await listing.own_challenges(actor)
    return templates.TemplateResponse(request, "challenges/mine.html", {"challenges": challenges})


routes = [
    Route("/challenges/new", new_challenge_form, methods=["GET"], name="new_challenge"),
    Route("/challenges/new", new_challenge, methods=["POST"]),
    Route("/challenges/mine", my_challenges, methods=["GET"], name="my_challenges"),
    Route("/challenges/{challenge_id:int}", challenge_page, methods=["GET"], name="challenge"),
    Route("/challenges/{challenge_id:int}/edit", edit_challenge_form, methods=["GET"]),
    Route("/challenges/{challenge_id:int}/edit", edit_challenge, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/transitions", change_state, methods=["POST"]),
]
