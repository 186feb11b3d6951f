"""Ranking, deciding and telling: the end of the review (PRODUCT.md step 5).

The ranking aggregates the submitted reviews with `models.review.scoring`. Owners decide each proposal with the
proposal transitions (`models.proposals.lifecycle.decide`); finalising moves the challenge to `decided`
once every assigned review is submitted or recused and every proposal under review has a decision, and in
the same transaction queues exactly one decision e-mail per company, with the feedback meant for it:
per-criterion scores and comments and the reviewers' feedback, never who wrote them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeStatus
from models.core.base import translated
from models.core.errors import N_, InvalidTransition, NotAllowed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.identity.accounts import Membership, Role, User
from models.identity.orgs import Organisation
from models.policy import Actor, may_follow_reviews, may_see_feedback, owns_challenge
from models.proposals.models import Proposal, ProposalStatus, ProposalVersion
from models.review import conflicts
from models.review.models import Assignment, AssignmentStatus
from models.review.scoring import ProposalScore, ReviewRecord, aggregate, can_finalise
from models.review.workflow import REVIEWABLE, criteria_of

P = ProposalStatus
RANKED = (P.UNDER_REVIEW.value, P.SHORTLISTED.value, P.SELECTED.value, P.NOT_SELECTED.value)
TOLD = (P.SELECTED.value, P.NOT_SELECTED.value, P.INELIGIBLE.value)  # the decisions companies are sent


@dataclass
class Ranking:
    rows: list[ProposalScore]
    proposals: dict[int, Proposal]
    hidden: int  # proposals left out because the reader has a conflict of interest with them
    finalisable: bool
    problem: str | None  # why the challenge cannot be decided yet (a message id), or None
    reviews_done: int
    reviews_assigned: int


async def _records(proposal_ids: list[int]) -> list[ReviewRecord]:
    rows = await Assignment.filter(proposal_id__in=proposal_ids).order_by("id").prefetch_related("review")
    records = []
    for assignment in rows:
        review = getattr(assignment, "review", None)
        total = review.total if review is not None and assignment.status == AssignmentStatus.SUBMITTED else None
        records.append(ReviewRecord(assignment.proposal_id, assignment.reviewer_id, assignment.status, total))
    return records


async def finalise_problem(challenge: Challenge) -> str | None:
    """Why the challenge cannot be decided now (an English message id), or None when it can."""
    if challenge.status != ChallengeStatus.CLOSED:
        return N_("This change of state is not possible now.")
    ranked = await Proposal.filter(challenge_id=challenge.id, status__in=list(RANKED)).values_list("id", flat=True)
    records = await _records(list(ranked))  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples
    if not can_finalise(records):
        return N_("Every assigned review must be submitted or withdrawn before the challenge is decided.")
    if await Proposal.filter(challenge_id=challenge.id, status__in=list(REVIEWABLE)).exists():
        return N_("Decide on every proposal under review first: select it or not, or mark it ineligible.")
    return None


async def ranking(actor: Actor, challenge: Challenge) -> Ranking:
    """The challenge's proposals by score, for its owners and operators (without the conflicted ones)."""
    if not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    proposals = {p.id: p for p in await Proposal.filter(challenge_id=challenge.id, status__in=list(RANKED)).order_by("id")}
    records = await _records(list(proposals))
    hidden = {p for u, p in await conflicts.conflicted_pairs([actor.user], proposals.values())} if actor.user else set()
    visible = [r for r in records if r.proposal_id not in hidden]
    rows = aggregate(visible, [p for p in proposals if p not in hidden])
    problem = await finalise_problem(challenge)
    return Ranking(rows=rows, proposals=proposals, hidden=len(hidden), finalisable=problem is None, problem=problem,
                   reviews_done=sum(r.status == AssignmentStatus.SUBMITTED for r in records),
                   reviews_assigned=sum(r.status != AssignmentStatus.RECUSED for r in records))


# --- feedback ----------------------------------------------------------------------------------


@dataclass
class CriterionFeedback:
    id: int
    name: dict[str, str]
    weight: int
    scores: list[int]
    mean: float | None
    comments: list[str]


@dataclass
class Feedback:
    """What a company learns of its proposal's review: no reviewer is named or can be told apart."""

    proposal_id: int
    status: str
    reason: str
    total: float | None  # the mean of the reviews' totals, 0-100
    criteria: list[CriterionFeedback] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)


async def feedback_of(proposal: Proposal) -> Feedback:
    criteria = await criteria_of(proposal.challenge_id)
    rows = await Assignment.filter(proposal_id=proposal.id, status=AssignmentStatus.SUBMITTED.value).order_by(
        "id").prefetch_related("review")
    reviews = [a.review for a in rows]
    out = []
    for criterion in criteria:
        key = str(criterion.id)
        scores = [r.scores[key] for r in reviews if isinstance(r.scores.get(key), int)]
        out.append(CriterionFeedback(
            id=criterion.id, name=criterion.name, weight=criterion.weight, scores=scores,
            mean=round(statistics.fmean(scores), 2) if scores else None,
            comments=[r.comments[key] for r in reviews if (r.comments or {}).get(key)]))
    totals = [r.total for r in reviews if r.total is not None]
    return Feedback(proposal_id=proposal.id, status=proposal.status, reason=proposal.status_reason,
                    total=round(statistics.fmean(totals), 1) if totals else None, criteria=out,
                    feedback=[r.feedback for r in reviews if r.feedback])


async def feedback_for(actor: Actor, proposal: Proposal) -> Feedback:
    """The company's feedback, once the challenge is decided (operators see it too)."""
    if not may_see_feedback(actor, proposal):
        raise NotAllowed("the company's members and operators only")
    challenge = await Challenge.get(id=proposal.challenge_id)
    if challenge.status != ChallengeStatus.DECIDED or proposal.status not in TOLD:
        raise InvalidTransition(N_("The feedback is shown once the challenge is decided."), allowed=[])
    return await feedback_of(proposal)


def mail_context(feedback: Feedback, locale: str) -> dict[str, Any]:
    """The feedback as the plain values a queued mail may hold (numbered entries, from "0")."""
    criteria = feedback.criteria
    return {
        "criteria_count": len(criteria),
        "criterion_names": {str(i): translated(c.name, locale) for i, c in enumerate(criteria)},
        "criterion_means": {str(i): "–" if c.mean is None else f"{c.mean:.1f}" for i, c in enumerate(criteria)},
        "criterion_scores": {str(i): ", ".join(map(str, c.scores)) for i, c in enumerate(criteria)},
        "criterion_comments": {str(i): "\n".join(f"- {text}" for text in c.comments) for i, c in enumerate(criteria)},
        "feedback_count": len(feedback.feedback),
        "feedback_texts": {str(i): text for i, text in enumerate(feedback.feedback)},
        "total": "–" if feedback.total is None else f"{feedback.total:.1f}",
    }


# --- finalising --------------------------------------------------------------------------------


async def _company_contact(proposal: Proposal) -> User | None:
    """Who receives the company's one decision e-mail: the proposal's author, else its last submitter,
    else an admin of the company, as long as they are active members of it."""
    members = set(await Membership.filter(organisation_id=proposal.company_id).values_list("user_id", flat=True))
    version = await ProposalVersion.filter(proposal_id=proposal.id).order_by("-version").first()
    for user_id in (proposal.created_by_id, version.submitted_by_id if version else None):
        if user_id in members:
            user = await User.get_or_none(id=user_id, is_active=True)
            if user is not None:
                return user
    return await User.filter(memberships__organisation_id=proposal.company_id, memberships__role=Role.ADMIN.value,
                             is_active=True).order_by("id").first()


async def finalise(actor: Actor, challenge: Challenge, reason: str = "") -> Challenge:
    """closed → decided, by an owner, when `finalise_problem` finds nothing; every company is told once."""
    from models.challenges.lifecycle import _move  # the challenge lifecycle's own transition step

    if not await owns_challenge(actor, challenge):
        if actor.is_operator:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        raise NotAllowed("only the challenge's owners decide it")
    async with in_transaction() as connection:
        locked = await Challenge.filter(id=challenge.id).select_for_update().using_db(connection).get()
        problem = await finalise_problem(locked)
        if problem is not None:
            raise InvalidTransition(problem, allowed=[])
        await challenge.fetch_related("owner", using_db=connection)
        await _move(actor.user, challenge, ChallengeStatus.DECIDED, reason)
        told = await Proposal.filter(challenge_id=challenge.id, status__in=list(TOLD),
                                     submitted_at__not_isnull=True).order_by("id").using_db(connection)
        for proposal in told:
            await _tell(challenge, proposal, connection)
    return challenge


async def _tell(challenge: Challenge, proposal: Proposal, connection: Any) -> None:
    payload = {"challenge": challenge.id, "proposal": proposal.id, "status": proposal.status}
    members = await User.filter(memberships__organisation_id=proposal.company_id, is_active=True).using_db(connection)
    for member in members:
        await Notification.create(user_id=member.id, kind="proposal.decision", payload=payload, using_db=connection)
    contact = await _company_contact(proposal)
    if contact is None:
        return
    company = await Organisation.get(id=proposal.company_id, using_db=connection)
    version = await ProposalVersion.filter(proposal_id=proposal.id).order_by("-version").using_db(connection).first()
    title = (version.content.get("title") if version else None) or proposal.title
    context = {
        "challenge_title": translated(challenge.title, contact.locale), "challenge_id": challenge.id,
        "proposal_title": title, "proposal_id": proposal.id, "company_name": company.name(contact.locale),
        "decision": proposal.status, "reason": proposal.status_reason,
    } | mail_context(await feedback_of(proposal), contact.locale)
    await queue_mail("decision", to=contact.email, locale=contact.locale, key=f"decision:{proposal.id}",
                     context=context, using_db=connection)


async def results(challenge: Challenge) -> list[dict[str, Any]]:
    """The published result of a decided challenge: the selected proposals' titles and companies."""
    if challenge.status != ChallengeStatus.DECIDED:
        return []
    selected = await Proposal.filter(challenge_id=challenge.id, status=P.SELECTED.value).order_by("id").prefetch_related("company")
    out = []
    for proposal in selected:
        version = await ProposalVersion.filter(proposal_id=proposal.id).order_by("-version").first()
        out.append({"title": (version.content.get("title") if version else None) or proposal.title,
                    "company": proposal.company})
    return out
