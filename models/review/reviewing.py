"""The reviewer's side of the review (PRODUCT.md step 5): their assignments, declaring conflicts, recusing,
writing and submitting a review, and the owners' reopening of a submitted one.

One function per change; each checks the policy and the state, changes the rows, and writes the audit
event, the notifications and the outbox rows in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeStatus, Criterion
from models.core import audit
from models.core.base import translated
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.transitions import next_states
from models.identity.accounts import User
from models.identity.orgs import Organisation, OrgStatus
from models.policy import Actor, require_user
from models.policy.challenges import owns_challenge
from models.policy.review import assignment_filter, may_declare_conflicts, may_see_reviews, may_see_round_reviews
from models.proposals.models import Proposal, ProposalStatus
from models.review import conflicts, rounds, rubric
from models.review.closing import REVIEW_COLUMNS, REVIEWABLE, queue_assignment, queue_round, value_of
from models.review.common import REVIEWER_LEFT, assignment_challenge, get_assignment, notify, owner_people
from models.review.conflicts import CONFLICT_DECLARED
from models.review.models import Assignment, AssignmentStatus, Conflict, Review, ReviewStatus
from models.review.proposal_subjects import PROPOSAL
from models.review.rubric import Rubric
from models.review.scoring import MAX_SCORE, MIN_SCORE, review_total
from models.review.subjects import Subject, kind_of

A = AssignmentStatus


# --- the reviewer's assignments ----------------------------------------------------------------


async def assignments_of(actor: Actor, *, status: str | None = None, challenge_id: int | None = None,
                         page: int = 1, per_page: int = 20) -> tuple[list[Assignment], int]:
    """One page of the person's own assignments (their proposals fetched), and how many there are."""
    found = Assignment.filter(assignment_filter(actor))
    if status:
        found = found.filter(status=status)
    if challenge_id:
        found = found.filter(round__challenge_id=challenge_id)
    total = await found.count()
    rows = await found.order_by("due_at", "id").offset((page - 1) * per_page).limit(per_page).select_related("round")
    return rows, total


@dataclass
class InboxRow:
    assignment: Assignment
    challenge: Challenge
    title: str  # what others see of the subject (a proposal's: models.proposals.shown)


async def inbox_of(actor: Actor) -> list[InboxRow]:
    """Every assignment of the person, soonest due first, with its challenge and the subject's title."""
    rows = await Assignment.filter(assignment_filter(actor)).order_by("due_at", "id").select_related("round")
    challenges = {c.id: c for c in await Challenge.filter(id__in={a.the_round.challenge_id for a in rows})}
    titles: dict[tuple[str, int], str] = {}
    for kind in sorted({a.subject_kind for a in rows}):
        loaded = await kind_of(kind).load([a.subject_id for a in rows if a.subject_kind == kind], None)
        titles |= {(kind, i): s.title for i, s in loaded.items()}
    return [InboxRow(a, challenges[a.the_round.challenge_id], titles.get((a.subject_kind, a.subject_id), "")) for a in rows]


async def declared_conflicts(actor: Actor) -> list[Conflict]:
    """The conflicts the person declared (not those detected), newest first, with their organisations."""
    if actor.user is None:
        return []
    return [c for c in await conflicts.conflicts_of(actor.user) if not c.detected]


async def own_assignment(actor: Actor, assignment_id: int) -> Assignment:
    """The person's own assignment; NotFound for anyone else's (even an owner's view of it)."""
    assignment = await get_assignment(actor, assignment_id)
    if actor.user is None or assignment.reviewer_id != actor.user.id:
        raise NotFound("no such assignment")
    return assignment


async def proposal_company(proposal: Proposal) -> Organisation:
    return await Organisation.get(id=proposal.company_id)


# --- declaring conflicts -----------------------------------------------------------------------


async def declare_conflict(actor: Actor, *, kind: str, organisation_id: int, note: str = "") -> Conflict:
    """A person declares a conflict with an organisation; it excludes them from its proposals at once.

    Their open assignments to the organisation's proposals are recused in the same transaction and a
    reassignment is queued for each challenge concerned. Declaring the same conflict again changes nothing.
    """
    if not await may_declare_conflicts(actor):
        raise NotAllowed("reviewers, agency members and operators declare conflicts")
    user = require_user(actor)
    if kind not in conflicts.CONFLICT_KINDS:
        raise ValidationFailed({"kind": N_("Choose one of the kinds of conflict.")})
    # Only an approved organisation can be named: a pending one is unknown everywhere else (a 404), and naming
    # it here must not reveal that it signed up, nor its name.
    organisation = await Organisation.get_or_none(id=organisation_id, status=OrgStatus.APPROVED.value)
    if organisation is None:
        raise ValidationFailed({"organisation_id": N_("One of the organisations does not exist.")})
    note = (note or "").strip()
    existing = await Conflict.filter(reviewer_id=user.id, organisation_id=organisation.id, proposal_id__isnull=True,
                                     detected=False, kind=kind).first()
    if existing is not None:
        return existing
    async with in_transaction() as connection:
        conflict = await Conflict.create(reviewer_id=user.id, organisation=organisation, kind=kind, note=note,
                                         detected=False, using_db=connection)
        affected = await Assignment.filter(
            reviewer_id=user.id, proposal__company_id=organisation.id,
            status__in=[AssignmentStatus.ASSIGNED.value, AssignmentStatus.SUBMITTED.value],
        ).using_db(connection).prefetch_related("proposal")
        others = await Assignment.filter(
            reviewer_id=user.id, status__in=[AssignmentStatus.ASSIGNED.value, AssignmentStatus.SUBMITTED.value],
        ).exclude(subject_kind=PROPOSAL).using_db(connection)
        for kind in sorted({a.subject_kind for a in others}):
            loaded = await kind_of(kind).load([a.subject_id for a in others if a.subject_kind == kind], connection)
            affected += [a for a in others if a.subject_kind == kind and a.subject_id in loaded
                         and loaded[a.subject_id].company_id == organisation.id]
        await _recuse_all(affected, CONFLICT_DECLARED, user, connection)
        await audit.record("conflict.declared", actor=user, target=conflict, using_db=connection,
                           after={"kind": kind, "organisation": organisation.id, "recused": [a.id for a in affected]})
    return conflict


async def _recuse_all(assignments: list[Assignment], reason: str, actor: User | None, connection: Any) -> None:
    """Recuse these assignments (their proposals fetched) for a reason Kyoso writes, one audit event each, and
    queue the reassignment of the places they leave: a proposal still under review through its challenge, any
    other subject through its round."""
    challenges, other_rounds = set(), set()
    for assignment in assignments:
        await Assignment.filter(id=assignment.id).using_db(connection).update(
            status=AssignmentStatus.RECUSED.value, recusal_reason=reason, updated_at=timezone.now())
        await audit.record("assignment.recused", actor=actor, target=assignment, using_db=connection,
                           before={"status": assignment.status},
                           after={"status": AssignmentStatus.RECUSED.value, "reason": reason})
        if assignment.subject_kind != PROPOSAL:
            other_rounds.add(assignment.round_id)
        elif assignment.the_proposal.status in (ProposalStatus.UNDER_REVIEW.value, ProposalStatus.SHORTLISTED.value):
            challenges.add(assignment.the_proposal.challenge_id)
    for challenge_id in sorted(challenges):
        await queue_assignment(challenge_id, using_db=connection)
    for round_id in sorted(r for r in other_rounds if r is not None):
        await queue_round(round_id, using_db=connection)


# --- a reviewer who leaves ---------------------------------------------------------------------


async def release_reviewer(reviewer_id: int, actor: User | None, connection: Any,
                           reason: str = REVIEWER_LEFT) -> list[Assignment]:
    """A reviewer who may no longer review (a partner who withdrew, was suspended or stopped offering to review,
    `models.partners.profiles`), in the caller's transaction: their reviews not yet submitted in running rounds
    are recused with the reason (a message id of `SYSTEM_REASONS`), the owners told as for a recusal, and the
    places filled again by the rounds' assignment. Submitted reviews stay. Returns the recused assignments."""
    open_ = await Assignment.filter(reviewer_id=reviewer_id, status=A.ASSIGNED.value).order_by("id").using_db(
        connection).prefetch_related("proposal")
    released = []
    for assignment in open_:
        challenge = await assignment_challenge(assignment, using_db=connection)
        if await _accepts_reviews(assignment, challenge):
            released.append(assignment)
            await notify(await owner_people(challenge), "review.recused",
                         {"challenge": challenge.id, "assignment": assignment.id}, connection)
    await _recuse_all(released, reason, actor, connection)
    return released


# --- recusal, scoring, reopening ---------------------------------------------------------------


# Who may move an assignment: its "reviewer" submits or withdraws; an "owner" reopens a submitted review.
TRANSITIONS: dict[AssignmentStatus, dict[AssignmentStatus, str]] = {
    A.ASSIGNED: {A.SUBMITTED: "reviewer", A.RECUSED: "reviewer"},
    A.SUBMITTED: {A.ASSIGNED: "owner"},
    A.RECUSED: {},
}


async def _accepts_reviews(assignment: Assignment, challenge: Challenge) -> bool:
    """A proposal's: while the challenge is under review and the proposal too; another's: while its round runs."""
    if assignment.subject_kind == PROPOSAL:
        return challenge.status == ChallengeStatus.CLOSED and assignment.the_proposal.status in REVIEWABLE
    return await rounds.accepts_reviews(assignment)


async def allowed_transitions(actor: Actor, assignment: Assignment) -> list[str]:
    """The states this person may move the assignment to now: only while the challenge is under review."""
    challenge = await assignment_challenge(assignment)
    if not await _accepts_reviews(assignment, challenge):
        return []
    roles = set()
    if actor.user is not None and assignment.reviewer_id == actor.user.id:
        roles.add("reviewer")
    if assignment.status == A.SUBMITTED and await owns_challenge(actor, challenge):
        roles.add("owner")
    return next_states(TRANSITIONS, A(assignment.status), roles)


async def transition(actor: Actor, assignment: Assignment, to: str, reason: str = "") -> Assignment:
    """Move an assignment: its reviewer submits or recuses; an owner reopens a submitted review ("assigned")."""
    allowed = await allowed_transitions(actor, assignment)
    if to not in allowed:
        if actor.user is None or (assignment.reviewer_id != actor.user.id and not await owns_challenge(
                actor, await assignment_challenge(assignment))):
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
    challenge = await assignment_challenge(assignment)
    async with in_transaction() as connection:
        updated = await Assignment.filter(id=assignment.id, status=A.ASSIGNED.value).using_db(connection).update(
            status=A.RECUSED.value, recusal_reason=reason, updated_at=timezone.now())
        if not updated:  # moved by someone else meanwhile
            await assignment.refresh_from_db(using_db=connection)
            raise InvalidTransition(N_("This change of state is not possible now."),
                                    allowed=await allowed_transitions(actor, assignment))
        await audit.record("assignment.recused", actor=actor.user, target=assignment, using_db=connection,
                           before={"status": A.ASSIGNED.value}, after={"status": A.RECUSED.value, "reason": reason})
        await notify(await owner_people(challenge), "review.recused",
                      {"challenge": challenge.id, "assignment": assignment.id}, connection)
        if assignment.subject_kind == PROPOSAL:
            await queue_assignment(challenge.id, using_db=connection)
        elif assignment.round_id is not None:
            await queue_round(assignment.round_id, using_db=connection)
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
    answers: dict[str, Any] | None = None  # the round's other rubric fields (models.review.rubric), by key

    def field_values(self) -> dict[str, Any]:
        """The rubric fields' values given (None: not changed)."""
        return {key: getattr(self, key) for key in REVIEW_COLUMNS} | (self.answers or {})


def weights(criteria: list[Criterion]) -> dict[str, int]:
    return {str(c.id): c.weight for c in criteria}


async def rubric_of_assignment(assignment: Assignment) -> Rubric:
    """The review form of the assignment's round: scored criteria and other fields."""
    return await rounds.rubric_of_round(await rounds.round_of_assignment(assignment))


async def review_of(assignment: Assignment) -> Review | None:
    return await Review.get_or_none(assignment_id=assignment.id)


def _check_changes(changes: ReviewChanges, form: Rubric) -> None:
    known, fields = set(form.weights()), form.fields
    errors = {}
    if changes.scores is not None:
        if set(changes.scores) - known:
            errors["scores"] = N_("Score only the challenge's criteria.")
        elif any(isinstance(s, bool) or not isinstance(s, int) or not MIN_SCORE <= s <= MAX_SCORE
                 for s in changes.scores.values()):
            errors["scores"] = N_("Each score is a whole number from 1 to 5.")
    if changes.comments is not None and set(changes.comments) - known:
        errors["comments"] = N_("Comment only on the challenge's criteria.")
    if changes.answers and set(changes.answers) - {f.key for f in fields}:
        errors["answers"] = N_("Answer only the fields of the review form.")
    errors |= rubric.field_errors(fields, changes.field_values())
    if errors:
        raise ValidationFailed(errors)


async def _own_open(actor: Actor, assignment: Assignment, challenge: Challenge) -> None:
    if actor.user is None or assignment.reviewer_id != actor.user.id:
        raise NotAllowed("only the assigned reviewer writes the review")
    if not await _accepts_reviews(assignment, challenge):
        message = N_("Reviews are written while the challenge is under review.")
    elif assignment.status == A.SUBMITTED:
        message = N_("This review is submitted; an owner can reopen it.")
    elif assignment.status != A.ASSIGNED:
        message = N_("You withdrew from this review.")
    else:
        return
    raise InvalidTransition(message, allowed=await allowed_transitions(actor, assignment))


async def save_review(actor: Actor, assignment: Assignment, changes: ReviewChanges) -> Review:
    """Save the reviewer's draft; partial scores are fine until it is submitted."""
    challenge = await assignment_challenge(assignment)
    await _own_open(actor, assignment, challenge)
    _check_changes(changes, await rubric_of_assignment(assignment))
    try:
        async with in_transaction() as connection:
            return await _write_draft(actor, assignment, changes, connection)
    except IntegrityError:  # the first draft, saved twice at the same moment: the other one won
        raise InvalidTransition(N_("This change of state is not possible now."),
                                allowed=await allowed_transitions(actor, assignment)) from None


async def _write_draft(actor: Actor, assignment: Assignment, changes: ReviewChanges, connection: Any) -> Review:
    review = await Review.filter(assignment_id=assignment.id).select_for_update().using_db(connection).first()
    if review is None:
        review = Review(assignment_id=assignment.id)
    if review.status == ReviewStatus.SUBMITTED:  # submitted meanwhile
        await assignment.refresh_from_db(using_db=connection)
        raise InvalidTransition(N_("This review is submitted; an owner can reopen it."),
                                allowed=await allowed_transitions(actor, assignment))
    for name in ("scores", *sorted(REVIEW_COLUMNS), "no_conflict"):
        value = getattr(changes, name)
        if value is not None:
            setattr(review, name, value.strip() if isinstance(value, str) else value)
    if changes.answers:
        review.answers = (review.answers or {}) | {k: v.strip() if isinstance(v, str) else v
                                                   for k, v in changes.answers.items() if v is not None}
    if changes.comments is not None:
        review.comments = {k: v.strip() for k, v in changes.comments.items() if v and v.strip()}
    await review.save(using_db=connection)
    await audit.record("review.saved", actor=actor.user, target=review, using_db=connection,
                       after={"assignment": assignment.id, "scores": review.scores, "confidence": review.confidence})
    return review


def _missing(review: Review | None, form: Rubric) -> dict[str, str]:
    errors = {}
    scores = review.scores if review else {}
    fields = form.fields
    if not form.criteria or any(c.key not in scores for c in form.criteria):
        errors["scores"] = N_("Score every criterion from 1 to 5.")
    errors |= rubric.missing(fields, {f.key: value_of(review, f.key) for f in fields} if review else {})
    if review is None or not review.no_conflict:
        errors["no_conflict"] = N_("Confirm that you have no conflict of interest with this proposal.")
    return errors


async def submit_review(actor: Actor, assignment: Assignment, changes: ReviewChanges | None = None) -> Assignment:
    """Lock the review and store its total. `changes` are saved in the same transaction, so a refused
    submission (anything missing, a conflict of interest) leaves nothing written."""
    challenge = await assignment_challenge(assignment)
    await _own_open(actor, assignment, challenge)
    form = await rubric_of_assignment(assignment)
    if changes is not None:
        _check_changes(changes, form)
    if await conflicts.is_conflicted(actor.user, assignment.the_proposal if assignment.subject_kind == PROPOSAL
                                     else await rounds.subject_of(assignment)):
        raise InvalidTransition(N_("You have a conflict of interest with this proposal; withdraw from it."),
                                allowed=[A.RECUSED.value])
    now = timezone.now()
    async with in_transaction() as connection:
        if changes is not None:
            review = await _write_draft(actor, assignment, changes, connection)
        else:
            review = await Review.filter(assignment_id=assignment.id).select_for_update().using_db(connection).get()
        errors = _missing(review, form)
        if errors:
            raise ValidationFailed(errors)
        try:
            total = review_total(review.scores, form.weights())
        except ValueError:
            raise ValidationFailed({"scores": N_("Score every criterion from 1 to 5.")}) from None
        updated = await Assignment.filter(id=assignment.id, status=A.ASSIGNED.value).using_db(connection).update(
            status=A.SUBMITTED.value, updated_at=now)
        if not updated:  # moved by someone else meanwhile
            await assignment.refresh_from_db(using_db=connection)
            raise InvalidTransition(N_("This change of state is not possible now."),
                                    allowed=await allowed_transitions(actor, assignment))
        await Review.filter(id=review.id).using_db(connection).update(
            status=ReviewStatus.SUBMITTED.value, total=total, submitted_at=now, updated_at=now)
        await audit.record("review.submitted", actor=actor.user, target=review, using_db=connection,
                           after={"assignment": assignment.id, "scores": review.scores, "total": total,
                                  "confidence": review.confidence})
        if assignment.subject_kind == PROPOSAL:
            outstanding = await Assignment.filter(proposal__challenge_id=challenge.id, status=A.ASSIGNED.value,
                                                  proposal__status__in=list(REVIEWABLE)).using_db(connection).exists()
        else:
            outstanding = await Assignment.filter(round_id=assignment.round_id, status=A.ASSIGNED.value).using_db(
                connection).exists()
        if not outstanding:
            await notify(await owner_people(challenge), "review.all_submitted", {"challenge": challenge.id}, connection)
    assignment.status = A.SUBMITTED.value
    return assignment


async def reopen_review(actor: Actor, assignment: Assignment, reason: str) -> Assignment:
    """An owner sends a submitted review back to its reviewer, saying why (logged; the reviewer is told)."""
    reason = _reason(reason)
    challenge = await assignment_challenge(assignment)
    review = await review_of(assignment)
    async with in_transaction() as connection:
        updated = await Assignment.filter(id=assignment.id, status=A.SUBMITTED.value).using_db(connection).update(
            status=A.ASSIGNED.value, updated_at=timezone.now())
        if not updated or review is None:  # moved by someone else meanwhile
            await assignment.refresh_from_db(using_db=connection)
            raise InvalidTransition(N_("This change of state is not possible now."),
                                    allowed=await allowed_transitions(actor, assignment))
        await Review.filter(id=review.id).using_db(connection).update(
            status=ReviewStatus.DRAFT.value, total=None, submitted_at=None, updated_at=timezone.now())
        await audit.record("review.reopened", actor=actor.user, target=review, using_db=connection,
                           before={"status": ReviewStatus.SUBMITTED.value, "total": review.total},
                           after={"status": ReviewStatus.DRAFT.value, "reason": reason})
        reviewer = await User.get(id=assignment.reviewer_id, using_db=connection)
        await notify([reviewer], "review.reopened", {"challenge": challenge.id, "assignment": assignment.id}, connection)
        await queue_mail("review_reopened", to=reviewer.email, locale=reviewer.locale, key=f"assignment:{assignment.id}",
                         using_db=connection, context={
                             "challenge_title": translated(challenge.title, reviewer.locale),
                             "assignment_id": assignment.id, "reason": reason})
    assignment.status = A.ASSIGNED.value
    return assignment


async def submitted_reviews(actor: Actor, proposal: Proposal) -> list[tuple[Assignment, Review]]:
    """The proposal's submitted reviews, for those `policy.may_see_reviews` allows (see there)."""
    if not await may_see_reviews(actor, proposal):
        if actor.user is not None and await Assignment.exists(proposal_id=proposal.id, reviewer_id=actor.user.id,
                                                              status=A.ASSIGNED.value):
            raise NotAllowed(N_("You see the other reviews once you have submitted your own."))
        raise NotAllowed("no access to these reviews")
    rows = await Assignment.filter(proposal_id=proposal.id, status=A.SUBMITTED.value).order_by("id").prefetch_related(
        "reviewer", "review")
    return [(a, a.review) for a in rows]


async def subject_reviews(actor: Actor, assignment: Assignment) -> list[Review]:
    """The other submitted reviews of the assignment's subject in its round, for its reviewer once theirs is in
    (a proposal's: `submitted_reviews`)."""
    if assignment.subject_kind == PROPOSAL:
        return [r for a, r in await submitted_reviews(actor, assignment.the_proposal) if a.id != assignment.id]
    if not may_see_round_reviews(actor, assignment):
        raise NotAllowed("no access to these reviews")
    rows = await Assignment.filter(round_id=assignment.round_id, subject_id=assignment.subject_id,
                                   subject_kind=assignment.subject_kind, status=A.SUBMITTED.value).exclude(
        id=assignment.id).order_by("id").prefetch_related("review")
    return [a.review for a in rows]


async def subject_company(subject: Subject) -> Organisation | None:
    """The company whose work the subject is (shown to its reviewers when the subject is not a blind proposal)."""
    return await Organisation.get_or_none(id=subject.company_id) if subject.company_id is not None else None
