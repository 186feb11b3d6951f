"""Ranking and decisions, pages and API: the proposals by score, deciding them and the challenge, a proposal's
reviews, and the feedback the companies get.

Deciding one proposal is `models.proposals.lifecycle.transition`, deciding the challenge
`models.challenges.lifecycle.transition` (to "decided"); the rest `models.review.decisions`.
Access is decided in `models.policy.review`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge
from models.core.errors import InvalidTransition, ValidationFailed
from models.policy import Actor
from models.policy.review import decision_moves, may_follow_reviews, may_see_review_links, review_actions
from models.proposals import lifecycle as proposal_lifecycle
from models.proposals.shown import shown
from models.review import decisions, reviewing
from models.review.closing import proposal_rubric, value_of
from models.review.common import challenge_of
from models.review.rubric import OWNERS, REVIEWERS, visible_to
from models.review.scoring import MIN_REVIEWS_FOR_CALIBRATION
from server import flash
from server.api import api
from server.forms import checked_form, errors_from
from server.i18n import gettext as _
from server.ids import id_or_none
from server.labels import DECISION_ACTIONS, decision_name
from server.problems import page_message, signed_in
from server.routes.review_common import owned
from server.schemas.reviews import FeedbackOut, RankingOut, RankingRow, ReviewList, ReviewOut
from server.templating import templates

# --- API ---------------------------------------------------------------------------------------


async def ranking_out(actor: Actor, challenge: Challenge) -> RankingOut:
    return _ranking_out(await decisions.ranking(actor, challenge))


def _ranking_out(ranked: decisions.Ranking) -> RankingOut:
    items = [RankingRow.of(row, ranked.titles[row.proposal_id], ranked.proposals[row.proposal_id].status)
             for row in ranked.rows]
    return RankingOut(items=items, reviews_done=ranked.reviews_done, reviews_assigned=ranked.reviews_assigned,
                      hidden=ranked.hidden, finalisable=ranked.finalisable,
                      problem=_(ranked.problem) if ranked.problem else None)


@api.operation("/challenges/{challenge_id:int}/ranking", summary="The proposals by score, with the review's progress",
               response=RankingOut, tags=["reviews"])
async def get_ranking(request: Request, actor: Actor, challenge_id: int) -> RankingOut:
    return await ranking_out(actor, await challenge_lifecycle.get_challenge(actor, challenge_id))


@api.operation("/proposals/{proposal_id:int}/reviews", summary="A proposal's submitted reviews",
               response=ReviewList, tags=["reviews"])
async def list_reviews(request: Request, actor: Actor, proposal_id: int) -> ReviewList:
    proposal = await proposal_lifecycle.get_proposal(actor, proposal_id)
    named = await may_follow_reviews(actor, await challenge_of(proposal))
    rows = await reviewing.submitted_reviews(actor, proposal)
    return ReviewList(items=[ReviewOut.of(review, a.reviewer if named else None) for a, review in rows], total=len(rows))


@api.operation("/proposals/{proposal_id:int}/feedback",
               summary="The decision and the reviewers' feedback for the company, once the challenge is decided",
               response=FeedbackOut, tags=["reviews"], errors=(409,))
async def get_feedback(request: Request, actor: Actor, proposal_id: int) -> FeedbackOut:
    proposal = await proposal_lifecycle.get_proposal(actor, proposal_id)
    return FeedbackOut.of(await decisions.feedback_for(actor, proposal))


# --- pages -------------------------------------------------------------------------------------


async def ranking_page(request: Request, challenge: Challenge | None = None, errors: dict | None = None,
                       message: str = "", status: int = 200) -> Response:
    actor = signed_in(request)
    if challenge is None:
        actor, challenge = await owned(request)
    ranked = await decisions.ranking(actor, challenge)
    ranking = _ranking_out(ranked)
    allowed = await decision_moves(actor, challenge, {row.proposal_id: row.status for row in ranking.items})
    moves = {proposal_id: [t for t in found if t in DECISION_ACTIONS] for proposal_id, found in allowed.items()}
    undoable = {proposal_id for proposal_id, found in allowed.items() if "under_review" in found}
    context = {"challenge": challenge, "ranking": ranking, "moves": moves, "decision_names": DECISION_ACTIONS,
               "undoable": undoable, "totals": ranked.totals, "min_calibration": MIN_REVIEWS_FOR_CALIBRATION,
               "decision_name": decision_name, "errors": errors or {}, "message": message,
               "allowed": await review_actions(actor, challenge)}
    return templates.TemplateResponse(request, "reviews/ranking.html", context, status_code=status)


async def decide_page(request: Request) -> Response:
    actor, challenge = await owned(request, changing=True)
    form = await checked_form(request)
    proposal_id = id_or_none(form.get("proposal_id", ""))
    proposal = await decisions.proposal_of(challenge, proposal_id) if proposal_id is not None else None
    if proposal is None:
        return await ranking_page(request, challenge, {"proposal_id": _("Choose one of the proposals under review.")},
                                  "", 400)
    try:
        await proposal_lifecycle.transition(actor, proposal, str(form.get("to", "")), reason=str(form.get("reason", "")))
    except ValidationFailed as exc:
        return await ranking_page(request, challenge, errors_from(exc), "", 400)
    except InvalidTransition as exc:
        return await ranking_page(request, challenge, {}, page_message(exc), exc.status)
    undone = str(form.get("to", "")) == "under_review"
    return flash.redirect(f"/challenges/{challenge.id}/ranking", "proposal.undone" if undone else "proposal.decision")


async def finalise_page(request: Request) -> Response:
    actor, challenge = await owned(request, changing=True)
    form = await checked_form(request)
    try:
        await challenge_lifecycle.transition(actor, challenge, "decided", reason=str(form.get("reason", "")))
    except InvalidTransition as exc:
        return await ranking_page(request, challenge, {}, page_message(exc), exc.status)
    return flash.redirect(f"/challenges/{challenge.id}", "challenge.decided")


async def proposal_reviews_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await proposal_lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    challenge = await challenge_of(proposal)
    rows = await reviewing.submitted_reviews(actor, proposal)
    named = await may_follow_reviews(actor, challenge)
    rubric = await proposal_rubric(challenge.id)
    context = {"proposal": proposal, "title": (await shown(proposal)).title, "challenge": challenge, "rows": rows,
               "named": named,
               "rubric": rubric, "shown_fields": visible_to(rubric.fields, OWNERS if named else REVIEWERS),
               "value_of": value_of}
    return templates.TemplateResponse(request, "reviews/proposal_reviews.html", context)


async def feedback_page(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await proposal_lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    feedback, averages = await decisions.feedback_with_averages(actor, proposal)
    context = {"proposal": proposal, "title": (await shown(proposal)).title,
               "challenge": await challenge_of(proposal), "feedback": feedback, "averages": averages,
               "decision_name": decision_name}
    return templates.TemplateResponse(request, "reviews/feedback.html", context)


async def detail_context(actor: Actor, challenge: Challenge) -> dict[str, Any]:
    """What this area adds to the challenge page (challenges/_results.html): the published results, and
    links to the review pages for owners and operators."""
    return {"review_results": await decisions.results(challenge),
            "review_links": await may_see_review_links(actor, challenge)}


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/ranking", ranking_page, methods=["GET"], name="review_ranking"),
    Route("/challenges/{challenge_id:int}/decisions", decide_page, methods=["POST"]),
    Route("/challenges/{challenge_id:int}/finalise", finalise_page, methods=["POST"]),
    Route("/proposals/{proposal_id:int}/reviews", proposal_reviews_page, methods=["GET"], name="proposal_reviews"),
    Route("/proposals/{proposal_id:int}/feedback", feedback_page, methods=["GET"], name="proposal_feedback"),
]
