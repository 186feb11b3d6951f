"""Solutions' pages: the catalogue (search with facets), a solution, adopting it ("we use this too"), an
agency's adoptions, the forms that act on them, the catalogue's Atom feed, and the "adopted solutions to a
similar problem" panel beside a challenge and the draft-challenge form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.challenges.models import Challenge
from models.core.base import translated
from models.core.errors import N_, DomainError, ValidationFailed
from models.identity.orgs import Category
from models.policy import VISITOR, Actor
from models.policy.challenges import is_public
from models.policy.solutions import adopting_agencies, may_adopt, states_adoption
from models.solutions import adoptions, catalogue
from models.solutions.adoptions import AdoptionInput
from models.solutions.catalogue import CorrectionInput
from models.solutions.similar import similar_solutions
from models.solutions.views import solution_view
from search.solutions import FACETS, search_solutions
from server import atom, flash, i18n
from server.caching import shared
from server.forms import errors_from, read_form
from server.problems import page_message, signed_in
from server.routes.discovery import VALUE_LABELS
from server.routes.solutions import solution_backend
from server.schemas.solutions import SolutionSearchQueryIn
from server.templating import templates

SEE_OTHER = 303
ADOPTION_BANDS = {"0": N_("Not adopted elsewhere yet"), "1": N_("1 other agency"), "2-4": N_("2 to 4 other agencies"),
                  "5+": N_("5 or more other agencies")}
SAVINGS = {"true": N_("Savings recorded"), "false": N_("No savings recorded yet")}
FEED_SIZE = 50
FEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # an empty feed's "updated"


# --- beside a challenge and the draft form ----------------------------------------------------------


async def detail_context(actor: Actor, challenge: Challenge) -> dict:
    """Adopted solutions to a similar problem, next to a challenge, with "adopt instead"."""
    # the same for every reader (published solutions): kept a moment for the next
    return {"similar_solutions": await shared(("similar_solutions", challenge.id), lambda: similar_solutions(challenge),
                                              public=is_public(challenge))}


async def similar_for_form(values: Mapping[str, Any]) -> list:
    return await similar_solutions(values)


# --- the catalogue ----------------------------------------------------------------------------------


def _facet_label(facet: str, value: str, categories: dict[str, Category]) -> str:
    if facet == "category":
        category = categories.get(value)
        return category.name(i18n.get_locale()) if category else value
    if facet == "adoption":
        return i18n.gettext(ADOPTION_BANDS[value]) if value in ADOPTION_BANDS else value
    if facet == "has_savings":
        return i18n.gettext(SAVINGS[value]) if value in SAVINGS else value
    message = VALUE_LABELS.get(facet, {}).get(value)
    return i18n.gettext(message) if message else value


def _chosen(query: SolutionSearchQueryIn, facet: str) -> list[str]:
    if facet == "has_savings":
        return [] if query.has_savings is None else ["true" if query.has_savings else "false"]
    return [str(v) for v in getattr(query, facet)]


async def catalogue_page(request: Request) -> Response:
    actor = request.state.actor
    errors: dict[str, str] = {}
    try:
        query = SolutionSearchQueryIn.from_params(request.query_params)
    except ValidationError as exc:
        errors, query = errors_from(exc), SolutionSearchQueryIn()
    result = await search_solutions(solution_backend(request), query.to_query()) if not errors else None
    categories = {c.slug: c for c in await Category.all()}
    facets = {}
    if result is not None:
        for facet in FACETS:
            chosen = _chosen(query, facet)
            values = list(result.facets.get(facet, {})) + [v for v in chosen if v not in result.facets.get(facet, {})]
            facets[facet] = [{"value": v, "label": _facet_label(facet, v, categories),
                              "count": result.facets.get(facet, {}).get(v, 0), "checked": v in chosen} for v in values]
    own = [s for s in await catalogue.list_solutions(actor, limit=100) if s.status != "published"] \
        if not actor.is_visitor else []
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    context = {
        "to_confirm": await adoptions.adoptions_to_confirm(actor),
        "query": query, "raw": request.query_params, "errors": errors, "result": result, "facets": facets,
        "own": own, "last_page": max(1, -(-(result.total if result else 0) // query.per_page)),
        "page_url": lambda page: "?" + urlencode([*params, ("page", str(page))]),
    }
    return templates.TemplateResponse(request, "solutions/catalogue.html", context, status_code=422 if errors else 200)


# --- a solution -------------------------------------------------------------------------------------


async def _detail(request: Request, solution_id: int, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    actor = request.state.actor
    solution = await catalogue.get_solution(actor, solution_id)
    view = await solution_view(actor, solution)
    own = [a for a in view.used_by.adopters if states_adoption(actor, a)]
    context = {
        "solution": solution, "view": view, "errors": errors or {}, "own_adoptions": own,
        "adoption_moves": {a.id: adoptions.allowed_transitions(actor, a) for a in view.used_by.adopters},
    }
    return templates.TemplateResponse(request, "solutions/detail.html", context, status_code=status)


async def detail_page(request: Request) -> Response:
    return await _detail(request, request.path_params["solution_id"])


def _back(solution_id: int, banner: str = "") -> RedirectResponse:
    """Back to the solution's page, with the banner named `banner` (server.flash) if any."""
    url = f"/solutions/{solution_id}"
    return flash.redirect(url, banner) if banner else RedirectResponse(url, status_code=SEE_OTHER)


async def _act(request: Request, solution_id: int, act: Callable[[dict], Awaitable[Response]],
               again: Callable[[dict[str, str], int], Awaitable[Response]] | None = None) -> Response:
    """Run a form's action; on a refusal show the page again with the message."""
    show = again or (lambda errors, status: _detail(request, solution_id, errors, status))
    try:
        return await act(await read_form(request))
    except (ValidationError, ValidationFailed) as exc:
        return await show(errors_from(exc), 400)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return await show({"form": page_message(exc)}, exc.status)


def _yen(form: dict, name: str, errors: dict[str, str]) -> int | None:
    text = str(form.get(name, "")).strip().replace(",", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 14:
        errors[name] = N_("An amount is a whole number of yen, not negative.")
        return None
    return int(text)


def _changes(form: dict, *, texts: tuple[str, ...], keep_blank: bool) -> dict[str, Any]:
    """The solution fields a form sets; blank ones are left out of a correction (`keep_blank` False)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in texts:
        text = {lang: str(form.get(f"{name}_{lang}", "")).strip() for lang in ("ja", "en")}
        if keep_blank or any(text.values()):
            values[name] = text
    for name in ("cost_yen", "initial_cost_yen", "yearly_cost_yen"):
        if name in form:
            amount = _yen(form, name, errors)
            if amount is not None or keep_blank:
                values[name] = amount
    contact = str(form.get("contact", "")).strip()
    if "contact" in form and (contact or keep_blank):
        values["contact"] = contact
    if keep_blank:
        values["spec_shareable"] = form.get("spec_shareable") == "yes"
    elif form.get("spec_shareable") in ("yes", "no"):
        values["spec_shareable"] = form.get("spec_shareable") == "yes"
    if errors:
        raise ValidationFailed(errors)
    return values


async def edit_page(request: Request) -> Response:
    actor = signed_in(request)
    solution_id = request.path_params["solution_id"]

    async def act(form: dict) -> Response:
        solution = await catalogue.get_solution(actor, solution_id)
        await catalogue.update_solution(actor, solution, _changes(form, texts=("title", "summary"), keep_blank=True))
        return _back(solution_id, "solution.saved")

    return await _act(request, solution_id, act)


async def transition_page(request: Request) -> Response:
    actor = signed_in(request)
    solution_id = request.path_params["solution_id"]

    async def act(form: dict) -> Response:
        solution = await catalogue.get_solution(actor, solution_id)
        await catalogue.transition(actor, solution, str(form.get("to", ""))[:32], reason=str(form.get("reason", "")))
        return _back(solution_id)

    return await _act(request, solution_id, act)


async def correction_page(request: Request) -> Response:
    actor = signed_in(request)
    solution_id = request.path_params["solution_id"]

    async def act(form: dict) -> Response:
        solution = await catalogue.get_solution(actor, solution_id)
        changes = _changes(form, texts=("summary",), keep_blank=False)
        await catalogue.propose_correction(actor, solution, CorrectionInput(changes, str(form.get("note", ""))))
        return _back(solution_id, "solution.correction_sent")

    return await _act(request, solution_id, act)


async def decide_correction_page(request: Request) -> Response:
    actor = signed_in(request)
    correction, solution = await catalogue.get_correction(actor, request.path_params["correction_id"])

    async def act(form: dict) -> Response:
        await catalogue.decide_correction(actor, correction, solution, str(form.get("to", ""))[:32],
                                          str(form.get("reason", "")))
        return _back(solution.id)

    return await _act(request, solution.id, act)


async def draft_from_pilot_page(request: Request) -> Response:
    actor = signed_in(request)
    solution, _new = await catalogue.draft_from_pilot(actor, request.path_params["pilot_id"])
    return _back(solution.id)


# --- adopting ---------------------------------------------------------------------------------------


async def _adopt_form(request: Request, solution_id: int, errors: dict[str, str] | None = None, status: int = 200,
                      values: dict | None = None) -> Response:
    actor = request.state.actor
    solution = await catalogue.get_solution(actor, solution_id)
    original = set(solution.agency_ids or [solution.owner_id])
    context = {"solution": solution, "errors": errors or {}, "values": values or {}, "may_adopt": may_adopt(actor, solution),
               "agencies": [a for a in adopting_agencies(actor) if a.id not in original]}
    return templates.TemplateResponse(request, "solutions/adopt.html", context, status_code=status)


async def adopt_form_page(request: Request) -> Response:
    signed_in(request)
    return await _adopt_form(request, request.path_params["solution_id"])


async def adopt_page(request: Request) -> Response:
    actor = signed_in(request)
    solution_id = request.path_params["solution_id"]
    form_values: dict = {}

    async def act(form: dict) -> Response:
        form_values.update(form)
        solution = await catalogue.get_solution(actor, solution_id)
        errors: dict[str, str] = {}
        scale_text = str(form.get("scale", "")).strip().replace(",", "")
        scale: Any = None
        if scale_text:
            scale = int(scale_text) if scale_text.isascii() and scale_text.isdigit() and len(scale_text) < 10 else -1
        agency_text = str(form.get("agency_id", "")).strip()
        given = AdoptionInput(status=str(form.get("status", "considering"))[:16], starts_on=str(form.get("starts_on", "")),
                              scale=scale, initial_cost_yen=_yen(form, "initial_cost_yen", errors),
                              yearly_cost_yen=_yen(form, "yearly_cost_yen", errors),
                              agency_id=int(agency_text) if agency_text.isascii() and agency_text.isdigit() and len(agency_text) < 10 else None)
        if errors:
            raise ValidationFailed(errors)
        await adoptions.adopt(actor, solution, given)
        return _back(solution_id, "solution.adopted")

    async def again(errors: dict[str, str], status: int) -> Response:
        return await _adopt_form(request, solution_id, errors, status, form_values)

    return await _act(request, solution_id, act, again)


async def adoption_transition_page(request: Request) -> Response:
    actor = signed_in(request)
    adoption, solution = await adoptions.get_adoption(actor, request.path_params["adoption_id"])

    async def act(form: dict) -> Response:
        given = AdoptionInput(starts_on=str(form.get("starts_on", "")) or None)
        await adoptions.transition(actor, adoption, solution, str(form.get("to", ""))[:32],
                                   reason=str(form.get("reason", "")), given=given)
        return _back(solution.id)

    return await _act(request, solution.id, act)


async def agency_adoptions_page(request: Request) -> Response:
    actor = request.state.actor
    agency = await adoptions.agency_by_code(request.path_params["code"])
    rows = await adoptions.adoptions_of_agency(actor, agency.id)
    return templates.TemplateResponse(request, "solutions/agency.html", {"agency": agency, "adoptions": rows})


# --- the feed ---------------------------------------------------------------------------------------


async def solutions_feed(request: Request) -> Response:
    """Published solutions, newest first (never a draft or one in review)."""
    lang = request.query_params.get("lang", "")
    lang = lang if lang in i18n.LOCALES else i18n.get_locale()
    base = str(request.base_url).rstrip("/")
    entries = []
    for solution in await catalogue.list_solutions(VISITOR, status="published", limit=FEED_SIZE):
        entries.append(atom.Entry(
            id=f"{base}/solutions/{solution.id}", title=translated(solution.title, lang) or "—",
            updated=solution.updated_at, published=solution.published_at, link=f"{base}/solutions/{solution.id}",
            author=solution.company.name(lang), summary=translated(solution.summary, lang)))
    with i18n.using_locale(lang):
        title = i18n.gettext("Solutions adopted on Kyoso")
    updated = max((e.updated for e in entries), default=None)
    feed = atom.Feed(id=f"{base}/feeds/solutions.atom", title=title, updated=updated or FEED_EPOCH,
                     self_url=f"{base}/feeds/solutions.atom?lang={lang}", alternate_url=f"{base}/solutions",
                     language=lang, generator="Kyoso", entries=entries)
    return Response(atom.render(feed), media_type=f"{atom.MEDIA_TYPE}; charset=utf-8")


routes: list[BaseRoute] = [
    Route("/solutions", catalogue_page, methods=["GET"], name="solutions"),
    Route("/solutions/{solution_id:int}", detail_page, methods=["GET"], name="solution"),
    Route("/solutions/{solution_id:int}/edit", edit_page, methods=["POST"]),
    Route("/solutions/{solution_id:int}/transitions", transition_page, methods=["POST"]),
    Route("/solutions/{solution_id:int}/corrections", correction_page, methods=["POST"]),
    Route("/solution-corrections/{correction_id:int}/transitions", decide_correction_page, methods=["POST"]),
    Route("/solutions/{solution_id:int}/adopt", adopt_form_page, methods=["GET"]),
    Route("/solutions/{solution_id:int}/adoptions", adopt_page, methods=["POST"]),
    Route("/adoptions/{adoption_id:int}/transitions", adoption_transition_page, methods=["POST"]),
    Route("/pilots/{pilot_id:int}/solution", draft_from_pilot_page, methods=["POST"]),
    Route("/agencies/{code}/adoptions", agency_adoptions_page, methods=["GET"], name="agency_adoptions"),
    Route("/feeds/solutions.atom", solutions_feed, methods=["GET"], name="solutions_feed"),
]
