"""Pilots as review subjects: a pilot's evaluation round (issue 11) is a review round of kind "pilot".

One round per pilot (`scope_id` = the pilot's id) under its challenge. It reviews its one pilot while the
pilot is under evaluation and the round has started (`models.pilots.evaluation.start` starts it); its scored
criteria are the round's own rubric (default `PILOT_RUBRIC`: KPI achievement 40, residents' satisfaction 20,
cost 20, reusability 20), which owners may change until it starts. Panel, conflicts, assignment, reminders,
ranking and feedback are the review's (models.review.rounds): nothing is copied here.

Importing this module registers the kind; models.pilots.lifecycle imports it, and so does every process that
runs reviews (server/app.py, server/jobs.py, server/cli.py) so that a round of kind "pilot" is always known.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models.pilots.models import Pilot, PilotStatus
from models.proposals.models import Proposal
from models.review.models import ReviewRound, SubjectKind
from models.review.proposal_subjects import as_subjects
from models.review.rubric import PILOT_RUBRIC
from models.review.subjects import Subject, register
from models.review.subjects import SubjectKind as Kind

PILOT = SubjectKind.PILOT.value


async def _subjects(pilots: list[Pilot], using_db: Any = None) -> list[Subject]:
    """Pilots as subjects: the title and declared conflicts of the proposal each pilot carries out."""
    proposals = await Proposal.filter(id__in=[p.proposal_id for p in pilots]).using_db(using_db)
    of_proposal = {s.id: s for s in await as_subjects(proposals, using_db=using_db)}
    out = []
    for pilot in pilots:
        shown = of_proposal.get(pilot.proposal_id)
        out.append(Subject(PILOT, pilot.id, pilot.company_id, shown.title if shown else "",
                           shown.declared_conflicts if shown else frozenset()))
    return out


async def _under_review(row: ReviewRound, using_db: Any = None) -> list[Subject]:
    pilots = await Pilot.filter(id=row.scope_id, status=PilotStatus.UNDER_EVALUATION.value).using_db(using_db)
    return await _subjects(pilots, using_db)


async def _load(ids: Iterable[int], using_db: Any = None) -> dict[int, Subject]:
    pilots = await Pilot.filter(id__in=sorted(set(ids))).order_by("id").using_db(using_db)
    return {s.id: s for s in await _subjects(pilots, using_db)}


async def _open(row: ReviewRound, using_db: Any = None) -> bool:
    return row.started_at is not None and await Pilot.filter(
        id=row.scope_id, status=PilotStatus.UNDER_EVALUATION.value).using_db(using_db).exists()


PILOTS = register(Kind(PILOT, under_review=_under_review, load=_load, open=_open, rubric=PILOT_RUBRIC))
