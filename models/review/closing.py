"""The review's two ends, as the challenge lifecycle needs them (it builds on tables only, never on the workflow).

- Closing a challenge queues the start of its review through the outbox (topic "review", consumed by
  `models.review.workflow.consume`), committed with the close.
- Deciding a challenge needs every assigned review submitted or recused and every proposal decided
  (`finalise_problem`), and tells each company once, with the feedback meant for it (`tell`): per-criterion
  scores and comments and the reviewers' feedback, never who wrote them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from models.challenges.models import Challenge, ChallengeStatus, Criterion
from models.core import outbox
from models.core.base import translated
from models.core.errors import N_
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.identity.accounts import Membership, Role, User
from models.identity.orgs import Organisation
from models.proposals.models import Proposal, ProposalStatus, ProposalVersion
from models.proposals.shown import shown
from models.review.models import Assignment, AssignmentStatus, Review, ReviewRound, SubjectKind
from models.review.proposal_subjects import PROPOSAL
from models.review.rubric import COMPANY, TEXT, Rubric, RubricField, parse, visible_to
from models.review.scoring import ReviewRecord, can_finalise
from models.review.subjects import kind_of

TOPIC = "review"  # outbox: {"kind": "begin" | "assign", "challenge": id} or {"kind": "round", "round": id}
P = ProposalStatus
REVIEWABLE = (P.UNDER_REVIEW.value, P.SHORTLISTED.value)
RANKED = (P.UNDER_REVIEW.value, P.SHORTLISTED.value, P.SELECTED.value, P.NOT_SELECTED.value)
TOLD = (P.SELECTED.value, P.NOT_SELECTED.value, P.INELIGIBLE.value)  # the decisions companies are sent


async def queue_assignment(challenge_id: int, *, begin: bool = False, using_db: Any = None) -> None:
    """Ask for an assignment run (after `start_review`, if `begin`), in the caller's transaction."""
    await outbox.enqueue(TOPIC, f"review:{challenge_id}", {"kind": "begin" if begin else "assign",
                                                            "challenge": challenge_id}, using_db=using_db)


async def queue_round(round_id: int, *, using_db: Any = None) -> None:
    """Ask for an assignment run of a round of another kind than proposals, in the caller's transaction."""
    await outbox.enqueue(TOPIC, f"review-round:{round_id}", {"kind": "round", "round": round_id}, using_db=using_db)


async def criteria_of(challenge_id: int) -> list[Criterion]:
    return await Criterion.filter(challenge_id=challenge_id).order_by("position", "id")


async def rubric_of_round(row: ReviewRound) -> Rubric:
    """The round's review form: its stored rubric, else its kind's default; a kind that takes its criteria
    elsewhere (proposals: the challenge's) always has those."""
    kind = kind_of(row.subject_kind)
    rubric = parse(row.rubric) if row.rubric else parse(kind.rubric)
    if kind.criteria is not None:
        return Rubric(tuple(await kind.criteria(row) or ()), rubric.fields)
    return rubric


async def proposal_rubric(challenge_id: int) -> Rubric:
    """The review form of the challenge's proposals: its criteria and the proposal round's fields."""
    row = await ReviewRound.get_or_none(challenge_id=challenge_id, subject_kind=PROPOSAL, scope_id=0)
    return await rubric_of_round(row or ReviewRound(challenge_id=challenge_id, subject_kind=PROPOSAL, rubric=[]))


async def rubric_of(challenge_id: int, subject_kind: str = SubjectKind.PROPOSAL.value) -> tuple[RubricField, ...]:
    """The fields of the challenge's review round of that kind (beside the scored criteria)."""
    stored = await ReviewRound.filter(challenge_id=challenge_id, subject_kind=subject_kind, scope_id=0).values_list(
        "rubric", flat=True)
    return parse(stored[0] if stored and stored[0] else kind_of(subject_kind).rubric).fields


def value_of(review: Review, key: str) -> Any:
    """A rubric field's value in a review: its column if it has one, else its entry in `answers`."""
    return getattr(review, key) if key in REVIEW_COLUMNS else (review.answers or {}).get(key)


REVIEW_COLUMNS = frozenset({"strengths", "weaknesses", "feedback", "confidence"})


async def review_records(proposal_ids: list[int]) -> list[ReviewRecord]:
    rows = await Assignment.filter(proposal_id__in=proposal_ids).order_by("id").prefetch_related("review")
    records = []
    for assignment in rows:
        review = getattr(assignment, "review", None)
        total = review.total if review is not None and assignment.status == AssignmentStatus.SUBMITTED else None
        records.append(ReviewRecord(assignment.subject_id, assignment.reviewer_id, assignment.status, total))
    return records


async def finalise_problem(challenge: Challenge) -> str | None:
    """Why the challenge cannot be decided now (an English message id), or None when it can."""
    if challenge.status != ChallengeStatus.CLOSED:
        return N_("This change of state is not possible now.")
    ranked = dict(await Proposal.filter(challenge_id=challenge.id, status__in=list(RANKED)).values_list("id", "status"))
    return problem_of(challenge, ranked, await review_records(list(ranked)))


def problem_of(challenge: Challenge, statuses: dict[int, str], records: list[ReviewRecord]) -> str | None:
    """`finalise_problem` from what the caller has read: the statuses of the challenge's RANKED proposals
    (proposal id -> status) and their review records."""
    if challenge.status != ChallengeStatus.CLOSED:
        return N_("This change of state is not possible now.")
    if not can_finalise(records):
        return N_("Every assigned review must be submitted or withdrawn before the challenge is decided.")
    if any(status in REVIEWABLE for status in statuses.values()):
        return N_("Decide on every proposal under review first: select it or not, or mark it ineligible.")
    return None


# --- feedback ----------------------------------------------------------------------------------


@dataclass
class CriterionFeedback:
    id: int | str  # a proposal round's criteria: the challenge's criterion ids
    name: Any  # {"ja", "en"} or a message id
    weight: int
    scores: list[int]
    mean: float | None
    comments: list[str]


@dataclass
class Feedback:
    """What a company learns of its subject's review: no reviewer is named or can be told apart."""

    proposal_id: int  # the subject's id
    status: str
    reason: str
    total: float | None  # the mean of the reviews' totals, 0-100
    criteria: list[CriterionFeedback] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)


async def feedback_of(proposal: Proposal) -> Feedback:
    row = await ReviewRound.get_or_none(challenge_id=proposal.challenge_id, subject_kind=PROPOSAL, scope_id=0)
    if row is None:  # never reviewed
        row = ReviewRound(challenge_id=proposal.challenge_id, subject_kind=PROPOSAL, rubric=[])
    return await subject_feedback(row, proposal.id, proposal.status, proposal.status_reason)


async def subject_feedback(row: ReviewRound, subject_id: int, status: str = "", reason: str = "") -> Feedback:
    """Per criterion: scores, mean and comments; the fields the company may read; the mean total."""
    rubric = await rubric_of_round(row)
    told = [f for f in visible_to(rubric.fields, COMPANY) if f.kind == TEXT]
    rows = await Assignment.filter(round_id=row.id, subject_id=subject_id, subject_kind=row.subject_kind,
                                   status=AssignmentStatus.SUBMITTED.value).order_by("id").prefetch_related("review") \
        if row.id is not None else []
    reviews = [a.review for a in rows]
    out = []
    for criterion in rubric.criteria:
        key = criterion.key
        scores = [r.scores[key] for r in reviews if isinstance(r.scores.get(key), int)]
        out.append(CriterionFeedback(
            id=int(key) if key.isdigit() else key, name=criterion.label, weight=criterion.weight, scores=scores,
            mean=round(statistics.fmean(scores), 2) if scores else None,
            comments=[r.comments[key] for r in reviews if (r.comments or {}).get(key)]))
    totals = [r.total for r in reviews if r.total is not None]
    return Feedback(proposal_id=subject_id, status=status, reason=reason,
                    total=round(statistics.fmean(totals), 1) if totals else None, criteria=out,
                    feedback=[text for r in reviews for f in told if (text := value_of(r, f.key))])


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


# --- telling the companies ---------------------------------------------------------------------


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


async def tell_companies(challenge: Challenge, connection: Any) -> None:
    """In the deciding transaction: every company with a decided proposal is notified and sent one e-mail."""
    told = await Proposal.filter(challenge_id=challenge.id, status__in=list(TOLD),
                                 submitted_at__not_isnull=True).order_by("id").using_db(connection)
    for proposal in told:
        await _tell(challenge, proposal, connection)


async def _tell(challenge: Challenge, proposal: Proposal, connection: Any) -> None:
    payload = {"challenge": challenge.id, "proposal": proposal.id, "status": proposal.status}
    members = await User.filter(memberships__organisation_id=proposal.company_id, is_active=True).using_db(connection)
    for member in members:
        await Notification.create(user_id=member.id, kind="proposal.decision", payload=payload, using_db=connection)
    contact = await _company_contact(proposal)
    if contact is None:
        return
    company = await Organisation.get(id=proposal.company_id, using_db=connection)
    title = (await shown(proposal, using_db=connection)).title
    context = {
        "challenge_title": translated(challenge.title, contact.locale), "challenge_id": challenge.id,
        "proposal_title": title, "proposal_id": proposal.id, "company_name": company.name(contact.locale),
        "decision": proposal.status, "reason": proposal.status_reason,
    } | mail_context(await feedback_of(proposal), contact.locale)
    await queue_mail("decision", to=contact.email, locale=contact.locale, key=f"decision:{proposal.id}",
                     context=context, using_db=connection)
