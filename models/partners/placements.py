"""An engagement after the placement: it ends with a short report (the days and hours worked, within its cap), and
some months later a follow-up survey asks the agency what stayed of the partner's work and know-how (keeping
digital know-how is what the municipalities say they fail at, so this is what the survey measures).

An engagement is open until it ends: open ones count against the partner's limits (models.partners.matching).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import JST, N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.identity.accounts import Membership, Role, User
from models.partners.models import Placement
from models.partners.profiles import queue_search_update
from models.partners.skills import role_name
from models.policy import Actor, require_user
from models.policy.partners import (
    is_placement_agency_member,
    may_answer_placement_survey,
    may_end_placement,
    placement_filter,
)

OPEN, ENDED = "open", "ended"
SURVEY_AFTER_DAYS = 90  # the follow-up survey: about three months after the end
MAX_REPORT = 4000
ENDED_KIND, SURVEY_KIND = "partner.ended", "partner.survey"


def today() -> date:
    return timezone.now().astimezone(JST).date()


def status_of(placement: Placement) -> str:
    return ENDED if placement.ended_at is not None else OPEN


def survey_open(placement: Placement, on: date | None = None) -> bool:
    return placement.ended_at is not None and placement.survey_due_on is not None and \
        placement.survey_due_on <= (on or today())


async def get_placement(actor: Actor, placement_id: int) -> Placement:
    placement = await Placement.filter(placement_filter(actor), id=placement_id).first().prefetch_related(
        "agency", "partner", "invitation")
    if placement is None:
        raise NotFound("no such placement")
    return placement


def allowed_transitions(actor: Actor, placement: Placement) -> list[str]:
    if placement.ended_at is None and may_end_placement(actor, placement, placement.partner):
        return [ENDED]
    return []


def _worked(value: int | None, cap: int | None, name: str, errors: dict[str, str]) -> None:
    if value is not None and value < 0:
        errors[name] = N_("Enter a number of 0 or more.")
    elif cap is not None and value is None:
        errors[name] = N_("Say how much was worked: the engagement is capped.")
    elif cap is not None and value is not None and value > cap:
        errors[name] = N_("More than the engagement's cap: the report cannot go past it.")


async def end(actor: Actor, placement: Placement, to: str, report: str, days_worked: int | None = None,
              hours_worked: int | None = None, on: date | None = None) -> Placement:
    """The agency or the partner ends the engagement with its report; the follow-up survey is due later."""
    user = require_user(actor)
    if not may_end_placement(actor, placement, placement.partner):
        raise NotAllowed("the agency and the partner end an engagement")
    if to not in allowed_transitions(actor, placement):
        raise InvalidTransition(N_("This engagement cannot be moved to %(state)s now."),
                                allowed_transitions(actor, placement), {"state": to})
    errors: dict[str, str] = {}
    if not report.strip():
        errors["report"] = N_("Write a short report: what was done, and what is left to do.")
    elif len(report) > MAX_REPORT:
        errors["report"] = N_("The report has at most 4,000 characters.")
    _worked(days_worked, placement.cap_days, "days_worked", errors)
    _worked(hours_worked, placement.cap_hours, "hours_worked", errors)
    if errors:
        raise ValidationFailed(errors)
    ended = on or today()
    values: dict[str, Any] = {"ended_at": timezone.now(), "report": report.strip(), "days_worked": days_worked,
                              "hours_worked": hours_worked, "survey_due_on": ended + timedelta(days=SURVEY_AFTER_DAYS)}
    inviter = placement.invitation.invited_by_id
    told = [inviter] if inviter is not None and inviter != user.id else []
    if is_placement_agency_member(actor, placement) and placement.partner.user_id is not None:
        told = [placement.partner.user_id]
    async with in_transaction() as connection:
        updated = await Placement.filter(id=placement.id, ended_at__isnull=True).using_db(connection).update(
            **values, updated_at=timezone.now())
        if not updated:  # ended by the other side a moment ago
            raise InvalidTransition(N_("This engagement cannot be moved to %(state)s now."), [], {"state": to})
        await audit.record("partner_placement.ended", actor=user, organisation=placement.agency, target=placement,
                           using_db=connection, after={"days_worked": days_worked, "hours_worked": hours_worked})
        for user_id in told:
            await Notification.create(user_id=user_id, kind=ENDED_KIND, payload={"placement": placement.id},
                                      using_db=connection)
        await queue_search_update(placement.partner_id, connection)  # an engagement fewer: room again
    for name, value in values.items():
        setattr(placement, name, value)
    return placement


def _survey_answers(still_in_use: bool, knowhow_retained: int, would_engage_again: bool, comment: str) -> dict:
    errors = {}
    if not 1 <= knowhow_retained <= 5:
        errors["knowhow_retained"] = N_("Choose a value from 1 to 5.")
    if len(comment) > MAX_REPORT:
        errors["comment"] = N_("The comment has at most 4,000 characters.")
    if errors:
        raise ValidationFailed(errors)
    return {"still_in_use": still_in_use, "knowhow_retained": knowhow_retained,
            "would_engage_again": would_engage_again, "comment": comment.strip()}


async def answer_survey(actor: Actor, placement: Placement, *, still_in_use: bool, knowhow_retained: int,
                        would_engage_again: bool, comment: str = "", on: date | None = None) -> Placement:
    """The agency answers the follow-up survey once it is due (answering again replaces the answers)."""
    user = require_user(actor)
    if not may_answer_placement_survey(actor, placement):
        raise NotAllowed("the agency answers the follow-up survey")
    if not survey_open(placement, on):
        raise InvalidTransition(N_("The follow-up survey opens some months after the engagement ends."), [])
    answers = _survey_answers(still_in_use, knowhow_retained, would_engage_again, comment)
    now = timezone.now()
    async with in_transaction() as connection:
        await Placement.filter(id=placement.id).using_db(connection).update(survey=answers, survey_answered_at=now,
                                                                            updated_at=now)
        await audit.record("partner_placement.survey_answered", actor=user, organisation=placement.agency,
                           target=placement, using_db=connection,
                           after={key: answers[key] for key in ("still_in_use", "knowhow_retained", "would_engage_again")})
    placement.survey, placement.survey_answered_at = answers, now
    return placement


async def _survey_recipient(placement: Placement) -> User | None:
    """The person who invited the partner while still in the agency, else an admin of the agency."""
    invited_by = placement.invitation.invited_by_id
    if invited_by is not None:
        user = await User.get_or_none(id=invited_by, is_active=True)
        if user is not None and await Membership.exists(user_id=user.id, organisation_id=placement.agency_id):
            return user
    return await User.filter(memberships__organisation_id=placement.agency_id, memberships__role=Role.ADMIN.value,
                             is_active=True).order_by("id").first()


async def send_due_surveys(on: date | None = None) -> int:
    """Ask for the follow-up surveys that are due (a cron job; idempotent: each is sent once)."""
    day = on or today()
    sent = 0
    for placement in await Placement.filter(ended_at__isnull=False, survey_due_on__lte=day,
                                            survey_sent_at__isnull=True).order_by("id").prefetch_related("invitation"):
        recipient = await _survey_recipient(placement)
        async with in_transaction() as connection:
            claimed = await Placement.filter(id=placement.id, survey_sent_at__isnull=True).using_db(connection).update(
                survey_sent_at=timezone.now())
            if not claimed:
                continue
            if recipient is not None:
                await queue_mail("partner_survey", to=recipient.email, locale=recipient.locale,
                                 key=f"partner_placement:{placement.id}", using_db=connection,
                                 context={"role": role_name(placement.role, recipient.locale),
                                          "placement_id": placement.id})
                await Notification.create(user_id=recipient.id, kind=SURVEY_KIND, payload={"placement": placement.id},
                                          using_db=connection)
        sent += 1
    return sent
