"""Drafting, editing and moving challenges through their lifecycle: one function per transition.

Each function checks the policy and the lifecycle, changes the rows, and writes the audit event and
the outbox rows (search index, notifications) in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.challenges.models import Amendment, Challenge, ChallengeKpi, ChallengeStatus, Criterion, Question
from models.core import audit, outbox
from models.core.base import translated
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.core.transitions import next_states
from models.identity.accounts import User
from models.identity.orgs import Category
from models.policy import Actor
from models.policy.challenges import may_draft_challenges, may_edit_challenge, may_view_challenge, owns_challenge
from models.proposals.models import Proposal
from models.review.closing import finalise_problem, queue_assignment, tell_companies

S = ChallengeStatus

# Who may move a challenge from one state to the next: "owner", "operator" or "system" (jobs).
TRANSITIONS: dict[ChallengeStatus, dict[ChallengeStatus, str]] = {
    S.DRAFT: {S.IN_REVIEW: "owner", S.CANCELLED: "owner"},
    S.IN_REVIEW: {S.PUBLISHED: "operator", S.SCHEDULED: "operator", S.CHANGES_REQUESTED: "operator", S.CANCELLED: "owner"},
    S.CHANGES_REQUESTED: {S.IN_REVIEW: "owner", S.CANCELLED: "owner"},
    S.SCHEDULED: {S.PUBLISHED: "system", S.CANCELLED: "owner"},
    S.PUBLISHED: {S.CLOSED: "system", S.CANCELLED: "owner"},
    S.CLOSED: {S.DECIDED: "owner"},
    S.DECIDED: {},
    S.CANCELLED: {},
}
EDITABLE = (S.DRAFT, S.CHANGES_REQUESTED)
DEADLINES = ("questions_deadline", "proposals_deadline", "review_deadline")
MINIMUM_NOTICE = timedelta(days=3)  # for owners bringing a deadline forward; the message says "3 days"
AMENDABLE_FIELDS = ("questions_deadline", "proposals_deadline", "review_deadline", "criteria")
TEXT_FIELDS = ("title", "summary", "situation", "problem", "outcome")
PLAIN_FIELDS = ("tags", "languages", "budget_min_yen", "budget_max_yen", "pilot_months",
                "questions_deadline", "proposals_deadline", "review_deadline", "publish_at", "blind_review")
LEVELS = 5


@dataclass
class CriterionInput:
    name: dict[str, str]
    weight: int
    levels: list[dict[str, str]]


@dataclass
class KpiInput:
    name: dict[str, str]
    unit: str = ""
    baseline: float | None = None
    target: float | None = None


@dataclass
class ChallengeChanges:
    """What a person sets on a challenge; None means "leave as it is"."""

    values: dict[str, Any] = field(default_factory=dict)  # TEXT_FIELDS, PLAIN_FIELDS and "category" (slug)
    criteria: list[CriterionInput] | None = None
    kpis: list[KpiInput] | None = None


def _check_consistency(values: dict[str, Any]) -> dict[str, str]:
    """Rules between fields that must always hold, even in a draft."""
    errors: dict[str, str] = {}
    low, high = values.get("budget_min_yen"), values.get("budget_max_yen")
    if low is not None and high is not None and low > high:
        errors["budget_max_yen"] = N_("The maximum budget must not be less than the minimum.")
    q, p, r = values.get("questions_deadline"), values.get("proposals_deadline"), values.get("review_deadline")
    if q and p and q > p:
        errors["questions_deadline"] = N_("The questions deadline must come before the proposals deadline.")
    if p and r and p >= r:
        errors["review_deadline"] = N_("The review deadline must come after the proposals deadline.")
    return errors


def _check_criteria(criteria: list[CriterionInput]) -> dict[str, str]:
    if not criteria:
        return {}
    if sum(c.weight for c in criteria) != 100:
        return {"criteria": N_("The weights of the evaluation criteria must add up to 100.")}
    for criterion in criteria:
        if not any(criterion.name.values()):
            return {"criteria": N_("Every evaluation criterion needs a name.")}
        if len(criterion.levels) != LEVELS:
            return {"criteria": N_("Every evaluation criterion needs a description for each score from 1 to 5.")}
    return {}


async def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    category = await Category.get_or_none(slug=slug)
    if category is None:
        raise ValidationFailed({"category": N_("Choose one of the categories.")})
    return category


async def problems_in(changes: ChallengeChanges, challenge: Challenge | None = None) -> dict[str, str]:
    """What saving these changes would refuse (message ids by field), without writing anything: a page shows
    them together with its form's own errors, so that a person sees every error at once."""
    values = dict(changes.values)
    errors: dict[str, str] = {}
    slug = values.pop("category", None)
    if slug and await Category.get_or_none(slug=slug) is None:
        errors["category"] = N_("Choose one of the categories.")
    merged = ({name: getattr(challenge, name) for name in PLAIN_FIELDS} if challenge else {}) | values
    return errors | _check_consistency(merged) | _check_criteria(changes.criteria or [])


def _snapshot(challenge: Challenge) -> dict[str, Any]:
    return {
        "status": challenge.status,
        "questions_deadline": challenge.questions_deadline.isoformat() if challenge.questions_deadline else None,
        "proposals_deadline": challenge.proposals_deadline.isoformat() if challenge.proposals_deadline else None,
        "review_deadline": challenge.review_deadline.isoformat() if challenge.review_deadline else None,
    }


async def _write_details(challenge: Challenge, changes: ChallengeChanges) -> None:
    if changes.criteria is not None:
        await Criterion.filter(challenge=challenge).delete()
        for position, c in enumerate(changes.criteria):
            await Criterion.create(challenge=challenge, position=position, name=c.name, weight=c.weight, levels=c.levels)
    if changes.kpis is not None:
        await ChallengeKpi.filter(challenge=challenge).delete()
        for position, k in enumerate(changes.kpis):
            await ChallengeKpi.create(challenge=challenge, position=position, name=k.name, unit=k.unit,
                                      baseline=k.baseline, target=k.target)


def _index_later(challenge: Challenge):
    return outbox.enqueue("search", f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id})


async def create_challenge(actor: Actor, changes: ChallengeChanges) -> Challenge:
    """An agency member starts a draft for their agency."""
    if not may_draft_challenges(actor) or actor.user is None:
        raise NotAllowed("only agency members draft challenges")
    owner = next(m.organisation for m in actor.memberships if m.organisation.kind == "agency")
    values = dict(changes.values)
    category = await _category(values.pop("category", None))
    errors = _check_consistency(values) | _check_criteria(changes.criteria or [])
    if errors:
        raise ValidationFailed(errors)
    async with in_transaction():
        challenge = await Challenge.create(owner=owner, created_by=actor.user, category=category, **values)
        await _write_details(challenge, changes)
        await audit.record("challenge.created", actor=actor.user, organisation=owner, target=challenge,
                           after={"title": challenge.title})
    return challenge


async def get_challenge(actor: Actor, challenge_id: int) -> Challenge:
    challenge = await Challenge.get_or_none(id=challenge_id).select_related("owner", "category")
    if challenge is None or not await may_view_challenge(actor, challenge):
        raise NotFound("no such challenge")
    return challenge


async def update_challenge(actor: Actor, challenge: Challenge, changes: ChallengeChanges, reason: str = "") -> Challenge:
    """Edit a draft freely; on a published challenge only deadlines and criteria, as a recorded amendment."""
    if not await may_edit_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners edit it")
    status = S(challenge.status)
    if status == S.PUBLISHED:
        return await _amend(actor, challenge, changes, reason)
    if status not in EDITABLE:
        raise InvalidTransition(N_("This challenge can no longer be edited."), allowed=await allowed_transitions(actor, challenge))
    values = dict(changes.values)
    category_given = "category" in values
    category = await _category(values.pop("category", None))
    merged = {name: getattr(challenge, name) for name in PLAIN_FIELDS} | values
    errors = _check_consistency(merged) | _check_criteria(changes.criteria or [])
    if errors:
        raise ValidationFailed(errors)
    async with in_transaction():
        for name, value in values.items():
            setattr(challenge, name, value)
        if category_given:
            challenge.category = category
        await challenge.save()
        await _write_details(challenge, changes)
        await audit.record("challenge.updated", actor=actor.user, organisation=challenge.owner, target=challenge,
                           after={"fields": sorted([*values, *(["category"] if category_given else [])])})
    return challenge


async def _amend(actor: Actor, challenge: Challenge, changes: ChallengeChanges, reason: str) -> Challenge:
    if set(changes.values) - set(AMENDABLE_FIELDS) or changes.kpis is not None:
        raise InvalidTransition(N_("A published challenge can only be amended in its deadlines and criteria."),
                                allowed=await allowed_transitions(actor, challenge))
    if not reason.strip():
        raise ValidationFailed({"reason": N_("Say why the challenge is amended; every company involved is told.")})
    before = _snapshot(challenge)
    merged = {name: getattr(challenge, name) for name in PLAIN_FIELDS} | changes.values
    errors = _check_consistency(merged) | _check_criteria(changes.criteria or [])
    deadline = merged.get("proposals_deadline")
    if deadline is None or deadline <= timezone.now():
        errors["proposals_deadline"] = N_("The proposals deadline must be in the future.")
    if not actor.is_operator:
        errors = _too_short_notice(challenge, changes.values) | errors
    if errors:
        raise ValidationFailed(errors)
    async with in_transaction():
        for name, value in changes.values.items():
            setattr(challenge, name, value)
        await challenge.save()
        await _write_details(challenge, changes)
        after = _snapshot(challenge) | ({"criteria": "changed"} if changes.criteria is not None else {})
        amendment = await Amendment.create(challenge=challenge, author=actor.user, reason=reason.strip(),
                                           changes={"before": before, "after": after})
        await audit.record("challenge.amended", actor=actor.user, organisation=challenge.owner, target=challenge,
                           before=before, after=after | {"reason": reason.strip()})
        for user_id in await _people_involved(challenge):
            await Notification.create(user_id=user_id, kind="challenge.amended",
                                      payload={"challenge": challenge.id, "amendment": amendment.id})
        await _index_later(challenge)
    return challenge


def _too_short_notice(challenge: Challenge, values: dict[str, Any]) -> dict[str, str]:
    """Owners may bring a public deadline forward only to at least MINIMUM_NOTICE from now."""
    errors: dict[str, str] = {}
    for name in DEADLINES:
        before, after = getattr(challenge, name), values.get(name)
        if before and after and after < before and after < timezone.now() + MINIMUM_NOTICE:
            errors[name] = N_("A deadline can be brought forward only to at least 3 days from now.")
    return errors


async def _people_involved(challenge: Challenge) -> set[int]:
    """Everyone who asked a question, started a proposal or follows the challenge."""
    askers = await Question.filter(challenge=challenge, asker_id__not_isnull=True).values_list("asker_id", flat=True)
    authors = await Proposal.filter(challenge=challenge, created_by_id__not_isnull=True).values_list("created_by_id", flat=True)
    followers = await challenge.followers.all().values_list("user_id", flat=True)
    return set(askers) | set(authors) | set(followers)  # type: ignore[arg-type,return-value]  # Tortoise types values_list(flat=True) as tuples


def missing_for_review(challenge: Challenge, criteria: list[Criterion]) -> dict[str, str]:
    """What a draft still lacks before an operator can review it."""
    errors: dict[str, str] = {}
    if not any((challenge.title or {}).values()):
        errors["title"] = N_("Give the challenge a title.")
    if not any((challenge.summary or {}).values()):
        errors["summary"] = N_("Write a summary.")
    if not any((challenge.problem or {}).values()):
        errors["problem"] = N_("Describe the problem.")
    if challenge.category_id is None:
        errors["category"] = N_("Choose one of the categories.")
    if not challenge.languages:
        errors["languages"] = N_("Say which languages the content is in.")
    for name in ("questions_deadline", "proposals_deadline", "review_deadline"):
        moment: datetime | None = getattr(challenge, name)
        if moment is None:
            errors[name] = N_("Set this deadline.")
        elif moment <= timezone.now():
            errors[name] = N_("This deadline has already passed.")
    if not criteria:
        errors["criteria"] = N_("Add the evaluation criteria.")
    return errors | _check_consistency({n: getattr(challenge, n) for n in PLAIN_FIELDS}) | _check_criteria(
        [CriterionInput(name=c.name, weight=c.weight, levels=c.levels) for c in criteria]
    )


async def allowed_transitions(actor: Actor, challenge: Challenge) -> list[str]:
    """The states this person may move the challenge to now (TRANSITIONS, plus closing and deciding,
    whose conditions the table cannot express: the proposals deadline; every review in, every proposal decided)."""
    is_owner = await owns_challenge(actor, challenge)
    roles = ({"operator"} if actor.is_operator else set()) | ({"owner"} if is_owner else set())
    allowed = next_states(TRANSITIONS, S(challenge.status), roles)
    if challenge.status == S.PUBLISHED and is_owner and _deadline_passed(challenge):
        allowed.insert(0, S.CLOSED.value)
    if S.DECIDED.value in allowed and await finalise_problem(challenge) is not None:
        allowed.remove(S.DECIDED.value)
    return allowed


async def transition(actor: Actor, challenge: Challenge, to: str, *, reason: str = "",
                     publish_at: datetime | None = None) -> Challenge:
    """Move a challenge to `to`, as a person (owners, operators). Jobs use `publish_due` and `close_due`."""
    if to in (S.CLOSED.value, S.DECIDED.value):
        return await _close_or_decide(actor, challenge, to, reason)
    try:
        target = S(to)
    except ValueError:
        target = None
    allowed = await allowed_transitions(actor, challenge)
    if target is None or str(target) not in allowed:
        if not allowed and not actor.is_operator and not await owns_challenge(actor, challenge):
            raise NotAllowed("not an owner of this challenge")
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    if target == S.IN_REVIEW:
        errors = missing_for_review(challenge, await Criterion.filter(challenge=challenge))
        if errors:
            raise ValidationFailed(errors)
    if target in (S.CANCELLED, S.CHANGES_REQUESTED) and not reason.strip():
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    if target == S.PUBLISHED and challenge.publish_at and challenge.publish_at > timezone.now() and publish_at is None:
        target = S.SCHEDULED
    if target == S.SCHEDULED:
        when = publish_at or challenge.publish_at
        if when is None or when <= timezone.now():
            raise ValidationFailed({"publish_at": N_("Choose a publication time in the future.")})
        challenge.publish_at = when
    return await _move(actor.user, challenge, target, reason)


# An operator's answer to an agency's challenge, which the agency is told of (in Kyoso and by e-mail).
TOLD_TO_AGENCY = (S.PUBLISHED, S.SCHEDULED, S.CHANGES_REQUESTED)


async def _tell_agency(challenge: Challenge, target: ChallengeStatus, reason: str, connection: Any) -> None:
    """Every active member of the owning agency gets a notification; the person who drafted the challenge (else
    the agency's admins) gets one e-mail, with the operator's reason when it was sent back."""
    members = await User.filter(memberships__organisation_id=challenge.owner_id, is_active=True).using_db(connection)
    for member in members:
        await Notification.create(user_id=member.id, kind=f"challenge.{target.value}", using_db=connection,
                                  payload={"challenge": challenge.id})
    readers = [m for m in members if m.id == challenge.created_by_id] or await User.filter(
        memberships__organisation_id=challenge.owner_id, memberships__role="admin", is_active=True).using_db(connection)
    for reader in readers:
        await queue_mail("challenge_status", to=reader.email, locale=reader.locale, using_db=connection,
                         key=f"challenge_status:{challenge.id}", context={
                             "challenge_title": translated(challenge.title, reader.locale), "challenge_id": challenge.id,
                             "status": target.value, "reason": reason.strip(),
                             "publish_at": challenge.publish_at.isoformat() if challenge.publish_at else ""})


async def _move(user: User | None, challenge: Challenge, target: ChallengeStatus, reason: str = "") -> Challenge:
    before = challenge.status
    async with in_transaction() as connection:
        challenge.status = target.value
        if target == S.PUBLISHED:
            challenge.published_at = timezone.now()
        if reason:
            challenge.status_message = reason.strip()
        await challenge.save()
        await audit.record(f"challenge.{target.value}", actor=user, organisation=challenge.owner, target=challenge,
                           before={"status": before}, after={"status": target.value, "reason": reason.strip()})
        await _index_later(challenge)
        if target == S.PUBLISHED:  # saved searches are matched by the "notify" outbox consumer
            await outbox.enqueue("notify", f"challenge:{challenge.id}", {"kind": "challenge_published", "id": challenge.id})
        if target in TOLD_TO_AGENCY:
            await _tell_agency(challenge, target, reason, connection)
    return challenge


async def publish_due(now: datetime | None = None) -> list[int]:
    """Publish every scheduled challenge whose time has come (a job; idempotent)."""
    now = now or timezone.now()
    published = []
    for challenge in await Challenge.filter(status=S.SCHEDULED.value, publish_at__lte=now).prefetch_related("owner"):
        await _move(None, challenge, S.PUBLISHED)
        published.append(challenge.id)
    return published


# --- closing and deciding: the review workflow (PRODUCT.md step 5) ----------------------------


async def close(user: User | None, challenge: Challenge, reason: str = "") -> bool:
    """published → closed, with the review's start queued in the same transaction; False if already closed."""
    async with in_transaction() as connection:
        locked = await Challenge.filter(id=challenge.id).select_for_update().using_db(connection).first()
        if locked is None or locked.status != S.PUBLISHED:
            return False
        await challenge.fetch_related("owner", using_db=connection)
        await _move(user, challenge, S.CLOSED, reason)
        await queue_assignment(challenge.id, begin=True, using_db=connection)
        authors = await Proposal.filter(challenge_id=challenge.id, status="submitted",
                                        created_by_id__not_isnull=True).values_list("created_by_id", flat=True)
        for user_id in sorted(set(authors)):
            await Notification.create(user_id=user_id, kind="challenge.closed", payload={"challenge": challenge.id},
                                      using_db=connection)
    return True


async def close_due(now: datetime | None = None) -> list[int]:
    """Close every published challenge whose proposals deadline has passed (a job; idempotent)."""
    now = now or timezone.now()
    closed = []
    for challenge in await Challenge.filter(status=S.PUBLISHED.value, proposals_deadline__lte=now).order_by("id"):
        if await close(None, challenge):
            closed.append(challenge.id)
    return closed


def _deadline_passed(challenge: Challenge, now: datetime | None = None) -> bool:
    return challenge.proposals_deadline is not None and challenge.proposals_deadline <= (now or timezone.now())


async def _close_or_decide(actor: Actor, challenge: Challenge, to: str, reason: str) -> Challenge:
    """Owners close once the proposals deadline has passed, and decide once every review is in and every
    proposal decided (`models.review.closing.finalise_problem`)."""
    if not await owns_challenge(actor, challenge):
        if not actor.is_operator:
            raise NotAllowed("not an owner of this challenge")
        raise InvalidTransition(N_("This change of state is not possible now."),
                                allowed=await allowed_transitions(actor, challenge))
    if to == S.DECIDED.value:
        try:
            return await _decide(actor, challenge, reason)
        except InvalidTransition as exc:  # say what is possible instead
            raise InvalidTransition(exc.message, allowed=await allowed_transitions(actor, challenge)) from None
    if challenge.status != S.PUBLISHED or not _deadline_passed(challenge):
        raise InvalidTransition(N_("A challenge can be closed once its proposals deadline has passed."),
                                allowed=await allowed_transitions(actor, challenge))
    await close(actor.user, challenge, reason)
    return await Challenge.get(id=challenge.id).prefetch_related("owner", "category")


async def _decide(actor: Actor, challenge: Challenge, reason: str) -> Challenge:
    """closed → decided, by an owner, when `finalise_problem` finds nothing; every company is told once."""
    async with in_transaction() as connection:
        locked = await Challenge.filter(id=challenge.id).select_for_update().using_db(connection).get()
        problem = await finalise_problem(locked)
        if problem is not None:
            raise InvalidTransition(problem, allowed=[])
        await challenge.fetch_related("owner", using_db=connection)
        await _move(actor.user, challenge, S.DECIDED, reason)
        await tell_companies(challenge, connection)
    return challenge
