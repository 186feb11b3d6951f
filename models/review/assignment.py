"""Reviewer assignment as a min-cost flow (pure: no I/O).

The network, in HotCRP's shape:

    source → proposal   one unit per missing reviewer; a proposal's k-th reviewer costs more than
                        its (k−1)-th, by more than any load or match difference, so when the panel
                        cannot fill every place the shortage is spread (two reviewers each rather
                        than three for some and none for others)
    proposal → reviewer capacity 1, cost MATCH_CAP − min(|expertise ∩ tags|, MATCH_CAP);
                        no arc for a conflict or a reviewer the proposal already has
    reviewer → sink     one unit arc per review, the review that brings the load to n costing
                        LOAD_WEIGHT·n: convex, so loads are balanced first and expertise decides
                        between equally loaded reviewers

The flow is solved by OR-Tools' SimpleMinCostFlow (maximum flow of minimum cost; the convex
load costs are parallel unit arcs of rising cost). The P×R proposal→reviewer arcs are most of the
network and few are used, so it is first solved with each proposal's cheapest few reviewers
only; every left-out pair is then priced against that answer's potentials, those that would
lower the cost are added and it is solved again, until none would: the answer is then optimal
with every pair. The costs come from one product of tag matrices (numpy). At 300 reviewers ×
5,000 proposals this takes under a second where the previous pure-Python successive-shortest-path
solver took 4–8 s (bench/assignment.py runs both; tests/test_assignment.py checks the costs
against networkx).

Determinism: reviewers and proposals are numbered in id order and the network is always built
in the same order, so the same input always gives the same assignments. Write a result in one
transaction: a half-written result is a different input for the re-run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow

MATCH_CAP = 3  # matching tags beyond this many do not make a reviewer more preferred
LOAD_WEIGHT = MATCH_CAP + 1  # one review of imbalance outweighs the best expertise match
_LIKELY = 60  # reviewers per proposal in the first, sparse network
_STRIDE = 7919  # a prime: proposal p's ties start at reviewer 7919·p mod R
_PRICING_ROUNDS = 6


@dataclass(frozen=True)
class Reviewer:
    """A panel member. `current_load` counts the reviews they already hold that count against
    `max_per_reviewer`, including every proposal that lists them in `already`."""

    id: int
    expertise: frozenset[str] = frozenset()
    current_load: int = 0


@dataclass(frozen=True)
class ProposalSlot:
    """A proposal wanting `needed` reviewers in total; `already` are kept and never moved.
    `tags` should hold the challenge's category and tags (and the proposal's own, if any)."""

    id: int
    tags: frozenset[str] = frozenset()
    needed: int = 3
    already: frozenset[int] = frozenset()


Paper = ProposalSlot


class Assignment(NamedTuple):
    proposal_id: int
    reviewer_id: int


@dataclass(frozen=True)
class Shortfall:
    """`proposal_id` still lacks `missing` reviewers. `eligible` counts the panel members who
    could review it (not conflicted, not already on it). `limited_by` is "eligibility" when
    there are fewer of those than places to fill, "capacity" when they exist but are full."""

    proposal_id: int
    missing: int
    eligible: int
    limited_by: str


@dataclass(frozen=True)
class AssignmentResult:
    assignments: list[Assignment]  # the new pairs only, sorted; `already` pairs are not repeated
    shortfalls: list[Shortfall]
    cost: int  # the flow's cost, for tests and comparisons

    @property
    def feasible(self) -> bool:
        return not self.shortfalls


def preference_cost(expertise: frozenset[str], tags: frozenset[str]) -> int:
    return MATCH_CAP - min(len(expertise & tags), MATCH_CAP)


def shortage_weight(limit: int) -> int:
    """How much a proposal's k-th reviewer costs more than its (k−1)-th when reviewers take at
    most `limit` reviews: more than any load or match difference, so spreading a shortage comes
    first; above MATCH_CAP, so (reviewers held, pair cost) levels decode uniquely."""
    return LOAD_WEIGHT * (limit + 1) + MATCH_CAP + 1


def assign(
    reviewers: Iterable[Reviewer],
    proposals: Iterable[ProposalSlot],
    conflicts: Iterable[tuple[int, int]] = (),
    max_per_reviewer: int | None = None,
) -> AssignmentResult:
    """Give every proposal its missing reviewers at minimum cost; see the module docstring.

    `conflicts` are (reviewer_id, proposal_id) pairs that are never assigned.
    """
    reviewers = sorted(reviewers, key=lambda r: r.id)
    proposals = sorted(proposals, key=lambda p: p.id)
    _validate(reviewers, proposals, max_per_reviewer)
    return _solve(reviewers, proposals, set(conflicts), max_per_reviewer)


def reassign_after_recusal(
    reviewers: Iterable[Reviewer],
    proposals: Iterable[ProposalSlot],
    recused: Iterable[tuple[int, int]],
    conflicts: Iterable[tuple[int, int]] = (),
    max_per_reviewer: int | None = None,
) -> AssignmentResult:
    """Fill the places left by recusals, keeping every remaining assignment (`already`).

    `recused` are (reviewer_id, proposal_id) pairs; they are treated as conflicts so a reviewer
    never returns to a proposal they left, and must no longer appear in `already`.
    """
    recused = set(recused)
    proposals = list(proposals)
    for slot in proposals:
        for reviewer_id in slot.already:
            if (reviewer_id, slot.id) in recused:
                raise ValueError(f"reviewer {reviewer_id} recused from proposal {slot.id} is still in `already`")
    return assign(reviewers, proposals, set(conflicts) | recused, max_per_reviewer)


def _validate(reviewers: list[Reviewer], proposals: list[ProposalSlot], max_per_reviewer: int | None) -> None:
    if len({r.id for r in reviewers}) != len(reviewers):
        raise ValueError("duplicate reviewer id")
    if len({p.id for p in proposals}) != len(proposals):
        raise ValueError("duplicate proposal id")
    if max_per_reviewer is not None and max_per_reviewer < 0:
        raise ValueError("max_per_reviewer must be >= 0")
    held: dict[int, int] = {}
    for slot in proposals:
        if slot.needed < 0:
            raise ValueError(f"proposal {slot.id}: needed must be >= 0")
        for reviewer_id in slot.already:
            held[reviewer_id] = held.get(reviewer_id, 0) + 1
    for reviewer in reviewers:
        if reviewer.current_load < held.get(reviewer.id, 0):
            raise ValueError(
                f"reviewer {reviewer.id}: current_load {reviewer.current_load} does not count the "
                f"{held[reviewer.id]} proposals listing them in `already`"
            )


def _solve(
    reviewers: list[Reviewer],
    proposals: list[ProposalSlot],
    conflicts: set[tuple[int, int]],
    max_per_reviewer: int | None,
) -> AssignmentResult:
    R, P = len(reviewers), len(proposals)
    current = np.array([r.current_load for r in reviewers], dtype=np.int64)
    already = np.array([len(p.already) for p in proposals], dtype=np.int64)
    needed = np.array([p.needed for p in proposals], dtype=np.int64)
    gap = np.maximum(needed - already, 0)
    total_gap = int(gap.sum())
    limit = max_per_reviewer if max_per_reviewer is not None else int(current.max(initial=0)) + total_gap
    shortage = shortage_weight(limit)

    cost = _pair_costs(reviewers, proposals)  # P × R
    allowed = np.ones((P, R), dtype=bool)
    reviewer_index = {r.id: i for i, r in enumerate(reviewers)}
    proposal_index = {p.id: j for j, p in enumerate(proposals)}
    for reviewer_id, proposal_id in conflicts:
        if reviewer_id in reviewer_index and proposal_id in proposal_index:
            allowed[proposal_index[proposal_id], reviewer_index[reviewer_id]] = False
    for j, slot in enumerate(proposals):
        for reviewer_id in slot.already:
            if reviewer_id in reviewer_index:
                allowed[j, reviewer_index[reviewer_id]] = False
    eligible = allowed.sum(axis=1)
    allowed[gap == 0, :] = False  # a full proposal takes no one: fewer arcs
    new_per_proposal = np.zeros(P, dtype=np.int64)
    pair_p = pair_r = np.zeros(0, dtype=np.int64)
    flow_cost = 0
    if total_gap and allowed.any():
        # At most `limit` reviews each, and never more than the proposals open to them.
        ceiling = np.minimum(np.maximum(limit, current), current + allowed.sum(axis=0))
        network = (cost, already, needed, current, ceiling, shortage)
        # Most pairs are dearer than a proposal's best reviewers and never chosen. Solve with its
        # cheapest pairs only; then price every left-out pair against that answer's potentials
        # and add those that would lower the cost, until none would (the answer is then optimal
        # with every pair); if that takes long, solve once with every pair.
        arcs, better = _likely_pairs(allowed, cost, gap), None
        for _ in range(_PRICING_ROUNDS):
            solution = _capped_flow(arcs, *network)
            better = _pairs_that_would_lower_the_cost(allowed, arcs, solution, *network)
            if better is None or not better.any():
                break
            arcs |= better
        if better is None or better.any():  # not expected: a safety net
            solution = _capped_flow(allowed, *network)
        flow_cost, pair_p, pair_r, new_per_proposal, _ = solution

    pairs = sorted(
        Assignment(proposals[p].id, reviewers[r].id) for p, r in zip(pair_p.tolist(), pair_r.tolist())
    )
    shortfalls = []
    for j, slot in enumerate(proposals):
        fill = len(slot.already) + int(new_per_proposal[j])
        if fill < slot.needed:
            limited_by = "eligibility" if eligible[j] < slot.needed - len(slot.already) else "capacity"
            shortfalls.append(Shortfall(slot.id, slot.needed - fill, int(eligible[j]), limited_by))
    return AssignmentResult(pairs, shortfalls, int(flow_cost))


def _likely_pairs(allowed: np.ndarray, cost: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Each proposal's _LIKELY cheapest allowed reviewers (or as many as it needs). Ties go round
    the panel, a different way for each proposal, so that every reviewer is someone's choice."""
    P, R = allowed.shape
    keep = min(R, max(_LIKELY, int(gap.max(initial=0))))
    turn = (np.arange(R)[None, :] + (np.arange(P) * _STRIDE)[:, None]) % R
    key = np.where(allowed, cost.astype(np.int64) * R + turn, (MATCH_CAP + 1) * R)
    if keep < R:
        cut = np.partition(key, keep - 1, axis=1)[:, keep - 1 : keep]
        return allowed & (key <= cut)
    return allowed.copy()


def _capped_flow(arcs, cost, already, needed, current, ceiling, shortage):
    """_min_cost_flow over the pairs in `arcs`, with the reviewer → sink arcs added as needed.

    Those arcs are many when `limit` is loose, so start from a balanced share and add more for
    whoever fills theirs. A reviewer who stops short of their last arc would not take a dearer
    one (convex costs), so the answer is then the answer with every arc."""
    R = len(current)
    pair_p, pair_r = np.nonzero(arcs)  # row-major: proposals, then reviewers, in id order
    share = -(-(int(current.sum()) + int(np.maximum(needed - already, 0).sum())) // R) + 2
    cap = np.minimum(ceiling, np.maximum(current, share))
    while True:
        flow_cost, pair_flow, new_per_proposal, new_per_reviewer = _min_cost_flow(
            pair_p, pair_r, cost[pair_p, pair_r], already, needed, current, cap, shortage
        )
        full = (current + new_per_reviewer >= cap) & (cap < ceiling)
        if not full.any():
            break
        cap = np.where(full, np.minimum(ceiling, current + 2 * (cap - current) + 1), cap)
    chosen = pair_flow > 0
    return flow_cost, pair_p[chosen], pair_r[chosen], new_per_proposal, new_per_reviewer


def _pairs_that_would_lower_the_cost(
    allowed, arcs, solution, cost, already, needed, current, ceiling, shortage
) -> np.ndarray | None:
    """The allowed pairs outside `arcs` with a negative reduced cost for `solution` (a maximum
    flow of minimum cost on `arcs`); none means `solution` is also one with every allowed pair.

    A maximum flow of minimum cost is a circulation of minimum cost once an arc sink → source of
    cost −M (M above any path's cost) is added, so its residual network has no negative cycle,
    and shortest distances from a virtual root joined to every node are valid potentials.
    Proposals are eliminated from that network: the hop r1 → r2 costs the cheapest move of one
    of r1's new proposals to r2, source → r the cheapest open place r could fill, r → source
    the cheapest place of r's to give back. A proposal's potential is then its cheapest way in.
    None if the distances do not settle (which would be a bug in the flow)."""
    _, pair_p, pair_r, new_per_proposal, new_per_reviewer = solution
    P, R = allowed.shape
    source, sink = R, R + 1
    fill = already + new_per_proposal
    flow = int(new_per_proposal.sum())
    places = int(np.maximum(needed - already, 0).sum())
    longest = shortage * (int(needed.max()) + 1) + LOAD_WEIGHT * (int(ceiling.max()) + 1) + MATCH_CAP + 1
    M = (R + 2) * longest
    big = np.int64(1) << 50  # no arc
    taken = np.zeros((P, R), dtype=bool)
    taken[pair_p, pair_r] = True
    hop = np.full((R + 2, R + 2), big, dtype=np.int64)

    order = np.argsort(pair_r, kind="stable")
    held_p, held_r = pair_p[order], pair_r[order]
    held_cost = cost[held_p, held_r]
    if len(held_r):
        move = np.where(arcs[held_p] & ~taken[held_p], cost[held_p] - held_cost[:, None], big)
        starts = np.flatnonzero(np.r_[True, held_r[1:] != held_r[:-1]])
        hop[held_r[starts], :R] = np.minimum.reduceat(move, starts, axis=0)
        np.minimum.at(hop[:, source], held_r, -held_cost - shortage * (fill[held_p] - 1))
    open_p = np.flatnonzero(fill < needed)
    if len(open_p):
        hop[source, :R] = np.where(
            arcs[open_p] & ~taken[open_p], cost[open_p] + shortage * fill[open_p][:, None], big
        ).min(axis=0)
    load = current + new_per_reviewer
    hop[:R, sink] = np.where(load < ceiling, LOAD_WEIGHT * (load + 1), big)
    hop[sink, :R] = np.where(new_per_reviewer > 0, -LOAD_WEIGHT * load, big)
    if flow < places:
        hop[sink, source] = -M
    if flow > 0:
        hop[source, sink] = M

    dist = np.zeros(R + 2, dtype=np.int64)
    for _ in range(R + 3):
        relaxed = np.minimum(dist, (dist[:, None] + hop).min(axis=0))
        if np.array_equal(relaxed, dist):
            break
        dist = relaxed
    else:
        return None
    way_in = np.where(fill < needed, dist[source] + shortage * fill, big)
    np.minimum.at(way_in, held_p, dist[held_r] - held_cost)
    return allowed & ~arcs & (way_in[:, None] + cost < dist[None, :R])


def _pair_costs(reviewers: list[Reviewer], proposals: list[ProposalSlot]) -> np.ndarray:
    """preference_cost for every (proposal, reviewer), from one product of tag-incidence matrices."""
    vocabulary: dict[str, int] = {}
    for reviewer in reviewers:
        for tag in reviewer.expertise:
            vocabulary.setdefault(tag, len(vocabulary))
    knows = np.zeros((len(reviewers), len(vocabulary)), dtype=np.float32)
    for i, reviewer in enumerate(reviewers):
        knows[i, [vocabulary[t] for t in reviewer.expertise]] = 1
    about = np.zeros((len(proposals), len(vocabulary)), dtype=np.float32)
    for j, slot in enumerate(proposals):
        about[j, [vocabulary[t] for t in slot.tags if t in vocabulary]] = 1
    shared = (about @ knows.T).astype(np.int64)  # small counts: exact in float32
    return MATCH_CAP - np.minimum(shared, MATCH_CAP)


def _min_cost_flow(pair_p, pair_r, pair_cost, already, needed, current, cap, shortage):
    """Maximum flow of minimum cost on the network of the module docstring, by OR-Tools.

    Returns (cost, flow per pair arc, new reviewers per proposal, new reviews per reviewer)."""
    P, R = len(already), len(current)
    source, sink = 0, 1
    proposal_node = np.arange(P, dtype=np.int64) + 2
    reviewer_node = np.arange(R, dtype=np.int64) + 2 + P
    # source → proposal: the k-th reviewer of a proposal costs shortage·k (parallel unit arcs)
    places = np.maximum(needed - already, 0)
    place_p = np.repeat(np.arange(P), places)
    place_k = already[place_p] + _position_in_run(places)
    # reviewer → sink: the review bringing the load to n costs LOAD_WEIGHT·n
    extra = np.maximum(cap - current, 0)
    load_r = np.repeat(np.arange(R), extra)
    load_n = current[load_r] + 1 + _position_in_run(extra)
    tails = np.concatenate([np.full(len(place_p), source), proposal_node[pair_p], reviewer_node[load_r]])
    heads = np.concatenate([proposal_node[place_p], reviewer_node[pair_r], np.full(len(load_r), sink)])
    costs = np.concatenate([shortage * place_k, pair_cost, LOAD_WEIGHT * load_n])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(len(tails), dtype=np.int64), costs)
    flow.set_node_supply(source, len(place_p))
    flow.set_node_supply(sink, -len(place_p))
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow: {status}")
    first = len(place_p)
    pair_flow = flow.flows(np.arange(first, first + len(pair_p)))
    return (
        flow.optimal_cost(),
        pair_flow,
        np.bincount(pair_p, weights=pair_flow, minlength=P).astype(np.int64),
        np.bincount(pair_r, weights=pair_flow, minlength=R).astype(np.int64),
    )


def _position_in_run(counts: np.ndarray) -> np.ndarray:
    """For np.repeat(items, counts): each element's position within its run (0, 1, ...)."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
