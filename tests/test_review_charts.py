"""The review's charts (server/routes/review_charts.py): the ranking's dot plot for the challenge's owners only,
the company's feedback bars against the average of every proposal once the challenge is decided."""

from __future__ import annotations

from models.identity.accounts import User
from models.identity.sessions import open_session
from server.auth.sessions import SESSION_COOKIE
from tests.review_helpers import (
    agency,
    company,
    headers,
    open_challenge,
    pass_deadline,
    person,
    review,
    run_job,
    scores_for,
    submit,
)


async def signed_in(user: User) -> dict[str, str]:
    """The pages read the session cookie (the API reads bearer tokens)."""
    return {"Cookie": f"{SESSION_COOKIE}={await open_session(user)}"}


async def test_ranking_and_feedback_charts(client, migrated):
    owner = await person("owner", org=await agency())
    h_owner, h_operator = await headers(owner), await headers(await person("operator", operator=True))
    kou = await person("kou", org=await company("甲チャート株式会社"))
    otsu = await person("otsu", org=await company("Otsu Charts LLC"))
    r1, r2 = await person("r1", reviewer=True), await person("r2", reviewer=True)
    cid = (await open_challenge(client, h_owner, h_operator))["id"]
    panel = await client.put(f"/api/v1/challenges/{cid}/panel", headers=h_owner,
                             json={"reviewers": [r1.id, r2.id], "reviews_per_proposal": 2, "max_per_reviewer": 2})
    assert panel.status_code == 200, panel.text
    mine = await submit(client, await headers(kou), cid, title="甲の予約システム")
    other = await submit(client, await headers(otsu), cid, title="Otsu notices")
    await pass_deadline(cid)
    await run_job(migrated, "close_due_challenges")
    for low, reviewer in ((2, r1), (4, r2)):
        h = await headers(reviewer)
        for item in (await client.get("/api/v1/assignments", headers=h)).json()["items"]:
            await review(client, h, item["id"], await scores_for(cid, low, low))

    chart = await client.get(f"/challenges/{cid}/ranking.svg", headers=await signed_in(owner))
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert "甲の予約システム" in chart.text and "Otsu notices" in chart.text
    page = await client.get(f"/challenges/{cid}/ranking", headers=await signed_in(owner))
    assert "25.0, 75.0" in page.text  # each reviewer's total, the chart's numbers as a table
    assert (await client.get(f"/challenges/{cid}/ranking.svg", headers=await signed_in(kou))).status_code in (403, 404)

    # Before the decision the company has no feedback chart; after it, its bars beside the average.
    assert (await client.get(f"/proposals/{mine['id']}/feedback.svg", headers=await signed_in(kou))).status_code == 409
    for proposal, to in ((mine, "shortlisted"), (mine, "selected"), (other, "not_selected")):
        decided = await client.post(f"/api/v1/proposals/{proposal['id']}/transitions", headers=h_owner,
                                    json={"to": to, "reason": "総合評価による"})
        assert decided.status_code == 200, decided.text
    finalised = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "decided"}, headers=h_owner)
    assert finalised.status_code == 200, finalised.text
    bars = await client.get(f"/proposals/{mine['id']}/feedback.svg", headers=await signed_in(kou))
    assert bars.status_code == 200 and ("全提案の平均" in bars.text or "Average of all proposals" in bars.text)
    page = await client.get(f"/proposals/{mine['id']}/feedback", headers=await signed_in(kou))
    assert page.status_code == 200 and "3.0" in page.text  # the average of all proposals: (2 + 4) / 2
    assert (await client.get(f"/proposals/{mine['id']}/feedback.svg", headers=await signed_in(otsu))).status_code in (403, 404)
