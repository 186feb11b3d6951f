"""Reminders to reviewers (of any round: a proposal's while its challenge is under review, another's while its
round runs): 3 days before the review deadline, on the day, and after it (escalating to
the owners); never twice for the same moment (ReminderSent is unique per assignment and moment)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeStatus
from models.core.base import translated
from models.core.mail import queue_mail
from models.review import rounds
from models.review.closing import REVIEWABLE
from models.review.common import JST, escalation_contact, notify, owner_people
from models.review.models import Assignment, AssignmentStatus, ReminderSent
from models.review.proposal_subjects import PROPOSAL

A = AssignmentStatus


def moment_starts(due_at: datetime) -> dict[str, datetime]:
    """When each reminder becomes due: three days before, the start of the due day in Japan, the deadline."""
    day = due_at.astimezone(JST).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"3_days_before": due_at - timedelta(days=3), "due_day": max(day, due_at - timedelta(days=3)),
            "overdue": due_at}


def current_moment(due_at: datetime, now: datetime) -> str | None:
    """The latest reminder moment reached at `now` (earlier ones missed by a stopped worker are not sent late)."""
    reached = [m for m, start in moment_starts(due_at).items() if start <= now]
    return reached[-1] if reached else None


async def send_reminders(now: datetime | None = None) -> int:
    """Remind reviewers of reviews not submitted: 3 days before the deadline, on the day, and after it, when
    the owners are told too. Never twice for one moment (ReminderSent is unique). A job; idempotent."""
    now = now or timezone.now()
    due = await Assignment.filter(
        Q(subject_kind=PROPOSAL, proposal__status__in=list(REVIEWABLE),
          proposal__challenge__status=ChallengeStatus.CLOSED.value) | Q(subject_kind__not=PROPOSAL),
        status=A.ASSIGNED.value, due_at__not_isnull=True, due_at__lte=now + timedelta(days=3),
    ).order_by("id").prefetch_related("reviewer", "round")
    sent = 0
    for assignment in due:
        assert assignment.due_at is not None  # filtered by due_at__not_isnull
        if assignment.subject_kind != PROPOSAL and not await rounds.accepts_reviews(assignment):
            continue  # its round has ended, or its subject is no longer under review
        moment = current_moment(assignment.due_at, now)
        if moment is None or await ReminderSent.exists(assignment_id=assignment.id, moment=moment):
            continue
        if moment != "overdue" and assignment.created_at >= moment_starts(assignment.due_at)[moment]:
            continue  # assigned after this moment: the assignment mail named the deadline
        try:
            async with in_transaction() as connection:
                await ReminderSent.create(assignment_id=assignment.id, moment=moment, using_db=connection)
                await _remind(assignment, moment, connection)
        except IntegrityError:  # another worker sent this one
            continue
        sent += 1
    return sent


async def _remind(assignment: Assignment, moment: str, connection: Any) -> None:
    challenge = await Challenge.get(id=assignment.the_round.challenge_id, using_db=connection)
    reviewer = assignment.reviewer
    payload = {"challenge": challenge.id, "assignment": assignment.id, "moment": moment}
    await notify([reviewer], "review.reminder", payload, connection)
    context = {"challenge_title": translated(challenge.title, reviewer.locale), "proposal_title": (await rounds.subject_of(assignment, using_db=connection)).title,
               "assignment_id": assignment.id, "moment": moment, "due_at": assignment.due_at.isoformat() if assignment.due_at else ""}
    await queue_mail("reminder", to=reviewer.email, locale=reviewer.locale, key=f"assignment:{assignment.id}",
                     context=context, using_db=connection)
    if moment != "overdue":
        return
    await notify(await owner_people(challenge), "review.overdue", payload, connection)
    contact = await escalation_contact(challenge)
    if contact is not None:
        await queue_mail("review_overdue", to=contact.email, locale=contact.locale, key=f"assignment:{assignment.id}",
                         using_db=connection, context=context | {
                             "challenge_title": translated(challenge.title, contact.locale), "challenge_id": challenge.id,
                             "reviewer_name": reviewer.name})
