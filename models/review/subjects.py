"""What a review round reviews: the registry of subject kinds.

A round (`ReviewRound`) reviews subjects of one kind. The review's panel, conflicts, assignment, reminders,
scoring, ranking and feedback know a subject only through its kind's `SubjectKind` entry here, so that a new
kind (the pilots' evaluation) is one `register(SubjectKind(...))` call, not a copy of the review. The
proposal kind is registered by `models.review.proposal_subjects`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from models.review.models import ReviewRound
from models.review.rubric import RubricCriterion, RubricField


@dataclass(frozen=True)
class Subject:
    """One thing under review, as the review needs it."""

    kind: str
    id: int
    company_id: int | None  # whose work it is: its members are conflicted, and told the feedback
    title: str  # what reviewers and owners see of it (never a company's unsubmitted working copy)
    declared_conflicts: frozenset[int] = frozenset()  # organisations its company declared a conflict with
    tags: frozenset[str] = frozenset()  # matched against reviewers' expertise, beside the round's tags
    proposal_id: int | None = None  # when the subject is a proposal (stored on its assignments)


@dataclass(frozen=True)
class SubjectKind:
    """How the review reads one kind of subject.

    - `under_review(round)`: the subjects the round assigns reviewers to now (e.g. proposals under review).
    - `load(ids)`: subjects by id, whatever their status (titles for pages, mails and the ranking).
    - `open(round)`: whether the round is running: assignments are made and reviews written only then.
    - `rubric`: the default review form (scored criteria and other fields) of a round that stores none.
    - `criteria(round)`: the scored criteria when the kind takes them from elsewhere (proposals: the
      challenge's criteria), else None and the round's rubric holds them.
    """

    kind: str
    under_review: Callable[[ReviewRound, Any], Awaitable[list[Subject]]]
    load: Callable[[Iterable[int], Any], Awaitable[dict[int, Subject]]]
    open: Callable[[ReviewRound, Any], Awaitable[bool]]
    rubric: tuple[RubricField | RubricCriterion, ...] = ()
    criteria: Callable[[ReviewRound], Awaitable[list[RubricCriterion] | None]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_KINDS: dict[str, SubjectKind] = {}


def register(kind: SubjectKind) -> SubjectKind:
    """Make a kind of subject reviewable (once per process; registering again replaces it)."""
    _KINDS[kind.kind] = kind
    return kind


def kind_of(name: str) -> SubjectKind:
    if name not in _KINDS:
        raise LookupError(f"no review subject kind {name!r} is registered")
    return _KINDS[name]


def registered() -> tuple[str, ...]:
    return tuple(sorted(_KINDS))
