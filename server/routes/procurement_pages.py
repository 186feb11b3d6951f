"""Joint procurement pages: the rounds, opening one, a round's page (join, close, record the contract),
and an agency's savings. The forms are validated by the API's schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.core.errors import N_, DomainError, NotFound, ValidationFailed
from models.identity.orgs import organisation_with_code
from models.policy.procurement import may_open_round, sees_agency_figures
from models.solutions import procurement
from models.solutions.procurement import ESTIMATE_SOURCES, UNITS, JoinInput
from server import atom
from server.forms import errors_from, read_form
from server.i18n import format_yen, get_locale
from server.i18n import gettext as _
from server.problems import page_message, signed_in
from server.schemas.procurement import ProcurementIn, ProcurementMemberIn, ProcurementTransitionIn
from server.templating import templates

SEE_OTHER = 303
FIELD_MESSAGES = {
    "quantity": N_("The quantity is a whole number, at least 1."),
    "solo_estimate_yen": N_("Amounts are whole yen, zero or more."),
    "contract_price_yen": N_("Amounts are whole yen, zero or more."),
    "population": N_("A count is a whole number, zero or more."),
    "staff": N_("A count is a whole number, zero or more."),
    "closes_at": N_("Give the closing date and time."),
    "unit": N_("Choose a unit from the list."),
    "estimate_source": N_("Say where the estimate came from: a quote, last year's contract or an estimate."),
}


def _filled(form: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The form's values for `names`, without the empty ones (an optional number left blank)."""
    return {name: form[name].strip() for name in names if isinstance(form.get(name), str) and form[name].strip()}


def _choices() -> dict[str, Any]:
    return {"units": UNITS, "sources": ESTIMATE_SOURCES}


async def list_page(request: Request, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    status: int = 200) -> Response:
    actor = request.state.actor
    rounds = await procurement.list_rounds(actor, status=request.query_params.get("status", "")[:16]
                                           if request.query_params.get("status", "") in ("open", "closed", "contracted") else "")
    solution = request.query_params.get("solution", "")
    return templates.TemplateResponse(request, "procurement/list.html", {
        "rounds": rounds, "may_open": may_open_round(actor), "errors": errors or {},
        "values": values or {"solution_id": solution if solution.isdigit() else ""}, **_choices(),
    }, status_code=status)


async def open_page(request: Request) -> Response:
    actor = signed_in(request)
    form = await read_form(request)
    values = {name: str(form.get(name, "")) for name in ("solution_id", "challenge_id", "item_ja", "item_en", "unit", "closes_at")}
    try:
        data = ProcurementIn.model_validate({
            **_filled(form, ("solution_id", "challenge_id", "unit", "closes_at")),
            "item": {"ja": values["item_ja"].strip(), "en": values["item_en"].strip()}})
        round_ = await procurement.open_round(actor, item=dict(data.item), unit=data.unit, closes_at=data.closes_at,
                                             solution_id=data.solution_id, challenge_id=data.challenge_id)
    except (ValidationError, ValidationFailed) as exc:
        return await list_page(request, errors_from(exc, FIELD_MESSAGES), values, 400)
    return RedirectResponse(f"/procurements/{round_.id}", status_code=SEE_OTHER)


async def _detail(request: Request, round_id: int, errors: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None, status: int = 200) -> Response:
    actor = request.state.actor
    round_ = await procurement.get_round(actor, round_id)
    view = await procurement.round_view(actor, round_)
    return templates.TemplateResponse(request, "procurement/detail.html", {
        "view": view, "round": round_, "errors": errors or {}, "values": values or {}, **_choices(),
    }, status_code=status)


async def detail_page(request: Request) -> Response:
    return await _detail(request, request.path_params["round_id"])


async def _act(request: Request, act: Any) -> Response:
    round_id = request.path_params["round_id"]
    form = await read_form(request)
    try:
        await act(form)
    except (ValidationError, ValidationFailed) as exc:
        return await _detail(request, round_id, errors_from(exc, FIELD_MESSAGES), {k: str(v) for k, v in form.items()}, 400)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return await _detail(request, round_id, {"form": page_message(exc)}, {k: str(v) for k, v in form.items()}, exc.status)
    return RedirectResponse(f"/procurements/{round_id}", status_code=SEE_OTHER)


async def join_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict[str, Any]) -> None:
        data = ProcurementMemberIn.model_validate(
            _filled(form, ("quantity", "solo_estimate_yen", "estimate_source", "population", "staff")))
        await procurement.join_round(actor, request.path_params["round_id"], JoinInput(
            quantity=data.quantity, solo_estimate_yen=data.solo_estimate_yen, estimate_source=data.estimate_source,
            population=data.population, staff=data.staff))

    return await _act(request, act)


async def transition_page(request: Request) -> Response:
    actor = signed_in(request)

    async def act(form: dict[str, Any]) -> None:
        data = ProcurementTransitionIn.model_validate(_filled(form, ("to", "contract_price_yen")))
        number = str(form.get("company_corporate_number", "")).strip()
        company = await organisation_with_code(number, "corporate") if number else None
        if number and company is None:
            raise ValidationFailed({"company_corporate_number": N_("No company with this corporate number is registered on Kyoso.")})
        await procurement.transition(actor, request.path_params["round_id"], data.to,
                                     contract_price_yen=data.contract_price_yen,
                                     company_id=company.id if company else None)

    return await _act(request, act)


async def agency_savings_page(request: Request) -> Response:
    code = request.path_params["code"]
    agency = await organisation_with_code(code, "municipality") if code.isascii() and code.isdigit() else None
    if agency is None:
        raise NotFound(N_("There is no such agency."))
    saved = (await procurement.agency_savings([agency.id]))[agency.id]
    memberships = await procurement.agency_memberships(agency.id)
    return templates.TemplateResponse(request, "procurement/agency.html", {
        "agency": agency, "saved": saved, "memberships": memberships,
        "figures": sees_agency_figures(request.state.actor, agency.id)})


FEED_ENTRIES = 50


async def feed(request: Request) -> Response:
    """The contracted rounds, newest first: what was bought together, by how many agencies, saving how much."""
    lang = get_locale()
    base = request.app.state.settings.base_url.rstrip("/")
    rounds = await procurement.contracted_rounds(FEED_ENTRIES)
    self_url = f"{base}/feeds/procurements.atom?{urlencode([('lang', lang)])}"
    entries = [atom.Entry(
        id=f"{base}/procurements/{view.round.id}", title=view.round.item(lang),
        updated=view.round.contracted_at or view.round.updated_at, published=view.round.contracted_at,
        link=f"{base}/procurements/{view.round.id}", author=view.lead.name(lang),
        summary=_("%(count)s agencies bought this together and saved %(saving)s against buying alone.",
                  count=len(view.members), saving=format_yen(view.saving_yen)),
    ) for view in rounds]
    document = atom.Feed(
        id=self_url, title=_("Kyoso: joint procurement contracts"),
        subtitle=_("Joint procurement rounds whose contract is recorded, with what they saved, newest first."),
        updated=max((e.updated for e in entries), default=datetime.now(UTC)), self_url=self_url,
        alternate_url=f"{base}/procurements", language=lang, generator="Kyoso", entries=entries)
    return Response(atom.render(document), media_type=f"{atom.MEDIA_TYPE}; charset=utf-8")


routes: list[BaseRoute] = [
    Route("/feeds/procurements.atom", feed, methods=["GET"]),
    Route("/procurements", list_page, methods=["GET"]),
    Route("/procurements", open_page, methods=["POST"]),
    Route("/procurements/{round_id:int}", detail_page, methods=["GET"]),
    Route("/procurements/{round_id:int}/members", join_page, methods=["POST"]),
    Route("/procurements/{round_id:int}/transitions", transition_page, methods=["POST"]),
    Route("/agencies/{code}/savings", agency_savings_page, methods=["GET"]),
]
