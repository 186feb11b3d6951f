"""Drafting, submitting, revising and deciding proposals: one function per transition.

Each function checks the policy and the lifecycle, changes the rows, and writes the audit event (and
the outbox rows: the receipt e-mail) in one transaction. The proposals deadline is compared on the
server with the moment the request arrived: a submission at or after it is refused and changes nothing.

A proposal row is the company's working copy. Every submission freezes it as a `ProposalVersion` with
the SHA-256 digest of its canonical JSON (`canonical_json`); the challenge's owners and reviewers only
ever see the latest submitted version, never the working copy.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeKpi, ChallengeStatus
from models.core import audit, mail
from models.core.base import one_or_none, translated
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from models.core.transitions import next_states
from models.identity.orgs import Organisation, OrgStatus
from models.policy import Actor
from models.policy.challenges import may_view_challenge
from models.policy.proposals import (
    company_of,
    is_proposal_company_member,
    may_draft_proposals,
    may_edit_proposal,
    may_see_receipts,
    may_see_versions,
    may_view_proposal,
    owned_challenge_ids,
    proposal_filter,
    roles_on,
)
from models.proposals.models import Proposal, ProposalStatus, ProposalVersion

S = ProposalStatus
JST = ZoneInfo("Asia/Tokyo")

# Who may move a proposal from one state to the next: "company" (its members), "owner" (the challenge's
# owners) or "system" (jobs). submitted -> submitted is a revision submitted again before the deadline.
TRANSITIONS: dict[ProposalStatus, dict[ProposalStatus, str]] = {
    S.DRAFT: {S.SUBMITTED: "company", S.WITHDRAWN: "company"},
    S.SUBMITTED: {S.SUBMITTED: "company", S.WITHDRAWN: "company", S.UNDER_REVIEW: "system", S.INELIGIBLE: "owner"},
    S.UNDER_REVIEW: {S.SHORTLISTED: "owner", S.NOT_SELECTED: "owner", S.INELIGIBLE: "owner", S.WITHDRAWN: "company"},
    # A decision is a draft until the owners finalise the challenge: they may undo it (back to under_review) until then.
    S.SHORTLISTED: {S.SELECTED: "owner", S.NOT_SELECTED: "owner", S.UNDER_REVIEW: "owner", S.WITHDRAWN: "company"},
    S.SELECTED: {S.UNDER_REVIEW: "owner"},
    S.NOT_SELECTED: {S.UNDER_REVIEW: "owner"},
    S.WITHDRAWN: {},
    S.INELIGIBLE: {},
}
DECISIONS = (S.SHORTLISTED, S.SELECTED, S.NOT_SELECTED)
TEXT_FIELDS = ("title", "summary", "approach", "schedule", "team", "track_record")
CONTENT_FIELDS = (*TEXT_FIELDS, "cost_yen", "kpis", "declared_conflicts")
REQUIRED_TO_SUBMIT = {
    "title": N_("Give the proposal a title."),
    "summary": N_("Write a summary."),
    "approach": N_("Describe your approach."),
    "cost_yen": N_("Give a cost estimate in yen."),
    "schedule": N_("Describe the schedule."),
    "team": N_("Describe the team."),
}


class DeadlinePassed(InvalidTransition):
    """The proposals deadline has passed; `deadline` is shown to the person in Japan time."""

    message_id = N_("The deadline was %(deadline)s. Proposals can no longer be submitted or changed.")

    def __init__(self, deadline: datetime, allowed: list[str]) -> None:
        super().__init__(self.message_id, allowed, params={"deadline": deadline},
                         deadline=deadline.astimezone(JST).isoformat())
        self.deadline = deadline


class NotOpen(InvalidTransition):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(N_("This challenge is not open for proposals."), allowed)


class CompanyNotApproved(NotAllowed):
    def __init__(self) -> None:
        super().__init__(N_("Your company has not been approved yet. You can save drafts, and submit once an operator has approved the company."))


class AlreadyProposed(InvalidTransition):
    """`allowed` names what the company may do with the proposal it has."""

    def __init__(self, proposal_id: int, allowed: list[str]) -> None:
        super().__init__(N_("Your company already has a proposal for this challenge."), allowed, proposal_id=proposal_id)
        self.proposal_id = proposal_id


@dataclass
class KpiCommitment:
    kpi: int | str  # the challenge KPI's position (from 0) or its name in either language
    value: float


@dataclass
class ProposalChanges:
    """What a company sets on its proposal; None (or a missing key) means "leave as it is"."""

    values: dict[str, Any] = field(default_factory=dict)  # TEXT_FIELDS and "cost_yen"
    kpis: list[KpiCommitment] | None = None
    declared_conflicts: list[int] | None = None


# --- content, digest, reference ---------------------------------------------------------------


def canonical_json(content: dict[str, Any]) -> bytes:
    """The bytes the receipt's digest is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def reference_for(proposal: Proposal, version: int) -> str:
    return f"KY-{proposal.challenge_id}-{proposal.id}-v{version}"


def working_content(proposal: Proposal) -> dict[str, Any]:
    return {name: getattr(proposal, name) for name in CONTENT_FIELDS}


async def latest_version(proposal: Proposal) -> ProposalVersion | None:
    """The version reviewers and owners see: the last one submitted (submissions close at the deadline)."""
    return await ProposalVersion.filter(proposal_id=proposal.id).order_by("-version").first()


async def latest_versions(proposals: list[Proposal]) -> dict[int, ProposalVersion]:
    """`latest_version` of each proposal (by proposal id; absent when never submitted), in one query."""
    ids = [proposal.id for proposal in proposals if proposal.version]
    latest: dict[int, ProposalVersion] = {}
    for version in await ProposalVersion.filter(proposal_id__in=ids).order_by("-version") if ids else []:
        latest.setdefault(version.proposal_id, version)
    return latest


def differs_from(proposal: Proposal, version: ProposalVersion | None) -> bool:
    """Whether the working copy has changes not in `version` (False when nothing was submitted)."""
    if version is None:
        return False
    return {name: version.content.get(name) for name in CONTENT_FIELDS} != working_content(proposal)


async def has_unsubmitted_changes(proposal: Proposal) -> bool:
    return differs_from(proposal, await latest_version(proposal))


# --- checks -----------------------------------------------------------------------------------


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


async def _normalised_kpis(challenge: Challenge, commitments: list[KpiCommitment]) -> list[dict[str, Any]]:
    kpis = await ChallengeKpi.filter(challenge_id=challenge.id)
    chosen: dict[int, int | float] = {}
    for commitment in commitments:
        if isinstance(commitment.kpi, int) and not isinstance(commitment.kpi, bool):
            index = commitment.kpi if 0 <= commitment.kpi < len(kpis) else None
        else:
            wanted = str(commitment.kpi).strip()
            index = next((i for i, k in enumerate(kpis) if wanted and wanted in (k.name or {}).values()), None)
        if index is None:
            raise ValidationFailed({"kpis": N_("Refer to one of the challenge's KPIs, by its number or its name.")})
        if index in chosen:
            raise ValidationFailed({"kpis": N_("Commit to each KPI only once.")})
        if not math.isfinite(commitment.value):
            raise ValidationFailed({"kpis": N_("Enter a number for each KPI.")})
        chosen[index] = _number(commitment.value)
    return [{"kpi": index, "value": chosen[index]} for index in sorted(chosen)]


async def _checked_conflicts(company_id: int, ids: list[int]) -> list[int]:
    unique = sorted(set(ids))
    if company_id in unique:
        raise ValidationFailed({"declared_conflicts": N_("Your own company cannot be a declared conflict.")})
    if len(unique) != await Organisation.filter(id__in=unique).count():
        raise ValidationFailed({"declared_conflicts": N_("One of the organisations does not exist.")})
    return unique


async def _apply(proposal: Proposal, challenge: Challenge, changes: ProposalChanges) -> list[str]:
    """Validate the changes and set them on the (unsaved) row; returns the names of the fields set."""
    values = dict(changes.values)
    if "title" in values and not str(values["title"] or "").strip():
        raise ValidationFailed({"title": N_("Give the proposal a title.")})
    cost = values.get("cost_yen")
    if cost is not None and cost < 0:
        raise ValidationFailed({"cost_yen": N_("The cost estimate cannot be negative.")})
    for name, value in values.items():
        if name in TEXT_FIELDS:
            value = str(value or "").strip()
        setattr(proposal, name, value)
    changed = sorted(values)
    if changes.kpis is not None:
        proposal.kpis = await _normalised_kpis(challenge, changes.kpis)
        changed.append("kpis")
    if changes.declared_conflicts is not None:
        proposal.declared_conflicts = await _checked_conflicts(proposal.company_id, changes.declared_conflicts)
        changed.append("declared_conflicts")
    return changed


def missing_for_submission(proposal: Proposal) -> dict[str, str]:
    return missing_in({name: getattr(proposal, name) for name in REQUIRED_TO_SUBMIT})


def missing_in(content: dict[str, Any]) -> dict[str, str]:
    """What a submission still lacks in these values (message ids by field): a page shows it with its form's errors."""
    errors = {}
    for name, message in REQUIRED_TO_SUBMIT.items():
        value = content.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = message
    return errors


def window_open(challenge: Challenge, now: datetime | None = None) -> bool:
    """Proposals are accepted while the challenge is published and strictly before its deadline."""
    if challenge.status != ChallengeStatus.PUBLISHED:
        return False
    return challenge.proposals_deadline is None or (now or timezone.now()) < challenge.proposals_deadline


def check_window(challenge: Challenge, now: datetime | None = None, allowed: list[str] | None = None) -> None:
    """Raise NotOpen or DeadlinePassed unless proposals are accepted at `now`."""
    now, allowed = now or timezone.now(), allowed or []
    if challenge.status != ChallengeStatus.PUBLISHED:
        raise NotOpen(allowed)
    if challenge.proposals_deadline is not None and now >= challenge.proposals_deadline:
        raise DeadlinePassed(challenge.proposals_deadline, allowed)


async def _loaded(related: Any) -> Any:
    """A foreign key's row: the one already loaded with the proposal (`get_proposal`), else read now."""
    return related if isinstance(related, Model) else await related


async def challenge_of(proposal: Proposal) -> Challenge:
    """The challenge the proposal answers (read once: `get_proposal` and the lists load it)."""
    return await _loaded(proposal.challenge)


async def company_of_proposal(proposal: Proposal) -> Organisation:
    return await _loaded(proposal.company)



async def kpis_of(challenge: Challenge) -> list[ChallengeKpi]:
    """The challenge's KPIs in their order: a commitment's `kpi` is a position in this list."""
    return await ChallengeKpi.filter(challenge_id=challenge.id)


# --- reading ----------------------------------------------------------------------------------


async def get_proposal(actor: Actor, proposal_id: int) -> Proposal:
    """The proposal, or NotFound for anyone who may not see it (so its existence is not revealed)."""
    proposal = await Proposal.filter(id=proposal_id).select_related("challenge", "company").first()
    if proposal is None or not await may_view_proposal(actor, proposal):
        raise NotFound("no such proposal")
    return proposal


async def allowed_transitions(actor: Actor, proposal: Proposal, now: datetime | None = None) -> list[str]:
    moves = next_states(TRANSITIONS, S(proposal.status), await roles_on(actor, proposal))
    if S.UNDER_REVIEW.value in moves and (await challenge_of(proposal)).status == ChallengeStatus.DECIDED.value:
        moves.remove(S.UNDER_REVIEW.value)  # finalised: the companies have been told
    if S.SUBMITTED.value in moves:
        company = await company_of_proposal(proposal)
        if company.status != OrgStatus.APPROVED or not window_open(await challenge_of(proposal), now or timezone.now()):
            moves.remove(S.SUBMITTED.value)
    return moves


async def proposal_of(challenge: Challenge, company: Organisation) -> Proposal | None:
    """The company's proposal to the challenge (there is at most one), whoever asks."""
    return await one_or_none(Proposal, challenge_id=challenge.id, company_id=company.id)


async def received_count(challenge: Challenge) -> int:
    """How many proposals have been submitted to the challenge (withdrawn ones included)."""
    return await Proposal.filter(challenge_id=challenge.id, submitted_at__not_isnull=True).count()


def _visible(actor: Actor) -> Any:
    return Proposal.filter(proposal_filter(actor)).select_related("challenge", "company")


async def visible_proposals(actor: Actor, *, challenge_id: int | None = None, status: str | None = None,
                            offset: int = 0, limit: int = 200) -> tuple[int, list[Proposal]]:
    """The proposals the actor may see, most recently changed first: how many, and one page of them."""
    found = _visible(actor)
    if challenge_id is not None:
        found = found.filter(challenge_id=challenge_id)
    if status and company_of(actor) is not None:  # a company filters by what it sees: held decisions are "under review"
        decided = ChallengeStatus.DECIDED.value
        held = Q(status__in=[d.value for d in DECISIONS]) & ~Q(challenge__status=decided)
        if status == S.UNDER_REVIEW.value:
            found = found.filter(Q(status=status) | held)
        else:
            found = found.filter(Q(status=status) & ~held)
    elif status:
        found = found.filter(status=status)
    return await found.count(), await found.order_by("-updated_at", "-id").offset(offset).limit(limit)


async def recent_proposals(actor: Actor, limit: int = 200) -> list[Proposal]:
    """The proposals the actor may see, most recently changed first (the "Proposals" page)."""
    return await _visible(actor).order_by("-updated_at", "-id").limit(limit)


async def submitted_proposals(actor: Actor, challenge: Challenge) -> list[Proposal]:
    """The proposals submitted to the challenge that the actor may see, in the order they came in."""
    return await _visible(actor).filter(challenge_id=challenge.id, submitted_at__not_isnull=True).order_by(
        "submitted_at", "id")


def is_editable(proposal: Proposal, challenge: Challenge, now: datetime | None = None) -> bool:
    return proposal.status in (S.DRAFT, S.SUBMITTED) and window_open(challenge, now or timezone.now())


@dataclass
class ProposalView:
    """What one person sees of a proposal: the company its working copy while it can still change it,
    everyone else (and the company after the deadline) the last version submitted."""

    content: dict[str, Any]
    version: ProposalVersion | None  # the latest submitted version, if any
    show_company: bool  # False for reviewers of a blind review
    unsubmitted_changes: bool  # only ever True for the company's own members
    is_company: bool
    is_owner: bool
    challenge: Challenge | None = None
    company: Organisation | None = None  # None when `show_company` is False
    status: str = ""  # the status this person sees: a company sees a held decision as "under_review"
    status_reason: str = ""


def held_from(proposal: Proposal, challenge: Challenge, is_company: bool, is_owner: bool) -> bool:
    """Whether the owners' decision on this proposal is still held from its company: decisions reach companies
    only when the owners finalise (the challenge is decided)."""
    return (is_company and not is_owner and proposal.status in {d.value for d in DECISIONS}
            and challenge.status != ChallengeStatus.DECIDED.value)


async def views_of(actor: Actor, proposals: list[Proposal]) -> list[ProposalView]:
    """`view_of` for each proposal, with a fixed number of queries however many there are."""
    latest = await latest_versions(proposals)
    owned = await owned_challenge_ids(actor, [await challenge_of(proposal) for proposal in proposals])
    views = []
    for proposal in proposals:
        challenge, version = await challenge_of(proposal), latest.get(proposal.id)
        is_company = is_proposal_company_member(actor, proposal)
        is_owner = proposal.submitted_at is not None and challenge.id in owned
        if (is_company and is_editable(proposal, challenge)) or version is None:
            content = working_content(proposal)
        else:
            content = {name: version.content.get(name) for name in CONTENT_FIELDS}
        unsubmitted = is_company and differs_from(proposal, version)
        show_company = is_company or is_owner or actor.is_operator or not challenge.blind_review
        company = await company_of_proposal(proposal) if show_company else None
        held = held_from(proposal, challenge, is_company, is_owner)
        views.append(ProposalView(content, version, show_company, unsubmitted, is_company, is_owner, challenge, company,
                                  status=S.UNDER_REVIEW.value if held else proposal.status,
                                  status_reason="" if held else proposal.status_reason))
    return views


async def view_of(actor: Actor, proposal: Proposal) -> ProposalView:
    """Call only after `may_view_proposal` (or `get_proposal`) said yes."""
    [view] = await views_of(actor, [proposal])
    return view


async def versions_of(actor: Actor, proposal: Proposal) -> list[ProposalVersion]:
    """Every submitted version, newest first: for the company, the challenge's owners and operators."""
    if not await may_see_versions(actor, proposal):
        raise NotAllowed("versions are shown to the company, the challenge's owners and operators")
    return await ProposalVersion.filter(proposal_id=proposal.id).order_by("-version").prefetch_related("submitted_by")


async def receipt_of(actor: Actor, proposal: Proposal, version: int | None = None) -> ProposalVersion:
    """The receipt of one submission (the latest by default): for the company and operators."""
    if not may_see_receipts(actor, proposal):
        raise NotAllowed("receipts are shown to the company and operators")
    query = ProposalVersion.filter(proposal_id=proposal.id).order_by("-version")
    if version is not None:
        query = query.filter(version=version)
    found = await query.prefetch_related("submitted_by").first()
    if found is None:
        raise NotFound("no such submission")
    return found


async def receipt_mail_state(proposal: Proposal, version: int) -> str:
    """Whether the e-mail copy of a receipt went out: "sent", "waiting" (in the outbox: without SMTP_URL mail
    waits there), "failed" (given up or cancelled) or "none" (no copy was queued, e.g. demo data)."""
    for message in await OutboxMessage.filter(topic=mail.TOPIC, key=f"proposal:{proposal.id}").order_by("-id"):
        payload = message.payload or {}
        if payload.get("template") != "proposal_receipt" or (payload.get("context") or {}).get("version") != version:
            continue
        if message.processed_at is None:
            return "waiting"
        return "failed" if message.last_error else "sent"
    return "none"


# --- transitions ------------------------------------------------------------------------------


async def create_proposal(actor: Actor, challenge: Challenge, changes: ProposalChanges) -> Proposal:
    """A company member starts their company's (only) proposal to a published challenge."""
    now = timezone.now()
    company = company_of(actor)
    if actor.user is None or company is None or not may_draft_proposals(actor):
        raise NotAllowed("only members of a company draft proposals")
    if not await may_view_challenge(actor, challenge):
        raise NotFound("no such challenge")
    existing = await Proposal.get_or_none(challenge_id=challenge.id, company_id=company.id)
    if existing is not None:
        raise AlreadyProposed(existing.id, await allowed_transitions(actor, existing, now))
    check_window(challenge, now, [])
    proposal = Proposal(challenge=challenge, company=company, created_by=actor.user)
    changed = await _apply(proposal, challenge, changes)
    if not proposal.title:
        raise ValidationFailed({"title": N_("Give the proposal a title.")})
    try:
        async with in_transaction():
            await proposal.save()
            await audit.record("proposal.created", actor=actor.user, organisation=company, target=proposal,
                               after={"challenge": challenge.id, "fields": changed})
    except IntegrityError:  # another member of the company started one at the same moment
        existing = await Proposal.get_or_none(challenge_id=challenge.id, company_id=company.id)
        if existing is None:
            raise
        raise AlreadyProposed(existing.id, await allowed_transitions(actor, existing, now)) from None
    return proposal


async def update_proposal(actor: Actor, proposal: Proposal, changes: ProposalChanges) -> Proposal:
    """Save the working copy: a draft, or a submitted proposal being revised before the deadline.

    A revision is not seen by anyone outside the company until it is submitted again.
    """
    now = timezone.now()
    if not may_edit_proposal(actor, proposal):
        raise NotAllowed("only the company's members edit its proposal")
    if proposal.status not in (S.DRAFT, S.SUBMITTED):
        raise InvalidTransition(N_("This proposal can no longer be changed."), allowed=await allowed_transitions(actor, proposal, now))
    challenge = await challenge_of(proposal)
    check_window(challenge, now, await allowed_transitions(actor, proposal, now))
    changed = await _apply(proposal, challenge, changes)
    async with in_transaction():
        await proposal.save()
        await audit.record("proposal.updated", actor=actor.user, organisation=await company_of_proposal(proposal),
                           target=proposal, after={"fields": changed, "status": proposal.status})
    return proposal


async def submit(actor: Actor, proposal: Proposal, changes: ProposalChanges | None = None) -> Proposal:
    """Submit (or submit again, after a revision) before the deadline; freeze the content as a version.

    `changes` are saved in the same transaction, so a refused submission leaves nothing half-written.
    Submitting content identical to the last version changes nothing (a double click is harmless).
    """
    now = timezone.now()  # the moment the submission arrived, compared with the deadline
    if not may_edit_proposal(actor, proposal) or actor.user is None:
        raise NotAllowed("only the company's members submit its proposal")
    allowed = await allowed_transitions(actor, proposal, now)
    if proposal.status not in (S.DRAFT, S.SUBMITTED):
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    company = await company_of_proposal(proposal)
    if company.status != OrgStatus.APPROVED:
        raise CompanyNotApproved()
    challenge = await challenge_of(proposal)
    check_window(challenge, now, allowed)
    if changes is not None:
        await _apply(proposal, challenge, changes)
    errors = missing_for_submission(proposal)
    if errors:
        raise ValidationFailed(errors)
    if proposal.status == S.SUBMITTED and not await has_unsubmitted_changes(proposal):
        if changes is not None:
            await proposal.save()  # the working copy goes back to what was submitted
        return proposal
    user = actor.user
    async with in_transaction() as connection:
        locked = await Proposal.filter(id=proposal.id).select_for_update().using_db(connection).get()
        if locked.status not in (S.DRAFT, S.SUBMITTED):  # moved by someone else meanwhile
            proposal.status = locked.status
            raise InvalidTransition(N_("This change of state is not possible now."),
                                    allowed=await allowed_transitions(actor, proposal, now))
        number = locked.version + 1
        content = {
            "proposal_id": proposal.id, "challenge_id": proposal.challenge_id, "company_id": proposal.company_id,
            "version": number, "submitted_at": now.isoformat(), **working_content(proposal),
        }
        sha256 = digest(content)
        before = locked.status
        proposal.status, proposal.version, proposal.submitted_at = S.SUBMITTED.value, number, now
        proposal.reference = reference_for(proposal, number)
        await proposal.save(using_db=connection)
        await ProposalVersion.create(proposal=proposal, version=number, content=content, sha256=sha256,
                                     submitted_by=user, using_db=connection)
        await audit.record("proposal.submitted", actor=user, organisation=company, target=proposal,
                           before={"status": before}, using_db=connection,
                           after={"status": S.SUBMITTED.value, "version": number, "sha256": sha256,
                                  "reference": proposal.reference})
        await queue_mail(
            "proposal_receipt", to=user.email, locale=user.locale, key=f"proposal:{proposal.id}",
            context={
                "reference": proposal.reference, "sha256": sha256, "version": number, "proposal_id": proposal.id,
                "proposal_title": proposal.title, "company_name": company.name(user.locale),
                "challenge_title": translated(challenge.title, user.locale), "submitted_at": now.isoformat(),
                "deadline_at": challenge.proposals_deadline.isoformat() if challenge.proposals_deadline else "",
            },
            using_db=connection,
        )
    return proposal


async def _move(actor: Actor, proposal: Proposal, target: ProposalStatus, reason: str, *,
                organisation: Organisation, notify: bool) -> Proposal:
    before = proposal.status
    async with in_transaction() as connection:
        locked = await Proposal.filter(id=proposal.id).select_for_update().using_db(connection).get()
        if target not in TRANSITIONS[S(locked.status)]:  # moved by someone else meanwhile
            proposal.status = locked.status
            raise InvalidTransition(N_("This change of state is not possible now."),
                                    allowed=await allowed_transitions(actor, proposal))
        proposal.status, proposal.status_reason = target.value, reason
        await proposal.save(using_db=connection, update_fields=["status", "status_reason", "updated_at"])
        await audit.record(f"proposal.{target.value}", actor=actor.user, organisation=organisation, target=proposal,
                           before={"status": before}, after={"status": target.value, "reason": reason},
                           using_db=connection)
        if notify and proposal.created_by_id is not None:
            await Notification.create(user_id=proposal.created_by_id, kind=f"proposal.{target.value}",
                                      payload={"proposal": proposal.id, "challenge": proposal.challenge_id},
                                      using_db=connection)
    return proposal


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    return reason


async def _check_move(actor: Actor, proposal: Proposal, target: ProposalStatus, role: str) -> None:
    roles = await roles_on(actor, proposal)
    if not roles:
        raise NotAllowed("neither the company nor an owner of the challenge")
    if TRANSITIONS[S(proposal.status)].get(target) != role or role not in roles:
        raise InvalidTransition(N_("This change of state is not possible now."),
                                allowed=await allowed_transitions(actor, proposal))


async def withdraw(actor: Actor, proposal: Proposal, reason: str) -> Proposal:
    await _check_move(actor, proposal, S.WITHDRAWN, "company")
    return await _move(actor, proposal, S.WITHDRAWN, _reason(reason), organisation=await company_of_proposal(proposal), notify=False)


async def mark_ineligible(actor: Actor, proposal: Proposal, reason: str) -> Proposal:
    """An owner screens a submitted proposal out (before or during review), saying why."""
    await _check_move(actor, proposal, S.INELIGIBLE, "owner")
    challenge = await challenge_of(proposal)
    return await _move(actor, proposal, S.INELIGIBLE, _reason(reason),
                       organisation=await Organisation.get(id=challenge.owner_id), notify=True)


async def decide(actor: Actor, proposal: Proposal, to: str, reason: str) -> Proposal:
    """An owner shortlists, selects or does not select a proposal under review, saying why. The decision is held:
    the company is told nothing until the owners finalise (`models.review.closing.tell_companies`)."""
    target = S(to)
    if target not in DECISIONS:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=await allowed_transitions(actor, proposal))
    await _check_move(actor, proposal, target, "owner")
    challenge = await challenge_of(proposal)
    return await _move(actor, proposal, target, _reason(reason),
                       organisation=await Organisation.get(id=challenge.owner_id), notify=False)


async def undo_decision(actor: Actor, proposal: Proposal) -> Proposal:
    """An owner takes a held decision back (the proposal is under review again), until the challenge is decided."""
    if S.UNDER_REVIEW.value not in await allowed_transitions(actor, proposal):
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=await allowed_transitions(actor, proposal))
    challenge = await challenge_of(proposal)
    return await _move(actor, proposal, S.UNDER_REVIEW, "", organisation=await Organisation.get(id=challenge.owner_id),
                       notify=False)


async def transition(actor: Actor, proposal: Proposal, to: str, *, reason: str = "",
                     changes: ProposalChanges | None = None) -> Proposal:
    """Move a proposal to `to` as a person (the company or the challenge's owners)."""
    try:
        target = S(to)
    except ValueError:
        target = None
    roles = await roles_on(actor, proposal)
    if not roles:
        raise NotAllowed("neither the company nor an owner of the challenge")
    who = TRANSITIONS[S(proposal.status)].get(target) if target else None
    if target is None or who is None or who not in roles:
        raise InvalidTransition(N_("This change of state is not possible now."),
                                allowed=await allowed_transitions(actor, proposal))
    if target == S.SUBMITTED:
        return await submit(actor, proposal, changes)
    if target == S.WITHDRAWN:
        return await withdraw(actor, proposal, reason)
    if target == S.INELIGIBLE:
        return await mark_ineligible(actor, proposal, reason)
    if target == S.UNDER_REVIEW:
        return await undo_decision(actor, proposal)
    return await decide(actor, proposal, target.value, reason)


async def start_review(challenge: Challenge | int, now: datetime | None = None) -> list[int]:
    """At the deadline, move the challenge's submitted proposals to review (a job; idempotent)."""
    challenge_id = challenge if isinstance(challenge, int) else challenge.id
    current = await Challenge.get_or_none(id=challenge_id)
    now = now or timezone.now()
    if current is None or (current.proposals_deadline is not None and now < current.proposals_deadline):
        return []
    moved = []
    for proposal in await Proposal.filter(challenge_id=challenge_id, status=S.SUBMITTED.value).prefetch_related("company"):
        async with in_transaction() as connection:
            updated = await Proposal.filter(id=proposal.id, status=S.SUBMITTED.value).using_db(connection).update(
                status=S.UNDER_REVIEW.value, updated_at=timezone.now()
            )
            if not updated:
                continue
            await audit.record("proposal.under_review", organisation=proposal.company, target=proposal, using_db=connection,
                               before={"status": S.SUBMITTED.value}, after={"status": S.UNDER_REVIEW.value})
        moved.append(proposal.id)
    return moved
