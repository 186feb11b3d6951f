"""Decisions reach companies only when the owners finalise (issue 10): shortlisting, selecting and not selecting
are held (no notification, and the company still sees "under review"), and the owners may undo a decision until
they finalise; after that, no more."""

from __future__ import annotations

from models.core.notifications import Notification
from tests.review_helpers import closed_world
from tests.web import post_form, sign_in_as


async def test_a_decision_is_held_and_can_be_undone_until_finalised(client, migrated):
    world = await closed_world(client, migrated)
    owner, kou = world.h[world.owner.id], world.h[world.kou_member.id]
    pid = world.proposals["kou"]

    async def move(to: str, reason: str = "総合評価による"):
        return await client.post(f"/api/v1/proposals/{pid}/transitions", json={"to": to, "reason": reason}, headers=owner)

    assert (await move("shortlisted")).status_code == 200
    assert (await move("selected")).status_code == 200
    assert not await Notification.filter(user_id=world.kou_member.id, kind__startswith="proposal.").exists()
    seen = (await client.get(f"/api/v1/proposals/{pid}", headers=kou)).json()
    assert seen["status"] == "under_review" and seen["status_reason"] == ""  # held from the company
    listed = (await client.get("/api/v1/proposals", headers=kou)).json()["items"]
    assert [item["status"] for item in listed if item["id"] == pid] == ["under_review"]
    by_status = {status: [item["id"] for item in (await client.get(f"/api/v1/proposals?status={status}", headers=kou)).json()["items"]]
                 for status in ("selected", "under_review")}
    assert pid not in by_status["selected"] and pid in by_status["under_review"]  # the filter does not tell either
    owners_view = (await client.get(f"/api/v1/proposals/{pid}", headers=owner)).json()
    assert owners_view["status"] == "selected" and "under_review" in owners_view["allowed_transitions"]

    await sign_in_as(client, world.owner)
    ranking = await client.get(f"/challenges/{world.challenge_id}/ranking?lang=en")
    assert "Undo the decision" in ranking.text and "it learns the decision when you finalise" in ranking.text
    undone = await post_form(client, f"/challenges/{world.challenge_id}/decisions",
                             {"proposal_id": str(pid), "to": "under_review"}, page=f"/challenges/{world.challenge_id}/ranking")
    assert undone.status_code == 303
    assert "The decision has been undone." in (await client.get(undone.headers["location"] + "?lang=en")).text
    assert (await client.get(f"/api/v1/proposals/{pid}", headers=owner)).json()["status"] == "under_review"
    assert not await Notification.filter(user_id=world.kou_member.id, kind__startswith="proposal.").exists()
