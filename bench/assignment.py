"""Benchmark reviewer assignment: time against the 1.5 s goal, cost against the previous solver
(and networkx where it is quick enough), load balance and expertise match, on random panels.

Run: .venv/bin/python bench/assignment.py [--sizes 20x100,100x1000,300x5000] [--seed 7] [--runs 3]
     [--no-previous]

Each size is solved --runs times; the time printed is the median wall-clock time (all runs beside
it), with the median CPU time of this process after it. The machine is shared and noisy: read the
ratio to the limit, the previous solver's time in the same run, and run it more than once.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import previous_assignment  # noqa: E402  (bench/ is on sys.path when run as a script)
from report import Row, load_average, write_rows  # noqa: E402

from models.review.assignment import (  # noqa: E402
    LOAD_WEIGHT,
    MATCH_CAP,
    ProposalSlot,
    Reviewer,
    assign,
    preference_cost,
    shortage_weight,
)

REVIEWS_PER_PROPOSAL = 3
CONFLICT_RATE = 0.02
CATEGORIES = [f"category-{i}" for i in range(12)]
TAGS = [f"tag-{i}" for i in range(40)]
LIMIT_S = 1.5  # the goal for 300 reviewers x 5,000 proposals (issue 15); printed beside every size
NETWORKX_UP_TO = 2_000  # proposal x reviewer pairs; networkx takes 20-40 s at 100x1,000


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


def networkx_cost(reviewers, proposals, conflicts, max_per_reviewer) -> int:
    """The same network's maximum flow of minimum cost, by networkx (as in tests/test_assignment.py)."""
    import networkx as nx

    graph = nx.DiGraph()
    shortage = shortage_weight(max_per_reviewer)
    for slot in proposals:
        for k in range(len(slot.already), slot.needed):
            graph.add_edge("source", ("place", slot.id, k), capacity=1, weight=shortage * k)
            graph.add_edge(("place", slot.id, k), ("proposal", slot.id), capacity=1, weight=0)
        for reviewer in reviewers:
            if (reviewer.id, slot.id) not in conflicts and reviewer.id not in slot.already:
                weight = preference_cost(reviewer.expertise, slot.tags)
                graph.add_edge(("proposal", slot.id), ("reviewer", reviewer.id), capacity=1, weight=weight)
    for reviewer in reviewers:
        for load in range(reviewer.current_load + 1, max_per_reviewer + 1):
            graph.add_edge(("reviewer", reviewer.id), ("load", reviewer.id, load), capacity=1, weight=LOAD_WEIGHT * load)
            graph.add_edge(("load", reviewer.id, load), "sink", capacity=1, weight=0)
    return nx.cost_of_flow(graph, nx.max_flow_min_cost(graph, "source", "sink"))


def run(n_reviewers: int, n_proposals: int, seed: int, runs: int, previous: bool) -> list[Row]:
    reviewers, proposals, conflicts = make_panel(n_reviewers, n_proposals, seed)
    max_per_reviewer = -(-REVIEWS_PER_PROPOSAL * n_proposals // n_reviewers) + 2
    times, cpu_times = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = assign(reviewers, proposals, conflicts, max_per_reviewer)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    elapsed = statistics.median(times)

    size = f"{n_reviewers} reviewers × {n_proposals:,} proposals, {REVIEWS_PER_PROPOSAL} each"
    rows = [Row(f"assignment, {size}: time (median of {runs})", elapsed, "s", LIMIT_S, load=load_average())]
    checks = []
    if previous:
        started = time.perf_counter()
        before = previous_assignment.assign(reviewers, proposals, conflicts, max_per_reviewer)
        previous_s = time.perf_counter() - started
        same = "same cost" if before.cost == result.cost else "DIFFERENT COST"
        checks.append(f"previous solver {previous_s:.2f} s, cost {before.cost} ({same})")
        rows.append(Row(f"assignment, {size}: cost / the previous solver's (optimality)", result.cost / before.cost, "×", 1.0,
                        load=load_average()))
    if n_reviewers * n_proposals <= NETWORKX_UP_TO:
        reference = networkx_cost(reviewers, proposals, conflicts, max_per_reviewer)
        checks.append(f"networkx cost {reference} ({'same cost' if reference == result.cost else 'DIFFERENT COST'})")

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
    spread = max(loads.values()) - min(loads.values())
    print(
        f"{n_reviewers:>4} reviewers x {n_proposals:>5} proposals: {elapsed:6.3f} s (median of "
        f"{', '.join(f'{t:.3f}' for t in times)}), limit {LIMIT_S} s, ratio {elapsed / LIMIT_S:.2f} "
        f"[{'ok' if elapsed <= LIMIT_S else 'OVER'}]; CPU {statistics.median(cpu_times):.3f} s "
        f"(what this process used: less sensitive to other load on the machine)\n"
        f"      cost {result.cost}; {'; '.join(checks) or 'not compared'}\n"
        f"      {len(result.assignments)} assignments, shortfalls {len(result.shortfalls)}, "
        f"load {min(loads.values())}..{max(loads.values())} (max-min {spread} [{'ok' if spread <= 1 else 'OVER'}]), "
        f"mean |expertise ∩ tags| {statistics.mean(matches):.3f} (ideal ignoring load {statistics.mean(ideal):.3f}), "
        f"with a match {sum(m > 0 for m in matches) / len(matches):.1%}, "
        f"with >= {MATCH_CAP} {sum(m >= MATCH_CAP for m in matches) / len(matches):.1%}",
        flush=True,
    )
    return [*rows, Row(f"assignment, {size}: reviewers' load, max − min", spread, "", 1, load=load_average())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="20x100,100x1000,300x5000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="solve each size this many times; print the median")
    parser.add_argument("--no-previous", action="store_true", help="skip the previous solver (4-8 s at 300x5000)")
    parser.add_argument("--json", type=Path, help="also write the figures there, for bench/table.py")
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        n_reviewers, n_proposals = (int(n) for n in size.split("x"))
        rows += run(n_reviewers, n_proposals, args.seed, args.runs, not args.no_previous)
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
