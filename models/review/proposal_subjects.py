"""Proposals as review subjects: the proposal round of a challenge reviews its proposals under review.

Its settings (deadline, reviews per proposal, cap) and scored criteria are the challenge's; its other
fields are the proposal review form (models.review.rubric.PROPOSAL_FIELDS) unless the round stores its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.challenges.models import Challenge, ChallengeStatus, Criterion
from models.proposals.models import Proposal, ProposalStatus, ProposalVersion
from models.review.models import ReviewRound, SubjectKind
from models.review.rubric import PROPOSAL_FIELDS, RubricCriterion
from models.review.subjects import Subject, register
from models.review.subjects import SubjectKind as Kind

PROPOSAL = SubjectKind.PROPOSAL.value
P = ProposalStatus
REVIEWABLE = (P.UNDER_REVIEW.value, P.SHORTLISTED.value)
NOT_COUNTED = (P.WITHDRAWN.value, P.INELIGIBLE.value)  # their reviews no longer weigh on a reviewer's load


async def as_subjects(proposals: Iterable[Proposal], *, titles: bool = True, using_db: Any = None) -> list[Subject]:
    """Proposals as subjects: the title others see (the last version submitted: models.proposals.shown) and
    the organisations the company declared a conflict with (in the working copy and every version)."""
    proposals = list(proposals)
    declared = {p.id: {int(i) for i in p.declared_conflicts or [] if isinstance(i, int)} for p in proposals}
    title: dict[int, str] = {}
    if declared:
        for version in await ProposalVersion.filter(proposal_id__in=list(declared)).order_by(
                "proposal_id", "version").using_db(using_db):
            content = version.content or {}
            declared[version.proposal_id] |= {int(i) for i in content.get("declared_conflicts") or [] if isinstance(i, int)}
            title[version.proposal_id] = str(content.get("title") or "")  # ordered by version: the last one wins
    return [Subject(PROPOSAL, p.id, p.company_id, title.get(p.id, "") if titles else "", frozenset(declared[p.id]),
                    proposal_id=p.id) for p in proposals]


async def _under_review(round_: ReviewRound, using_db: Any = None) -> list[Subject]:
    proposals = await Proposal.filter(challenge_id=round_.challenge_id, status__in=list(REVIEWABLE)).order_by(
        "id").using_db(using_db)
    return await as_subjects(proposals, titles=False, using_db=using_db)


async def _load(ids: Iterable[int], using_db: Any = None) -> dict[int, Subject]:
    proposals = await Proposal.filter(id__in=sorted(set(ids))).order_by("id").using_db(using_db)
    return {s.id: s for s in await as_subjects(proposals, using_db=using_db)}


async def _open(round_: ReviewRound, using_db: Any = None) -> bool:
    return await Challenge.filter(id=round_.challenge_id, status=ChallengeStatus.CLOSED.value).using_db(using_db).exists()


async def _criteria(round_: ReviewRound) -> list[RubricCriterion]:
    return [RubricCriterion(str(c.id), c.name, c.weight, tuple(c.levels or ()))
            for c in await Criterion.filter(challenge_id=round_.challenge_id).order_by("position", "id")]


PROPOSALS = register(Kind(PROPOSAL, under_review=_under_review, load=_load, open=_open, rubric=PROPOSAL_FIELDS,
                          criteria=_criteria))
