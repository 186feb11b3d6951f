import math

import pytest

from models.review.scoring import (
    DISAGREEMENT_SPREAD,
    ProposalScore,
    ReviewRecord,
    aggregate,
    calibration,
    can_finalise,
    review_total,
)

WEIGHTS = {"impact": 40, "feasibility": 30, "cost": 30}


def submitted(proposal_id, reviewer_id, total):
    return ReviewRecord(proposal_id, reviewer_id, "submitted", total)


def by_id(scores):
    return {s.proposal_id: s for s in scores}


@pytest.mark.parametrize(
    "scores, expected",
    [
        ({"impact": 1, "feasibility": 1, "cost": 1}, 0.0),
        ({"impact": 5, "feasibility": 5, "cost": 5}, 100.0),
        ({"impact": 5, "feasibility": 3, "cost": 1}, 55.0),  # 40·1 + 30·0.5 + 30·0
        ({"impact": 2, "feasibility": 4, "cost": 3}, 47.5),  # 40·0.25 + 30·0.75 + 30·0.5
    ],
)
def test_review_total(scores, expected):
    assert review_total(scores, WEIGHTS) == expected


@pytest.mark.parametrize(
    "scores, weights, message",
    [
        ({"impact": 3, "feasibility": 3}, WEIGHTS, "not scored: cost"),
        ({"impact": 3, "feasibility": 3, "cost": 3, "style": 3}, WEIGHTS, "unknown criteria: style"),
        ({"impact": 0, "feasibility": 3, "cost": 3}, WEIGHTS, "impact"),
        ({"impact": 6, "feasibility": 3, "cost": 3}, WEIGHTS, "impact"),
        ({"impact": 3.5, "feasibility": 3, "cost": 3}, WEIGHTS, "impact"),
        ({"impact": True, "feasibility": 3, "cost": 3}, WEIGHTS, "impact"),
        ({"impact": 3, "feasibility": 3, "cost": 3}, {"impact": 40, "feasibility": 30, "cost": 20}, "sum"),
        ({"impact": 3, "feasibility": 3, "cost": 3}, {"impact": 110, "feasibility": 20, "cost": -30}, "sum"),
    ],
)
def test_review_total_rejects_invalid_scores_and_weights(scores, weights, message):
    with pytest.raises(ValueError, match=message):
        review_total(scores, weights)


def test_aggregate_mean_median_spread_and_disagreement():
    scores = by_id(aggregate([submitted(1, 10, 70.0), submitted(1, 11, 50.0), submitted(1, 12, 90.0)]))

    assert scores[1] == ProposalScore(
        proposal_id=1,
        total=70.0,
        mean=70.0,
        median=70.0,
        spread=40.0,
        disagreement=True,
        calibrated=None,
        reviews_done=3,
        reviews_assigned=3,
    )


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    scores = aggregate([submitted(1, r, t) for r, t in [(10, 100.0), (11, 40.0), (12, 70.0), (13, 60.0)]])

    assert scores[0].median == 65.0
    assert scores[0].mean == 67.5


@pytest.mark.parametrize(
    "totals, disagreement",
    [
        ([50.0, 50.0 + DISAGREEMENT_SPREAD], True),
        ([50.0, 50.0 + DISAGREEMENT_SPREAD - 0.5], False),
        ([10.0], False),
    ],
)
def test_disagreement_threshold(totals, disagreement):
    scores = aggregate([submitted(1, 10 + i, t) for i, t in enumerate(totals)])

    assert scores[0].disagreement is disagreement


def test_progress_counts_submitted_against_assignments_not_recused():
    reviews = [
        submitted(1, 10, 60.0),
        ReviewRecord(1, 11, "assigned"),
        ReviewRecord(1, 12, "recused"),
        ReviewRecord(1, 13, "assigned"),
    ]

    score = aggregate(reviews)[0]

    assert (score.reviews_done, score.reviews_assigned) == (1, 3)
    assert score.total == 60.0 and score.spread == 0.0


def test_ranking_order_and_proposals_without_reviews():
    reviews = [submitted(1, 10, 40.0), submitted(2, 10, 80.0), submitted(3, 10, 40.0), ReviewRecord(4, 10, "assigned")]

    scores = aggregate(reviews, proposal_ids=[5])

    assert [s.proposal_id for s in scores] == [2, 1, 3, 4, 5]
    assert scores[-1] == ProposalScore(5, None, None, None, None, False, None, 0, 0)


def test_calibration_needs_five_reviews_and_gives_z_scores():
    reviews = [submitted(p, 10, t) for p, t in zip(range(1, 6), [50.0, 60.0, 70.0, 80.0, 90.0])]
    reviews += [submitted(p, 11, 70.0) for p in range(1, 5)]

    calibrations = calibration(reviews)

    assert calibrations[11] is None
    assert (calibrations[10].count, calibrations[10].mean) == (5, 70.0)
    assert calibrations[10].sd == pytest.approx(math.sqrt(200))  # population sd of 50..90
    assert calibrations[10].z(90.0) == pytest.approx(math.sqrt(2))
    assert calibrations[10].z(70.0) == 0.0


def test_a_reviewer_who_gives_everyone_the_same_total_has_z_zero():
    calibrations = calibration([submitted(p, 10, 60.0) for p in range(1, 6)])

    assert calibrations[10].sd == 0.0 and calibrations[10].z(60.0) == 0.0


def test_calibrated_score_removes_a_harsh_reviewers_offset():
    # Reviewer 10 scores 50..90, reviewer 11 is 40 points harsher and ranks the same way.
    reviews = [submitted(p, 10, 40.0 + 10 * p) for p in range(1, 6)]
    reviews += [submitted(p, 11, 10 * p) for p in range(1, 6)]

    scores = by_id(aggregate(reviews))

    # Panel mean 50, population sd sqrt(600); proposal 5 has z = sqrt(2) from both reviewers.
    assert scores[5].total == 70.0
    assert scores[5].calibrated == pytest.approx(50 + math.sqrt(2) * math.sqrt(600))  # 84.64
    assert scores[3].calibrated == pytest.approx(50.0)
    assert scores[1].calibrated == pytest.approx(50 - math.sqrt(1200))  # 15.36


def test_calibrated_score_uses_only_calibrated_reviewers():
    reviews = [submitted(p, 10, 0.0) for p in range(1, 5)] + [submitted(5, 10, 100.0)]  # mean 20, sd 40
    reviews += [submitted(5, 11, 0.0)]  # reviewer 11 has one review: not calibrated

    scores = by_id(aggregate(reviews))

    # Only reviewer 10's z = 2 counts; the panel's six totals have mean 100/6 and sd sqrt(10000/6 - (100/6)²).
    panel_mean = 100 / 6
    assert scores[5].calibrated == pytest.approx(panel_mean + 2 * math.sqrt(10000 / 6 - panel_mean**2))  # 91.20
    assert scores[5].total == 50.0


def test_calibrated_score_stays_on_the_0_to_100_scale():
    reviews = [submitted(p, 10, 0.0) for p in range(1, 25)] + [submitted(25, 10, 100.0)]  # z(100) = sqrt(24)
    reviews += [submitted(p, 11, 100.0 * (p % 2)) for p in range(26, 36)]

    scores = by_id(aggregate(reviews))

    assert scores[25].calibrated == 100.0
    assert 0.0 <= scores[1].calibrated < scores[25].calibrated


def test_can_finalise_only_when_every_assignment_is_submitted_or_recused():
    done = [submitted(1, 10, 50.0), ReviewRecord(1, 11, "recused"), submitted(2, 11, 70.0)]

    assert can_finalise(done)
    assert not can_finalise([*done, ReviewRecord(2, 12, "assigned")])
    assert not can_finalise([ReviewRecord(1, 11, "recused")])
    assert not can_finalise([])


@pytest.mark.parametrize(
    "reviews, message",
    [
        ([submitted(1, 10, 50.0), submitted(1, 10, 60.0)], "two assignments"),
        ([ReviewRecord(1, 10, "draft")], "status"),
        ([ReviewRecord(1, 10, "submitted")], "no total"),
    ],
)
def test_aggregate_rejects_inconsistent_reviews(reviews, message):
    with pytest.raises(ValueError, match=message):
        aggregate(reviews)
