"""Review scores: weighted totals, per-proposal aggregates and reviewer calibration (pure: no I/O).

A review scores every criterion of the challenge from 1 to 5; criteria weights sum to 100. A
review's total is on a 0–100 scale: all 1s give 0, all 5s give 100.

Calibration: some reviewers score everything high, others low. For a reviewer with at least
MIN_REVIEWS_FOR_CALIBRATION submitted reviews, each of their totals becomes a z-score (how many of
their own standard deviations above their own mean). A proposal's calibrated score is the mean
z-score of its calibrated reviewers mapped back onto the panel's 0–100 scale; it is shown beside
the raw score and never replaces it.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

DISAGREEMENT_SPREAD = 25.0  # reviewers disagree strongly when their totals span this many points
MIN_REVIEWS_FOR_CALIBRATION = 5
MIN_SCORE, MAX_SCORE = 1, 5
WEIGHTS_SUM = 100
Criterion = TypeVar("Criterion", bound=Hashable)  # a criterion id (its key in scores and weights)

# The assignment statuses of models.review.models.AssignmentStatus (not imported: this module has no ORM).
ASSIGNED, SUBMITTED, RECUSED = "assigned", "submitted", "recused"


def review_total(scores: Mapping[Criterion, int], weights: Mapping[Criterion, int]) -> float:
    """sum(weight × (score − 1) / 4) over the criteria: 0 to 100.

    Raises ValueError unless the weights are non-negative integers summing to 100 and every
    weighted criterion, and no other, has an integer score from 1 to 5. Criterion ids are compared
    as given (JSON object keys are strings: convert both sides the same way).
    """
    if any(not _is_int(w) or w < 0 for w in weights.values()) or sum(weights.values()) != WEIGHTS_SUM:
        raise ValueError(f"criteria weights must be non-negative integers summing to {WEIGHTS_SUM}")
    missing = [c for c in weights if c not in scores]
    if missing:
        raise ValueError(f"criteria not scored: {', '.join(map(str, missing))}")
    unknown = [c for c in scores if c not in weights]
    if unknown:
        raise ValueError(f"unknown criteria: {', '.join(map(str, unknown))}")
    for criterion, score in scores.items():
        if not _is_int(score) or not MIN_SCORE <= score <= MAX_SCORE:
            raise ValueError(f"criterion {criterion}: score must be an integer from {MIN_SCORE} to {MAX_SCORE}")
    # Integer numerator: the division by 4 is exact in binary floating point.
    return sum(weights[c] * (s - MIN_SCORE) for c, s in scores.items()) / (MAX_SCORE - MIN_SCORE)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ReviewRecord:
    """One assignment: its status ("assigned", "submitted" or "recused") and, once submitted,
    its review's total (from review_total)."""

    proposal_id: int
    reviewer_id: int
    status: str
    total: float | None = None


@dataclass(frozen=True)
class Calibration:
    reviewer_id: int
    count: int  # submitted reviews
    mean: float
    sd: float  # population standard deviation of the reviewer's totals

    def z(self, total: float) -> float:
        # A reviewer who gives every proposal the same total says nothing about relative merit.
        return 0.0 if self.sd == 0 else (total - self.mean) / self.sd


@dataclass(frozen=True)
class ProposalScore:
    """One line of a challenge's ranking.

    total             the raw score: the mean of the submitted reviews' totals (0–100); ranks proposals
    mean              the same mean, named for display beside median and spread
    median            the median of the totals (mean of the middle two for an even count)
    spread            highest total − lowest total
    disagreement      spread >= DISAGREEMENT_SPREAD (needs two reviews)
    calibrated        mean z-score of the calibrated reviewers, on the panel's 0–100 scale; None
                      when none of its reviewers has MIN_REVIEWS_FOR_CALIBRATION reviews
    reviews_done      submitted reviews
    reviews_assigned  assignments not recused (progress is reviews_done / reviews_assigned)

    The score fields are None while no review is submitted.
    """

    proposal_id: int
    total: float | None
    mean: float | None
    median: float | None
    spread: float | None
    disagreement: bool
    calibrated: float | None
    reviews_done: int
    reviews_assigned: int


def calibration(reviews: Iterable[ReviewRecord]) -> dict[int, Calibration | None]:
    """Per reviewer with an assignment (pass one challenge's reviews): their calibration, or None
    below MIN_REVIEWS_FOR_CALIBRATION submitted reviews."""
    reviews = _checked(reviews)
    totals: dict[int, list[float]] = {}
    for review in reviews:
        values = totals.setdefault(review.reviewer_id, [])
        if review.status == SUBMITTED and review.total is not None:  # always set once submitted (_checked)
            values.append(review.total)
    return {
        reviewer_id: Calibration(reviewer_id, len(values), statistics.fmean(values), statistics.pstdev(values))
        if len(values) >= MIN_REVIEWS_FOR_CALIBRATION
        else None
        for reviewer_id, values in totals.items()
    }


def aggregate(reviews: Iterable[ReviewRecord], proposal_ids: Iterable[int] = ()) -> list[ProposalScore]:
    """Scores per proposal, in ranking order: highest total first, unscored last, ties by id.

    `proposal_ids` adds proposals that have no assignment yet.
    """
    reviews = _checked(reviews)
    calibrations = calibration(reviews)
    submitted = [r.total for r in reviews if r.status == SUBMITTED and r.total is not None]
    panel_mean = statistics.fmean(submitted) if submitted else 0.0
    panel_sd = statistics.pstdev(submitted) if submitted else 0.0
    by_proposal: dict[int, list[ReviewRecord]] = {proposal_id: [] for proposal_id in proposal_ids}
    for review in reviews:
        by_proposal.setdefault(review.proposal_id, []).append(review)

    scores = []
    for proposal_id, records in by_proposal.items():
        done = [r for r in records if r.status == SUBMITTED]
        totals = [r.total for r in done if r.total is not None]
        zs = [c.z(r.total) for r in done if (c := calibrations[r.reviewer_id]) and r.total is not None]
        calibrated = None
        if zs:
            calibrated = min(100.0, max(0.0, panel_mean + statistics.fmean(zs) * panel_sd))
        mean = statistics.fmean(totals) if totals else None
        spread = max(totals) - min(totals) if totals else None
        scores.append(
            ProposalScore(
                proposal_id=proposal_id,
                total=mean,
                mean=mean,
                median=statistics.median(totals) if totals else None,
                spread=spread,
                disagreement=len(totals) >= 2 and spread is not None and spread >= DISAGREEMENT_SPREAD,
                calibrated=calibrated,
                reviews_done=len(done),
                reviews_assigned=sum(r.status != RECUSED for r in records),
            )
        )
    scores.sort(key=lambda s: (s.total is None, -(s.total or 0.0), s.proposal_id))
    return scores


def can_finalise(reviews: Iterable[ReviewRecord]) -> bool:
    """True when every assignment is submitted or recused and at least one review is submitted."""
    reviews = _checked(reviews)
    return all(r.status in (SUBMITTED, RECUSED) for r in reviews) and any(r.status == SUBMITTED for r in reviews)


def _checked(reviews: Iterable[ReviewRecord]) -> list[ReviewRecord]:
    reviews = list(reviews)
    seen = set()
    for review in reviews:
        key = (review.proposal_id, review.reviewer_id)
        if key in seen:
            raise ValueError(f"reviewer {review.reviewer_id} has two assignments on proposal {review.proposal_id}")
        seen.add(key)
        if review.status not in (ASSIGNED, SUBMITTED, RECUSED):
            raise ValueError(f"unknown assignment status {review.status!r}")
        if review.status == SUBMITTED and review.total is None:
            raise ValueError(f"submitted review by {review.reviewer_id} on {review.proposal_id} has no total")
    return reviews
