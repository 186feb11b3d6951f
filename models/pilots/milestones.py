"""Milestones: an owner plans them; the company marks one done with evidence; an owner accepts or
returns it. Reminders go to the company 3 days before a due date and when overdue, never twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, BinaryIO

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.challenges import attachments
from models.challenges.attachments import BlobStore
from models.challenges.models import Attachment, Challenge
from models.core import audit
from models.core.base import translated
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.core.transitions import next_states
from models.identity.accounts import User
from models.pilots.lifecycle import today
from models.pilots.models import Milestone, MilestoneReminder, MilestoneStatus, Pilot, PilotStatus
from models.policy import Actor
from models.policy.pilots import (
    MEASURABLE,
    may_manage_milestones,
    may_view_pilot,
    owns_pilot,
    runs_pilot,
    sees_internals,
)

MS = MilestoneStatus
TRANSITIONS: dict[MilestoneStatus, dict[MilestoneStatus, str]] = {
    MS.PLANNED: {MS.DONE: "company"},
    MS.DONE: {MS.ACCEPTED: "owner", MS.RETURNED: "owner"},
    MS.RETURNED: {MS.DONE: "company"},
    MS.ACCEPTED: {},
}
REMIND_BEFORE = timedelta(days=3)
TITLE_MAX = 200


async def add_milestone(actor: Actor, pilot: Pilot, title: str, due_on: date, deliverable: str = "") -> Milestone:
    if not may_manage_milestones(actor, pilot):
        raise NotAllowed("only the pilot's owners plan milestones")
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationFailed({"title": N_("Give the milestone a title of at most 200 characters.")})
    async with in_transaction() as connection:
        milestone = await Milestone.create(pilot_id=pilot.id, title=title, due_on=due_on,
                                           deliverable=deliverable.strip(), using_db=connection)
        await audit.record("milestone.created", actor=actor.user, target=milestone, after={"pilot": pilot.id},
                           using_db=connection)
    return milestone


def shown_milestones(actor: Actor, pilot: Pilot, milestones: list[Milestone]) -> list[Milestone]:
    """Returned milestones are for the company, the owners and operators only."""
    if sees_internals(actor, pilot):
        return milestones
    return [m for m in milestones if m.status != MS.RETURNED]


async def milestones_of(actor: Actor, pilot: Pilot) -> list[Milestone]:
    return shown_milestones(actor, pilot, await Milestone.filter(pilot_id=pilot.id))


async def get_milestone(actor: Actor, milestone_id: int) -> tuple[Milestone, Pilot]:
    milestone = await Milestone.get_or_none(id=milestone_id)
    pilot = await Pilot.get_or_none(id=milestone.pilot_id) if milestone else None
    if milestone is None or pilot is None or not may_view_pilot(actor, pilot) or not shown_milestones(actor, pilot, [milestone]):
        raise NotFound("no such milestone")
    return milestone, pilot


def allowed_transitions(actor: Actor, pilot: Pilot, milestone: Milestone) -> list[str]:
    if pilot.status not in MEASURABLE:
        return []
    roles = ({"owner"} if owns_pilot(actor, pilot) else set()) | ({"company"} if runs_pilot(actor, pilot) else set())
    return next_states(TRANSITIONS, MS(milestone.status), roles)


def check_may_move(actor: Actor, pilot: Pilot, milestone: Milestone, to: str) -> None:
    if not (owns_pilot(actor, pilot) or runs_pilot(actor, pilot)):
        raise NotAllowed("only the company and the owners act on milestones")
    allowed = allowed_transitions(actor, pilot, milestone)
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)


def check_may_send_evidence(actor: Actor, pilot: Pilot, milestone: Milestone) -> None:
    """Marking a milestone done with a file: the company, when the milestone may be marked done."""
    if not runs_pilot(actor, pilot):
        raise NotAllowed("only the company sends a milestone's evidence")
    check_may_move(actor, pilot, milestone, MS.DONE)


async def transition(actor: Actor, milestone: Milestone, pilot: Pilot, to: str, *, note: str = "",
                     file: BinaryIO | None = None, filename: str | None = None, store: BlobStore | None = None) -> Milestone:
    """done (the company, with evidence: a note and optionally one file), accepted or returned (an owner;
    returning needs a reason). The file is checked and kept as challenges' attachments are; it is seen
    with the evidence, by the company, the owners and operators only."""
    check_may_move(actor, pilot, milestone, to)
    if to in (MS.DONE, MS.RETURNED) and not note.strip():
        field = "evidence" if to == MS.DONE else "reason"
        raise ValidationFailed({field: N_("Say what was delivered, or why it is returned.")})
    if file is not None and to != MS.DONE:
        raise ValidationFailed({"file": N_("A file can only be sent with the evidence, when marking a milestone done.")})
    if file is None or store is None:
        return await _move(actor, milestone, pilot, to, note, None)
    async with attachments.kept_file(file, filename, store) as kept:
        return await _move(actor, milestone, pilot, to, note, kept)


async def _move(actor: Actor, milestone: Milestone, pilot: Pilot, to: str, note: str, kept: dict[str, Any] | None) -> Milestone:
    async with in_transaction() as connection:
        before = milestone.status
        milestone.status = to
        if to == MS.DONE:
            milestone.evidence = note.strip()
            milestone.evidence_file_id = None  # a fresh "done" replaces the evidence of an earlier one
            if kept is not None:
                file = await Attachment.create(uploaded_by_id=actor.user.id if actor.user else None, **kept,
                                               using_db=connection)
                milestone.evidence_file_id = file.id
        elif to == MS.RETURNED:
            milestone.reason = note.strip()
        await milestone.save(update_fields=["status", "evidence", "evidence_file_id", "reason", "updated_at"],
                             using_db=connection)
        after: dict[str, Any] = {"status": to}
        if kept is not None:
            after["evidence_file"] = {"attachment": milestone.evidence_file_id, **kept}
        await audit.record(f"milestone.{to}", actor=actor.user, target=milestone, before={"status": before},
                           after=after, using_db=connection)
        told = [pilot.company_id] if to != MS.DONE else pilot.agency_ids
        for user in await User.filter(memberships__organisation_id__in=told, is_active=True).distinct().using_db(connection):
            await Notification.create(user_id=user.id, kind=f"milestone.{to}",
                                      payload={"pilot": pilot.id, "challenge": pilot.challenge_id, "milestone": milestone.id}, using_db=connection)
    return milestone


async def evidence_file(actor: Actor, milestone_id: int) -> Attachment:
    """The file sent with a milestone's evidence: for those who see the evidence (the company, the owners,
    operators); for everyone else it does not exist."""
    milestone, pilot = await get_milestone(actor, milestone_id)
    if not sees_internals(actor, pilot) or milestone.evidence_file_id is None:
        raise NotFound("no such file")
    file = await Attachment.get_or_none(id=milestone.evidence_file_id)
    if file is None:
        raise NotFound("no such file")
    return file


async def send_reminders(day: date | None = None) -> int:
    """Remind the company of milestones due within 3 days, and of overdue ones; each moment once (a job)."""
    day = day or today()
    sent = 0
    open_ones = await Milestone.filter(status__in=[MS.PLANNED.value, MS.RETURNED.value], due_on__lte=day + REMIND_BEFORE,
                                       pilot__status=PilotStatus.RUNNING.value).order_by("id")
    for milestone in open_ones:
        moment = "overdue" if milestone.due_on < day else "before"
        if await _remind(milestone, moment):
            sent += 1
    return sent


async def _remind(milestone: Milestone, moment: str) -> bool:
    try:
        async with in_transaction() as connection:
            await MilestoneReminder.create(milestone_id=milestone.id, moment=moment, using_db=connection)
            pilot = await Pilot.get(id=milestone.pilot_id, using_db=connection)
            challenge = await Challenge.get(id=pilot.challenge_id, using_db=connection)
            users = await User.filter(memberships__organisation_id=pilot.company_id, is_active=True).using_db(connection)
            for user in users:
                await Notification.create(user_id=user.id, kind="milestone.reminder",
                                          payload={"pilot": pilot.id, "challenge": pilot.challenge_id, "milestone": milestone.id, "moment": moment},
                                          using_db=connection)
                context: dict[str, Any] = {"pilot_id": pilot.id, "milestone_title": milestone.title, "moment": moment,
                                           "due_on": milestone.due_on.isoformat(),
                                           "challenge_title": translated(challenge.title, user.locale)}
                await queue_mail("pilot_milestone_reminder", to=user.email, locale=user.locale, context=context,
                                 key=f"milestone:{milestone.id}", using_db=connection)
    except IntegrityError:  # already reminded for this moment
        return False
    return True
