"""Review rounds: what a round reviews (a subject kind, `models.review.subjects`), by when, by how many reviewers
of its panel each, with which rubric, and the review's steps that work on any kind of subject: the panel,
planning and writing the assignment, ranking and feedback.

A proposal round takes its deadline, reviews per subject and cap from the challenge (`proposal_round`);
another kind's round stores them. The proposal flow (`models.review.workflow`, `reviewing`, `decisions`) adds
the challenge's states and the proposals' own rules around these; a new kind calls them directly:
`round_of` → `change_panel` → `run_round` → reviews (`models.review.reviewing`) → `round_ranking`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge
from models.core import audit
from models.core.base import translated
from models.core.errors import N_, InvalidTransition, NotAllowed, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.identity.accounts import User
from models.partners.expertise import reviewer_profiles
from models.policy import Actor
from models.policy.challenges import owns_challenge
from models.policy.review import in_reviewer_pool, reviewer_pool_filter
from models.review import conflicts
from models.review.assignment import AssignmentResult, ProposalSlot, Reviewer, reassign_after_recusal
from models.review.closing import REVIEW_COLUMNS as REVIEW_COLUMNS
from models.review.closing import Feedback as Feedback
from models.review.closing import queue_round
from models.review.closing import rubric_of_round as rubric_of_round
from models.review.closing import subject_feedback as subject_feedback
from models.review.closing import value_of as value_of
from models.review.models import Assignment, AssignmentStatus, PanelMember, ReviewRound, SubjectKind
from models.review.proposal_subjects import NOT_COUNTED, PROPOSAL
from models.review.rubric import Rubric, checked
from models.review.scoring import ProposalScore, ReviewRecord, aggregate
from models.review.subjects import Subject, kind_of

A = AssignmentStatus
MAX_REVIEWS_PER_SUBJECT = 20


def normalised_tags(tags: Iterable[Any] | None) -> frozenset[str]:
    return frozenset(str(t).strip().lower() for t in tags or [] if str(t).strip())


@dataclass(frozen=True)
class Round:
    challenge: Challenge
    subject_kind: str
    due_at: datetime | None
    reviews_per_subject: int
    max_per_reviewer: int | None
    tags: frozenset[str]
    row: ReviewRound


async def round_of(challenge_id: int, subject_kind: str = PROPOSAL, scope_id: int = 0, using_db: Any = None,
                   **settings: Any) -> ReviewRound:
    """The challenge's round of that kind (and scope), made if missing with the `settings` given."""
    found = await ReviewRound.filter(challenge_id=challenge_id, subject_kind=subject_kind,
                                     scope_id=scope_id).using_db(using_db).first()
    if found is not None:
        return found
    kind_of(subject_kind)  # a registered kind only
    try:
        async with in_transaction() as connection:
            return await ReviewRound.create(challenge_id=challenge_id, subject_kind=subject_kind, scope_id=scope_id,
                                            using_db=using_db or connection, **settings)
    except IntegrityError:  # made by someone else at the same moment
        return await ReviewRound.get(challenge_id=challenge_id, subject_kind=subject_kind, scope_id=scope_id)


async def proposal_round(challenge: Challenge, using_db: Any = None) -> Round:
    """The review of the challenge's proposals: its review deadline, reviews per proposal, cap, tags and category."""
    row = await ReviewRound.filter(challenge_id=challenge.id, subject_kind=PROPOSAL, scope_id=0).select_related(
        "challenge__category").using_db(using_db).first()  # the round and the category in one query
    if row is None:
        row = await round_of(challenge.id, PROPOSAL, using_db=using_db)
        await challenge.fetch_related("category", using_db=using_db)
        category = challenge.category
    else:
        category = row.challenge.category
    tags = normalised_tags(challenge.tags) | (normalised_tags([category.slug]) if category else frozenset())
    return Round(challenge, SubjectKind.PROPOSAL.value, challenge.review_deadline, challenge.reviews_per_proposal,
                 challenge.max_per_reviewer, tags, row)


async def settings_of(row: ReviewRound, using_db: Any = None) -> Round:
    """The round with its settings: a proposal round's are its challenge's, any other's its own."""
    challenge = await Challenge.get(id=row.challenge_id, using_db=using_db)
    if row.subject_kind == PROPOSAL:
        return await proposal_round(challenge, using_db=using_db)
    return Round(challenge, row.subject_kind, row.due_at, row.reviews_per_subject or 1, row.max_per_reviewer,
                 normalised_tags(challenge.tags), row)


async def has_started(row: ReviewRound) -> bool:
    """A round has started once it is open or has assignments: its rubric is fixed from then on."""
    return row.started_at is not None or await kind_of(row.subject_kind).open(row, None) or \
        await Assignment.exists(round_id=row.id)


async def subject_of(assignment: Assignment, using_db: Any = None) -> Subject:
    found = await kind_of(assignment.subject_kind).load([assignment.subject_id], using_db)
    return found[assignment.subject_id]


async def round_of_assignment(assignment: Assignment, using_db: Any = None) -> ReviewRound:
    if assignment.round_id is None:  # not expected after migration 0003
        raise LookupError(f"assignment {assignment.id} has no round")
    return await ReviewRound.get(id=assignment.round_id, using_db=using_db)


async def accepts_reviews(assignment: Assignment, using_db: Any = None) -> bool:
    """Whether the assignment's round is running and its subject still under review."""
    row = await round_of_assignment(assignment, using_db)
    kind = kind_of(row.subject_kind)
    if not await kind.open(row, using_db):
        return False
    return assignment.subject_id in {s.id for s in await kind.under_review(row, using_db)}


# --- the panel ---------------------------------------------------------------------------------


async def panel_of_round(row: ReviewRound, using_db: Any = None) -> list[User]:
    return await User.filter(panels__round_id=row.id).order_by("id").using_db(using_db)


async def change_panel(row: ReviewRound, reviewer_ids: Iterable[int], connection: Any) -> list[User]:
    """Make the round's panel these reviewers (from the pool: checked by the caller); returns those added."""
    wanted = sorted(set(reviewer_ids))
    before = set(await PanelMember.filter(round_id=row.id).using_db(connection).values_list("reviewer_id", flat=True))
    await PanelMember.filter(round_id=row.id, reviewer_id__not_in=wanted).using_db(connection).delete()
    added = await User.filter(id__in=[i for i in wanted if i not in before]).order_by("id").using_db(connection)
    for user in added:
        await PanelMember.create(challenge_id=row.challenge_id, round_id=row.id, reviewer_id=user.id, using_db=connection)
    return list(added)


async def set_round_panel(actor: Actor, row: ReviewRound, reviewer_ids: list[int], reviews_per_subject: int,
                          max_per_reviewer: int | None) -> list[User]:
    """Owners choose a round's reviewers from the pool, how many review each subject and the cap per reviewer
    (a round of another kind than proposals: a proposal round's are the challenge's, `workflow.set_panel`)."""
    challenge = await Challenge.get(id=row.challenge_id)
    if row.subject_kind == PROPOSAL or not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners choose a round's panel")
    errors = {}
    if not 1 <= reviews_per_subject <= MAX_REVIEWS_PER_SUBJECT:
        errors["reviews_per_subject"] = N_("Choose between 1 and 20 reviews per proposal.")
    if max_per_reviewer is not None and max_per_reviewer < 1:
        errors["max_per_reviewer"] = N_("A reviewer must be able to take at least one review.")
    wanted = sorted(set(reviewer_ids))
    if await User.filter(await reviewer_pool_filter(wanted), id__in=wanted).count() != len(wanted):
        errors["reviewers"] = N_("Choose reviewers from the pool of reviewers.")
    if errors:
        raise ValidationFailed(errors)
    before = {"reviewers": sorted(u.id for u in await panel_of_round(row)),
              "reviews_per_subject": row.reviews_per_subject, "max_per_reviewer": row.max_per_reviewer}
    async with in_transaction() as connection:
        await ReviewRound.filter(id=row.id).using_db(connection).update(
            reviews_per_subject=reviews_per_subject, max_per_reviewer=max_per_reviewer, updated_at=timezone.now())
        row.reviews_per_subject, row.max_per_reviewer = reviews_per_subject, max_per_reviewer
        added = await change_panel(row, wanted, connection)
        for user in added:
            await Notification.create(user_id=user.id, kind="review.panel_added", using_db=connection,
                                      payload={"challenge": challenge.id, "round": row.id})
        await audit.record("review_round.panel_changed", actor=actor.user, target=row, before=before, using_db=connection,
                           after={"reviewers": wanted, "reviews_per_subject": reviews_per_subject,
                                  "max_per_reviewer": max_per_reviewer})
        if await kind_of(row.subject_kind).open(row, connection):
            await queue_round(row.id, using_db=connection)
    return await panel_of_round(row)


async def proposal_rubric_for(actor: Actor, challenge: Challenge) -> tuple[ReviewRound, Rubric, bool]:
    """The challenge's proposal round, its review form and whether the person may change it now (owners, until
    the review starts); for the challenge's owners and operators."""
    if not (actor.is_operator or await owns_challenge(actor, challenge)):
        raise NotAllowed("the challenge's owners and operators only")
    row = (await proposal_round(challenge)).row
    editable = await owns_challenge(actor, challenge) and not await has_started(row)
    return row, await rubric_of_round(row), editable


async def set_rubric(actor: Actor, row: ReviewRound, items: Any) -> Rubric:
    """Owners write the round's review form before it starts (models.review.rubric.checked says what is valid).
    A proposal round's scored criteria stay the challenge's: it stores its other fields only."""
    challenge = await Challenge.get(id=row.challenge_id)
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners write its review form")
    if await has_started(row):
        raise InvalidTransition(N_("The review form can no longer be changed: the review has started."), allowed=[])
    kind = kind_of(row.subject_kind)
    fixed = await kind.criteria(row) if kind.criteria is not None else None
    rubric = checked(items, tuple(fixed) if fixed is not None else None)
    stored = [f.as_data() for f in rubric.fields] if fixed is not None else rubric.as_data()
    async with in_transaction() as connection:
        updated = await ReviewRound.filter(id=row.id, started_at__isnull=True).using_db(connection).update(
            rubric=stored, updated_at=timezone.now())
        if not updated:
            raise InvalidTransition(N_("The review form can no longer be changed: the review has started."), allowed=[])
        await audit.record("review_round.rubric_changed", actor=actor.user, target=row, using_db=connection,
                           before={"rubric": row.rubric}, after={"rubric": stored})
    row.rubric = stored
    return rubric


async def start_round(row: ReviewRound) -> AssignmentResult | None:
    """The round starts (its rubric is fixed from now on) and its reviewers are assigned, if its kind says it
    is open. A kind's own transition (e.g. a pilot going under evaluation) calls this; idempotent."""
    if row.started_at is None:
        await ReviewRound.filter(id=row.id, started_at__isnull=True).update(started_at=timezone.now())
        await row.refresh_from_db()
    return await run_round(row.id)


async def join_panel(row: ReviewRound, reviewer_id: int, connection: Any) -> None:
    if not await PanelMember.filter(round_id=row.id, reviewer_id=reviewer_id).using_db(connection).exists():
        await PanelMember.create(challenge_id=row.challenge_id, round_id=row.id, reviewer_id=reviewer_id,
                                 using_db=connection)


# --- assignment --------------------------------------------------------------------------------


@dataclass
class Plan:
    round: Round
    subjects: list[Subject]
    result: AssignmentResult
    detected: set[conflicts.Found]


async def plan(round_: Round, subjects: list[Subject] | None = None, using_db: Any = None) -> Plan:
    """What the assignment algorithm gives for the current data (reads only): the round's subjects under
    review (or those given), its panel, every conflict and the assignments already made."""
    row = round_.row
    kind = kind_of(row.subject_kind)
    if subjects is None:
        subjects = await kind.under_review(row, using_db)
    panel = await in_reviewer_pool(await User.filter(panels__round_id=row.id).order_by("id").using_db(using_db))
    counted = Assignment.filter(round_id=row.id)
    if row.subject_kind == PROPOSAL:
        counted = counted.exclude(proposal__status__in=list(NOT_COUNTED))
    load: dict[int, int] = {}
    held: dict[int, set[int]] = {}
    recused = set()
    for subject_id, reviewer_id, status in await counted.using_db(using_db).values_list("subject_id", "reviewer_id", "status"):
        if status == A.RECUSED:
            recused.add((reviewer_id, subject_id))
        else:
            load[reviewer_id] = load.get(reviewer_id, 0) + 1
            held.setdefault(subject_id, set()).add(reviewer_id)
    partners = await reviewer_profiles([u.id for u in panel], using_db)  # a partner's skills are expertise too
    detected = await conflicts.detect(panel, subjects, partners)
    excluded = {(f.user_id, f.subject_id) for f in detected} | await conflicts.stored_pairs([u.id for u in panel], subjects)
    reviewers = [Reviewer(u.id, normalised_tags(u.expertise) | (partners[u.id].expertise if u.id in partners else frozenset()),
                          load.get(u.id, 0)) for u in panel]
    slots = [ProposalSlot(s.id, round_.tags | s.tags, round_.reviews_per_subject, frozenset(held.get(s.id, ())))
             for s in subjects]
    result = reassign_after_recusal(reviewers, slots, recused, excluded, round_.max_per_reviewer)
    return Plan(round_, subjects, result, detected)


async def assign(round_: Round, connection: Any, subjects: list[Subject] | None = None) -> AssignmentResult:
    """Plan and write the missing assignments, the detected conflicts and the audit event, in the caller's
    transaction (which holds a lock on the round or its challenge)."""
    found = await plan(round_, subjects, using_db=connection)
    stored = await conflicts.record_detected(found.detected, using_db=connection)
    if not found.result.assignments and not stored:
        return found.result
    by_id = {s.id: s for s in found.subjects}
    await write_assignments(round_, found.result, by_id, connection)
    event = "challenge.assigned" if round_.subject_kind == PROPOSAL else "review_round.assigned"
    target = round_.challenge if round_.subject_kind == PROPOSAL else round_.row
    await audit.record(event, target=target, using_db=connection, after={
        "assignments": [list(pair) for pair in found.result.assignments], "conflicts_recorded": stored,
        "shortfalls": [{"proposal" if round_.subject_kind == PROPOSAL else "subject": s.proposal_id,
                        "missing": s.missing, "eligible": s.eligible, "limited_by": s.limited_by}
                       for s in found.result.shortfalls]})
    return found.result


async def run_round(round_id: int) -> AssignmentResult | None:
    """Fill every missing place of a running round (a job; idempotent; one transaction). Proposal rounds run
    through `models.review.workflow.run_assignment`, which holds the challenge."""
    async with in_transaction() as connection:
        row = await ReviewRound.filter(id=round_id).select_for_update().using_db(connection).first()
        if row is None or not await kind_of(row.subject_kind).open(row, connection):
            return None
        return await assign(await settings_of(row, using_db=connection), connection)


async def create_assignment(round_: Round, subject: Subject, reviewer_id: int, connection: Any) -> Assignment:
    assignment = await Assignment.create(round_id=round_.row.id, subject_kind=subject.kind, subject_id=subject.id,
                                         proposal_id=subject.proposal_id, reviewer_id=reviewer_id,
                                         due_at=round_.due_at, using_db=connection)
    assignment.round = round_.row
    return assignment


async def write_assignments(round_: Round, result: AssignmentResult, subjects: dict[int, Subject], connection: Any) -> None:
    challenge = round_.challenge
    by_reviewer: dict[int, int] = {}
    for subject_id, reviewer_id in result.assignments:
        assignment = await create_assignment(round_, subjects[subject_id], reviewer_id, connection)
        await Notification.create(user_id=reviewer_id, kind="review.assigned", using_db=connection, payload={
            "challenge": challenge.id, "assignment": assignment.id})
        by_reviewer[reviewer_id] = by_reviewer.get(reviewer_id, 0) + 1
    for reviewer in await User.filter(id__in=list(by_reviewer)).using_db(connection):
        await assignment_mail(round_, reviewer, by_reviewer[reviewer.id], connection)


async def assignment_mail(round_: Round, reviewer: User, count: int, connection: Any) -> None:
    challenge = round_.challenge
    key = f"review:{challenge.id}:{reviewer.id}" if round_.subject_kind == PROPOSAL else \
        f"review-round:{round_.row.id}:{reviewer.id}"
    await queue_mail("assignment", to=reviewer.email, locale=reviewer.locale, key=key, using_db=connection, context={
        "challenge_title": translated(challenge.title, reviewer.locale), "challenge_id": challenge.id,
        "count": count, "due_at": round_.due_at.isoformat() if round_.due_at else ""})


# --- ranking and feedback ----------------------------------------------------------------------


async def review_records(row: ReviewRound, subject_ids: Iterable[int] | None = None) -> list[ReviewRecord]:
    """The round's assignments (of these subjects) as scoring records: `proposal_id` holds the subject's id."""
    found = Assignment.filter(round_id=row.id)
    if subject_ids is not None:
        found = found.filter(subject_id__in=list(subject_ids))
    records = []
    for assignment in await found.order_by("id").prefetch_related("review"):
        review = getattr(assignment, "review", None)
        total = review.total if review is not None and assignment.status == A.SUBMITTED else None
        records.append(ReviewRecord(assignment.subject_id, assignment.reviewer_id, assignment.status, total))
    return records


@dataclass
class RoundRanking:
    rows: list[ProposalScore]  # `proposal_id`: the subject's id
    subjects: dict[int, Subject]
    hidden: int  # subjects left out because the reader has a conflict of interest with them


async def round_ranking(row: ReviewRound, reader: User | None = None) -> RoundRanking:
    """The round's subjects by score (without those the reader has a conflict with); the
    caller checks who may read it."""
    kind = kind_of(row.subject_kind)
    under = await kind.under_review(row, None)
    records = await review_records(row)
    subjects = await kind.load({s.id for s in under} | {r.proposal_id for r in records}, None)
    hidden = {s for _, s in await conflicts.conflicted_pairs([reader], subjects.values())} if reader else set()
    rows = aggregate([r for r in records if r.proposal_id not in hidden], [s for s in subjects if s not in hidden])
    return RoundRanking(rows, subjects, len(hidden))
