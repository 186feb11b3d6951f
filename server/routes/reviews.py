"""The review workflow: panel, assignments, scoring, ranking, decisions and feedback — pages and API side by side.

Every change is a call to `models.review.workflow`, `models.review.conflicts` or `models.review.decisions` (decisions on
one proposal to `models.proposals.lifecycle`); access is decided in `models.policy`. Companies never see
assignments or reviewers; anyone without access to an assignment gets a 404, so its existence is not revealed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge, Criterion
from models.core.errors import N_, DomainError, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.identity.orgs import Organisation
from models.policy import Actor, assignment_filter, may_declare_conflicts, may_follow_reviews
from models.policy.challenges import owns_challenge
from models.proposals import lifecycle as proposal_lifecycle
from models.proposals.models import Proposal
from models.review import conflicts, decisions
from models.review import workflow as workflow
from models.review.models import Assignment, AssignmentStatus, Conflict, Review
from server.api import api
from server.forms import errors_from
from server.i18n import TOKYO, ngettext
from server.i18n import gettext as _
from server.problems import signed_in
from server.schemas.proposals import conflict_ids_from_codes
from server.schemas.reviews import (
    AssignedReviewer,
    AssignmentAddIn,
    AssignmentItem,
    AssignmentList,
    AssignmentOut,
    AssignmentQuery,
    AssignmentTransitionIn,
    ChallengeAssignmentsOut,
    ConflictIn,
    ConflictList,
    ConflictOut,
    FeedbackOut,
    PanelIn,
    PanelOut,
    PanelReviewer,
    PersonRef,
    ProposalAssignments,
    RankingOut,
    RankingRow,
    ReviewIn,
    ReviewList,
    ReviewOut,
    ShortfallOut,
    review_input_from_form,
)
from server.templating import templates

SEE_OTHER = 303
ASSIGNMENT_STATUS_NAMES = {"assigned": N_("To review"), "submitted": N_("Submitted"), "recused": N_("Withdrawn")}
DECISION_NAMES = {"shortlisted": N_("Shortlist"), "selected": N_("Select"), "not_selected": N_("Do not select"),
                  "ineligible": N_("Mark as ineligible")}
DECISION_RESULTS = {"selected": N_("Selected"), "not_selected": N_("Not selected"), "ineligible": N_("Ineligible"),
                    "shortlisted": N_("Shortlisted"), "under_review": N_("Under review")}


def assignment_status_name(status: str) -> str:
    return _(ASSIGNMENT_STATUS_NAMES.get(status, status))


def decision_name(status: str) -> str:
    return _(DECISION_RESULTS.get(status, status))


def _message(exc: DomainError) -> str:
    """A refusal in the reader's language: domain messages are English message ids."""
    return _(exc.message) if exc.message and exc.message[0].isupper() else _("This change of state is not possible now.")


# --- API: the reviewer's side ----------------------------------------------------------------


@api.operation("/assignments", summary="Your own assignments", query=AssignmentQuery, response=AssignmentList,
               tags=["reviews"])
async def list_assignments(request: Request, actor: Actor, query: AssignmentQuery) -> AssignmentList:
    found = Assignment.filter(assignment_filter(actor))
    if query.status:
        found = found.filter(status=query.status)
    if query.challenge_id:
        found = found.filter(proposal__challenge_id=query.challenge_id)
    total = await found.count()
    page = await found.order_by("due_at", "id").offset((query.page - 1) * query.per_page).limit(
        query.per_page).prefetch_related("proposal")
    return AssignmentList(items=[AssignmentItem.of(a) for a in page], total=total, page=query.page, per_page=query.per_page)


async def _own(actor: Actor, assignment_id: int) -> Assignment:
    assignment = await workflow.get_assignment(actor, assignment_id)
    if assignment.reviewer_id != actor.user.id:
        raise NotFound("no such assignment")
    return assignment


def _review_out(assignment: Assignment, review: Review | None) -> ReviewOut:
    if review is None:
        review = Review(assignment_id=assignment.id)
    return ReviewOut.of(review)


@api.operation("/assignments/{assignment_id:int}/review", summary="Your review (draft or submitted)",
               response=ReviewOut, tags=["reviews"])
async def get_review(request: Request, actor: Actor, assignment_id: int) -> ReviewOut:
    assignment = await _own(actor, assignment_id)
    return _review_out(assignment, await workflow.review_of(assignment))


@api.operation("/assignments/{assignment_id:int}/review", "PUT", summary="Save your review's draft",
               body=ReviewIn, response=ReviewOut, tags=["reviews"])
async def put_review(request: Request, actor: Actor, assignment_id: int, body: ReviewIn) -> ReviewOut:
    assignment = await _own(actor, assignment_id)
    return _review_out(assignment, await workflow.save_review(actor, assignment, body.to_changes()))


@api.operation("/assignments/{assignment_id:int}/transitions", "POST",
               summary="Submit your review or recuse yourself; owners reopen a submitted review (to: assigned)",
               body=AssignmentTransitionIn, response=AssignmentOut, tags=["reviews"])
async def transition_assignment(request: Request, actor: Actor, assignment_id: int,
                                body: AssignmentTransitionIn) -> AssignmentOut:
    assignment = await workflow.get_assignment(actor, assignment_id)
    assignment = await workflow.transition(actor, assignment, body.to, body.reason)
    return AssignmentOut.of(assignment, await workflow.allowed_transitions(actor, assignment))


@api.operation("/assignments/{assignment_id:int}", "DELETE", summary="Take a reviewer off a proposal (owners)",
               response=AssignmentOut, tags=["reviews"])
async def delete_assignment(request: Request, actor: Actor, assignment_id: int) -> AssignmentOut:
    assignment = await workflow.get_assignment(actor, assignment_id)
    return AssignmentOut.of(await workflow.remove_assignment(actor, assignment))


@api.operation("/proposals/{proposal_id:int}/reviews", summary="A proposal's submitted reviews",
               response=ReviewList, tags=["reviews"])
async def list_reviews(request: Request, actor: Actor, proposal_id: int) -> ReviewList:
    proposal = await proposal_lifecycle.get_proposal(actor, proposal_id)
    challenge = await Challenge.get(id=proposal.challenge_id)
    named = await may_follow_reviews(actor, challenge)
    rows = await workflow.submitted_reviews(actor, proposal)
    return ReviewList(items=[ReviewOut.of(review, a.reviewer if named else None) for a, review in rows], total=len(rows))


@api.operation("/conflicts", summary="The conflicts of interest you declared", response=ConflictList, tags=["reviews"])
async def list_conflicts(request: Request, actor: Actor) -> ConflictList:
    declared = [c for c in await conflicts.conflicts_of(actor.user) if not c.detected]
    return ConflictList(items=[ConflictOut.of(c) for c in declared], total=len(declared))


@api.operation("/conflicts", "POST", summary="Declare a conflict of interest with an organisation", body=ConflictIn,
               response=ConflictOut, status=201, tags=["reviews"])
async def declare_conflict(request: Request, actor: Actor, body: ConflictIn) -> ConflictOut:
    conflict = await conflicts.declare(actor, kind=body.kind, organisation_id=body.organisation_id, note=body.note)
    await conflict.fetch_related("organisation")
    return ConflictOut.of(conflict)


@api.operation("/proposals/{proposal_id:int}/feedback",
               summary="The decision and the reviewers' feedback for the company, once the challenge is decided",
               response=FeedbackOut, tags=["reviews"])
async def get_feedback(request: Request, actor: Actor, proposal_id: int) -> FeedbackOut:
    proposal = await proposal_lifecycle.get_proposal(actor, proposal_id)
    return FeedbackOut.of(await decisions.feedback_for(actor, proposal))


# --- API: the owners' side -------------------------------------------------------------------


async def _panel_out(actor: Actor, challenge: Challenge) -> PanelOut:
    members = await workflow.panel_of(actor, challenge)
    return PanelOut(reviewers=[PanelReviewer(id=u.id, name=u.name, expertise=u.expertise or []) for u in members],
                    reviews_per_proposal=challenge.reviews_per_proposal, max_per_reviewer=challenge.max_per_reviewer)


@api.operation("/challenges/{challenge_id:int}/panel", summary="A challenge's reviewer panel", response=PanelOut,
               tags=["reviews"])
async def get_panel(request: Request, actor: Actor, challenge_id: int) -> PanelOut:
    return await _panel_out(actor, await challenge_lifecycle.get_challenge(actor, challenge_id))


@api.operation("/challenges/{challenge_id:int}/panel", "PUT",
               summary="Choose the reviewers, the reviews per proposal and the cap per reviewer (owners)",
               body=PanelIn, response=PanelOut, tags=["reviews"])
async def put_panel(request: Request, actor: Actor, challenge_id: int, body: PanelIn) -> PanelOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    await workflow.set_panel(actor, challenge, body.reviewers, body.reviews_per_proposal, body.max_per_reviewer)
    return await _panel_out(actor, challenge)


async def assignments_overview(actor: Actor, challenge: Challenge) -> ChallengeAssignmentsOut:
    """Who reviews what, and what the assignment cannot fill and why (before closing: a preview)."""
    if not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    statuses = workflow.REVIEWABLE if challenge.status == "closed" else ("submitted",)
    planned = await workflow.plan(challenge, statuses)
    rows = await Assignment.filter(proposal__challenge_id=challenge.id).order_by("id").prefetch_related("reviewer")
    by_proposal: dict[int, list[AssignedReviewer]] = {}
    for a in rows:
        by_proposal.setdefault(a.proposal_id, []).append(AssignedReviewer(
            id=a.id, reviewer=PersonRef(id=a.reviewer.id, name=a.reviewer.name), status=a.status,
            due_at=a.due_at.astimezone(TOKYO) if a.due_at else None, recusal_reason=_(a.recusal_reason) if a.recusal_reason in workflow.SYSTEM_REASONS else a.recusal_reason))
    shown = await Proposal.filter(challenge_id=challenge.id, submitted_at__not_isnull=True).order_by("id")
    items = [ProposalAssignments(proposal_id=p.id, title=p.title, status=p.status, assignments=by_proposal.get(p.id, []))
             for p in shown if p.status in (*statuses, *decisions.RANKED) or p.id in by_proposal]
    shortfalls = [ShortfallOut(proposal_id=s.proposal_id, missing=s.missing, eligible=s.eligible,
                               limited_by=s.limited_by) for s in planned.result.shortfalls]
    return ChallengeAssignmentsOut(items=items, feasible=not shortfalls, shortfalls=shortfalls,
                                   pending=len(planned.result.assignments))


@api.operation("/challenges/{challenge_id:int}/assignments",
               summary="Who reviews which proposal, and which proposals lack how many eligible reviewers",
               response=ChallengeAssignmentsOut, tags=["reviews"])
async def get_assignments(request: Request, actor: Actor, challenge_id: int) -> ChallengeAssignmentsOut:
    return await assignments_overview(actor, await challenge_lifecycle.get_challenge(actor, challenge_id))


@api.operation("/challenges/{challenge_id:int}/assignments", "POST",
               summary="Assign a reviewer by hand (owners; never one with a conflict of interest)",
               body=AssignmentAddIn, response=AssignmentOut, status=201, tags=["reviews"])
async def add_assignment(request: Request, actor: Actor, challenge_id: int, body: AssignmentAddIn) -> AssignmentOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    assignment = await workflow.add_assignment(actor, challenge, body.proposal_id, body.reviewer_id)
    await assignment.fetch_related("proposal")
    return AssignmentOut.of(assignment)


async def ranking_out(actor: Actor, challenge: Challenge) -> RankingOut:
    ranked = await decisions.ranking(actor, challenge)
    items = [RankingRow.of(row, ranked.proposals[row.proposal_id].title, ranked.proposals[row.proposal_id].status)
             for row in ranked.rows]
    return RankingOut(items=items, reviews_done=ranked.reviews_done, reviews_assigned=ranked.reviews_assigned,
                      hidden=ranked.hidden, finalisable=ranked.finalisable,
                      problem=_(ranked.problem) if ranked.problem else None)


@api.operation("/challenges/{challenge_id:int}/ranking", summary="The proposals by score, with the review's progress",
               response=RankingOut, tags=["reviews"])
async def get_ranking(request: Request, actor: Actor, challenge_id: int) -> RankingOut:
    return await ranking_out(actor, await challenge_lifecycle.get_challenge(actor, challenge_id))


# --- pages: the reviewer's side --------------------------------------------------------------


async def inbox(request: Request, errors: dict | None = None, values: dict | None = None, status: int = 200) -> Response:
    actor = signed_in(request)
    rows = await Assignment.filter(assignment_filter(actor)).order_by("due_at", "id").prefetch_related("proposal")
    challenges = {c.id: c for c in await Challenge.filter(id__in={a.proposal.challenge_id for a in rows})}
    declared = await Conflict.filter(reviewer_id=actor.user.id, detected=False).order_by("-id").prefetch_related("organisation")
    context = {
        "rows": [{"assignment": a, "challenge": challenges[a.proposal.challenge_id]} for a in rows],
        "declared": declared, "may_declare": may_declare_conflicts(actor), "kinds": conflicts.KIND_NAMES,
        "errors": errors or {}, "values": values or {}, "assignment_status_name": assignment_status_name,
        "saved": request.query_params.get("declared") == "1",
    }
    return templates.TemplateResponse(request, "reviews/inbox.html", context, status_code=status)


async def declare_conflict_page(request: Request) -> Response:
    actor = signed_in(request)
    if not may_declare_conflicts(actor):
        raise NotAllowed("reviewers, agency members and operators declare conflicts")
    form = await request.form()
    values = {key: str(value) for key, value in form.items() if key != "csrftoken"}
    try:
        ids = await conflict_ids_from_codes(values.get("organisation", ""))
        if len(ids) != 1:
            raise ValidationFailed({"organisation": N_("Enter the municipality code or corporate number of one organisation registered on Kyoso.")})
        body = ConflictIn.model_validate({"kind": values.get("kind", ""), "organisation_id": ids[0],
                                          "note": values.get("note", "")})
        await conflicts.declare(actor, kind=body.kind, organisation_id=body.organisation_id, note=body.note)
    except ValidationFailed as exc:
        errors = errors_from(exc)
        if "declared_conflicts" in errors:
            errors["organisation"] = errors.pop("declared_conflicts")
        return await inbox(request, errors, values, 400)
    except ValidationError as exc:
        return await inbox(request, errors_from(exc), values, 400)
    return RedirectResponse("/reviews?declared=1", status_code=SEE_OTHER)


def running_total(scores: dict[str, Any], criteria: list[Criterion]) -> dict[str, Any]:
    """The weighted total so far: of the criteria scored, on the 0-100 scale, and whether all are scored."""
    scored = [c for c in criteria if isinstance(scores.get(str(c.id)), int)]
    points = sum(c.weight * (scores[str(c.id)] - 1) for c in scored) / 4
    return {"points": points, "complete": bool(criteria) and len(scored) == len(criteria),
            "weight_scored": sum(c.weight for c in scored)}


async def _scoring_page(request: Request, actor: Actor, assignment: Assignment, values: dict | None = None,
                        errors: dict | None = None, message: str = "", status: int = 200) -> Response:
    proposal = assignment.proposal
    challenge = await Challenge.get(id=proposal.challenge_id)
    criteria = await workflow.criteria_of(challenge.id)
    review = await workflow.review_of(assignment)
    view = await proposal_lifecycle.view_of(actor, proposal)
    if values is None:
        values = {"scores": dict(review.scores) if review else {}, "comments": dict(review.comments) if review else {},
                  "strengths": review.strengths if review else "", "weaknesses": review.weaknesses if review else "",
                  "feedback": review.feedback if review else "", "confidence": review.confidence if review else None,
                  "no_conflict": review.no_conflict if review else False}
    others = []
    if assignment.status == AssignmentStatus.SUBMITTED:
        try:
            others = [r for a, r in await workflow.submitted_reviews(actor, proposal) if a.id != assignment.id]
        except NotAllowed:
            others = []
    context = {
        "assignment": assignment, "proposal": proposal, "challenge": challenge, "criteria": criteria,
        "review": review, "content": view.content,
        "company": await Organisation.get(id=proposal.company_id) if view.show_company else None,
        "values": values, "errors": errors or {}, "message": message,
        "total": running_total(values.get("scores") or {}, criteria),
        "others": others, "transitions": await workflow.allowed_transitions(actor, assignment),
        "saved": request.query_params.get("saved") == "1", "assignment_status_name": assignment_status_name,
    }
    return templates.TemplateResponse(request, "reviews/form.html", context, status_code=status)


async def scoring_form(request: Request) -> Response:
    actor = signed_in(request)
    assignment = await _own(actor, request.path_params["assignment_id"])
    return await _scoring_page(request, actor, assignment)


async def save_scoring_form(request: Request) -> Response:
    actor = signed_in(request)
    assignment = await _own(actor, request.path_params["assignment_id"])
    form = await request.form()
    criteria = await workflow.criteria_of(assignment.proposal.challenge_id)
    data = review_input_from_form(form, [c.id for c in criteria])
    shown = {**data, "scores": {k: v for k, v in data["scores"].items() if isinstance(v, int)}}
    try:
        body = ReviewIn.model_validate(data)
        if form.get("action") == "submit":
            await workflow.submit_review(actor, assignment, body.to_changes())
        else:
            await workflow.save_review(actor, assignment, body.to_changes())
    except ValidationError as exc:
        return await _scoring_page(request, actor, assignment, shown, errors_from(exc), status=400)
    except ValidationFailed as exc:
        await assignment.refresh_from_db()
        return await _scoring_page(request, actor, assignment, shown, errors_from(exc), status=400)
    except InvalidTransition as exc:
        await assignment.refresh_from_db()
        return await _scoring_page(request, actor, assignment, shown, {}, _message(exc), exc.status)
    suffix = "" if form.get("action") == "submit" else "?saved=1"
    return RedirectResponse(f"/reviews/{assignment.id}{suffix}", status_code=SEE_OTHER)


async def assignment_transition_page(request: Request) -> Response:
    """Recuse (the reviewer) or reopen (an owner), from the scoring page or the assignment page."""
    actor = signed_in(request)
    assignment = await workflow.get_assignment(actor, request.path_params["assignment_id"])
    form = await request.form()
    reviewer = assignment.reviewer_id == actor.user.id
    try:
        body = AssignmentTransitionIn.model_validate({k: v for k, v in form.items() if k != "csrftoken"})
        await workflow.transition(actor, assignment, body.to, body.reason)
    except (ValidationError, ValidationFailed, InvalidTransition) as exc:
        await assignment.refresh_from_db()
        if isinstance(exc, InvalidTransition):
            errors, message = {}, _message(exc)
        else:
            errors, message = errors_from(exc), ""
        if reviewer:
            return await _scoring_page(request, actor, assignment, None, errors, message, 400)
        challenge = await Challenge.get(id=assignment.proposal.challenge_id)
        return await assignments_page(request, challenge, errors, message, 400)
    if reviewer:
        return RedirectResponse("/reviews" if body.to == "recused" else f"/reviews/{assignment.id}", status_code=SEE_OTHER)
    return RedirectResponse(f"/challenges/{assignment.proposal.challenge_id}/assignments", status_code=SEE_OTHER)


# --- pages: the owners' side -----------------------------------------------------------------


async def _owned(request: Request, *, changing: bool = False) -> tuple[Actor, Challenge]:
    """The challenge, for its owners (and, to read, operators)."""
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    allowed = await owns_challenge(actor, challenge) if changing else await may_follow_reviews(actor, challenge)
    if not allowed:
        raise NotAllowed("the challenge's owners only" if changing else "the challenge's owners and operators only")
    return actor, challenge


async def panel_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                     values: dict | None = None, status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await _owned(request)
    members = await workflow.panel_of(actor, challenge)
    if values is None:
        values = {"reviewers": {u.id for u in members}, "reviews_per_proposal": challenge.reviews_per_proposal,
                  "max_per_reviewer": challenge.max_per_reviewer or ""}
    context = {"challenge": challenge, "pool": await workflow.reviewer_pool(), "members": members, "values": values,
               "errors": errors or {}, "is_owner": await owns_challenge(actor, challenge),
               "saved": request.query_params.get("saved") == "1"}
    return templates.TemplateResponse(request, "reviews/panel.html", context, status_code=status)


async def save_panel_page(request: Request) -> Response:
    actor, challenge = await _owned(request, changing=True)
    form = await request.form()
    values = {"reviewers": {int(v) for v in form.getlist("reviewers") if str(v).isdigit()},
              "reviews_per_proposal": str(form.get("reviews_per_proposal", "")),
              "max_per_reviewer": str(form.get("max_per_reviewer", ""))}
    try:
        body = PanelIn.model_validate({"reviewers": sorted(values["reviewers"]),
                                       "reviews_per_proposal": values["reviews_per_proposal"] or 3,
                                       "max_per_reviewer": values["max_per_reviewer"].strip() or None})
        await workflow.set_panel(actor, challenge, body.reviewers, body.reviews_per_proposal, body.max_per_reviewer)
    except (ValidationError, ValidationFailed) as exc:
        return await panel_page(request, challenge, errors_from(exc), values, 400)
    return RedirectResponse(f"/challenges/{challenge.id}/panel?saved=1", status_code=SEE_OTHER)


async def assignments_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                           message: str = "", status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await _owned(request)
    overview = await assignments_overview(actor, challenge)
    titles = {item.proposal_id: item.title for item in overview.items}
    context = {"challenge": challenge, "overview": overview, "errors": errors or {},
               "shortfall_texts": [shortfall_text(s, titles.get(s.proposal_id) or _("(untitled)")) for s in overview.shortfalls],
               "message": message, "is_owner": await owns_challenge(actor, challenge),
               "panel": await workflow.panel_of(actor, challenge), "assignment_status_name": assignment_status_name,
               "reviewable": [i for i in overview.items if i.status in workflow.REVIEWABLE]}
    return templates.TemplateResponse(request, "reviews/assignments.html", context, status_code=status)


def shortfall_text(shortfall: ShortfallOut, title: str) -> str:
    """Why the assignment cannot fill a proposal's places, in the reader's language."""
    if shortfall.limited_by == "eligibility":
        return ngettext(
            "“%(title)s” lacks %(num)d reviewer: besides those assigned, %(eligible)d panel members can review it without a conflict of interest.",
            "“%(title)s” lacks %(num)d reviewers: besides those assigned, %(eligible)d panel members can review it without a conflict of interest.",
            shortfall.missing, title=title, eligible=shortfall.eligible)
    return ngettext(
        "“%(title)s” lacks %(num)d reviewer: the %(eligible)d other panel members who could review it have reached their maximum number of reviews.",
        "“%(title)s” lacks %(num)d reviewers: the %(eligible)d other panel members who could review it have reached their maximum number of reviews.",
        shortfall.missing, title=title, eligible=shortfall.eligible)


async def add_assignment_page(request: Request) -> Response:
    actor, challenge = await _owned(request, changing=True)
    form = await request.form()
    try:
        body = AssignmentAddIn.model_validate({k: v for k, v in form.items() if k != "csrftoken"})
        await workflow.add_assignment(actor, challenge, body.proposal_id, body.reviewer_id)
    except (ValidationError, ValidationFailed) as exc:
        return await assignments_page(request, challenge, errors_from(exc), "", 400)
    except InvalidTransition as exc:
        return await assignments_page(request, challenge, {}, _message(exc), exc.status)
    return RedirectResponse(f"/challenges/{challenge.id}/assignments", status_code=SEE_OTHER)


async def remove_assignment_page(request: Request) -> Response:
    actor = signed_in(request)
    assignment = await workflow.get_assignment(actor, request.path_params["assignment_id"])
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    try:
        await workflow.remove_assignment(actor, assignment)
    except InvalidTransition as exc:
        return await assignments_page(request, challenge, {}, _message(exc), exc.status)
    return RedirectResponse(f"/challenges/{challenge.id}/assignments", status_code=SEE_OTHER)


async def ranking_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                       message: str = "", status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await _owned(request)
    ranking = await ranking_out(actor, challenge)
    moves = {}
    for row in ranking.items:
        proposal = await Proposal.get(id=row.proposal_id)
        moves[row.proposal_id] = [t for t in await proposal_lifecycle.allowed_transitions(actor, proposal)
                                  if t in DECISION_NAMES]
    context = {"challenge": challenge, "ranking": ranking, "moves": moves, "decision_names": DECISION_NAMES,
               "decision_name": decision_name, "errors": errors or {}, "message": message,
               "is_owner": await owns_challenge(actor, challenge)}
    return templates.TemplateResponse(request, "reviews/ranking.html", context, status_code=status)


async def decide_page(request: Request) -> Response:
    actor, challenge = await _owned(request, changing=True)
    form = await request.form()
    proposal_id = str(form.get("proposal_id", ""))
    proposal = await Proposal.get_or_none(id=int(proposal_id), challenge_id=challenge.id) if proposal_id.isdigit() else None
    if proposal is None:
        return await ranking_page(request, challenge, {"proposal_id": _("Choose one of the proposals under review.")},
                                  "", 400)
    try:
        await proposal_lifecycle.transition(actor, proposal, str(form.get("to", "")), reason=str(form.get("reason", "")))
    except ValidationFailed as exc:
        return await ranking_page(request, challenge, errors_from(exc), "", 400)
    except InvalidTransition as exc:
        return await ranking_page(request, challenge, {}, _message(exc), exc.status)
    return RedirectResponse(f"/challenges/{challenge.id}/ranking", status_code=SEE_OTHER)


async def finalise_page(request: Request) -> Response:
    actor, challenge = await _owned(request, changing=True)
    form = await request.form()
    try:
        await challenge_lifecycle.transition(actor, challenge, "decided", reason=str(form.get("reason", "")))
    except InvalidTransition as exc:
        return await ranking_page(request, challenge, {}, _message(exc), exc.status)
    return RedirectResponse(f"/challenges/{challenge.id}", status_code=SEE_OTHER)


async def proposal_reviews_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await proposal_lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    challenge = await Challenge.get(id=proposal.challenge_id)
    rows = await workflow.submitted_reviews(actor, proposal)
    context = {"proposal": proposal, "challenge": challenge, "rows": rows,
               "named": await may_follow_reviews(actor, challenge),
               "criteria": await workflow.criteria_of(challenge.id)}
    return templates.TemplateResponse(request, "reviews/proposal_reviews.html", context)


async def feedback_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await proposal_lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    feedback = await decisions.feedback_for(actor, proposal)
    context = {"proposal": proposal, "challenge": await Challenge.get(id=proposal.challenge_id), "feedback": feedback,
               "decision_name": decision_name}
    return templates.TemplateResponse(request, "reviews/feedback.html", context)


async def detail_context(actor: Actor, challenge: Challenge) -> dict[str, Any]:
    """What this area adds to the challenge page (challenges/_results.html): the published results, and
    links to the review pages for owners and operators."""
    manage = challenge.status in ("published", "closed", "decided") and await may_follow_reviews(actor, challenge)
    return {"review_results": await decisions.results(challenge), "review_links": manage}


routes: list[BaseRoute] = [
    Route("/reviews", inbox, methods=["GET"], name="reviews"),
    Route("/reviews/conflicts", declare_conflict_page, methods=["POST"]),
    Route("/reviews/{assignment_id:int}", scoring_form, methods=["GET"], name="review"),
    Route("/reviews/{assignment_id:int}", save_scoring_form, methods=["POST"]),
    Route("/assignments/{assignment_id:int}/transitions", assignment_transition_page, methods=["POST"]),
    Route("/assignments/{assignment_id:int}/remove", remove_assignment_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/panel", panel_page, methods=["GET"], name="review_panel"),
    Route("/challenges/{challenge_id:int}/panel", save_panel_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/assignments", assignments_page, methods=["GET"], name="review_assignments"),
    Route("/challenges/{challenge_id:int}/assignments", add_assignment_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/ranking", ranking_page, methods=["GET"], name="review_ranking"),
    Route("/challenges/{challenge_id:int}/decisions", decide_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/finalise", finalise_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/reviews", proposal_reviews_page, methods=["GET"], name="proposal_reviews"),
    Route("/proposals/{proposal_id:int}/feedback", feedback_page, methods=["GET"], name="proposal_feedback"),
]
