"""Proposals: drafting, submitting (with a receipt), revising, withdrawing, screening — pages and API side by side.

Access is decided by `models.policy.may_view_proposal` / `proposal_filter`: anyone else gets a 404, so a
proposal's existence is never revealed. Every change is a call to `models.proposals.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise import timezone

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge, ChallengeKpi
from models.core.errors import N_, DomainError, InvalidTransition, NotAllowed, ValidationFailed
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor, proposal_filter
from models.policy.challenges import owns_challenge
from models.proposals import lifecycle as lifecycle
from models.proposals.lifecycle import AlreadyProposed, CompanyNotApproved, DeadlinePassed, NotOpen
from models.proposals.models import Proposal
from server.api import api
from server.forms import errors_from
from server.i18n import TOKYO, format_datetime
from server.i18n import gettext as _
from server.problems import problem, signed_in
from server.schemas.proposals import (
    NewProposalIn,
    PageQuery,
    ProposalIn,
    ProposalList,
    ProposalListQuery,
    ProposalOut,
    ProposalSummary,
    TransitionIn,
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
STATUS_NAMES = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "shortlisted": N_("Shortlisted"),
    "not_selected": N_("Not selected"),
    "selected": N_("Selected"),
    "withdrawn": N_("Withdrawn"),
    "ineligible": N_("Ineligible"),
}
ACTION_NAMES = {
    "submitted": N_("Submit the proposal"),
    "withdrawn": N_("Withdraw the proposal"),
    "ineligible": N_("Mark as ineligible"),
    "shortlisted": N_("Shortlist"),
    "selected": N_("Select"),
    "not_selected": N_("Do not select"),
}


def proposal_status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def proposal_action_name(target: str) -> str:
    return _(ACTION_NAMES.get(target, target))


def _state_message(exc: DomainError) -> str:
    """A refusal because of the proposal's or the challenge's state, in the reader's language."""
    if isinstance(exc, DeadlinePassed):
        return _("The deadline was %(deadline)s. Proposals can no longer be submitted or changed.",
                 deadline=format_datetime(exc.deadline))
    if isinstance(exc, NotOpen):
        return _("This challenge is not open for proposals.")
    if isinstance(exc, CompanyNotApproved):
        return _("Your company has not been approved yet. You can save drafts, and submit once an operator has approved the company.")
    if isinstance(exc, AlreadyProposed):
        return _("Your company already has a proposal for this challenge.")
    known = {
        "This proposal can no longer be changed.": _("This proposal can no longer be changed."),
    }
    return known.get(exc.message, _("This change of state is not possible now."))


STATE_ERRORS = (InvalidTransition, CompanyNotApproved)


# --- API -------------------------------------------------------------------------------------


async def _out(actor: Actor, proposal: Proposal) -> ProposalOut:
    view = await lifecycle.view_of(actor, proposal)
    return await ProposalOut.of(proposal, view, await lifecycle.allowed_transitions(actor, proposal))


async def _answer(actor: Actor, call: Awaitable[Proposal]) -> ProposalOut | Response:
    """Run a domain call; a deadline or a duplicate becomes a 409 problem with the facts to act on."""
    try:
        proposal = await call
    except DeadlinePassed as exc:
        return problem(409, exc.message, allowed=exc.allowed, deadline=exc.deadline.astimezone(TOKYO).isoformat())
    except AlreadyProposed as exc:
        return problem(409, exc.message, allowed=[], proposal_id=exc.proposal_id)
    return await _out(actor, proposal)


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
               body=TransitionIn, response=ProposalOut, tags=["proposals"])
async def transition_proposal(request: Request, actor: Actor, proposal_id: int, body: TransitionIn) -> Any:
    proposal = await lifecycle.get_proposal(actor, proposal_id)
    return await _answer(actor, lifecycle.transition(actor, proposal, body.to, reason=body.reason))


async def _summaries(actor: Actor, proposals: list[Proposal]) -> list[ProposalSummary]:
    items = []
    for proposal in proposals:
        view = await lifecycle.view_of(actor, proposal)
        items.append(ProposalSummary(
            id=proposal.id, challenge_id=proposal.challenge_id,
            company={"id": proposal.company.id, "name": {"ja": proposal.company.name_ja, "en": proposal.company.name_en}}
            if view.show_company else None,
            title=view.content.get("title") or "", status=proposal.status,
            submitted_at=proposal.submitted_at.astimezone(TOKYO) if proposal.submitted_at else None,
            version=proposal.version, reference=proposal.reference,
        ))
    return items


@api.operation("/proposals", summary="The proposals you may see", query=ProposalListQuery, response=ProposalList,
               tags=["proposals"])
async def list_proposals(request: Request, actor: Actor, query: ProposalListQuery) -> ProposalList:
    found = Proposal.filter(proposal_filter(actor))
    if query.challenge_id is not None:
        found = found.filter(challenge_id=query.challenge_id)
    if query.status:
        found = found.filter(status=query.status)
    total = await found.count()
    page = await found.order_by("-updated_at", "-id").offset((query.page - 1) * query.per_page).limit(
        query.per_page).prefetch_related("company")
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


async def _form_page(request: Request, actor: Actor, challenge: Challenge, proposal: Proposal | None,
                     values: dict, errors: dict, message: str = "", status: int = 200) -> Response:
    company = lifecycle.company_of(actor)
    context = {
        "challenge": challenge,
        "proposal": proposal,
        "kpis": await ChallengeKpi.filter(challenge_id=challenge.id),
        "values": values,
        "errors": errors,
        "message": message,
        "pending": company is not None and company.status != OrgStatus.APPROVED,
        "saved": request.query_params.get("saved") == "1",
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
    company = lifecycle.company_of(actor)
    if company is None or not lifecycle.may_draft_proposals(actor):
        raise NotAllowed("members of a company only")
    existing = await Proposal.get_or_none(challenge_id=challenge.id, company_id=company.id)
    if existing is not None:
        return RedirectResponse(f"/proposals/{existing.id}/edit", status_code=SEE_OTHER)
    message, status = "", 200
    try:
        lifecycle.check_window(challenge)
    except InvalidTransition as exc:
        message, status = _state_message(exc), 409
    return await _form_page(request, actor, challenge, None, {}, {}, message, status)


async def new_proposal(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    if not lifecycle.may_draft_proposals(actor):
        raise NotAllowed("members of a company only")
    form = await request.form()
    kpis = await ChallengeKpi.filter(challenge_id=challenge.id)
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
        return await _form_page(request, actor, challenge, None, _typed(form), {}, _state_message(exc), exc.status)
    return RedirectResponse(f"/proposals/{proposal.id}/edit", status_code=SEE_OTHER)


async def _company_proposal(request: Request) -> tuple[Actor, Proposal, Challenge]:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    if proposal.company_id not in actor.organisation_ids(OrgKind.COMPANY):
        raise NotAllowed("only the company's members edit its proposal")
    return actor, proposal, await Challenge.get(id=proposal.challenge_id)


async def edit_proposal_form(request: Request) -> Response:
    actor, proposal, challenge = await _company_proposal(request)
    if not lifecycle.is_editable(proposal, challenge):
        return RedirectResponse(f"/proposals/{proposal.id}", status_code=SEE_OTHER)
    values = proposal_values(lifecycle.working_content(proposal), await codes_for_ids(proposal.declared_conflicts))
    return await _form_page(request, actor, challenge, proposal, values, {})


async def edit_proposal(request: Request) -> Response:
    actor, proposal, challenge = await _company_proposal(request)
    form = await request.form()
    kpis = await ChallengeKpi.filter(challenge_id=challenge.id)
    body, errors = await _typed_changes(form, len(kpis), ProposalIn)
    if body is None:
        return await _form_page(request, actor, challenge, proposal, _typed(form), errors, status=400)
    submitting = form.get("action") == "submit"
    try:
        if submitting:
            await lifecycle.submit(actor, proposal, body.to_changes())
        else:
            await lifecycle.update_proposal(actor, proposal, body.to_changes())
    except ValidationFailed as exc:
        return await _form_page(request, actor, challenge, proposal, _typed(form), errors_from(exc), status=400)
    except STATE_ERRORS as exc:
        await proposal.refresh_from_db()  # nothing was written; show the state as it is
        return await _form_page(request, actor, challenge, proposal, _typed(form), {}, _state_message(exc), exc.status)
    if submitting:
        return RedirectResponse(f"/proposals/{proposal.id}/receipt", status_code=SEE_OTHER)
    return RedirectResponse(f"/proposals/{proposal.id}/edit?saved=1", status_code=SEE_OTHER)


async def _view_page(request: Request, actor: Actor, proposal: Proposal, errors: dict, message: str = "",
                     status: int = 200) -> Response:
    challenge = await Challenge.get(id=proposal.challenge_id)
    view = await lifecycle.view_of(actor, proposal)
    kpis = await ChallengeKpi.filter(challenge_id=challenge.id)
    try:
        versions = await lifecycle.versions_of(actor, proposal)
    except NotAllowed:
        versions = None
    context = {
        "proposal": proposal,
        "challenge": challenge,
        "view": view,
        "content": view.content,
        "company": await Organisation.get(id=proposal.company_id) if view.show_company else None,
        "kpis": kpis,
        "commitments": kpi_rows(kpis, view.content.get("kpis") or []),
        "conflicts": await Organisation.filter(id__in=view.content.get("declared_conflicts") or []),
        "versions": versions,
        "transitions": await lifecycle.allowed_transitions(actor, proposal),
        "editable": view.is_company and lifecycle.is_editable(proposal, challenge),
        "errors": errors,
        "message": message,
        "proposal_status_name": proposal_status_name,
        "proposal_action_name": proposal_action_name,
    }
    return templates.TemplateResponse(request, "proposals/view.html", context, status_code=status)


async def proposal_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    return await _view_page(request, actor, proposal, {})


async def change_state(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    if not await lifecycle.roles_on(actor, proposal):
        raise NotAllowed("neither the company nor an owner of the challenge")
    form = await request.form()
    try:
        body = TransitionIn.model_validate({key: value for key, value in form.items() if key != "csrftoken"})
        await lifecycle.transition(actor, proposal, body.to, reason=body.reason)
    except (ValidationError, ValidationFailed) as exc:
        return await _view_page(request, actor, proposal, errors_from(exc), status=400)
    except STATE_ERRORS as exc:
        await proposal.refresh_from_db()
        return await _view_page(request, actor, proposal, {}, _state_message(exc), exc.status)
    if body.to == "submitted":
        return RedirectResponse(f"/proposals/{proposal.id}/receipt", status_code=SEE_OTHER)
    return RedirectResponse(f"/proposals/{proposal.id}", status_code=SEE_OTHER)


async def receipt_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    wanted = request.query_params.get("version", "")
    version = await lifecycle.receipt_of(actor, proposal, int(wanted) if wanted.isdigit() else None)
    context = {
        "proposal": proposal,
        "challenge": await Challenge.get(id=proposal.challenge_id),
        "company": await Organisation.get(id=proposal.company_id),
        "receipt": VersionOut.of(proposal, version),
        "latest": version.version == proposal.version,
    }
    return templates.TemplateResponse(request, "proposals/receipt.html", context)


async def _rows(actor: Actor, proposals: list[Proposal]) -> list[dict]:
    challenges = {c.id: c for c in await Challenge.filter(id__in={p.challenge_id for p in proposals})}
    return [{"summary": summary, "challenge": challenges[summary.challenge_id]}
            for summary in await _summaries(actor, proposals)]


async def my_proposals(request: Request) -> Response:
    actor = signed_in(request)
    proposals = await Proposal.filter(proposal_filter(actor)).order_by("-updated_at", "-id").limit(200).prefetch_related("company")
    context = {"rows": await _rows(actor, proposals), "proposal_status_name": proposal_status_name,
               "is_company": bool(actor.organisation_ids(OrgKind.COMPANY))}
    return templates.TemplateResponse(request, "proposals/list.html", context)


async def challenge_proposals(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    if not (actor.is_operator or await owns_challenge(actor, challenge)):
        raise NotAllowed("the challenge's owners and operators only")
    proposals = await Proposal.filter(proposal_filter(actor), challenge_id=challenge.id,
                                      submitted_at__not_isnull=True).order_by("submitted_at", "id").prefetch_related("company")
    context = {"challenge": challenge, "rows": await _rows(actor, proposals), "proposal_status_name": proposal_status_name}
    return templates.TemplateResponse(request, "proposals/challenge_list.html", context)


async def detail_context(actor: Actor, challenge: Challenge) -> dict:
    """What this area adds to the challenge page: the "write a proposal" panel (challenges/_proposal_cta.html)."""
    cta: dict[str, Any] = {"open": lifecycle.window_open(challenge, timezone.now()), "kind": None}
    company = lifecycle.company_of(actor)
    if actor.is_visitor:
        cta["kind"] = "visitor"
    elif company is not None:
        cta |= {
            "kind": "company",
            "proposal": await Proposal.get_or_none(challenge_id=challenge.id, company_id=company.id),
            "may_draft": lifecycle.may_draft_proposals(actor),
            "pending": company.status == OrgStatus.PENDING,
        }
    elif actor.is_operator or await owns_challenge(actor, challenge):
        cta |= {"kind": "owner",
                "received": await Proposal.filter(challenge_id=challenge.id, submitted_at__not_isnull=True).count()}
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
    Route("/proposals/{proposal_id:int}/receipt", receipt_page, methods=["GET"], name="proposal_receipt"),
]
