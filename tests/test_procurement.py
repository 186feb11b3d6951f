"""Joint procurement rounds: the savings half of the Done-when (a round with three members closes, the
contract is recorded, and shares and savings add up exactly on the round, the solution, the agencies and
the platform), the rules (no joining after closing, only agency members act, whole non-negative yen), and
the apportionment's properties."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise import timezone

from models.core.audit import AuditEvent
from models.core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from models.insights.figures import compute_snapshots
from models.insights.models import PLATFORM, InsightSnapshot
from models.policy import VISITOR, actor_for
from models.solutions import procurement
from models.solutions.models import ProcurementRound, RoundMember
from models.solutions.procurement import JoinInput, apportion
from tests.procurement_helpers import procurement_world

ITEM = {"ja": "窓口予約システムの利用ライセンス", "en": "Counter booking licences"}


async def _figures(scope: str) -> dict[str, int]:
    snapshot = await InsightSnapshot.filter(scope=scope).order_by("-computed_at", "-id").first()
    assert snapshot is not None
    return {item["key"]: item["value"] for item in snapshot.figures["totals"]}


async def test_a_round_of_three_shares_the_contract_to_the_yen_everywhere(people):
    w = await procurement_world(people)
    lead, kita, nishi = [await actor_for(u) for u in w["users"]]
    before = await procurement.platform_savings()
    round_ = await procurement.open_round(lead, item=ITEM, unit="licence", closes_at=w["closes_at"],
                                         solution_id=w["solution"].id)
    assert round_.status == "open" and round_.lead_id == w["agencies"][0].id
    # Quantities 3, 3, 1 for a price of 1,000,000 yen: the exact shares are 428,571.43, 428,571.43, 142,857.14.
    await procurement.join_round(lead, round_.id, JoinInput(3, 600_000, "quote", population=250_000, staff=2_000))
    await procurement.join_round(kita, round_.id, JoinInput(3, 550_000, "last_contract"))
    await procurement.join_round(nishi, round_.id, JoinInput(1, 230_000, "estimate"))
    with pytest.raises(NotAllowed):
        await procurement.transition(kita, round_.id, "closed")  # only the lead
    await procurement.transition(lead, round_.id, "closed")
    with pytest.raises(InvalidTransition):
        await procurement.join_round(kita, round_.id, JoinInput(5, 1, "quote"))  # not after closing
    await procurement.transition(lead, round_.id, "contracted", contract_price_yen=1_000_000)

    members = await RoundMember.filter(round_id=round_.id).order_by("id")
    assert [m.share_yen for m in members] == [428_572, 428_571, 142_857]  # the tie goes to the earlier joiner
    assert sum(m.share_yen for m in members) == 1_000_000
    assert [m.saving_yen for m in members] == [171_428, 121_429, 87_143]
    view = await procurement.round_view(lead, await ProcurementRound.get(id=round_.id))
    assert view.saving_yen == 380_000 == 1_380_000 - 1_000_000

    assert (await procurement.solution_savings([w["solution"].id]))[w["solution"].id].saving_yen == 380_000
    agencies = await procurement.agency_savings([a.id for a in w["agencies"]])
    assert [agencies[a.id].saving_yen for a in w["agencies"]] == [171_428, 121_429, 87_143]
    assert [agencies[a.id].contract_yen for a in w["agencies"]] == [428_572, 428_571, 142_857]
    after = await procurement.platform_savings()
    assert after.saving_yen - before.saving_yen == 380_000
    assert after.contract_yen - before.contract_yen == 1_000_000
    assert after.rounds - before.rounds == 1

    await compute_snapshots()
    platform = await _figures(PLATFORM)
    assert platform["procurement_saving_yen"] == after.saving_yen
    assert platform["procurement_contract_yen"] == after.contract_yen
    assert platform["procurement_rounds"] == after.rounds

    events = await AuditEvent.filter(target_type="procurementround", target_id=str(round_.id)).values_list("action", flat=True)
    assert sorted(events) == sorted(["procurement.opened", "procurement.joined", "procurement.joined",
                                     "procurement.joined", "procurement.closed", "procurement.contracted"])
    mails = await OutboxMessage.filter(topic="mail", key=f"procurement:{round_.id}")
    assert sorted(m.payload["context"]["share_yen"] for m in mails) == [142_857, 428_571, 428_572]
    reindex = await OutboxMessage.filter(topic="solution_search", key=f"solution:{w['solution'].id}").count()
    assert reindex == 1  # the solution's savings changed: its search document is rebuilt
    told = [n.user_id for n in await Notification.filter(kind="procurement.contracted")
            if n.payload.get("procurement") == round_.id]
    assert sorted(told) == sorted(u.id for u in w["users"])


async def test_the_public_sees_a_round_only_once_contracted_and_members_figures_stay_with_members(people):
    w = await procurement_world(people)
    lead, kita, _nishi = [await actor_for(u) for u in w["users"]]
    company = await actor_for(w["company_user"])
    round_ = await procurement.open_round(lead, item=ITEM, unit="seat", closes_at=w["closes_at"],
                                         solution_id=w["solution"].id)
    with pytest.raises(NotFound):
        await procurement.get_round(VISITOR, round_.id)
    with pytest.raises(NotFound):
        await procurement.get_round(company, round_.id)
    with pytest.raises(NotAllowed):
        await procurement.open_round(company, item=ITEM, unit="seat", closes_at=w["closes_at"], solution_id=w["solution"].id)
    await procurement.join_round(lead, round_.id, JoinInput(2, 100, "quote"))
    assert round_.id not in [r.id for r in await procurement.list_rounds(VISITOR)]
    await procurement.transition(lead, round_.id, "closed")
    await procurement.transition(lead, round_.id, "contracted", contract_price_yen=90)
    public = await procurement.round_view(VISITOR, await procurement.get_round(VISITOR, round_.id))
    assert public.saving_yen == 10 and [m.figures for m in public.members] == [False]
    member = await procurement.round_view(lead, round_)
    assert [m.figures for m in member.members] == [True]
    outsider = await procurement.round_view(kita, round_)
    assert [m.figures for m in outsider.members] == [False]
    assert round_.id in [r.id for r in await procurement.list_rounds(VISITOR)]


async def test_bad_figures_are_refused_and_nobody_joins_after_the_closing_time(people):
    w = await procurement_world(people)
    lead, kita, _nishi = [await actor_for(u) for u in w["users"]]
    for kwargs, field in (({"unit": "barrel"}, "unit"), ({"item": {"ja": " "}}, "item"),
                          ({"closes_at": timezone.now() - timedelta(minutes=1)}, "closes_at"),
                          ({"solution_id": None}, "solution_id")):
        args = {"item": ITEM, "unit": "licence", "closes_at": w["closes_at"], "solution_id": w["solution"].id, **kwargs}
        with pytest.raises(ValidationFailed) as refused:
            await procurement.open_round(lead, **args)
        assert field in refused.value.errors
    round_ = await procurement.open_round(lead, item=ITEM, unit="licence", closes_at=w["closes_at"],
                                         solution_id=w["solution"].id)
    for data, field in ((JoinInput(0, 100), "quantity"), (JoinInput(1, -1), "solo_estimate_yen"),
                        (JoinInput(1, 100, "guess"), "estimate_source")):
        with pytest.raises(ValidationFailed) as refused:
            await procurement.join_round(kita, round_.id, data)
        assert field in refused.value.errors
    with pytest.raises(InvalidTransition):
        await procurement.transition(lead, round_.id, "closed")  # nobody has joined
    await procurement.join_round(kita, round_.id, JoinInput(4, 400))
    await procurement.join_round(kita, round_.id, JoinInput(5, 500))  # changes its figures while open
    assert [(m.quantity, m.solo_estimate_yen) for m in await RoundMember.filter(round_id=round_.id)] == [(5, 500)]
    with pytest.raises(InvalidTransition) as refused:
        await procurement.transition(lead, round_.id, "contracted", contract_price_yen=1)
    assert refused.value.allowed == ["closed"]
    await ProcurementRound.filter(id=round_.id).update(closes_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidTransition):
        await procurement.join_round(lead, round_.id, JoinInput(1, 1))
    assert round_.id in await procurement.close_due()
    assert (await ProcurementRound.get(id=round_.id)).status == "closed"
    with pytest.raises(ValidationFailed):
        await procurement.transition(lead, round_.id, "contracted", contract_price_yen=-5)
    await procurement.transition(lead, round_.id, "contracted", contract_price_yen=0)
    assert [(m.share_yen, m.saving_yen) for m in await RoundMember.filter(round_id=round_.id)] == [(0, 500)]


# --- the apportionment ---------------------------------------------------------------------------------


def test_largest_remainder_examples():
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion(0, [5, 7]) == [0, 0]
    assert apportion(10, [1]) == [10]
    assert apportion(7, [2, 1, 2, 1]) == [3, 1, 2, 1]  # remainders 2/6, 1/6, 2/6, 1/6 → the earlier 2/6 wins
    with pytest.raises(ValueError):
        apportion(10, [])
    with pytest.raises(ValueError):
        apportion(10, [1, 0])


@settings(max_examples=400, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**13),
       weights=st.lists(st.integers(min_value=1, max_value=10**8), min_size=1, max_size=60))
def test_shares_sum_to_the_price_and_each_is_within_a_yen_of_its_exact_share(total, weights):
    shares = apportion(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(total * weight, whole)
        assert share >= 0 and abs(share - exact) < 1
        assert share in (exact.__floor__(), exact.__ceil__())
    assert shares == apportion(total, weights)  # deterministic


@settings(max_examples=200, deadline=None)
@given(total=st.integers(min_value=0, max_value=10**9), weights=st.lists(st.integers(1, 1000), min_size=1, max_size=20))
def test_a_larger_quantity_never_pays_less(total, weights):
    shares = apportion(total, weights)
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if wi > wj:
                assert shares[i] >= shares[j]
