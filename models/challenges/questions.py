"""Questions and answers on a challenge (procurement fairness).

A company member asks privately until the questions deadline; only the asking company, the
challenge's owners and operators see the question. Once an owner answers, the question and its
answer are public for every bidder alike, without who asked; everyone involved is told in-app.
"""

from __future__ import annotations

from datetime import datetime

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.follows import followers_of, notify
from models.challenges.joint import acting_agency, owner_member_ids
from models.challenges.models import Challenge, ChallengeStatus, Question
from models.core import audit
from models.core.base import select_where
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor
from models.policy.challenges import may_see_askers, may_view_challenge, owns_challenge
from models.proposals.models import Proposal

QUESTION_MAX = 4000
ANSWER_MAX = 10000


def asking_company(actor: Actor) -> Organisation:
    """The approved company the person asks for; only company members ask questions."""
    for membership in actor.memberships:
        organisation = membership.organisation
        if organisation.kind == OrgKind.COMPANY and organisation.status == OrgStatus.APPROVED:
            return organisation
    raise NotAllowed(N_("Only members of an approved company can ask questions."))


def questions_deadline(challenge: Challenge) -> datetime | None:
    return challenge.questions_deadline or challenge.proposals_deadline


def ask_refusal(challenge: Challenge, now: datetime | None = None) -> str | None:
    """Why no question can be asked on the challenge now (an English message id), or None."""
    if challenge.status != ChallengeStatus.PUBLISHED.value:
        return N_("Questions can only be asked while the challenge is open for proposals.")
    deadline = questions_deadline(challenge)
    if deadline is not None and (now or timezone.now()) >= deadline:
        return N_("The deadline for questions has passed.")
    return None


async def ask(actor: Actor, challenge: Challenge, body: str) -> Question:
    company = asking_company(actor)
    refusal = ask_refusal(challenge)
    if refusal:
        raise InvalidTransition(refusal, allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    body = body.strip()
    if not body:
        raise ValidationFailed({"body": N_("Write your question.")})
    if len(body) > QUESTION_MAX:
        raise ValidationFailed({"body": N_("A question can be at most 4,000 characters long.")})
    async with in_transaction():
        question = await Question.create(challenge_id=challenge.id, asker=actor.user, asker_organisation=company, body=body)
        await audit.record("question.asked", actor=actor.user, organisation=company, target=question,
                           after={"challenge": challenge.id})
        await notify(await owner_member_ids(challenge), "question.asked",
                     {"challenge": challenge.id, "question": question.id})
    return question


async def questions_visible_to(actor: Actor, challenge: Challenge) -> list[Question]:
    """Answered questions for everyone; unanswered ones only for the asking company, owners and operators.
    Who asked is fetched only for those who may see it (`may_see_askers`)."""
    if await may_see_askers(actor, challenge):
        return await all_questions_with_askers(challenge)
    return await _questions_where(actor, challenge, '"answered_at" IS NOT NULL')


async def all_questions_with_askers(challenge: Challenge) -> list[Question]:
    """Every question on the challenge with who asked (only for those `may_see_askers`)."""
    return await Question.filter(challenge_id=challenge.id).order_by("created_at", "id").prefetch_related(
        "asker", "asker_organisation")


async def answered_questions(challenge: Challenge) -> list[Question]:
    """The answered questions: public, the same for every reader (who asked is not fetched)."""
    return await select_where(Question, '"challenge_id" = ? AND "answered_at" IS NOT NULL', [challenge.id],
                              '"created_at", "id"')


async def waiting_questions_of(actor: Actor, challenge: Challenge) -> list[Question]:
    """The questions the person or their company asked that are not answered yet."""
    return await _questions_where(actor, challenge, "0 = 1", answered=False)


async def _questions_where(actor: Actor, challenge: Challenge, shown: str, answered: bool | None = None) -> list[Question]:
    """`shown` questions and those the actor or their company asked (answered or not, or only as `answered`
    says), oldest first: the statement made once for each shape (select_where), on every signed-in page."""
    asked, values = [shown], [challenge.id]
    if actor.user is not None:
        asked.append('"asker_id" = ?')
        values.append(actor.user.id)
    if companies := sorted(actor.organisation_ids(OrgKind.COMPANY)):
        asked.append(f'"asker_organisation_id" IN ({", ".join("?" * len(companies))})')
        values += companies
    where = f'"challenge_id" = ? AND ({" OR ".join(asked)})'
    if answered is not None:
        where += ' AND "answered_at" IS NOT NULL' if answered else ' AND "answered_at" IS NULL'
    return await select_where(Question, where, values, '"created_at", "id"')


async def with_asker(question: Question) -> Question:
    await question.fetch_related("asker", "asker_organisation")
    return question


def asked_by(actor: Actor, question: Question) -> bool:
    return (actor.user is not None and question.asker_id == actor.user.id) or (
        question.asker_organisation_id in actor.organisation_ids(OrgKind.COMPANY)
    )


async def get_question(actor: Actor, question_id: int) -> Question:
    """A question the actor may see (with its challenge), or NotFound."""
    question = await Question.get_or_none(id=question_id).prefetch_related("challenge")
    if question is None or not await may_view_challenge(actor, question.challenge):
        raise NotFound("no such question")
    if question.answered_at is None and not asked_by(actor, question) and not await may_see_askers(actor, question.challenge):
        raise NotFound("no such question")
    return question


async def answer(actor: Actor, question: Question, text: str) -> Question:
    """An owner answers: the answer is published, and askers, proposers and followers are told."""
    await question.fetch_related("challenge")
    challenge: Challenge = question.challenge
    if not await owns_challenge(actor, challenge):
        raise NotAllowed(N_("Only the challenge's owners can answer questions."))
    if question.answered_at is not None:
        raise InvalidTransition(N_("This question has already been answered."), allowed=[])
    if challenge.status == ChallengeStatus.CANCELLED.value:
        raise InvalidTransition(N_("Questions on a cancelled challenge can no longer be answered."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    text = text.strip()
    if not text:
        raise ValidationFailed({"answer": N_("Write the answer.")})
    if len(text) > ANSWER_MAX:
        raise ValidationFailed({"answer": N_("An answer can be at most 10,000 characters long.")})
    async with in_transaction():
        updated = await Question.filter(id=question.id, answered_at__isnull=True).update(
            answer=text, answered_by_id=actor.user.id if actor.user else None, answered_at=timezone.now()
        )
        if not updated:  # answered by another owner a moment ago
            raise InvalidTransition(N_("This question has already been answered."), allowed=[])
        await question.refresh_from_db()
        await audit.record("question.answered", actor=actor.user, organisation=acting_agency(actor), target=question,
                           after={"challenge": challenge.id})
        await notify(await _people_to_tell(challenge, question) - {actor.user.id if actor.user else None},
                     "question.answered", {"challenge": challenge.id, "question": question.id})
    return question


async def _people_to_tell(challenge: Challenge, question: Question) -> set[int | None]:
    """The asker, everyone who started a proposal, and the challenge's followers."""
    proposers = await Proposal.filter(challenge_id=challenge.id, created_by_id__not_isnull=True).values_list(
        "created_by_id", flat=True
    )
    return {question.asker_id, *proposers, *await followers_of(challenge)}  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples
