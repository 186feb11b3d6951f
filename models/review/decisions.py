"""Ranking and feedback: the end of the review (PRODUCT.md step 5).

The ranking aggregates the submitted reviews with `models.review.scoring`. Owners decide each proposal with the
proposal transitions (`models.proposals.lifecycle.decide`); deciding the challenge is a challenge transition
(`models.challenges.lifecycle`), which checks `models.review.closing.finalise_problem` and tells every company once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge, ChallengeStatus
from models.core.errors import N_, InvalidTransition, NotAllowed
from models.policy import Actor
from models.policy.review import may_follow_reviews, may_see_feedback
from models.proposals.models import Proposal, ProposalStatus
from models.proposals.shown import shown_of
from models.review import conflicts
from models.review.closing import RANKED, TOLD, Feedback, feedback_of, problem_of, review_records
from models.review.models import AssignmentStatus
from models.review.scoring import ProposalScore, aggregate

P = ProposalStatus


@dataclass
class Ranking:
    rows: list[ProposalScore]
    proposals: dict[int, Proposal]
    titles: dict[int, str]  # what others see of each proposal (models.proposals.shown)
    hidden: int  # proposals left out because the reader has a conflict of interest with them
    finalisable: bool
    problem: str | None  # why the challenge cannot be decided yet (a message id), or None
    reviews_done: int
    reviews_assigned: int
    totals: dict[int, list[float]] = field(default_factory=dict)  # each submitted review's total, per proposal


async def ranking(actor: Actor, challenge: Challenge) -> Ranking:
    """The challenge's proposals by score, for its owners and operators (without the conflicted ones)."""
    if not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    proposals = {p.id: p for p in await Proposal.filter(challenge_id=challenge.id, status__in=list(RANKED)).order_by("id")}
    records = await review_records(list(proposals))
    hidden = {p for u, p in await conflicts.conflicted_pairs([actor.user], proposals.values())} if actor.user else set()
    visible = [r for r in records if r.proposal_id not in hidden]
    rows = aggregate(visible, [p for p in proposals if p not in hidden])
    problem = problem_of(challenge, {p.id: p.status for p in proposals.values()}, records)
    titles = {i: s.title for i, s in (await shown_of(proposals)).items()}
    return Ranking(rows=rows, proposals=proposals, titles=titles, hidden=len(hidden), finalisable=problem is None, problem=problem,
                   reviews_done=sum(r.status == AssignmentStatus.SUBMITTED for r in records),
                   reviews_assigned=sum(r.status != AssignmentStatus.RECUSED for r in records),
                   totals={row.proposal_id: [r.total for r in visible if r.proposal_id == row.proposal_id
                                             and r.total is not None] for row in rows})


async def feedback_for(actor: Actor, proposal: Proposal) -> Feedback:
    """The company's feedback, once the challenge is decided (operators see it too)."""
    if not may_see_feedback(actor, proposal):
        raise NotAllowed("the company's members and operators only")
    challenge = await Challenge.get(id=proposal.challenge_id)
    if challenge.status != ChallengeStatus.DECIDED or proposal.status not in TOLD:
        raise InvalidTransition(N_("The feedback is shown once the challenge is decided."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    return await feedback_of(proposal)


async def feedback_with_averages(actor: Actor, proposal: Proposal) -> tuple[Feedback, dict[int | str, float]]:
    """The company's feedback, and per criterion the mean score of every reviewed proposal to the challenge (the
    average it is compared with: no other company's proposal can be told apart from it)."""
    feedback = await feedback_for(actor, proposal)
    scores: dict[int | str, list[int]] = {}
    for other in await Proposal.filter(challenge_id=proposal.challenge_id, status__in=list(TOLD)).order_by("id"):
        for criterion in (await feedback_of(other)).criteria:
            scores.setdefault(criterion.id, []).extend(criterion.scores)
    return feedback, {key: round(statistics.fmean(found), 2) for key, found in scores.items() if found}


async def results(challenge: Challenge) -> list[dict[str, Any]]:
    """The published result of a decided challenge: the selected proposals' titles and companies."""
    if challenge.status != ChallengeStatus.DECIDED:
        return []
    selected = await Proposal.filter(challenge_id=challenge.id, status=P.SELECTED.value).order_by("id").prefetch_related("company")
    titles = await shown_of(selected)
    return [{"title": titles[p.id].title, "company": p.company} for p in selected]


async def proposal_of(challenge: Challenge, proposal_id: int) -> Proposal | None:
    """One of the challenge's proposals, or None."""
    return await Proposal.get_or_none(id=proposal_id, challenge_id=challenge.id)
