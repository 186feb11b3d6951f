"""Challenges: drafting, editing, the lifecycle, and the detail page — pages and API side by side."""

from __future__ import annotations

from markupsafe import Markup
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.challenges import lifecycle as lifecycle
from models.challenges import listing
from models.challenges.models import Challenge, ChallengeKpi, Criterion
from models.challenges.reader import reader_rows
from models.core.errors import N_, InvalidTransition, NotAllowed, ValidationFailed
from models.policy import Actor
from models.policy.challenges import (
    challenge_actions,
    is_public,
    may_draft_challenges,
    may_edit_challenge,
    owns_challenge,
)
from server import confirm, flash, i18n
from server.api import api
from server.caching import shared
from server.forms import checked_form, errors_from, failed_fields, in_form_order, translated_errors
from server.i18n import TOKYO
from server.problems import signed_in
from server.routes import attachments, feeds, joint, pilot_pages, proposals, questions, reviews, solution_pages
from server.schemas.challenges import (
    CRITERIA_ROWS,
    FORM_ORDER,
    KPI_ROWS,
    ROW_MESSAGES,
    ChallengeIn,
    ChallengeOut,
    ChallengeTransitionIn,
    NewChallengeIn,
    challenge_input_from_form,
    form_locator,
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


async def _every_error(exc: ValidationError | ValidationFailed, data: dict, form, challenge: Challenge | None) -> dict[str, str]:
    """The schema's errors and, for the fields it accepted, the domain's: all at once, in the order of the page."""
    errors = errors_from(exc, ROW_MESSAGES, locate=form_locator(form))
    if isinstance(exc, ValidationError):
        accepted = {key: value for key, value in data.items() if key not in failed_fields(exc)}
        try:
            partial = ChallengeIn.model_validate(accepted)
        except ValidationError:
            partial = None
        if partial is not None:
            domain = translated_errors(await lifecycle.problems_in(partial.to_changes(), challenge))
            errors = domain | errors
    return in_form_order(errors, FORM_ORDER)


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
    form = await checked_form(request)
    data = challenge_input_from_form(form)
    try:
        body = NewChallengeIn.model_validate(data)
        challenge = await lifecycle.create_challenge(actor, body.to_changes())
    except (ValidationError, ValidationFailed) as exc:
        return await _form_page(request, None, _typed(form), await _every_error(exc, data, form, None), 400)
    return flash.redirect(f"/challenges/{challenge.id}", "challenge.created")


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
    form = await checked_form(request)
    data = challenge_input_from_form(form)
    if challenge.status == "published":  # the amendment form carries only what may be amended
        data = {key: data[key] for key in (*lifecycle.AMENDABLE_FIELDS, "reason")}
    try:
        body = ChallengeIn.model_validate(data)
        await lifecycle.update_challenge(actor, challenge, body.to_changes(), reason=body.reason)
    except (ValidationError, ValidationFailed) as exc:
        return await _form_page(request, challenge, _typed(form), await _every_error(exc, data, form, challenge), 400)
    return flash.redirect(f"/challenges/{challenge.id}", "challenge.amended" if challenge.status == "published" else "challenge.saved")


async def challenge_page(request: Request) -> Response:
    actor: Actor = request.state.actor
    challenge_id = request.path_params["challenge_id"]
    # a public challenge is the same for every reader: kept a moment for the next (server/caching.py)
    public = await shared(("challenge", challenge_id), lambda: listing.public_challenge(challenge_id))
    if public is None:
        return await _detail(request, actor, await lifecycle.get_challenge(actor, challenge_id), {})
    return await _detail(request, actor, public[0], {}, details=public[1])


async def _detail(request: Request, actor: Actor, challenge: Challenge, errors: dict, status: int = 200,
                  details: listing.Details | None = None) -> Response:
    details = details or await listing.details(challenge, amendments=True)
    is_owner = await owns_challenge(actor, challenge)
    context = {
        "challenge": challenge,
        "criteria": details.criteria,
        "kpis": details.kpis,
        "is_owner": is_owner,  # the review area's panels still read it
        "allowed": await challenge_actions(actor, challenge, is_owner),
        "transitions": await lifecycle.allowed_transitions(actor, challenge),
        "confirmed": set(confirm.CHALLENGE),  # moves that ask on a page of their own first
        "errors": errors,
        "typed": getattr(request.state, "form_values", None) or {},  # what was typed in a form refused (questions.rerender)
        # a refused submission names fields of the edit form: the error summary links there
        "error_anchors": {name: f"/challenges/{challenge.id}/edit#field-{name}" for name in errors
                          if name in FORM_ORDER and name != "reason"},
    }
    # the panels showing the reader's own rows (their questions waiting, their follow, their company's proposal)
    # are told in one statement which of them the reader has, and read only those
    theirs = await reader_rows(actor, challenge)
    for area in (questions, joint, proposals):
        context |= await area.detail_context(actor, challenge, theirs)
    for area in (attachments, feeds, reviews, pilot_pages, solution_pages):  # each area adds its panel's data
        context |= await area.detail_context(actor, challenge)
    # what every reader of a public challenge sees in a language, rendered once and kept a moment for the next
    # (server/caching.py); the reader's own panels around it are rendered for them
    public = {name: context[name] for name in PUBLIC_PARTS_CONTEXT}
    context["parts"] = await shared(("challenge parts", challenge.id, i18n.get_locale()),
                                    lambda: _public_parts(public), public=is_public(challenge))
    return templates.TemplateResponse(request, "challenges/detail.html", context, status_code=status)


# what the public parts of the page are made of: nothing of the reader's, not even the request
PUBLIC_PARTS_CONTEXT = ("challenge", "criteria", "kpis", "similar", "similar_solutions", "ics_url", "category_feed_url")


async def _public_parts(context: dict) -> dict[str, Markup]:
    return {part: Markup(templates.get_template(f"challenges/_{part}.html").render(context))
            for part in ("heading", "text", "beside")}


def _confirmation(challenge: Challenge, to: str) -> confirm.Confirmation:
    return confirm.Confirmation(confirm.CHALLENGE[to], challenge.title, f"/challenges/{challenge.id}/transitions",
                                {"to": to}, back=f"/challenges/{challenge.id}")


async def confirm_state(request: Request) -> Response:
    """The page that asks before a move that cannot be undone (publish, close, finalise, cancel)."""
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    to = request.path_params["to"]
    if not actor.is_operator and not await owns_challenge(actor, challenge):
        raise NotAllowed("owners and operators only")
    allowed = await lifecycle.allowed_transitions(actor, challenge)
    if to not in confirm.CHALLENGE or to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    return confirm.confirmation_page(request, _confirmation(challenge, to))


async def change_state(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    form = await checked_form(request)
    try:
        body = ChallengeTransitionIn.model_validate({key: value for key, value in form.items() if key != "csrftoken"})
        challenge = await lifecycle.transition(actor, challenge, body.to, reason=body.reason, publish_at=body.publish_at)
    except (ValidationError, ValidationFailed) as exc:
        to = str(form.get("to", ""))
        if form.get("confirm") and to in confirm.CHALLENGE:  # back to the confirmation page it came from
            values = {key: str(form.get(key, "")) for key in ("reason", "publish_at")}
            return confirm.confirmation_page(request, _confirmation(challenge, to), errors_from(exc), values, 400)
        return await _detail(request, actor, challenge, errors_from(exc), 400)
    return flash.redirect(f"/challenges/{challenge.id}", f"challenge.{challenge.status}")


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
    Route("/challenges/{challenge_id:int}/confirm/{to:str}", confirm_state, methods=["GET"], name="confirm_challenge"),
]
