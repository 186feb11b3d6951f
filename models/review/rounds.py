"""A review round: what it reviews (a subject kind: today a challenge's proposals, next its pilots), by when,
by how many reviewers of its panel each, and the tags reviewers' expertise is matched against.

The panel, assignment, reminders and ranking read these through the round, never from the challenge's columns,
so that a pilots' evaluation round can give its own. Its rubric (the review form's fields) is
`models.review.closing.rubric_of`. A proposal round's settings are the challenge's (`proposal_round`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.challenges.models import Challenge
from models.review.models import SubjectKind


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


async def proposal_round(challenge: Challenge, using_db: Any = None) -> Round:
    """The review of the challenge's proposals: its review deadline, reviews per proposal, cap, tags and category."""
    await challenge.fetch_related("category", using_db=using_db)
    tags = normalised_tags(challenge.tags) | (normalised_tags([challenge.category.slug]) if challenge.category else frozenset())
    return Round(challenge, SubjectKind.PROPOSAL.value, challenge.review_deadline, challenge.reviews_per_proposal,
                 challenge.max_per_reviewer, tags)
