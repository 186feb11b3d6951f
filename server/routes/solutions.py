"""Solutions through the API: the catalogue's search, a solution, drafting one from an adopted pilot, its
lifecycle, the company's corrections, and adoptions stated by the adopting agencies. Pages: solution_pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from models.identity.orgs import Organisation
from models.policy import Actor
from models.solutions import adoptions, catalogue
from models.solutions.adoptions import AdoptionInput
from models.solutions.catalogue import CorrectionInput
from models.solutions.views import solution_view
from search.solutions import open_solution_backend, search_solutions
from server.api import api
from server.schemas.solutions import (
    AdoptionIn,
    AdoptionListOut,
    AdoptionOut,
    AdoptionTransitionIn,
    SolutionCorrectionIn,
    SolutionCorrectionOut,
    SolutionCorrectionTransitionIn,
    SolutionOut,
    SolutionPatchIn,
    SolutionSearchOut,
    SolutionSearchQueryIn,
    SolutionTransitionIn,
)

TAGS = ["solutions"]


def solution_backend(request: Request) -> Any:
    """The solution search backend, opened with the app's settings on first use."""
    state = request.app.state
    if getattr(state, "solution_search", None) is None:
        settings = state.services.settings
        state.solution_search = open_solution_backend(settings.meili_url, settings.meili_master_key)
    return state.solution_search


async def solution_out(actor: Actor, solution_id: int) -> SolutionOut:
    solution = await catalogue.get_solution(actor, solution_id)
    view = await solution_view(actor, solution)
    return SolutionOut.of(solution, solution.company, view.used_by, view.savings_yen, view.allowed, view.corrections)


@api.operation("/solutions", summary="Search the catalogue of published solutions (Japanese and English, facets)",
               query=SolutionSearchQueryIn, response=SolutionSearchOut, public=True, tags=TAGS)
async def search_solution_catalogue(request: Request, actor: Actor, query: SolutionSearchQueryIn) -> SolutionSearchOut:
    query = SolutionSearchQueryIn.from_params(request.query_params)
    result = await search_solutions(solution_backend(request), query.to_query())
    return SolutionSearchOut(items=[SolutionSearchOut.hit(d) for d in result.hits], total=result.total,
                             page=result.page, per_page=result.per_page, facets=result.facets, degraded=result.degraded)


@api.operation("/solutions/{solution_id:int}", summary="A solution: results, costs, who uses it, savings",
               response=SolutionOut, public=True, tags=TAGS)
async def get_solution(request: Request, actor: Actor, solution_id: int) -> SolutionOut:
    return await solution_out(actor, solution_id)


@api.operation("/pilots/{pilot_id:int}/solution", "POST",
               summary="Draft the solution of an adopted pilot (its owners; returns the existing one if drafted)",
               response=SolutionOut, status=201, tags=TAGS)
async def draft_solution(request: Request, actor: Actor, pilot_id: int) -> SolutionOut:
    solution, _new = await catalogue.draft_from_pilot(actor, pilot_id)
    return await solution_out(actor, solution.id)


@api.operation("/solutions/{solution_id:int}", "PATCH", summary="Edit a draft solution (its owners)",
               body=SolutionPatchIn, response=SolutionOut, tags=TAGS)
async def update_solution(request: Request, actor: Actor, solution_id: int, body: SolutionPatchIn) -> SolutionOut:
    solution = await catalogue.get_solution(actor, solution_id)
    await catalogue.update_solution(actor, solution, body.changes())
    return await solution_out(actor, solution_id)


@api.operation("/solutions/{solution_id:int}/transitions", "POST",
               summary="in_review (owners), published or back to draft (operators), withdrawn (owners, operators; "
                       "with a reason)", body=SolutionTransitionIn, response=SolutionOut, tags=TAGS)
async def transition_solution(request: Request, actor: Actor, solution_id: int, body: SolutionTransitionIn) -> SolutionOut:
    solution = await catalogue.get_solution(actor, solution_id)
    await catalogue.transition(actor, solution, body.to, reason=body.reason)
    return await solution_out(actor, solution_id)


@api.operation("/solutions/{solution_id:int}/corrections", "POST",
               summary="Propose a correction (the company); the owners accept or reject it",
               body=SolutionCorrectionIn, response=SolutionCorrectionOut, status=201, tags=TAGS)
async def propose_correction(request: Request, actor: Actor, solution_id: int, body: SolutionCorrectionIn) -> SolutionCorrectionOut:
    solution = await catalogue.get_solution(actor, solution_id)
    correction = await catalogue.propose_correction(actor, solution, CorrectionInput(body.changes.changes(), body.note))
    return SolutionCorrectionOut.of(correction)


@api.operation("/solution-corrections/{correction_id:int}/transitions", "POST",
               summary="Accept (the changes apply) or reject (with a reason) a correction (the owners)",
               body=SolutionCorrectionTransitionIn, response=SolutionCorrectionOut, tags=TAGS)
async def decide_correction(request: Request, actor: Actor, correction_id: int,
                            body: SolutionCorrectionTransitionIn) -> SolutionCorrectionOut:
    correction, solution = await catalogue.get_correction(actor, correction_id)
    return SolutionCorrectionOut.of(await catalogue.decide_correction(actor, correction, solution, body.to, body.reason))


@api.operation("/solutions/{solution_id:int}/adoptions", "POST",
               summary="State your agency's adoption of a published solution (\"we use this too\")",
               body=AdoptionIn, response=AdoptionOut, status=201, tags=TAGS)
async def adopt_solution(request: Request, actor: Actor, solution_id: int, body: AdoptionIn) -> AdoptionOut:
    solution = await catalogue.get_solution(actor, solution_id)
    adoption = await adoptions.adopt(actor, solution, AdoptionInput(**body.model_dump()))
    return AdoptionOut.of(adoption, await Organisation.get(id=adoption.agency_id))


@api.operation("/adoptions/{adoption_id:int}/transitions", "POST",
               summary="Move an adoption (the adopting agency; dropped needs a reason), or re-confirm a live one "
                       "(operators: \"confirmed\")", body=AdoptionTransitionIn, response=AdoptionOut, tags=TAGS)
async def transition_adoption(request: Request, actor: Actor, adoption_id: int, body: AdoptionTransitionIn) -> AdoptionOut:
    adoption, solution = await adoptions.get_adoption(actor, adoption_id)
    given = AdoptionInput(starts_on=body.starts_on, scale=body.scale, initial_cost_yen=body.initial_cost_yen,
                          yearly_cost_yen=body.yearly_cost_yen)
    moved = await adoptions.transition(actor, adoption, solution, body.to, reason=body.reason, given=given)
    return AdoptionOut.of(moved, adoption.agency)


@api.operation("/agencies/{code}/adoptions", summary="An agency's adoptions of published solutions, by municipality code",
               response=AdoptionListOut, public=True, tags=TAGS)
async def agency_adoptions(request: Request, actor: Actor, code: str) -> AdoptionListOut:
    agency = await adoptions.agency_by_code(code)
    return AdoptionListOut(items=[AdoptionOut.of(a, a.agency) for a in await adoptions.adoptions_of_agency(actor, agency.id)])
