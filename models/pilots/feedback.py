"""Residents' feedback (satisfaction 1–5, an optional comment; no account, no personal data) and the
company's end-of-pilot survey. Comments stay hidden until an owner publishes them."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.pilots.models import CompanySurvey, Feedback, Pilot
from models.policy import Actor
from models.policy.pilots import may_answer_survey, may_give_feedback, may_moderate, runs_pilot, sees_internals

COMMENT_MAX = 1000
LEVELS = (1, 2, 3, 4, 5)
POSITIVE = (4, 5)
SURVEY_QUESTIONS = ("communication", "clarity", "data_access", "payment")


def _satisfaction(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise ValidationFailed({"satisfaction": N_("Choose a satisfaction from 1 to 5.")})
    return value


async def give_feedback(pilot: Pilot, satisfaction: object, comment: str = "") -> Feedback:
    """A resident's answer (the caller has applied the abuse limits)."""
    if not may_give_feedback(pilot):
        raise InvalidTransition(N_("This pilot is not collecting feedback now."), allowed=[])
    level = _satisfaction(satisfaction)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed({"comment": N_("A comment has at most 1,000 characters.")})
    return await Feedback.create(pilot_id=pilot.id, satisfaction=level, comment=comment)


@dataclass
class Satisfaction:
    responses: int
    per_level: dict[int, int]

    @property
    def positive_share(self) -> float | None:
        """The share of 4–5 answers ("positive perception")."""
        if not self.responses:
            return None
        return sum(self.per_level[level] for level in POSITIVE) / self.responses


async def satisfaction_of(pilot: Pilot) -> Satisfaction:
    levels = await Feedback.filter(pilot_id=pilot.id).values_list("satisfaction", flat=True)
    per_level = {level: 0 for level in LEVELS}
    for level in levels:
        per_level[int(level)] += 1  # type: ignore[call-overload]  # Tortoise types values_list(flat=True) as tuples
    return Satisfaction(len(levels), per_level)


async def comments_of(actor: Actor, pilot: Pilot) -> list[Feedback]:
    """Published comments for everyone; all of them for the company, owners and operators."""
    query = Feedback.filter(pilot_id=pilot.id).exclude(comment="")
    if not sees_internals(actor, pilot):
        query = query.filter(published=True)
    return await query.order_by("-id").limit(200)


async def publish_comment(actor: Actor, pilot: Pilot, feedback_id: int, published: bool = True) -> Feedback:
    if not may_moderate(actor, pilot):
        raise NotAllowed("only the pilot's owners publish comments")
    feedback = await Feedback.get_or_none(id=feedback_id, pilot_id=pilot.id)
    if feedback is None:
        raise NotFound("no such comment")
    async with in_transaction() as connection:
        feedback.published = published
        await feedback.save(update_fields=["published", "updated_at"], using_db=connection)
        await audit.record("feedback.published" if published else "feedback.hidden", actor=actor.user, target=feedback,
                           using_db=connection)
    return feedback


async def answer_survey(actor: Actor, pilot: Pilot, satisfaction: object, answers: dict[str, int], comment: str = "") -> CompanySurvey:
    """The company rates how the pilot was run, once it has ended; answering again replaces the answers."""
    if not runs_pilot(actor, pilot):
        raise NotAllowed("the company running the pilot answers its survey")
    if not may_answer_survey(actor, pilot):
        raise InvalidTransition(N_("The survey opens when the pilot has ended."), allowed=[])
    level = _satisfaction(satisfaction)
    clean = {}
    for name, value in (answers or {}).items():
        if name not in SURVEY_QUESTIONS:
            raise ValidationFailed({"answers": N_("Answer the survey's questions only.")})
        clean[name] = _satisfaction(value)
    comment = (comment or "").strip()[:COMMENT_MAX]
    async with in_transaction() as connection:
        survey, _ = await CompanySurvey.update_or_create(
            pilot_id=pilot.id, defaults={"satisfaction": level, "answers": clean, "comment": comment}, using_db=connection)
        await audit.record("pilot.survey_answered", actor=actor.user, target=pilot, using_db=connection)
    return survey


async def survey_of(actor: Actor, pilot: Pilot) -> CompanySurvey | None:
    if not sees_internals(actor, pilot):
        return None
    return await CompanySurvey.get_or_none(pilot_id=pilot.id)
