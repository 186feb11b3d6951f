"""Benchmark reviewer assignment: time, load balance and expertise match on random panels.

Run: .venv/bin/python bench/assignment.py [--sizes 20x100,100x1000,300x5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.review.assignment import MATCH_CAP, ProposalSlot, Reviewer, assign  # noqa: E402

REVIEWS_PER_PROPOSAL = 3
CONFLICT_RATE = 0.02
CATEGORIES = [f"category-{i}" for i in range(12)]
TAGS = [f"tag-{i}" for i in range(40)]


def make_panel(n_reviewers: int, n_proposals: int, seed: int):
    rng = random.Random(seed)
    vocabulary = CATEGORIES + TAGS
    reviewers = [Reviewer(i, frozenset(rng.sample(vocabulary, rng.randint(2, 6)))) for i in range(n_reviewers)]
    proposals = [
        ProposalSlot(
            10_000 + j,
            frozenset([rng.choice(CATEGORIES), *rng.sample(TAGS, rng.randint(2, 5))]),
            REVIEWS_PER_PROPOSAL,
        )
        for j in range(n_proposals)
    ]
    conflicts = {(r.id, p.id) for r in reviewers for p in proposals if rng.random() < CONFLICT_RATE}
    return reviewers, proposals, conflicts


def run(n_reviewers: int, n_proposals: int, seed: int) -> None:
    reviewers, proposals, conflicts = make_panel(n_reviewers, n_proposals, seed)
    max_per_reviewer = -(-REVIEWS_PER_PROPOSAL * n_proposals // n_reviewers) + 2
    started = time.perf_counter()
    result = assign(reviewers, proposals, conflicts, max_per_reviewer)
    elapsed = time.perf_counter() - started

    expertise = {r.id: r.expertise for r in reviewers}
    tags = {p.id: p.tags for p in proposals}
    loads = {r.id: 0 for r in reviewers}
    matches = []
    for proposal_id, reviewer_id in result.assignments:
        loads[reviewer_id] += 1
        matches.append(len(expertise[reviewer_id] & tags[proposal_id]))
    assert all((r, p) not in conflicts for p, r in result.assignments)
    # What each proposal would get from its own best reviewers, ignoring everyone's load.
    ideal = [
        statistics.mean(
            sorted((len(r.expertise & p.tags) for r in reviewers if (r.id, p.id) not in conflicts), reverse=True)[
                :REVIEWS_PER_PROPOSAL
            ]
        )
        for p in proposals
    ]
    print(
        f"{n_reviewers:>4} reviewers x {n_proposals:>5} proposals: {elapsed:7.2f} s, "
        f"{len(result.assignments)} assignments, shortfalls {len(result.shortfalls)}, "
        f"load {min(loads.values())}..{max(loads.values())} (max-min {max(loads.values()) - min(loads.values())}), "
        f"mean |expertise ∩ tags| {statistics.mean(matches):.3f} (ideal ignoring load {statistics.mean(ideal):.3f}), "
        f"with a match {sum(m > 0 for m in matches) / len(matches):.1%}, "
        f"with >= {MATCH_CAP} {sum(m >= MATCH_CAP for m in matches) / len(matches):.1%}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="20x100,100x1000,300x5000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for size in args.sizes.split(","):
        n_reviewers, n_proposals = (int(n) for n in size.split("x"))
        run(n_reviewers, n_proposals, args.seed)


if __name__ == "__main__":
    main()
