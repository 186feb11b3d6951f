import random
from collections import Counter

import pytest

from models.review import assignment
from models.review.assignment import (
    LOAD_WEIGHT,
    Assignment,
    ProposalSlot,
    Reviewer,
    Shortfall,
    assign,
    preference_cost,
    reassign_after_recusal,
    shortage_weight,
)


def random_panel(rng, n_reviewers, n_proposals, needed=3, conflict_rate=0.1):
    vocabulary = list("abcdefgh")
    reviewers = [Reviewer(i, frozenset(rng.sample(vocabulary, rng.randint(0, 4)))) for i in range(1, n_reviewers + 1)]
    proposals = [
        ProposalSlot(100 + j, frozenset(rng.sample(vocabulary, rng.randint(1, 4))), needed)
        for j in range(n_proposals)
    ]
    conflicts = {(r.id, p.id) for r in reviewers for p in proposals if rng.random() < conflict_rate}
    return reviewers, proposals, conflicts


def reviewers_of(result):
    by_proposal = {}
    for proposal_id, reviewer_id in result.assignments:
        by_proposal.setdefault(proposal_id, []).append(reviewer_id)
    return by_proposal


def loads(result, reviewers):
    counted = Counter(reviewer_id for _, reviewer_id in result.assignments)
    return {r.id: r.current_load + counted[r.id] for r in reviewers}


def test_every_proposal_gets_its_reviewers_when_feasible():
    reviewers, proposals, conflicts = random_panel(random.Random(1), 12, 40)

    result = assign(reviewers, proposals, conflicts, max_per_reviewer=12)

    assert result.feasible and result.shortfalls == []
    by_proposal = reviewers_of(result)
    assert sorted(by_proposal) == [p.id for p in proposals]
    assert all(len(set(ids)) == len(ids) == 3 for ids in by_proposal.values())


def test_conflicts_are_never_assigned():
    rng = random.Random(2)
    for _ in range(20):
        reviewers, proposals, conflicts = random_panel(rng, 6, 15, conflict_rate=0.4)
        result = assign(reviewers, proposals, conflicts)
        assert not {(r, p) for p, r in result.assignments} & conflicts


def test_loads_are_balanced_when_unconstrained():
    reviewers, proposals, _ = random_panel(random.Random(3), 7, 20)

    result = assign(reviewers, proposals)

    assert sorted(Counter(loads(result, reviewers).values())) == [8, 9]  # 60 reviews over 7 people


def test_balance_counts_the_load_reviewers_already_carry():
    reviewers = [Reviewer(1, current_load=5), Reviewer(2), Reviewer(3)]
    proposals = [ProposalSlot(100 + j, needed=1) for j in range(10)]

    result = assign(reviewers, proposals)

    assert loads(result, reviewers) == {1: 5, 2: 5, 3: 5}


def test_expertise_decides_when_balance_allows():
    reviewers = [Reviewer(1, frozenset({"childcare"})), Reviewer(2, frozenset({"energy"})), Reviewer(3, frozenset({"mobility"}))]
    topics = ["mobility", "childcare", "energy", "energy", "mobility", "childcare"]
    proposals = [ProposalSlot(100 + j, frozenset({topic}), needed=1) for j, topic in enumerate(topics)]

    result = assign(reviewers, proposals)

    expertise = {r.id: r.expertise for r in reviewers}
    tags = {p.id: p.tags for p in proposals}
    assert all(expertise[r] == tags[p] for p, r in result.assignments)


def test_a_stronger_match_is_preferred():
    reviewers = [Reviewer(1, frozenset("ab")), Reviewer(2, frozenset("abc"))]
    proposals = [ProposalSlot(100, frozenset("abc"), needed=1), ProposalSlot(101, frozenset("a"), needed=1)]

    assert assign(reviewers, proposals).assignments == [Assignment(100, 2), Assignment(101, 1)]


def test_balance_comes_before_expertise():
    reviewers = [Reviewer(1, frozenset({"energy"})), Reviewer(2), Reviewer(3)]
    proposals = [ProposalSlot(100 + j, frozenset({"energy"}), needed=1) for j in range(9)]

    result = assign(reviewers, proposals)

    assert loads(result, reviewers) == {1: 3, 2: 3, 3: 3}


def test_max_per_reviewer_is_respected():
    reviewers, proposals, conflicts = random_panel(random.Random(4), 10, 20, conflict_rate=0.05)

    result = assign(reviewers, proposals, conflicts, max_per_reviewer=7)

    assert max(loads(result, reviewers).values()) <= 7


def test_too_few_eligible_reviewers_is_reported_exactly():
    reviewers = [Reviewer(i) for i in (1, 2, 3, 4)]
    proposals = [ProposalSlot(100), ProposalSlot(101), ProposalSlot(102)]
    conflicts = {(1, 101), (2, 101), (3, 101), (4, 102)}

    result = assign(reviewers, proposals, conflicts)

    assert not result.feasible
    assert result.shortfalls == [Shortfall(101, missing=2, eligible=1, limited_by="eligibility")]
    assert len(reviewers_of(result)[100]) == 3 and len(reviewers_of(result)[102]) == 3
    assert reviewers_of(result)[101] == [4]


def test_a_full_panel_spreads_the_shortage():
    reviewers = [Reviewer(1), Reviewer(2)]
    proposals = [ProposalSlot(100 + j, needed=2) for j in range(3)]

    result = assign(reviewers, proposals, max_per_reviewer=2)

    assert len(result.assignments) == 4
    assert all(len(ids) >= 1 for ids in reviewers_of(result).values()) and len(reviewers_of(result)) == 3
    assert sum(s.missing for s in result.shortfalls) == 2
    assert {(s.missing, s.eligible, s.limited_by) for s in result.shortfalls} == {(1, 2, "capacity")}


def test_no_reviewers_at_all():
    result = assign([], [ProposalSlot(100, needed=2)])

    assert result.assignments == []
    assert result.shortfalls == [Shortfall(100, 2, 0, "eligibility")]


def test_existing_assignments_are_kept_and_only_the_gap_is_filled():
    reviewers = [Reviewer(1, current_load=1), Reviewer(2), Reviewer(3), Reviewer(4)]
    proposals = [ProposalSlot(100, needed=3, already=frozenset({1})), ProposalSlot(101, needed=1, already=frozenset({1}))]

    with pytest.raises(ValueError, match="current_load"):
        assign(reviewers, proposals)
    reviewers[0] = Reviewer(1, current_load=2)
    result = assign(reviewers, proposals)

    assert [p for p, _ in result.assignments] == [100, 100]
    assert 1 not in reviewers_of(result)[100]


def test_recusal_fills_the_gap_and_keeps_everything_else():
    reviewers, proposals, conflicts = random_panel(random.Random(5), 8, 12, conflict_rate=0.05)
    first = assign(reviewers, proposals, conflicts)
    assert first.feasible
    recused_reviewer, recused_from = first.assignments[0][1], first.assignments[0][0]

    kept = reviewers_of(first)
    kept[recused_from].remove(recused_reviewer)
    held = Counter(r for ids in kept.values() for r in ids)
    reviewers_now = [Reviewer(r.id, r.expertise, held[r.id]) for r in reviewers]
    proposals_now = [ProposalSlot(p.id, p.tags, p.needed, frozenset(kept[p.id])) for p in proposals]
    refill = reassign_after_recusal(reviewers_now, proposals_now, [(recused_reviewer, recused_from)], conflicts)

    assert refill.feasible
    assert len(refill.assignments) == 1
    proposal_id, reviewer_id = refill.assignments[0]
    assert proposal_id == recused_from
    assert reviewer_id != recused_reviewer and reviewer_id not in kept[recused_from]
    assert (reviewer_id, proposal_id) not in conflicts


def test_the_recused_reviewer_is_never_put_back_even_when_alone():
    reviewers = [Reviewer(1), Reviewer(2, current_load=1)]
    proposals = [ProposalSlot(100, needed=2, already=frozenset({2}))]

    result = reassign_after_recusal(reviewers, proposals, recused=[(1, 100)])

    assert result.assignments == []
    assert result.shortfalls == [Shortfall(100, 1, 0, "eligibility")]


def test_a_recused_reviewer_still_listed_as_assigned_is_an_error():
    reviewers = [Reviewer(1, current_load=1), Reviewer(2)]
    with pytest.raises(ValueError, match="recused"):
        reassign_after_recusal(reviewers, [ProposalSlot(100, already=frozenset({1}))], recused=[(1, 100)])


def test_same_input_in_any_order_gives_the_same_assignments():
    rng = random.Random(6)
    reviewers, proposals, conflicts = random_panel(rng, 15, 60)
    expected = assign(reviewers, proposals, conflicts, max_per_reviewer=14)

    for _ in range(3):
        rng.shuffle(reviewers)
        rng.shuffle(proposals)
        shuffled_conflicts = list(conflicts)
        rng.shuffle(shuffled_conflicts)
        assert assign(reviewers, proposals, shuffled_conflicts, max_per_reviewer=14) == expected


@pytest.mark.parametrize(
    "reviewers, proposals",
    [
        ([Reviewer(1), Reviewer(1)], [ProposalSlot(100)]),
        ([Reviewer(1)], [ProposalSlot(100), ProposalSlot(100)]),
        ([Reviewer(1)], [ProposalSlot(100, needed=-1)]),
    ],
)
def test_invalid_input_is_rejected(reviewers, proposals):
    with pytest.raises(ValueError):
        assign(reviewers, proposals)


def reference_flow(reviewers, proposals, conflicts, max_per_reviewer):
    """(flow value, cost) of the same network solved by networkx."""
    nx = pytest.importorskip("networkx")
    graph = nx.DiGraph()
    graph.add_nodes_from(["source", "sink"])
    shortage = shortage_weight(max_per_reviewer)
    for slot in proposals:
        for k in range(len(slot.already), slot.needed):  # parallel unit arcs via one node each
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
    flow = nx.max_flow_min_cost(graph, "source", "sink")
    return sum(flow["source"].values()), nx.cost_of_flow(graph, flow)


def test_min_cost_matches_networkx_on_random_instances():
    rng = random.Random(7)
    for _ in range(150):
        reviewers, proposals, conflicts = random_panel(
            rng, rng.randint(1, 7), rng.randint(1, 10), needed=rng.randint(0, 3), conflict_rate=rng.random() * 0.4
        )
        # Some proposals already have a reviewer; loads then include it.
        proposals = [
            ProposalSlot(p.id, p.tags, p.needed, frozenset({rng.choice(reviewers).id}) if rng.random() < 0.3 else frozenset())
            for p in proposals
        ]
        held = Counter(r for p in proposals for r in p.already)
        reviewers = [Reviewer(r.id, r.expertise, held[r.id] + rng.randint(0, 2)) for r in reviewers]
        max_per_reviewer = rng.randint(1, 7)

        result = assign(reviewers, proposals, conflicts, max_per_reviewer)

        assert (len(result.assignments), result.cost) == reference_flow(reviewers, proposals, conflicts, max_per_reviewer)
        assert cost_of(result.assignments, reviewers, proposals, max_per_reviewer) == result.cost
        assert not {(r, p) for p, r in result.assignments} & conflicts
        assert all(load <= max(max_per_reviewer, r.current_load) for r, load in zip(reviewers, loads(result, reviewers).values()))


def test_pricing_in_left_out_pairs_reaches_the_same_cost_as_networkx(monkeypatch):
    # The solver starts from each proposal's cheapest few reviewers; start from as few as it
    # needs, so that nearly every answer has to price left-out pairs in (often from a first flow
    # that leaves places empty), and count that it did.
    monkeypatch.setattr(assignment, "_LIKELY", 1)
    priced = []
    price = assignment._pairs_that_would_lower_the_cost
    monkeypatch.setattr(assignment, "_pairs_that_would_lower_the_cost", lambda *a: priced.append(price(*a)) or priced[-1])
    rng = random.Random(8)
    for _ in range(60):
        reviewers, proposals, conflicts = random_panel(rng, rng.randint(2, 12), rng.randint(1, 25), conflict_rate=rng.random() * 0.3)
        reviewers = [Reviewer(r.id, r.expertise, rng.choice([0, 0, 1, 4])) for r in reviewers]
        max_per_reviewer = rng.choice([None, rng.randint(2, 12)])
        limit = max_per_reviewer if max_per_reviewer is not None else max(r.current_load for r in reviewers) + 3 * len(proposals)

        result = assign(reviewers, proposals, conflicts, max_per_reviewer)

        assert (len(result.assignments), result.cost) == reference_flow(reviewers, proposals, conflicts, limit)
        assert cost_of(result.assignments, reviewers, proposals, limit) == result.cost
    assert all(better is not None for better in priced)  # the full-network safety net was never needed
    assert sum(better.any() for better in priced) > 20


def cost_of(pairs, reviewers, proposals, max_per_reviewer):
    """The network's cost of these assignments, recomputed from the pairs alone."""
    expertise = {r.id: r.expertise for r in reviewers}
    slots = {p.id: p for p in proposals}
    cost = sum(preference_cost(expertise[r], slots[p].tags) for p, r in pairs)
    added = Counter(p for p, _ in pairs)
    for slot in proposals:
        cost += shortage_weight(max_per_reviewer) * sum(range(len(slot.already), len(slot.already) + added[slot.id]))
    taken = Counter(r for _, r in pairs)
    for reviewer in reviewers:
        cost += LOAD_WEIGHT * sum(range(reviewer.current_load + 1, reviewer.current_load + taken[reviewer.id] + 1))
    return cost
