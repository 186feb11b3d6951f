"""The owners' side of the review (PRODUCT.md step 5): the panel, assignment, and adjusting it by hand.

One function per change; each checks the policy and the state, changes the rows, and writes the audit
event, the notifications and the outbox rows (e-mails, follow-up jobs) in one transaction. The reviewer's
side is `models.review.reviewing`; ranking and feedback `models.review.decisions`; reminders
`models.review.reminders`.

Assignment runs as a job (`begin_review`, `run_assignment`): it reads the challenge, its proposals under
review, its panel, every conflict and the assignments already made, asks `models.review.assignment` for the
missing reviewers, and writes the whole result in one transaction while holding the challenge's row.
The algorithm is deterministic, so a run that crashed (and wrote nothing) is re-run to the same result,
and a run with nothing missing writes nothing. The follow-up jobs travel through the outbox (topic
"review"), committed with the change that needs them: closing, a recusal, a new panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge, ChallengeStatus
from models.core import audit, outbox
from models.core.errors import N_, InvalidTransition, NotAllowed, ValidationFailed
from models.identity.accounts import User
from models.identity.orgs import Organisation
from models.policy import Actor
from models.policy.challenges import owns_challenge
from models.policy.review import may_follow_reviews, reviewer_pool_filter
from models.proposals.lifecycle import start_review
from models.proposals.models import Proposal, ProposalStatus
from models.proposals.shown import shown_of
from models.review import conflicts, rounds
from models.review.assignment import AssignmentResult
from models.review.closing import RANKED, REVIEWABLE, queue_assignment
from models.review.closing import TOPIC as TOPIC
from models.review.common import REMOVED_BY_OWNER, challenge_of, notify
from models.review.models import Assignment, AssignmentStatus, PanelMember
from models.review.proposal_subjects import PROPOSAL, as_subjects
from models.review.reviewing import allowed_transitions
from models.review.rounds import Plan, proposal_round

A = AssignmentStatus
MAX_REVIEWS_PER_PROPOSAL = 20


# --- follow-up jobs ----------------------------------------------------------------------------


async def consume(message: outbox.OutboxMessage) -> None:
    """Outbox consumer for topic "review"."""
    if message.payload.get("kind") == "round":
        await rounds.run_round(int(message.payload["round"]))
        return
    challenge_id = int(message.payload["challenge"])
    if message.payload.get("kind") == "begin":
        await begin_review(challenge_id)
    else:
        await run_assignment(challenge_id)


async def begin_review(challenge_id: int) -> AssignmentResult | None:
    """After closing: the submitted proposals go under review (each in its own transaction), then assignment."""
    await start_review(challenge_id)
    return await run_assignment(challenge_id)


# --- the panel ---------------------------------------------------------------------------------


async def panel_of(actor: Actor, challenge: Challenge) -> list[User]:
    if not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    return await User.filter(panels__round__challenge_id=challenge.id, panels__round__subject_kind=PROPOSAL,
                             panels__round__scope_id=0).order_by("id")


async def reviewer_pool() -> list[User]:
    return await User.filter(await reviewer_pool_filter()).order_by("name", "id")


async def set_panel(actor: Actor, challenge: Challenge, reviewer_ids: list[int], reviews_per_proposal: int,
                    max_per_reviewer: int | None) -> list[User]:
    """Owners choose the reviewers from the pool, how many review each proposal and the cap per reviewer."""
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners choose its panel")
    if challenge.status in (ChallengeStatus.DECIDED, ChallengeStatus.CANCELLED):
        raise InvalidTransition(N_("The panel can no longer be changed."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    errors = {}
    if not 1 <= reviews_per_proposal <= MAX_REVIEWS_PER_PROPOSAL:
        errors["reviews_per_proposal"] = N_("Choose between 1 and 20 reviews per proposal.")
    if max_per_reviewer is not None and max_per_reviewer < 1:
        errors["max_per_reviewer"] = N_("A reviewer must be able to take at least one review.")
    wanted = sorted(set(reviewer_ids))
    found = await User.filter(await reviewer_pool_filter(wanted), id__in=wanted).order_by("id")
    if len(found) != len(wanted):
        errors["reviewers"] = N_("Choose reviewers from the pool of reviewers.")
    if errors:
        raise ValidationFailed(errors)
    row = (await proposal_round(challenge)).row
    before_ids = set(await PanelMember.filter(round_id=row.id).values_list("reviewer_id", flat=True))
    before = {"reviewers": sorted(before_ids), "reviews_per_proposal": challenge.reviews_per_proposal,
              "max_per_reviewer": challenge.max_per_reviewer}
    async with in_transaction() as connection:
        await Challenge.filter(id=challenge.id).using_db(connection).update(
            reviews_per_proposal=reviews_per_proposal, max_per_reviewer=max_per_reviewer, updated_at=timezone.now())
        challenge.reviews_per_proposal, challenge.max_per_reviewer = reviews_per_proposal, max_per_reviewer
        added = await rounds.change_panel(row, wanted, connection)
        await notify(added, "review.panel_added", {"challenge": challenge.id}, connection)
        after = {"reviewers": wanted, "reviews_per_proposal": reviews_per_proposal, "max_per_reviewer": max_per_reviewer}
        await audit.record("challenge.panel_changed", actor=actor.user,
                           organisation=await Organisation.get(id=challenge.owner_id, using_db=connection), target=challenge, before=before, after=after, using_db=connection)
        if challenge.status == ChallengeStatus.CLOSED:
            await queue_assignment(challenge.id, using_db=connection)
    return list(found)


# --- assignment --------------------------------------------------------------------------------


async def plan(challenge: Challenge, statuses: tuple[str, ...] = REVIEWABLE, using_db: Any = None) -> Plan:
    """What the assignment algorithm gives for the current data (reads only), for the proposals in `statuses`."""
    round_ = await proposal_round(challenge, using_db=using_db)
    proposals = await Proposal.filter(challenge_id=challenge.id, status__in=list(statuses)).order_by("id").using_db(using_db)
    return await rounds.plan(round_, await as_subjects(proposals, titles=False, using_db=using_db), using_db=using_db)


async def run_assignment(challenge_id: int) -> AssignmentResult | None:
    """Fill every missing place of a closed challenge's proposals (a job; idempotent; one transaction)."""
    async with in_transaction() as connection:
        challenge = await Challenge.filter(id=challenge_id).select_for_update().using_db(connection).first()
        if challenge is None or challenge.status != ChallengeStatus.CLOSED:
            return None
        return await rounds.assign(await proposal_round(challenge, using_db=connection), connection)


async def _owned_closed(actor: Actor, challenge: Challenge) -> None:
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners adjust its assignments")
    if challenge.status != ChallengeStatus.CLOSED:
        raise InvalidTransition(N_("Assignments can be changed only while the challenge is under review."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))


async def add_assignment(actor: Actor, challenge: Challenge, proposal_id: int, reviewer_id: int) -> Assignment:
    """An owner assigns a reviewer by hand: from the pool, never one with a conflict of interest."""
    await _owned_closed(actor, challenge)
    proposal = await Proposal.get_or_none(id=proposal_id, challenge_id=challenge.id, status__in=list(REVIEWABLE))
    if proposal is None:
        raise ValidationFailed({"proposal_id": N_("Choose one of the proposals under review.")})
    reviewer = await User.filter(await reviewer_pool_filter([reviewer_id]), id=reviewer_id).first()
    if reviewer is None:
        raise ValidationFailed({"reviewer_id": N_("Choose reviewers from the pool of reviewers.")})
    [subject] = await as_subjects([proposal], titles=False)
    if await conflicts.is_conflicted(reviewer, subject):
        raise ValidationFailed({"reviewer_id": N_("This reviewer has a conflict of interest with this proposal.")})
    existing = await Assignment.get_or_none(proposal_id=proposal.id, reviewer_id=reviewer.id)
    if existing is not None:
        message = N_("This reviewer withdrew from this proposal.") if existing.status == A.RECUSED else N_(
            "This reviewer is already assigned to this proposal.")
        raise ValidationFailed({"reviewer_id": message})
    try:
        async with in_transaction() as connection:
            round_ = await proposal_round(challenge, using_db=connection)
            await rounds.join_panel(round_.row, reviewer.id, connection)
            assignment = await rounds.create_assignment(round_, subject, reviewer.id, connection)
            await audit.record("assignment.added", actor=actor.user, target=assignment, using_db=connection,
                               after={"proposal": proposal.id, "reviewer": reviewer.id})
            await notify([reviewer], "review.assigned", {"challenge": challenge.id, "assignment": assignment.id}, connection)
            await rounds.assignment_mail(round_, reviewer, 1, connection)
    except IntegrityError:  # assigned by someone else at the same moment
        raise ValidationFailed({"reviewer_id": N_("This reviewer is already assigned to this proposal.")}) from None
    return assignment


async def remove_assignment(actor: Actor, assignment: Assignment) -> Assignment:
    """An owner takes a reviewer off a proposal before they submit. The row stays (recused, "removed") so
    that neither the record nor a later assignment run brings the same reviewer back."""
    challenge = await challenge_of(assignment.the_proposal)
    await _owned_closed(actor, challenge)
    if assignment.status != A.ASSIGNED:
        raise InvalidTransition(N_("Only a review not yet submitted can be taken away."),
                                allowed=await allowed_transitions(actor, assignment))
    async with in_transaction() as connection:
        updated = await Assignment.filter(id=assignment.id, status=A.ASSIGNED.value).using_db(connection).update(
            status=A.RECUSED.value, recusal_reason=REMOVED_BY_OWNER, updated_at=timezone.now())
        if not updated:  # submitted or withdrawn meanwhile
            await assignment.refresh_from_db(using_db=connection)
            raise InvalidTransition(N_("Only a review not yet submitted can be taken away."),
                                    allowed=await allowed_transitions(actor, assignment))
        await audit.record("assignment.removed", actor=actor.user, target=assignment, using_db=connection,
                           before={"status": assignment.status}, after={"status": A.RECUSED.value})
    assignment.status = A.RECUSED.value
    return assignment


# --- the overview ------------------------------------------------------------------------------


@dataclass
class Overview:
    """Who reviews what, and what the assignment cannot fill (before closing: a preview)."""

    plan: Plan
    proposals: list[Proposal]  # submitted, shown: under review (or, before closing, submitted), ranked, or assigned
    titles: dict[int, str]  # what others see of each proposal (models.proposals.shown)
    assignments: dict[int, list[Assignment]] = field(default_factory=dict)  # by proposal id, reviewers fetched


async def overview(actor: Actor, challenge: Challenge) -> Overview:
    if not await may_follow_reviews(actor, challenge):
        raise NotAllowed("the challenge's owners and operators only")
    statuses = REVIEWABLE if challenge.status == ChallengeStatus.CLOSED else (ProposalStatus.SUBMITTED.value,)
    planned = await plan(challenge, statuses)
    by_proposal: dict[int, list[Assignment]] = {}
    for a in await Assignment.filter(proposal__challenge_id=challenge.id).order_by("id").prefetch_related("reviewer"):
        by_proposal.setdefault(a.subject_id, []).append(a)
    submitted = await Proposal.filter(challenge_id=challenge.id, submitted_at__not_isnull=True).order_by("id")
    shown = [p for p in submitted if p.status in (*statuses, *RANKED) or p.id in by_proposal]
    titles = {i: s.title for i, s in (await shown_of(shown)).items()}
    return Overview(planned, shown, titles, by_proposal)
