"""A pilot's evaluation round: the review of the pilot by a panel, with the review rounds' machinery.

The round (`models.pilots.review_subject`) exists from the first time owners look at it or choose its panel;
it starts when the pilot goes under evaluation (`start`, in that transition's transaction): its form is then
fixed, its due date set, and the assignment (conflicts, min-cost-flow, e-mails) queued through the outbox.
Reviews, recusals and reminders are the review's (models.review.reviewing, reminders). The owners then read
the ranking (scores per criterion) and decide adopt / extend / stop (models.pilots.lifecycle); the company
reads the reviewers' feedback per criterion once decided, and gets it in its one decision e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise import timezone

from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed
from models.identity.accounts import User
from models.pilots.models import Pilot
from models.pilots.review_subject import PILOT
from models.policy import Actor
from models.policy.pilots import (
    may_follow_evaluation,
    may_plan_evaluation,
    may_read_evaluation_feedback,
    owns_pilot,
    runs_pilot,
)
from models.review import rounds
from models.review.closing import Feedback, queue_round, subject_feedback
from models.review.models import ReviewRound
from models.review.rubric import Rubric
from models.review.scoring import ProposalScore

REVIEW_DAYS = 14  # the round's due date, counted from the day the pilot goes under evaluation
DEFAULT_REVIEWS = 2  # reviews of the pilot until owners choose otherwise


async def pilot_round(pilot: Pilot, using_db: Any = None) -> ReviewRound:
    """The pilot's evaluation round, made (not started) if missing."""
    return await rounds.round_of(pilot.challenge_id, PILOT, scope_id=pilot.id, using_db=using_db,
                                 reviews_per_subject=DEFAULT_REVIEWS)


async def start(pilot: Pilot, connection: Any) -> ReviewRound:
    """The pilot went under evaluation (in that transaction): its round starts, due in REVIEW_DAYS, and its
    assignment is queued (topic "review", run by the worker once this commits). Again after an extension:
    the same round, due anew; reviews already submitted stay."""
    row = await pilot_round(pilot, using_db=connection)
    now = timezone.now()
    due = now + timedelta(days=REVIEW_DAYS)
    await ReviewRound.filter(id=row.id).using_db(connection).update(
        started_at=row.started_at or now, due_at=due, updated_at=now)
    row.started_at, row.due_at = row.started_at or now, due
    await audit.record("review_round.started", target=row, using_db=connection,
                       after={"pilot": pilot.id, "due_at": due.isoformat()})
    await queue_round(row.id, using_db=connection)
    return row


@dataclass
class Evaluation:
    row: ReviewRound
    rubric: Rubric
    panel: list[User]
    editable: bool  # the form: owners, until the round starts
    plannable: bool  # the panel: owners, until the pilot is adopted or stopped


async def evaluation_of(actor: Actor, pilot: Pilot) -> Evaluation:
    """The round's form, panel and settings, for the owners and operators."""
    if not may_follow_evaluation(actor, pilot):
        raise NotAllowed("the pilot's owners and operators only")
    row = await pilot_round(pilot)
    plannable = may_plan_evaluation(actor, pilot)
    return Evaluation(row, await rounds.rubric_of_round(row), await rounds.panel_of_round(row),
                      plannable and not await rounds.has_started(row), plannable)


async def set_panel(actor: Actor, pilot: Pilot, reviewer_ids: list[int], reviews_per_subject: int,
                    max_per_reviewer: int | None) -> Evaluation:
    """Owners choose the reviewers from the pool (a running round assigns the newcomers at once)."""
    if not owns_pilot(actor, pilot):
        raise NotAllowed("only the pilot's owners choose its panel")
    if not may_plan_evaluation(actor, pilot):
        raise InvalidTransition(N_("The pilot is decided: its evaluation panel can no longer change."), allowed=[])
    row = await pilot_round(pilot)
    await rounds.set_round_panel(actor, row, reviewer_ids, reviews_per_subject, max_per_reviewer)
    return await evaluation_of(actor, pilot)


async def set_rubric(actor: Actor, pilot: Pilot, items: Any) -> Evaluation:
    """Owners change the evaluation form (scored criteria and fields) until the round starts."""
    if not owns_pilot(actor, pilot):
        raise NotAllowed("only the pilot's owners change its evaluation form")
    if not may_plan_evaluation(actor, pilot):
        raise InvalidTransition(N_("The review form can no longer be changed: the review has started."), allowed=[])
    await rounds.set_rubric(actor, await pilot_round(pilot), items)
    return await evaluation_of(actor, pilot)


@dataclass
class CriterionScore:
    key: str
    label: Any
    weight: int
    mean: float | None
    scores: list[int]


@dataclass
class PilotRanking:
    row: ReviewRound
    score: ProposalScore | None  # `proposal_id`: the pilot's id; None while nobody is assigned
    criteria: list[CriterionScore]
    hidden: bool  # the reader has a conflict of interest with the pilot


async def ranking(actor: Actor, pilot: Pilot) -> PilotRanking:
    """The evaluation's result so far: the pilot's score (mean, median, spread, progress) and per criterion."""
    if not may_follow_evaluation(actor, pilot):
        raise NotAllowed("the pilot's owners and operators only")
    row = await pilot_round(pilot)
    ranked = await rounds.round_ranking(row, actor.user)
    score = next((r for r in ranked.rows if r.proposal_id == pilot.id), None)
    if ranked.hidden:
        return PilotRanking(row, None, [], True)
    found = await subject_feedback(row, pilot.id)
    rubric = await rounds.rubric_of_round(row)
    criteria = [CriterionScore(c.key, c.label, c.weight, f.mean, f.scores) for c, f in zip(rubric.criteria, found.criteria, strict=True)]
    return PilotRanking(row, score, criteria, False)


async def feedback_for(actor: Actor, pilot: Pilot) -> Feedback:
    """Per criterion: the reviewers' scores, mean and comments, and their feedback for the company; never who
    wrote them. The company reads it once the owners have decided."""
    row = await ReviewRound.get_or_none(challenge_id=pilot.challenge_id, subject_kind=PILOT, scope_id=pilot.id)
    evaluated = row is not None and row.started_at is not None
    if not may_read_evaluation_feedback(actor, pilot, evaluated):
        if runs_pilot(actor, pilot):
            raise InvalidTransition(N_("The evaluation's feedback is shown once the owners have decided."), allowed=[])
        raise NotAllowed("the pilot's company (once decided), owners and operators only")
    if row is None:
        row = ReviewRound(challenge_id=pilot.challenge_id, subject_kind=PILOT, scope_id=pilot.id, rubric=[])
    return await subject_feedback(row, pilot.id, pilot.status, pilot.status_reason)


async def decision_feedback(pilot: Pilot) -> Feedback | None:
    """What the decision e-mail tells the company of the evaluation: None when the pilot was never evaluated."""
    row = await ReviewRound.get_or_none(challenge_id=pilot.challenge_id, subject_kind=PILOT, scope_id=pilot.id)
    if row is None or row.started_at is None:
        return None
    return await subject_feedback(row, pilot.id, pilot.status, pilot.status_reason)
