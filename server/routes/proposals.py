"""Proposals: drafting, submitting (with a receipt), revising, withdrawing, screening — pages and API side by side.

Access is decided by `models.policy.proposals` (`may_view_proposal`, `proposal_filter`): anyone else gets a 404, so a
proposal's existence is never revealed. Every change is a call to `models.proposals.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge
from models.challenges.reader import ReaderRows
from models.core.errors import N_, InvalidTransition, NotAllowed, ValidationFailed
from models.identity.orgs import OrgStatus, organisations_with_ids
from models.policy import Actor
from models.policy.proposals import (
    company_of,
    may_draft_proposals,
    may_edit_proposal,
    may_list_challenge_proposals,
    roles_on,
)
from models.proposals import lifecycle as lifecycle
from models.proposals.lifecycle import AlreadyProposed, CompanyNotApproved
from models.proposals.models import Proposal
from server import confirm, flash
from server.api import api
from server.forms import checked_form, errors_from, in_form_order, translated_errors
from server.i18n import TOKYO
from server.ids import id_or_none
from server.labels import proposal_action_name, proposal_status_name
from server.problems import page_message, signed_in
from server.schemas.proposals import (
    NewProposalIn,
    PageQuery,
    ProposalIn,
    ProposalList,
    ProposalListQuery,
    ProposalOut,
    ProposalSummary,
    ProposalTransitionIn,
    VersionList,
    VersionOut,
    codes_for_ids,
    conflict_ids_from_codes,
    kpi_rows,
    proposal_input_from_form,
    proposal_values,
)
from server.templating import templates

SEE_OTHER = 303
STATE_ERRORS = (InvalidTransition, CompanyNotApproved)


# --- API -------------------------------------------------------------------------------------


async def _out(actor: Actor, proposal: Proposal) -> ProposalOut:
    view = await lifecycle.view_of(actor, proposal)
    assert view.challenge is not None
    kpis = await lifecycle.kpis_of(view.challenge)
    return ProposalOut.of(proposal, view, kpis, await lifecycle.allowed_transitions(actor, proposal))


async def _answer(actor: Actor, call: Awaitable[Proposal]) -> ProposalOut:
    """Run a domain call; a refusal becomes a problem with the facts to act on (server/problems.py)."""
    return await _out(actor, await call)


@api.operation("/challenges/{challenge_id:int}/proposals", "POST", summary="Start your company's proposal to a challenge",
               body=NewProposalIn, response=ProposalOut, status=201, tags=["proposals"])
async def create_proposal(request: Request, actor: Actor, challenge_id: int, body: NewProposalIn) -> Any:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    return await _answer(actor, lifecycle.create_proposal(actor, challenge, body.to_changes()))


@api.operation("/proposals/{proposal_id:int}", summary="One proposal (owners and reviewers see the last version submitted)",
               response=ProposalOut, tags=["proposals"])
async def get_proposal(request: Request, actor: Actor, proposal_id: int) -> ProposalOut:
    return await _out(actor, await lifecycle.get_proposal(actor, proposal_id))


@api.operation("/proposals/{proposal_id:int}", "PATCH",
               summary="Save the draft, or revise a submitted proposal before the deadline (then submit it again)",
               body=ProposalIn, response=ProposalOut, tags=["proposals"])
async def patch_proposal(request: Request, actor: Actor, proposal_id: int, body: ProposalIn) -> Any:
    proposal = await lifecycle.get_proposal(actor, proposal_id)
    return await _answer(actor, lifecycle.update_proposal(actor, proposal, body.to_changes()))


@api.operation("/proposals/{proposal_id:int}/transitions", "POST",
               summary="Submit (the response is the receipt), withdraw, or screen out a proposal",
               body=ProposalTransitionIn, response=ProposalOut, tags=["proposals"])
async def transition_proposal(request: Request, actor: Actor, proposal_id: int, body: ProposalTransitionIn) -> Any:
    proposal = await lifecycle.get_proposal(actor, proposal_id)
    return await _answer(actor, lifecycle.transition(actor, proposal, body.to, reason=body.reason))


async def _summaries(actor: Actor, proposals: list[Proposal]) -> list[ProposalSummary]:
    items = []
    for proposal, view in zip(proposals, await lifecycle.views_of(actor, proposals), strict=True):
        items.append(ProposalSummary(
            id=proposal.id, challenge_id=proposal.challenge_id,
            company={"id": view.company.id, "name": {"ja": view.company.name_ja, "en": view.company.name_en}}
            if view.company is not None else None,
            title=view.content.get("title") or "", status=view.status or proposal.status,
            submitted_at=proposal.submitted_at.astimezone(TOKYO) if proposal.submitted_at else None,
            version=proposal.version, reference=proposal.reference,
        ))
    return items


@api.operation("/proposals", summary="The proposals you may see", query=ProposalListQuery, response=ProposalList,
               tags=["proposals"])
async def list_proposals(request: Request, actor: Actor, query: ProposalListQuery) -> ProposalList:
    total, page = await lifecycle.visible_proposals(
        actor, challenge_id=query.challenge_id, status=query.status, offset=(query.page - 1) * query.per_page,
        limit=query.per_page)
    return ProposalList(items=await _summaries(actor, page), total=total, page=query.page, per_page=query.per_page)


@api.operation("/proposals/{proposal_id:int}/versions", summary="Every version submitted, with its digest",
               query=PageQuery, response=VersionList, tags=["proposals"])
async def list_versions(request: Request, actor: Actor, proposal_id: int, query: PageQuery) -> VersionList:
    proposal = await lifecycle.get_proposal(actor, proposal_id)
    versions = await lifecycle.versions_of(actor, proposal)
    start = (query.page - 1) * query.per_page
    return VersionList(items=[VersionOut.of(proposal, v) for v in versions[start:start + query.per_page]],
                       total=len(versions), page=query.page, per_page=query.per_page)


# --- pages -----------------------------------------------------------------------------------


FORM_ORDER = ("title", "summary", "approach", "cost_yen", "schedule", "team", "track_record", "kpis", "kpi",
              "declared_conflicts")  # the fields' order on the page, which the error summary follows


async def _form_page(request: Request, actor: Actor, challenge: Challenge, proposal: Proposal | None,
                     values: dict, errors: dict, message: str = "", status: int = 200) -> Response:
    company = company_of(actor)
    context = {
        "challenge": challenge,
        "proposal": proposal,
        "kpis": await lifecycle.kpis_of(challenge),
        "values": values,
        "errors": in_form_order(errors, FORM_ORDER),
        "message": message,
        "pending": company is not None and company.status != OrgStatus.APPROVED,
        "proposal_status_name": proposal_status_name,
    }
    return templates.TemplateResponse(request, "proposals/form.html", context, status_code=status)


async def _typed_changes(form: Any, kpi_count: int, schema: type[ProposalIn]) -> tuple[ProposalIn | None, dict]:
    """The form as the API's schema, and the errors (all of them at once) in the reader's language."""
    data = proposal_input_from_form(form, kpi_count)
    errors: dict[str, str] = {}
    try:
        data["declared_conflicts"] = await conflict_ids_from_codes(str(form.get("declared_conflicts", "")))
    except ValidationFailed as exc:
        errors |= errors_from(exc)
        data["declared_conflicts"] = []
    try:
        body = schema.model_validate(data)
    except ValidationError as exc:
        return None, errors_from(exc) | errors
    return (body if not errors else None), errors


def _typed(form: Any) -> dict:
    return {key: value for key, value in form.items() if key not in ("csrftoken", "action")}


async def new_proposal_form(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    company = company_of(actor)
    if company is None or not may_draft_proposals(actor):
        raise NotAllowed("members of a company only")
    existing = await lifecycle.proposal_of(challenge, company)
    if existing is not None:
        return RedirectResponse(f"/proposals/{existing.id}/edit", status_code=SEE_OTHER)
    message, status = "", 200
    try:
        lifecycle.check_window(challenge)
    except InvalidTransition as exc:
        message, status = page_message(exc), 409
    return await _form_page(request, actor, challenge, None, {}, {}, message, status)


async def new_proposal(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    if not may_draft_proposals(actor):
        raise NotAllowed("members of a company only")
    form = await checked_form(request)
    kpis = await lifecycle.kpis_of(challenge)
    body, errors = await _typed_changes(form, len(kpis), NewProposalIn)
    if body is None:
        return await _form_page(request, actor, challenge, None, _typed(form), errors, status=400)
    try:
        proposal = await lifecycle.create_proposal(actor, challenge, body.to_changes())
    except AlreadyProposed as exc:
        return RedirectResponse(f"/proposals/{exc.proposal_id}/edit", status_code=SEE_OTHER)
    except ValidationFailed as exc:
        return await _form_page(request, actor, challenge, None, _typed(form), errors_from(exc), status=400)
    except STATE_ERRORS as exc:
        return await _form_page(request, actor, challenge, None, _typed(form), {}, page_message(exc), exc.status)
    return flash.redirect(f"/proposals/{proposal.id}/edit", "proposal.saved")


async def _company_proposal(request: Request) -> tuple[Actor, Proposal, Challenge]:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    if not may_edit_proposal(actor, proposal):
        raise NotAllowed("only the company's members edit its proposal")
    return actor, proposal, await lifecycle.challenge_of(proposal)


async def edit_proposal_form(request: Request) -> Response:
    actor, proposal, challenge = await _company_proposal(request)
    if not lifecycle.is_editable(proposal, challenge):
        return RedirectResponse(f"/proposals/{proposal.id}", status_code=SEE_OTHER)
    values = proposal_values(lifecycle.working_content(proposal), await codes_for_ids(proposal.declared_conflicts))
    return await _form_page(request, actor, challenge, proposal, values, {})


async def edit_proposal(request: Request) -> Response:
    actor, proposal, challenge = await _company_proposal(request)
    form = await checked_form(request)
    kpis = await lifecycle.kpis_of(challenge)
    body, errors = await _typed_changes(form, len(kpis), ProposalIn)
    submitting = form.get("action") == "submit"
    if body is None:
        if submitting:  # what the submission would still lack, in the same round as the form's own errors
            errors = translated_errors(lifecycle.missing_in(_typed(form))) | errors
        return await _form_page(request, actor, challenge, proposal, _typed(form), errors, status=400)
    try:
        if submitting:
            await lifecycle.submit(actor, proposal, body.to_changes())
        else:
            await lifecycle.update_proposal(actor, proposal, body.to_changes())
    except ValidationFailed as exc:
        return await _form_page(request, actor, challenge, proposal, _typed(form), errors_from(exc), status=400)
    except STATE_ERRORS as exc:
        await proposal.refresh_from_db()  # nothing was written; show the state as it is
        return await _form_page(request, actor, challenge, proposal, _typed(form), {}, page_message(exc), exc.status)
    if submitting:
        return flash.redirect(f"/proposals/{proposal.id}/receipt", "proposal.submitted")
    return flash.redirect(f"/proposals/{proposal.id}/edit", "proposal.saved")


async def _view_page(request: Request, actor: Actor, proposal: Proposal, errors: dict, message: str = "",
                     status: int = 200) -> Response:
    view = await lifecycle.view_of(actor, proposal)
    challenge = await lifecycle.challenge_of(proposal)
    kpis = await lifecycle.kpis_of(challenge)
    try:
        versions = await lifecycle.versions_of(actor, proposal)
    except NotAllowed:
        versions = None
    context = {
        "proposal": proposal,
        "challenge": challenge,
        "view": view,
        "content": view.content,
        "company": view.company,
        "kpis": kpis,
        "commitments": kpi_rows(kpis, view.content.get("kpis") or []),
        "conflicts": await organisations_with_ids(view.content.get("declared_conflicts") or []),
        "versions": versions,
        "transitions": await lifecycle.allowed_transitions(actor, proposal),
        "editable": view.is_company and lifecycle.is_editable(proposal, challenge),
        "errors": errors,
        "message": message,
        "proposal_status_name": proposal_status_name,
        "proposal_action_name": proposal_action_name,
        "confirmed": set(confirm.PROPOSAL),  # moves that ask on a page of their own first
    }
    return templates.TemplateResponse(request, "proposals/view.html", context, status_code=status)


async def _confirmation(actor: Actor, proposal: Proposal, to: str) -> confirm.Confirmation:
    title = (await lifecycle.view_of(actor, proposal)).content.get("title") or ""
    return confirm.Confirmation(confirm.PROPOSAL[to], title, f"/proposals/{proposal.id}/transitions", {"to": to},
                                back=f"/proposals/{proposal.id}")


async def confirm_state(request: Request) -> Response:
    """The page that asks before submitting or withdrawing a proposal."""
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    if not await roles_on(actor, proposal):
        raise NotAllowed("neither the company nor an owner of the challenge")
    to = request.path_params["to"]
    allowed = await lifecycle.allowed_transitions(actor, proposal)
    if to not in confirm.PROPOSAL or to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    return confirm.confirmation_page(request, await _confirmation(actor, proposal, to))


async def proposal_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    return await _view_page(request, actor, proposal, {})


async def change_state(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    if not await roles_on(actor, proposal):
        raise NotAllowed("neither the company nor an owner of the challenge")
    form = await checked_form(request)
    try:
        body = ProposalTransitionIn.model_validate({key: value for key, value in form.items() if key != "csrftoken"})
        await lifecycle.transition(actor, proposal, body.to, reason=body.reason)
    except (ValidationError, ValidationFailed) as exc:
        to = str(form.get("to", ""))
        if form.get("confirm") and to in confirm.PROPOSAL:  # back to the confirmation page it came from
            return confirm.confirmation_page(request, await _confirmation(actor, proposal, to), errors_from(exc),
                                             {"reason": str(form.get("reason", ""))}, 400)
        return await _view_page(request, actor, proposal, errors_from(exc), status=400)
    except STATE_ERRORS as exc:
        await proposal.refresh_from_db()
        return await _view_page(request, actor, proposal, {}, page_message(exc), exc.status)
    if body.to == "submitted":
        return flash.redirect(f"/proposals/{proposal.id}/receipt", "proposal.submitted")
    done = {"withdrawn": "proposal.withdrawn", "ineligible": "proposal.ineligible",
            "under_review": "proposal.undone"}.get(body.to, "proposal.decision")
    return flash.redirect(f"/proposals/{proposal.id}", done)


async def receipt_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    wanted = request.query_params.get("version", "")
    version = await lifecycle.receipt_of(actor, proposal, id_or_none(wanted))
    context = {
        "proposal": proposal,
        "challenge": await lifecycle.challenge_of(proposal),
        "company": await lifecycle.company_of_proposal(proposal),
        "receipt": VersionOut.of(proposal, version),
        "latest": version.version == proposal.version,
        "mail_state": await lifecycle.receipt_mail_state(proposal, version.version),
    }
    return templates.TemplateResponse(request, "proposals/receipt.html", context)


async def _rows(actor: Actor, proposals: list[Proposal]) -> list[dict]:
    challenges = {proposal.id: await lifecycle.challenge_of(proposal) for proposal in proposals}
    return [{"summary": summary, "challenge": challenges[summary.id]} for summary in await _summaries(actor, proposals)]


async def my_proposals(request: Request) -> Response:
    actor = signed_in(request)
    proposals = await lifecycle.recent_proposals(actor)
    context = {"rows": await _rows(actor, proposals), "proposal_status_name": proposal_status_name,
               "is_company": company_of(actor) is not None}
    return templates.TemplateResponse(request, "proposals/list.html", context)


async def challenge_proposals(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    if not await may_list_challenge_proposals(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    proposals = await lifecycle.submitted_proposals(actor, challenge)
    context = {"challenge": challenge, "rows": await _rows(actor, proposals), "proposal_status_name": proposal_status_name}
    return templates.TemplateResponse(request, "proposals/challenge_list.html", context)


async def detail_context(actor: Actor, challenge: Challenge, theirs: ReaderRows | None = None) -> dict:
    """What this area adds to the challenge page: the "write a proposal" panel (challenges/_proposal_cta.html).
    `theirs`: which of their own rows the reader has on the challenge (models.challenges.reader), when the page
    asked already."""
    cta: dict[str, Any] = {"open": lifecycle.window_open(challenge), "kind": None}
    company = company_of(actor)
    if actor.is_visitor:
        cta["kind"] = "visitor"
    elif company is not None:
        cta |= {
            "kind": "company",
            "proposal": await lifecycle.proposal_of(challenge, company) if theirs is None or theirs.has_proposal else None,
            "may_draft": may_draft_proposals(actor),
            "pending": company.status == OrgStatus.PENDING,
        }
    elif await may_list_challenge_proposals(actor, challenge):
        cta |= {"kind": "owner",
                "received": await lifecycle.received_count(challenge)}
    return {"proposal_cta": cta, "proposal_status_name": proposal_status_name}


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/proposals/new", new_proposal_form, methods=["GET"], name="new_proposal"),
    Route("/challenges/{challenge_id:int}/proposals/new", new_proposal, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/proposals", challenge_proposals, methods=["GET"], name="challenge_proposals"),
    Route("/proposals", my_proposals, methods=["GET"], name="my_proposals"),
    Route("/proposals/{proposal_id:int}", proposal_page, methods=["GET"], name="proposal"),
    Route("/proposals/{proposal_id:int}/edit", edit_proposal_form, methods=["GET"], name="edit_proposal"),
    Route("/proposals/{proposal_id:int}/edit", edit_proposal, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/transitions", change_state, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/confirm/{to:str}", confirm_state, methods=["GET"], name="confirm_proposal"),
    Route("/proposals/{proposal_id:int}/receipt", receipt_page, methods=["GET"], name="proposal_receipt"),
]
