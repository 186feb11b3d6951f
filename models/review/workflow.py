"""The review workflow (PRODUCT.md step 5): the panel, assignment, recusal and scoring (reminders: models/reminders.py).

One function per change; each checks the policy and the state, changes the rows, and writes the audit
event, the notifications and the outbox rows (e-mails, follow-up jobs) in one transaction.

Assignment runs as a job (`begin_review`, `run_assignment`): it reads the challenge, its proposals under
review, its panel, every conflict and the assignments already made, asks `models.review.assignment` for the
missing reviewers, and writes the whole result in one transaction while holding the challenge's row.
The algorithm is deterministic, so a run that crashed (and wrote nothing) is re-run to the same result,
and a run with nothing missing writes nothing. The follow-up jobs travel through the outbox (topic
"review"), committed with the change that needs them: closing, a recusal, a new panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeStatus, CoOwner, Criterion
from models.core import audit, outbox
from models.core.base import translated
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.identity.accounts import Membership, Role, User
from models.identity.orgs import Organisation
from models.policy import Actor, may_follow_reviews, owns_challenge
from models.proposals.models import Proposal, ProposalStatus
from models.review import conflicts
from models.review.assignment import AssignmentResult, ProposalSlot, Reviewer, reassign_after_recusal
from models.review.models import Assignment, AssignmentStatus, PanelMember, Review, ReviewStatus
from models.review.scoring import MAX_SCORE, MIN_SCORE, review_total

TOPIC = "review"  # outbox: {"kind": "begin" | "assign", "challenge": id}
JST = ZoneInfo("Asia/Tokyo")
A = AssignmentStatus
REVIEWABLE = (ProposalStatus.UNDER_REVIEW.value, ProposalStatus.SHORTLISTED.value)
MAX_REVIEWS_PER_PROPOSAL = 20
REMOVED_BY_OWNER = N_("Taken off the proposal by an owner.")
CONFLICT_DECLARED = N_("Conflict of interest declared.")
SYSTEM_REASONS = (REMOVED_BY_OWNER, CONFLICT_DECLARED)  # recusal reasons written by Kyoso: message ids


# --- follow-up jobs ----------------------------------------------------------------------------


async def queue_assignment(challenge_id: int, *, begin: bool = False, using_db: Any = None) -> None:
    """Ask for an assignment run (after `start_review`, if `begin`), in the caller's transaction."""
    await outbox.enqueue(TOPIC, f"review:{challenge_id}", {"kind": "begin" if begin else "assign",
                                                            "challenge": challenge_id}, using_db=using_db)


async def consume(message: outbox.OutboxMessage) -> None:
    """Outbox consumer for topic "review"."""
    challenge_id = int(message.payload["challenge"])
    if message.payload.get("kind") == "begin":
        await begin_review(challenge_id)
    else:
        await run_assignment(challenge_id)


async def begin_review(challenge_id: int) -> AssignmentResult | None:
    """After closing: the submitted proposals go under review (each in its own transaction), then assignment."""
    from models.proposals.lifecycle import start_review  # proposal_lifecycle imports policy, as we do

    await start_review(challenge_id)
    return await run_assignment(challenge_id)


# --- people ------------------------------------------------------------------------------------


def _norm(tags: list[Any] | None) -> frozenset[str]:
    return frozenset(str(t).strip().lower() for t in tags or [] if str(t).strip())


async def owner_people(challenge: Challenge) -> list[User]:
    """Active members of the owner agency and of accepted co-owners: the people told about the review."""
    agencies = {challenge.owner_id} | set(await CoOwner.filter(
        challenge_id=challenge.id, accepted_at__not_isnull=True).values_list("organisation_id", flat=True))
    return await User.filter(memberships__organisation_id__in=list(agencies), is_active=True).distinct().order_by("id")


async def escalation_contact(challenge: Challenge) -> User | None:
    """Who gets the owners' e-mails: the challenge's author while active and still an owner, else an admin."""
    if challenge.created_by_id is not None:
        author = await User.get_or_none(id=challenge.created_by_id, is_active=True)
        if author is not None and await Membership.exists(user_id=author.id, organisation_id=challenge.owner_id):
            return author
    return await User.filter(memberships__organisation_id=challenge.owner_id, memberships__role=Role.ADMIN.value,
                             is_active=True).order_by("id").first()


async def _notify(users: list[User] | list[int], kind: str, payload: dict[str, Any], using_db: Any) -> None:
    for user in users:
        await Notification.create(user_id=user if isinstance(user, int) else user.id, kind=kind, payload=payload,
                                  using_db=using_db)


# --- the panel ---------------------------------------------------------------------------------


async def panel_of(actor: Actor, challenge: Challenge) -> list[User]:
    if not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    return await User.filter(panels__challenge_id=challenge.id).order_by("id")


async def reviewer_pool() -> list[User]:
    return await User.filter(is_reviewer=True, is_active=True).order_by("name", "id")


async def set_panel(actor: Actor, challenge: Challenge, reviewer_ids: list[int], reviews_per_proposal: int,
                    max_per_reviewer: int | None) -> list[User]:
    """Owners choose the reviewers from the pool, how many review each proposal and the cap per reviewer."""
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners choose its panel")
    if challenge.status in (ChallengeStatus.DECIDED, ChallengeStatus.CANCELLED):
        raise InvalidTransition(N_("The panel can no longer be changed."), allowed=[])
    errors = {}
    if not 1 <= reviews_per_proposal <= MAX_REVIEWS_PER_PROPOSAL:
        errors["reviews_per_proposal"] = N_("Choose between 1 and 20 reviews per proposal.")
    if max_per_reviewer is not None and max_per_reviewer < 1:
        errors["max_per_reviewer"] = N_("A reviewer must be able to take at least one review.")
    wanted = sorted(set(reviewer_ids))
    found = await User.filter(id__in=wanted, is_reviewer=True, is_active=True).order_by("id")
    if len(found) != len(wanted):
        errors["reviewers"] = N_("Choose reviewers from the pool of reviewers.")
    if errors:
        raise ValidationFailed(errors)
    before_ids = set(await PanelMember.filter(challenge_id=challenge.id).values_list("reviewer_id", flat=True))
    before = {"reviewers": sorted(before_ids), "reviews_per_proposal": challenge.reviews_per_proposal,
              "max_per_reviewer": challenge.max_per_reviewer}
    async with in_transaction() as connection:
        await Challenge.filter(id=challenge.id).using_db(connection).update(
            reviews_per_proposal=reviews_per_proposal, max_per_reviewer=max_per_reviewer, updated_at=timezone.now())
        challenge.reviews_per_proposal, challenge.max_per_reviewer = reviews_per_proposal, max_per_reviewer
        await PanelMember.filter(challenge_id=challenge.id, reviewer_id__not_in=wanted).using_db(connection).delete()
        added = [user for user in found if user.id not in before_ids]
        for user in added:
            await PanelMember.create(challenge_id=challenge.id, reviewer_id=user.id, using_db=connection)
        await _notify(added, "review.panel_added", {"challenge": challenge.id}, connection)
        after = {"reviewers": wanted, "reviews_per_proposal": reviews_per_proposal, "max_per_reviewer": max_per_reviewer}
        await audit.record("challenge.panel_changed", actor=actor.user,
                           organisation=await Organisation.get(id=challenge.owner_id, using_db=connection), target=challenge, before=before, after=after, using_db=connection)
        if challenge.status == ChallengeStatus.CLOSED:
            await queue_assignment(challenge.id, using_db=connection)
    return list(found)


# --- assignment --------------------------------------------------------------------------------


@dataclass
class Plan:
    challenge: Challenge
    proposals: list[Proposal]
    result: AssignmentResult
    detected: set[conflicts.Found]


async def plan(challenge: Challenge, statuses: tuple[str, ...] = REVIEWABLE, using_db: Any = None) -> Plan:
    """What the assignment algorithm gives for the current data (reads only)."""
    await challenge.fetch_related("category", using_db=using_db)
    proposals = await Proposal.filter(challenge_id=challenge.id, status__in=list(statuses)).order_by("id").using_db(using_db)
    panel = await User.filter(panels__challenge_id=challenge.id, is_reviewer=True, is_active=True).order_by("id").using_db(using_db)
    counted = await Assignment.filter(proposal__challenge_id=challenge.id).exclude(
        proposal__status__in=[ProposalStatus.WITHDRAWN.value, ProposalStatus.INELIGIBLE.value]
    ).using_db(using_db).values_list("proposal_id", "reviewer_id", "status")
    load: dict[int, int] = {}
    held: dict[int, set[int]] = {}
    recused = set()
    for proposal_id, reviewer_id, status in counted:
        if status == A.RECUSED:
            recused.add((reviewer_id, proposal_id))
        else:
            load[reviewer_id] = load.get(reviewer_id, 0) + 1
            held.setdefault(proposal_id, set()).add(reviewer_id)
    detected = await conflicts.detect(panel, proposals)
    excluded = {(f.user_id, f.proposal_id) for f in detected} | await conflicts.stored_pairs([u.id for u in panel], proposals)
    tags = _norm(challenge.tags) | (_norm([challenge.category.slug]) if challenge.category else frozenset())
    reviewers = [Reviewer(u.id, _norm(u.expertise), load.get(u.id, 0)) for u in panel]
    slots = [ProposalSlot(p.id, tags, challenge.reviews_per_proposal, frozenset(held.get(p.id, ()))) for p in proposals]
    result = reassign_after_recusal(reviewers, slots, recused, excluded, challenge.max_per_reviewer)
    return Plan(challenge, proposals, result, detected)


async def run_assignment(challenge_id: int) -> AssignmentResult | None:
    """Fill every missing place of a closed challenge's proposals (a job; idempotent; one transaction)."""
    async with in_transaction() as connection:
        challenge = await Challenge.filter(id=challenge_id).select_for_update().using_db(connection).first()
        if challenge is None or challenge.status != ChallengeStatus.CLOSED:
            return None
        found = await plan(challenge, using_db=connection)
        stored = await conflicts.record_detected(found.detected, using_db=connection)
        if not found.result.assignments and not stored:
            return found.result
        await _write_assignments(challenge, found.result, connection)
        await audit.record("challenge.assigned", target=challenge, using_db=connection, after={
            "assignments": [list(pair) for pair in found.result.assignments], "conflicts_recorded": stored,
            "shortfalls": [{"proposal": s.proposal_id, "missing": s.missing, "eligible": s.eligible,
                            "limited_by": s.limited_by} for s in found.result.shortfalls]})
    return found.result


async def _write_assignments(challenge: Challenge, result: AssignmentResult, connection: Any) -> None:
    by_reviewer: dict[int, int] = {}
    for proposal_id, reviewer_id in result.assignments:
        assignment = await Assignment.create(proposal_id=proposal_id, reviewer_id=reviewer_id,
                                             due_at=challenge.review_deadline, using_db=connection)
        await Notification.create(user_id=reviewer_id, kind="review.assigned", using_db=connection, payload={
            "challenge": challenge.id, "assignment": assignment.id})
        by_reviewer[reviewer_id] = by_reviewer.get(reviewer_id, 0) + 1
    for reviewer in await User.filter(id__in=list(by_reviewer)).using_db(connection):
        await _assignment_mail(challenge, reviewer, by_reviewer[reviewer.id], connection)


async def _assignment_mail(challenge: Challenge, reviewer: User, count: int, connection: Any) -> None:
    await queue_mail("assignment", to=reviewer.email, locale=reviewer.locale, key=f"review:{challenge.id}:{reviewer.id}",
                     using_db=connection, context={
                         "challenge_title": translated(challenge.title, reviewer.locale), "challenge_id": challenge.id,
                         "count": count, "due_at": challenge.review_deadline.isoformat() if challenge.review_deadline else ""})


async def get_assignment(actor: Actor, assignment_id: int) -> Assignment:
    """The assignment, for its reviewer and the challenge's owners and operators; NotFound for anyone else."""
    assignment = await Assignment.get_or_none(id=assignment_id).prefetch_related("proposal", "reviewer")
    if assignment is None or actor.user is None:
        raise NotFound("no such assignment")
    if assignment.reviewer_id == actor.user.id:
        return assignment
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    if not await may_follow_reviews(actor, challenge):
        raise NotFound("no such assignment")
    return assignment


async def _owned_closed(actor: Actor, challenge: Challenge) -> None:
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners adjust its assignments")
    if challenge.status != ChallengeStatus.CLOSED:
        raise InvalidTransition(N_("Assignments can be changed only while the challenge is under review."), allowed=[])


async def add_assignment(actor: Actor, challenge: Challenge, proposal_id: int, reviewer_id: int) -> Assignment:
    """An owner assigns a reviewer by hand: from the pool, never one with a conflict of interest."""
    await _owned_closed(actor, challenge)
    proposal = await Proposal.get_or_none(id=proposal_id, challenge_id=challenge.id, status__in=list(REVIEWABLE))
    if proposal is None:
        raise ValidationFailed({"proposal_id": N_("Choose one of the proposals under review.")})
    reviewer = await User.get_or_none(id=reviewer_id, is_reviewer=True, is_active=True)
    if reviewer is None:
        raise ValidationFailed({"reviewer_id": N_("Choose reviewers from the pool of reviewers.")})
    if await conflicts.is_conflicted(reviewer, proposal):
        raise ValidationFailed({"reviewer_id": N_("This reviewer has a conflict of interest with this proposal.")})
    existing = await Assignment.get_or_none(proposal_id=proposal.id, reviewer_id=reviewer.id)
    if existing is not None:
        message = N_("This reviewer withdrew from this proposal.") if existing.status == A.RECUSED else N_(
            "This reviewer is already assigned to this proposal.")
        raise ValidationFailed({"reviewer_id": message})
    try:
        async with in_transaction() as connection:
            if not await PanelMember.filter(challenge_id=challenge.id, reviewer_id=reviewer.id).using_db(connection).exists():
                await PanelMember.create(challenge_id=challenge.id, reviewer_id=reviewer.id, using_db=connection)
            assignment = await Assignment.create(proposal=proposal, reviewer=reviewer, due_at=challenge.review_deadline,
                                                 using_db=connection)
            await audit.record("assignment.added", actor=actor.user, target=assignment, using_db=connection,
                               after={"proposal": proposal.id, "reviewer": reviewer.id})
            await _notify([reviewer], "review.assigned", {"challenge": challenge.id, "assignment": assignment.id}, connection)
            await _assignment_mail(challenge, reviewer, 1, connection)
    except IntegrityError:  # assigned by someone else at the same moment
        raise ValidationFailed({"reviewer_id": N_("This reviewer is already assigned to this proposal.")}) from None
    return assignment


async def remove_assignment(actor: Actor, assignment: Assignment) -> Assignment:
    """An owner takes a reviewer off a proposal before they submit. The row stays (recused, "removed") so
    that neither the record nor a later assignment run brings the same reviewer back."""
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    await _owned_closed(actor, challenge)
    if assignment.status != A.ASSIGNED:
        raise InvalidTransition(N_("Only a review not yet submitted can be taken away."), allowed=[])
    async with in_transaction() as connection:
        updated = await Assignment.filter(id=assignment.id, status=A.ASSIGNED.value).using_db(connection).update(
            status=A.RECUSED.value, recusal_reason=REMOVED_BY_OWNER, updated_at=timezone.now())
        if not updated:
            raise InvalidTransition(N_("Only a review not yet submitted can be taken away."), allowed=[])
        await audit.record("assignment.removed", actor=actor.user, target=assignment, using_db=connection,
                           before={"status": assignment.status}, after={"status": A.RECUSED.value})
    assignment.status = A.RECUSED.value
    return assignment


# --- recusal, scoring, reopening ---------------------------------------------------------------


async def allowed_transitions(actor: Actor, assignment: Assignment) -> list[str]:
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    if challenge.status != ChallengeStatus.CLOSED or assignment.proposal.status not in REVIEWABLE:
        return []
    moves = []
    if actor.user is not None and assignment.reviewer_id == actor.user.id and assignment.status == A.ASSIGNED:
        moves += [A.SUBMITTED.value, A.RECUSED.value]
    if assignment.status == A.SUBMITTED and await owns_challenge(actor, challenge):
        moves.append(A.ASSIGNED.value)
    return moves


async def transition(actor: Actor, assignment: Assignment, to: str, reason: str = "") -> Assignment:
    """Move an assignment: its reviewer submits or recuses; an owner reopens a submitted review ("assigned")."""
    allowed = await allowed_transitions(actor, assignment)
    if to not in allowed:
        if actor.user is None or (assignment.reviewer_id != actor.user.id and not await owns_challenge(
                actor, await Challenge.get(id=assignment.proposal.challenge_id))):
            raise NotAllowed("neither the reviewer nor an owner")
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    if to == A.SUBMITTED:
        return await submit_review(actor, assignment)
    if to == A.RECUSED:
        return await recuse(actor, assignment, reason)
    return await reopen_review(actor, assignment, reason)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    return reason


async def recuse(actor: Actor, assignment: Assignment, reason: str) -> Assignment:
    """The reviewer steps down, saying why; a reassignment fills the place."""
    reason = _reason(reason)
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    async with in_transaction() as connection:
        updated = await Assignment.filter(id=assignment.id, status=A.ASSIGNED.value).using_db(connection).update(
            status=A.RECUSED.value, recusal_reason=reason, updated_at=timezone.now())
        if not updated:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        await audit.record("assignment.recused", actor=actor.user, target=assignment, using_db=connection,
                           before={"status": A.ASSIGNED.value}, after={"status": A.RECUSED.value, "reason": reason})
        await _notify(await owner_people(challenge), "review.recused",
                      {"challenge": challenge.id, "assignment": assignment.id}, connection)
        await queue_assignment(challenge.id, using_db=connection)
    assignment.status, assignment.recusal_reason = A.RECUSED.value, reason
    return assignment


@dataclass
class ReviewChanges:
    """What a reviewer sets on their review; None means "leave as it is". Criterion ids are strings."""

    scores: dict[str, int] | None = None
    comments: dict[str, str] | None = None
    strengths: str | None = None
    weaknesses: str | None = None
    feedback: str | None = None
    confidence: int | None = None
    no_conflict: bool | None = None


async def criteria_of(challenge_id: int) -> list[Criterion]:
    return await Criterion.filter(challenge_id=challenge_id).order_by("position", "id")


def weights(criteria: list[Criterion]) -> dict[str, int]:
    return {str(c.id): c.weight for c in criteria}


async def review_of(assignment: Assignment) -> Review | None:
    return await Review.get_or_none(assignment_id=assignment.id)


def _check_changes(changes: ReviewChanges, criteria: list[Criterion]) -> None:
    known = {str(c.id) for c in criteria}
    errors = {}
    if changes.scores is not None:
        if set(changes.scores) - known:
            errors["scores"] = N_("Score only the challenge's criteria.")
        elif any(isinstance(s, bool) or not isinstance(s, int) or not MIN_SCORE <= s <= MAX_SCORE
                 for s in changes.scores.values()):
            errors["scores"] = N_("Each score is a whole number from 1 to 5.")
    if changes.comments is not None and set(changes.comments) - known:
        errors["comments"] = N_("Comment only on the challenge's criteria.")
    if changes.confidence is not None and not MIN_SCORE <= changes.confidence <= MAX_SCORE:
        errors["confidence"] = N_("Confidence is a whole number from 1 to 5.")
    if errors:
        raise ValidationFailed(errors)


def _own_open(actor: Actor, assignment: Assignment, challenge: Challenge) -> None:
    if actor.user is None or assignment.reviewer_id != actor.user.id:
        raise NotAllowed("only the assigned reviewer writes the review")
    if challenge.status != ChallengeStatus.CLOSED or assignment.proposal.status not in REVIEWABLE:
        raise InvalidTransition(N_("Reviews are written while the challenge is under review."), allowed=[])
    if assignment.status == A.SUBMITTED:
        raise InvalidTransition(N_("This review is submitted; an owner can reopen it."), allowed=[])
    if assignment.status != A.ASSIGNED:
        raise InvalidTransition(N_("You withdrew from this review."), allowed=[])


async def save_review(actor: Actor, assignment: Assignment, changes: ReviewChanges) -> Review:
    """Save the reviewer's draft; partial scores are fine until it is submitted."""
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    _own_open(actor, assignment, challenge)
    _check_changes(changes, await criteria_of(challenge.id))
    try:
        async with in_transaction() as connection:
            return await _write_draft(actor, assignment, changes, connection)
    except IntegrityError:  # the first draft, saved twice at the same moment: the other one won
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=[]) from None


async def _write_draft(actor: Actor, assignment: Assignment, changes: ReviewChanges, connection: Any) -> Review:
    review = await Review.filter(assignment_id=assignment.id).select_for_update().using_db(connection).first()
    if review is None:
        review = Review(assignment_id=assignment.id)
    if review.status == ReviewStatus.SUBMITTED:
        raise InvalidTransition(N_("This review is submitted; an owner can reopen it."), allowed=[])
    for name in ("scores", "strengths", "weaknesses", "feedback", "confidence", "no_conflict"):
        value = getattr(changes, name)
        if value is not None:
            setattr(review, name, value.strip() if isinstance(value, str) else value)
    if changes.comments is not None:
        review.comments = {k: v.strip() for k, v in changes.comments.items() if v and v.strip()}
    await review.save(using_db=connection)
    await audit.record("review.saved", actor=actor.user, target=review, using_db=connection,
                       after={"assignment": assignment.id, "scores": review.scores, "confidence": review.confidence})
    return review


def _missing(review: Review | None, criteria: list[Criterion]) -> dict[str, str]:
    errors = {}
    scores = review.scores if review else {}
    if not criteria or any(str(c.id) not in scores for c in criteria):
        errors["scores"] = N_("Score every criterion from 1 to 5.")
    if review is None or review.confidence is None:
        errors["confidence"] = N_("Say how confident you are, from 1 to 5.")
    if review is None or not review.no_conflict:
        errors["no_conflict"] = N_("Confirm that you have no conflict of interest with this proposal.")
    return errors


async def submit_review(actor: Actor, assignment: Assignment, changes: ReviewChanges | None = None) -> Assignment:
    """Lock the review and store its total. `changes` are saved in the same transaction, so a refused
    submission (anything missing, a conflict of interest) leaves nothing written."""
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    _own_open(actor, assignment, challenge)
    criteria = await criteria_of(challenge.id)
    if changes is not None:
        _check_changes(changes, criteria)
    if await conflicts.is_conflicted(actor.user, assignment.proposal):
        raise InvalidTransition(N_("You have a conflict of interest with this proposal; withdraw from it."),
                                allowed=[A.RECUSED.value])
    now = timezone.now()
    async with in_transaction() as connection:
        if changes is not None:
            review: Review | None = await _write_draft(actor, assignment, changes, connection)
        else:
            review = await Review.filter(assignment_id=assignment.id).select_for_update().using_db(connection).first()
        errors = _missing(review, criteria)
        if errors or review is None:  # no review is one of the errors
            raise ValidationFailed(errors)
        try:
            total = review_total(review.scores, weights(criteria))
        except ValueError:
            raise ValidationFailed({"scores": N_("Score every criterion from 1 to 5.")}) from None
        updated = await Assignment.filter(id=assignment.id, status=A.ASSIGNED.value).using_db(connection).update(
            status=A.SUBMITTED.value, updated_at=now)
        if not updated:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        await Review.filter(id=review.id).using_db(connection).update(
            status=ReviewStatus.SUBMITTED.value, total=total, submitted_at=now, updated_at=now)
        await audit.record("review.submitted", actor=actor.user, target=review, using_db=connection,
                           after={"assignment": assignment.id, "scores": review.scores, "total": total,
                                  "confidence": review.confidence})
        outstanding = await Assignment.filter(proposal__challenge_id=challenge.id, status=A.ASSIGNED.value,
                                              proposal__status__in=list(REVIEWABLE)).using_db(connection).exists()
        if not outstanding:
            await _notify(await owner_people(challenge), "review.all_submitted", {"challenge": challenge.id}, connection)
    assignment.status = A.SUBMITTED.value
    return assignment


async def reopen_review(actor: Actor, assignment: Assignment, reason: str) -> Assignment:
    """An owner sends a submitted review back to its reviewer, saying why (logged; the reviewer is told)."""
    reason = _reason(reason)
    challenge = await Challenge.get(id=assignment.proposal.challenge_id)
    review = await review_of(assignment)
    async with in_transaction() as connection:
        updated = await Assignment.filter(id=assignment.id, status=A.SUBMITTED.value).using_db(connection).update(
            status=A.ASSIGNED.value, updated_at=timezone.now())
        if not updated or review is None:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        await Review.filter(id=review.id).using_db(connection).update(
            status=ReviewStatus.DRAFT.value, total=None, submitted_at=None, updated_at=timezone.now())
        await audit.record("review.reopened", actor=actor.user, target=review, using_db=connection,
                           before={"status": ReviewStatus.SUBMITTED.value, "total": review.total},
                           after={"status": ReviewStatus.DRAFT.value, "reason": reason})
        reviewer = await User.get(id=assignment.reviewer_id, using_db=connection)
        await _notify([reviewer], "review.reopened", {"challenge": challenge.id, "assignment": assignment.id}, connection)
        await queue_mail("review_reopened", to=reviewer.email, locale=reviewer.locale, key=f"assignment:{assignment.id}",
                         using_db=connection, context={
                             "challenge_title": translated(challenge.title, reviewer.locale),
                             "assignment_id": assignment.id, "reason": reason})
    assignment.status = A.ASSIGNED.value
    return assignment


async def submitted_reviews(actor: Actor, proposal: Proposal) -> list[tuple[Assignment, Review]]:
    """The proposal's submitted reviews, for those `policy.may_see_reviews` allows (see there)."""
    from models.policy import may_see_reviews

    if not await may_see_reviews(actor, proposal):
        if actor.user is not None and await Assignment.exists(proposal_id=proposal.id, reviewer_id=actor.user.id,
                                                              status=A.ASSIGNED.value):
            raise NotAllowed(N_("You see the other reviews once you have submitted your own."))
        raise NotAllowed("no access to these reviews")
    rows = await Assignment.filter(proposal_id=proposal.id, status=A.SUBMITTED.value).order_by("id").prefetch_related(
        "reviewer", "review")
    return [(a, a.review) for a in rows]
