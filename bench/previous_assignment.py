"""The previous reviewer-assignment solver (pure-Python successive shortest paths), kept unchanged
(but for the start of this docstring) as the reference bench/assignment.py times and checks the new
solver against (models/review/assignment.py before it moved to OR-Tools). The network, in HotCRP's
shape:

    source → proposal   one unit per missing reviewer; a proposal's k-th reviewer costs more than
                        its (k−1)-th, by more than any load or match difference, so when the panel
                        cannot fill every place the shortage is spread (two reviewers each rather
                        than three for some and none for others)
    proposal → reviewer capacity 1, cost MATCH_CAP − min(|expertise ∩ tags|, MATCH_CAP);
                        no arc for a conflict or a reviewer the proposal already has
    reviewer → sink     one unit arc per review, the review that brings the load to n costing
                        LOAD_WEIGHT·n: convex, so loads are balanced first and expertise decides
                        between equally loaded reviewers

The solver is successive shortest paths with potentials (primal-dual). The proposal→reviewer
graph is dense (a reviewer may review nearly every proposal), so Dijkstra does not walk its P×R
arcs. It walks the reviewer graph instead: an augmenting path is source → proposal → r1, then
hops r1 → r2 that move one of r1's proposals to r2, then r_k → sink. A proposal's potential
cancels out of such a hop, so only reviewers carry potentials, and the cheapest hop from r1 to r2
is read from counts of movable proposals per cost difference, kept up to date as pairs change.
Every shortest path found for one set of potentials is used before Dijkstra runs again.
(networkx's network_simplex takes 20–40 s for 100×1,000 and far longer for 300×5,000, where this
takes seconds; tests/test_assignment.py checks the costs against networkx.)

Determinism: reviewers and proposals are processed in id order and every tie is broken by the
lowest id, so the same input always gives the same assignments. Write a result in one
transaction: a half-written result is a different input for the re-run.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from models.review.assignment import (  # the types and rules both solvers share
    LOAD_WEIGHT,
    MATCH_CAP,
    Assignment,
    AssignmentResult,
    ProposalSlot,
    Reviewer,
    Shortfall,
    _validate,
    preference_cost,
    shortage_weight,
)

_NO_ARC = 255  # pair cost meaning "may not be assigned"
_INF = float("inf")


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
    solver = _Solver(reviewers, proposals, set(conflicts), max_per_reviewer)
    solver.run()
    return solver.result()




class _Solver:
    # Reviewers and proposals are indices into the id-sorted inputs. Per pair, the cost byte is
    # the preference cost or _NO_ARC. Only new assignments are flow; `already` is fixed.

    def __init__(self, reviewers, proposals, conflicts, max_per_reviewer):
        self.reviewers, self.proposals = reviewers, proposals
        self.R = R = len(reviewers)
        self.K, self.L, self.CL = MATCH_CAP, 2 * MATCH_CAP + 1, MATCH_CAP + 1
        self.load = [r.current_load for r in reviewers]
        total_gap = sum(max(0, p.needed - len(p.already)) for p in proposals)
        self.limit = max_per_reviewer if max_per_reviewer is not None else max(self.load, default=0) + total_gap
        self.shortage = shortage_weight(self.limit)  # a proposal's next reviewer: shortage·(reviewers it has)
        self.levels = max((p.needed for p in proposals), default=0)  # fill levels 0..needed-1
        self.cost: list[bytearray] = []
        self.fill = [len(p.already) for p in proposals]
        self.needed = [p.needed for p in proposals]
        self.mine: list[set[int]] = [set() for _ in proposals]  # new reviewers per proposal
        self.held: list[set[int]] = [set() for _ in reviewers]  # new proposals per reviewer
        # cnt[r1][r2*L + d+K]: proposals newly on r1 that could move to r2 with cost change d;
        # low[r1][r2] is the smallest such d+K (L when none).
        self.cnt = [[0] * (R * self.L) for _ in range(R)]
        self.low = [[self.L] * R for _ in range(R)]
        # Open places by reviewer, fill level a and pair cost c (index a*CL + c): counts and heaps
        # of proposal indices (heaps may hold stale entries, checked when read).
        size = self.levels * self.CL
        self.open = [[0] * size for _ in range(R)]
        self.heaps = [[[] for _ in range(size)] for _ in range(R)]
        index = {r.id: i for i, r in enumerate(reviewers)}
        excluded: dict[int, set[int]] = {}
        for reviewer_id, proposal_id in conflicts:
            excluded.setdefault(proposal_id, set()).add(reviewer_id)
        for p, slot in enumerate(proposals):
            row = bytearray(preference_cost(r.expertise, slot.tags) for r in reviewers)
            for reviewer_id in excluded.get(slot.id, set()) | slot.already:
                if reviewer_id in index:
                    row[index[reviewer_id]] = _NO_ARC
            self.cost.append(row)
            a = self.fill[p]
            if a < slot.needed:
                for r, c in enumerate(row):
                    if c != _NO_ARC:
                        self.open[r][a * self.CL + c] += 1
                        self.heaps[r][a * self.CL + c].append(p)  # p ascending: already a heap
        self.pot = [0] * R
        self.pot_sink = 0
        self.remaining = total_gap

    # --- flow updates -------------------------------------------------------------------------

    def _count(self, r1: int, r2: int, level: int, step: int) -> None:
        cnt, low = self.cnt[r1], self.low[r1]
        i = r2 * self.L + level
        cnt[i] += step
        if step > 0 and level < low[r2]:
            low[r2] = level
        elif step < 0 and cnt[i] == 0 and level == low[r2]:
            base = r2 * self.L
            low[r2] = next((lvl for lvl in range(level + 1, self.L) if cnt[base + lvl]), self.L)

    def _add(self, p: int, r: int) -> None:
        row, mine, K = self.cost[p], self.mine[p], self.K
        c = row[r]
        for r2, c2 in enumerate(row):
            if c2 != _NO_ARC and r2 != r and r2 not in mine:
                self._count(r, r2, c2 - c + K, 1)
        for r1 in mine:
            self._count(r1, r, c - row[r1] + K, -1)
        if self.fill[p] < self.needed[p]:
            self.open[r][self.fill[p] * self.CL + c] -= 1
        mine.add(r)
        self.held[r].add(p)
        self.load[r] += 1

    def _remove(self, p: int, r: int) -> None:
        row, mine, K = self.cost[p], self.mine[p], self.K
        c = row[r]
        mine.discard(r)
        self.held[r].discard(p)
        self.load[r] -= 1
        for r2, c2 in enumerate(row):
            if c2 != _NO_ARC and r2 != r and r2 not in mine:
                self._count(r, r2, c2 - c + K, -1)
        for r1 in mine:
            self._count(r1, r, c - row[r1] + K, 1)
        if self.fill[p] < self.needed[p]:
            i = self.fill[p] * self.CL + c
            self.open[r][i] += 1
            heapq.heappush(self.heaps[r][i], p)

    def _raise_fill(self, p: int) -> None:
        a, CL, mine = self.fill[p], self.CL, self.mine[p]
        still_open = a + 1 < self.needed[p]
        for r, c in enumerate(self.cost[p]):
            if c != _NO_ARC and r not in mine:
                self.open[r][a * CL + c] -= 1
                if still_open:
                    self.open[r][(a + 1) * CL + c] += 1
                    heapq.heappush(self.heaps[r][(a + 1) * CL + c], p)
        self.fill[p] = a + 1

    # --- shortest paths -----------------------------------------------------------------------

    def _source_level(self, r: int) -> int:
        """Index of the cheapest open place reviewer r could fill, or -1."""
        return next((i for i, n in enumerate(self.open[r]) if n), -1)

    def _level_cost(self, i: int) -> int:
        a, c = divmod(i, self.CL)
        return self.shortage * a + c

    def _dijkstra(self) -> bool:
        """Shortest distances over the reviewer graph; update the potentials. False: no path."""
        R, L, K, pot = self.R, self.L, self.K, self.pot
        dist = [_INF] * R
        for r in range(R):
            i = self._source_level(r)
            if i >= 0:
                dist[r] = self._level_cost(i) - pot[r]
        done = [False] * R
        dist_sink = _INF
        while True:
            u, best = -1, dist_sink  # stop once the sink is the closest node left
            for v in range(R):
                if dist[v] < best and not done[v]:
                    u, best = v, dist[v]
            if u < 0:
                break
            done[u] = True
            if self.load[u] < self.limit:
                dist_sink = min(dist_sink, best + LOAD_WEIGHT * (self.load[u] + 1) + pot[u] - self.pot_sink)
            base = best + pot[u] - K
            for v, level in enumerate(self.low[u]):
                if level < L and not done[v] and base + level - pot[v] < dist[v]:
                    dist[v] = base + level - pot[v]
        if dist_sink == _INF:
            return False
        for r in range(R):
            pot[r] += min(dist[r], dist_sink)
        self.pot_sink += dist_sink
        return True

    def _source_arc(self, r: int) -> int:
        """Index of an open place whose arc to r has reduced cost 0, or -1."""
        a, c = divmod(self.pot[r], self.shortage)
        if 0 <= a < self.levels and c <= self.K and self.open[r][a * self.CL + c]:
            return a * self.CL + c
        return -1

    def _sink_arc(self, r: int) -> bool:
        return self.load[r] < self.limit and LOAD_WEIGHT * (self.load[r] + 1) + self.pot[r] == self.pot_sink

    def _find_path(self) -> list[int] | None:
        """Breadth-first search along reduced-cost-0 arcs: the fewest moves, lowest index first.

        A path is [r1, ..., rk]: an open place goes to r1, each hop moves one proposal on to the
        next reviewer, and rk takes one more review."""
        pot, K, R, L = self.pot, self.K, self.R, self.L
        sinks = [r for r in range(R) if self._sink_arc(r)]
        direct = next((r for r in sinks if self._source_arc(r) >= 0), -1)
        if not sinks or direct >= 0:
            return [direct] if direct >= 0 else None
        parent = [-2] * R  # -2: not reached; -1: reached straight from the source
        queue = []
        for r in range(R):
            if self._source_arc(r) >= 0:
                parent[r] = -1
                queue.append(r)
        end = -1
        for r in queue:  # grows while we walk it
            if end >= 0:
                break
            low, need = self.low[r], K - pot[r]
            for v in range(R):
                if parent[v] == -2 and low[v] < L and low[v] == pot[v] + need:
                    parent[v] = r
                    queue.append(v)
                    if self._sink_arc(v):
                        end = v
                        break
        if end < 0:
            return None
        path = [end]
        while parent[path[-1]] >= 0:
            path.append(parent[path[-1]])
        return path[::-1]

    def _augment(self, path: list[int]) -> None:
        first = path[0]
        i = self._source_arc(first)
        a = i // self.CL
        heap = self.heaps[first][i]
        while not (self.fill[heap[0]] == a and first not in self.mine[heap[0]]):
            heapq.heappop(heap)  # stale entry
        p = heap[0]
        self._raise_fill(p)
        self._add(p, first)
        for r1, r2 in zip(path, path[1:]):
            change = self.pot[r2] - self.pot[r1]
            q = min(
                q
                for q in self.held[r1]
                if self.cost[q][r2] != _NO_ARC
                and r2 not in self.mine[q]
                and self.cost[q][r2] - self.cost[q][r1] == change
            )
            self._remove(q, r1)
            self._add(q, r2)
        self.remaining -= 1

    def run(self) -> None:
        while self.remaining and self._dijkstra():
            found = False
            while self.remaining and (path := self._find_path()) is not None:
                self._augment(path)
                found = True
            if not found:
                raise AssertionError("min-cost flow: no admissible path after Dijkstra")

    # --- result -------------------------------------------------------------------------------

    def result(self) -> AssignmentResult:
        pairs, shortfalls, cost = [], [], 0
        for p, slot in enumerate(self.proposals):
            for r in self.mine[p]:
                pairs.append(Assignment(slot.id, self.reviewers[r].id))
                cost += self.cost[p][r]
            first = len(slot.already)
            cost += self.shortage * sum(range(first, self.fill[p]))
            if self.fill[p] < slot.needed:
                eligible = sum(c != _NO_ARC for c in self.cost[p])
                limited_by = "eligibility" if eligible < slot.needed - first else "capacity"
                shortfalls.append(Shortfall(slot.id, slot.needed - self.fill[p], eligible, limited_by))
        for r, reviewer in enumerate(self.reviewers):
            cost += LOAD_WEIGHT * sum(range(reviewer.current_load + 1, self.load[r] + 1))
        return AssignmentResult(sorted(pairs), shortfalls, cost)
