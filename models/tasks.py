"""What each person has to do next, per role: the "my tasks" page people land on after logging in.

One read per kind of task, each bounded; access comes from the policy's filters (a person sees only tasks on
what they may act on). The page turns a task's `kind` into a sentence and a link; the domain names no URL.

- company: proposal drafts (with the proposals deadline), questions the agency answered lately, decisions
  to read (once the challenge is decided), and whether the company is still waiting for approval;
- agency member: challenges to finish and send for approval (drafts, changes requested), questions to
  answer, reviews to finalise (closed challenges), pilots' measurements to verify;
- reviewer: open assignments, by due date;
- operator: challenges and organisations waiting for approval.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.functions import Count

from models.challenges.models import Challenge, ChallengeStatus, Question
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.pilots.models import Measurement, MeasurementStatus, Pilot
from models.policy import Actor
from models.policy.challenges import owned_challenge_filter
from models.policy.pilots import MEASURABLE, owns_pilot
from models.policy.review import assignment_filter
from models.proposals.models import Proposal, ProposalStatus
from models.review.models import Assignment, AssignmentStatus

LIMIT = 20  # per kind of task; the page links to the full list
RECENT_ANSWERS = timedelta(days=30)
RECENT_DECISIONS = timedelta(days=90)
DECIDED = (ProposalStatus.SELECTED, ProposalStatus.NOT_SELECTED, ProposalStatus.SHORTLISTED)


@dataclass
class Task:
    kind: str  # what to do: the page's sentence and link depend on it
    target_id: int  # the challenge, proposal, assignment, pilot or organisation it is about
    title: dict[str, str]  # the thing's name, in both languages
    due: datetime | None = None
    count: int = 1
    challenge_id: int | None = None


@dataclass
class Tasks:
    company: list[Task] = field(default_factory=list)
    company_waiting: bool = False  # the person's company is waiting for an operator's approval
    agency: list[Task] = field(default_factory=list)
    reviewer: list[Task] = field(default_factory=list)
    operator: list[Task] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # the sections the page shows, in order

    @property
    def total(self) -> int:
        return len(self.company) + len(self.agency) + len(self.reviewer) + len(self.operator)


def _due_order(task: Task) -> tuple[int, float]:
    return (task.due is None, task.due.timestamp() if task.due else 0.0)


async def company_tasks(companies: set[int], now: datetime) -> list[Task]:
    tasks = [
        Task("proposal_draft", p.id, p.challenge.title, p.challenge.proposals_deadline, challenge_id=p.challenge_id)
        for p in await Proposal.filter(company_id__in=list(companies), status=ProposalStatus.DRAFT.value,
                                       challenge__status=ChallengeStatus.PUBLISHED.value)
        .order_by("challenge__proposals_deadline", "id").limit(LIMIT).prefetch_related("challenge")
    ]
    answered = Counter[int]()
    titles: dict[int, dict[str, str]] = {}
    latest: dict[int, datetime] = {}
    for question in await Question.filter(asker_organisation_id__in=list(companies), answered_at__gte=now - RECENT_ANSWERS
                                          ).order_by("-answered_at").limit(LIMIT * 5).prefetch_related("challenge"):
        answered[question.challenge_id] += 1
        titles[question.challenge_id] = question.challenge.title
        latest.setdefault(question.challenge_id, question.answered_at or now)
    tasks += [Task("questions_answered", cid, titles[cid], count=n, challenge_id=cid)
              for cid, n in sorted(answered.items(), key=lambda pair: latest[pair[0]], reverse=True)[:LIMIT]]
    tasks += [
        Task("decision", p.id, p.challenge.title, challenge_id=p.challenge_id)
        for p in await Proposal.filter(company_id__in=list(companies), status__in=[s.value for s in DECIDED],
                                       challenge__status=ChallengeStatus.DECIDED.value,
                                       updated_at__gte=now - RECENT_DECISIONS)
        .order_by("-updated_at", "-id").limit(LIMIT).prefetch_related("challenge")
    ]
    return tasks


async def agency_tasks(actor: Actor, agencies: set[int]) -> list[Task]:
    owned = owned_challenge_filter(agencies)
    tasks = [
        Task("challenge_changes" if c.status == ChallengeStatus.CHANGES_REQUESTED else "challenge_draft", c.id, c.title,
             challenge_id=c.id)
        for c in await Challenge.filter(owned, status__in=[ChallengeStatus.CHANGES_REQUESTED.value, ChallengeStatus.DRAFT.value])
        .distinct().order_by("-updated_at", "-id").limit(LIMIT)
    ]
    tasks.sort(key=lambda task: task.kind != "challenge_changes")  # sent back first
    open_questions = await Question.filter(answered_at__isnull=True, challenge__owner_id__in=list(agencies)).annotate(
        n=Count("id")).group_by("challenge_id").values_list("challenge_id", "n")
    co_owned_questions = await Question.filter(
        answered_at__isnull=True, challenge__co_owners__organisation_id__in=list(agencies),
        challenge__co_owners__accepted_at__not_isnull=True).annotate(n=Count("id", distinct=True)).group_by(
        "challenge_id").values_list("challenge_id", "n")
    waiting = {int(cid): int(n) for cid, n in [*co_owned_questions, *open_questions]}
    by_id = {c.id: c for c in await Challenge.filter(id__in=list(waiting) or [0])}
    tasks += [Task("questions_to_answer", cid, by_id[cid].title, by_id[cid].questions_deadline, count=n, challenge_id=cid)
              for cid, n in sorted(waiting.items()) if cid in by_id][:LIMIT]
    tasks += [
        Task("finalise", c.id, c.title, c.review_deadline, challenge_id=c.id)
        for c in await Challenge.filter(owned, status=ChallengeStatus.CLOSED.value).distinct()
        .order_by("review_deadline", "id").limit(LIMIT)
    ]
    mine = Q(owner_id__in=list(agencies)) | Q(challenge__co_owners__organisation_id__in=list(agencies))
    pilots = [p for p in await Pilot.filter(mine, status__in=[s.value for s in MEASURABLE]).distinct().order_by("id")
              .limit(LIMIT * 5).prefetch_related("challenge") if owns_pilot(actor, p)]
    if pilots:
        to_verify = dict(await Measurement.filter(status=MeasurementStatus.RECORDED.value,
                                                  kpi__pilot_id__in=[p.id for p in pilots]).annotate(
            n=Count("id")).group_by("kpi__pilot_id").values_list("kpi__pilot_id", "n"))
        tasks += [Task("verify_measurements", p.id, p.challenge.title, count=int(to_verify[p.id]), challenge_id=p.challenge_id)
                  for p in pilots if to_verify.get(p.id)][:LIMIT]
    return tasks


async def reviewer_tasks(actor: Actor) -> list[Task]:
    assignments = await Assignment.filter(assignment_filter(actor), status=AssignmentStatus.ASSIGNED.value).exclude(
        round__challenge__status=ChallengeStatus.CANCELLED.value).order_by("due_at", "id").limit(LIMIT).prefetch_related(
        "round__challenge")
    return [Task("review_due", a.id, a.the_round.challenge.title, a.due_at or a.the_round.due_at
                 or a.the_round.challenge.review_deadline, challenge_id=a.the_round.challenge_id)
            for a in assignments]


async def operator_tasks() -> list[Task]:
    tasks = [Task("approve_challenge", c.id, c.title, c.publish_at, challenge_id=c.id)
             for c in await Challenge.filter(status=ChallengeStatus.IN_REVIEW.value).order_by("updated_at", "id").limit(LIMIT)]
    tasks += [Task("approve_organisation", o.id, {"ja": o.name_ja, "en": o.name_en or o.name_ja})
              for o in await Organisation.filter(status=OrgStatus.PENDING.value).order_by("created_at", "id").limit(LIMIT)]
    return tasks


async def tasks_for(actor: Actor, now: datetime | None = None) -> Tasks:
    """Every task of the person, per role they hold (a person may hold several)."""
    now = now or timezone.now()
    found = Tasks()
    if actor.user is None:
        return found
    companies = actor.organisation_ids(OrgKind.COMPANY)
    if companies:
        found.roles.append("company")
        approved = {m.organisation_id for m in actor.memberships
                    if m.organisation.kind == OrgKind.COMPANY and m.organisation.status == OrgStatus.APPROVED}
        found.company_waiting = any(m.organisation.status == OrgStatus.PENDING for m in actor.memberships
                                    if m.organisation.kind == OrgKind.COMPANY)
        if approved:
            found.company = await company_tasks(approved, now)
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    if agencies:
        found.roles.append("agency")
        found.agency = await agency_tasks(actor, agencies)
    if actor.is_reviewer or await Assignment.exists(assignment_filter(actor), status=AssignmentStatus.ASSIGNED.value):
        found.roles.append("reviewer")
        found.reviewer = await reviewer_tasks(actor)
    if actor.is_operator:
        found.roles.append("operator")
        found.operator = await operator_tasks()
    for role in found.roles:  # the nearest deadline first; tasks without one keep their order, after them
        getattr(found, role).sort(key=_due_order)
    return found


def task_counts(tasks: Tasks) -> dict[str, Any]:
    """How many tasks per role (for the home page's "you have N things to do")."""
    return {role: len(getattr(tasks, role)) for role in tasks.roles}
