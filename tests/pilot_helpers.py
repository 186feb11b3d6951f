"""Helpers for the pilot tests: a decided challenge with a selected proposal, through the API."""

from __future__ import annotations

from tests.review_helpers import closed_world, review, scores_for

COMPLETION = {"name": {"ja": "10分以内の完了率", "en": "Completed within 10 minutes"}, "unit": "%", "baseline": 7, "target": 71}


async def decided_world(client, migrated):
    """closed_world, every review in, Kou's proposal selected, Otsu's not, the challenge decided."""
    w = await closed_world(client, migrated)
    for name in ("kou", "otsu"):
        for assignment in await w.assignments(name):
            await review(client, w.h[assignment.reviewer_id], assignment.id, await scores_for(w.challenge_id, 4, 4))
    owner = w.h[w.owner.id]
    for proposal, moves in (("kou", ("shortlisted", "selected")), ("otsu", ("not_selected",))):
        for to in moves:
            moved = await client.post(f"/api/v1/proposals/{w.proposals[proposal]}/transitions",
                                      json={"to": to, "reason": "評価による"}, headers=owner)
            assert moved.status_code == 200, moved.text
    decided = await client.post(f"/api/v1/challenges/{w.challenge_id}/transitions", json={"to": "decided"}, headers=owner)
    assert decided.status_code == 200, decided.text
    return w
