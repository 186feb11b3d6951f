"""Joint procurement rounds through the API: open one, join it, close it, record the contract; an agency's
savings. Pages are in procurement_pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from models.core.errors import JST, N_, NotFound
from models.identity.orgs import organisation_with_code
from models.policy import Actor
from models.solutions import ocds, procurement
from models.solutions.procurement import JoinInput
from server.api import api
from server.schemas.procurement import (
    ProcurementBrief,
    ProcurementIn,
    ProcurementListOut,
    ProcurementListQuery,
    ProcurementMemberIn,
    ProcurementOut,
    ProcurementSavingsOut,
    ProcurementTransitionIn,
    agency_ref,
)

TAGS = ["procurement"]


async def _detail(actor: Actor, round_id: int) -> ProcurementOut:
    round_ = await procurement.get_round(actor, round_id)
    return ProcurementOut.of(await procurement.round_view(actor, round_))


@api.operation("/procurements", "POST", summary="Open a joint procurement round (agency members; their agency leads it)",
               body=ProcurementIn, response=ProcurementOut, status=201, tags=TAGS)
async def open_procurement(request: Request, actor: Actor, body: ProcurementIn) -> ProcurementOut:
    round_ = await procurement.open_round(actor, item=dict(body.item), unit=body.unit, closes_at=body.closes_at,
                                         solution_id=body.solution_id, challenge_id=body.challenge_id)
    return await _detail(actor, round_.id)


@api.operation("/procurements", summary="Joint procurement rounds the caller may see (the public: contracted ones)",
               query=ProcurementListQuery, response=ProcurementListOut, public=True, tags=TAGS)
async def list_procurements(request: Request, actor: Actor, query: ProcurementListQuery) -> ProcurementListOut:
    rounds = await procurement.list_rounds(actor, status=query.status, solution=query.solution, agency=query.agency)
    return ProcurementListOut(items=[ProcurementBrief(
        id=r.id, solution_id=r.solution_id, challenge_id=r.challenge_id, lead=agency_ref(r.lead),
        item={lang: t for lang, t in (("ja", r.item_ja), ("en", r.item_en)) if t}, unit=r.unit,
        closes_at=r.closes_at.astimezone(JST), status=r.status) for r in rounds], total=len(rounds))


@api.operation("/procurements/{round_id:int}", summary="A joint procurement round: members, shares and savings",
               response=ProcurementOut, public=True, tags=TAGS)
async def get_procurement(request: Request, actor: Actor, round_id: int) -> ProcurementOut:
    return await _detail(actor, round_id)


@api.operation("/procurements/{round_id:int}/members", "POST",
               summary="Join an open round, or change one's figures while it is open (agency members)",
               body=ProcurementMemberIn, response=ProcurementOut, status=201, tags=TAGS)
async def join_procurement(request: Request, actor: Actor, round_id: int, body: ProcurementMemberIn) -> ProcurementOut:
    await procurement.join_round(actor, round_id, JoinInput(
        quantity=body.quantity, solo_estimate_yen=body.solo_estimate_yen, estimate_source=body.estimate_source,
        population=body.population, staff=body.staff))
    return await _detail(actor, round_id)


@api.operation("/procurements/{round_id:int}/transitions", "POST",
               summary="Close a round, or record its joint contract (the lead agency)",
               body=ProcurementTransitionIn, response=ProcurementOut, tags=TAGS)
async def transition_procurement(request: Request, actor: Actor, round_id: int,
                                 body: ProcurementTransitionIn) -> ProcurementOut:
    await procurement.transition(actor, round_id, body.to, contract_price_yen=body.contract_price_yen,
                                 company_id=body.company_id)
    return await _detail(actor, round_id)


@api.operation("/agencies/{code}/savings", summary="An agency's savings from contracted joint procurements",
               response=ProcurementSavingsOut, public=True, tags=TAGS)
async def agency_savings(request: Request, actor: Actor, code: str) -> ProcurementSavingsOut:
    agency = await organisation_with_code(code, "municipality") if code.isascii() and code.isdigit() else None
    if agency is None:
        raise NotFound(N_("There is no such agency."))
    saved = (await procurement.agency_savings([agency.id]))[agency.id]
    return ProcurementSavingsOut(agency=agency_ref(agency), rounds=saved.rounds, solo_estimate_yen=saved.solo_yen,
                                 contract_yen=saved.contract_yen, saving_yen=saved.saving_yen)


@api.operation("/procurements/{round_id:int}/ocds",
               summary="A contracted round as an Open Contracting Data Standard (1.1) release package",
               public=True, tags=TAGS, errors=(409,))
async def procurement_ocds(request: Request, actor: Actor, round_id: int) -> dict[str, Any]:
    view = await procurement.round_view(actor, await procurement.get_round(actor, round_id))
    return ocds.release_package(view, request.app.state.settings.base_url)
