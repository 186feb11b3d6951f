"""The pilot's evaluation pages at 390 px (then 1280 px), in Japanese and English: the owners' evaluation page
(panel, weights, scores), the reviewer's form for a pilot, the company's pilot page (a milestone's evidence form
with its file field) and the company's feedback page reflow without
sideways scrolling, and axe-core finds nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from models.pilots.lifecycle import today
from models.pilots.models import Pilot
from tests.browser.conftest import check_page, new_context
from tests.pilot_helpers import decided_world
from tests.review_helpers import review
from tests.workers import run_worker_once


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_pilot_evaluation_pages_reflow(browser, server_url, app, migrated, lang):
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
        w = await decided_world(client, migrated)
        owner = w.h[w.owner.id]
        created = await client.post("/api/v1/pilots", headers=owner, json={
            "proposal_id": w.proposals["kou"], "starts_on": (today() - timedelta(days=30)).isoformat(),
            "ends_on": (today() + timedelta(days=5)).isoformat()})
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        assert (await client.post(f"/api/v1/pilots/{pid}/transitions", json={"to": "running"}, headers=owner)).status_code == 200
        panel = await client.put(f"/api/v1/pilots/{pid}/panel", headers=owner,
                                 json={"reviewers": [r.id for r in w.reviewers[:2]], "reviews_per_subject": 2})
        assert panel.status_code == 200, panel.text

        async def visit(user, *paths: str) -> None:
            context = await new_context(browser, server_url, width=390, lang=lang, user=user)
            page = await context.new_page()
            try:
                for path in paths:
                    await page.set_viewport_size({"width": 390, "height": 900})
                    response = await page.goto(path)
                    assert response.ok, f"{path}: {response.status}"
                    await check_page(page)
                    await page.set_viewport_size({"width": 1280, "height": 900})
                    await check_page(page)
            finally:
                await context.close()

        await visit(w.owner, f"/pilots/{pid}", f"/pilots/{pid}/evaluation")  # before the round: panel and weights
        milestone = await client.post(f"/api/v1/pilots/{pid}/milestones", headers=owner,
                                      json={"title": "要件定義", "due_on": (today() + timedelta(days=3)).isoformat()})
        assert milestone.status_code == 201, milestone.text
        await visit(w.kou_member, f"/pilots/{pid}")  # the company's form: evidence and an optional file

        await Pilot.filter(id=pid).update(ends_on=today() - timedelta(days=1))
        await run_worker_once(migrated, job="end_due_pilots")
        await run_worker_once(migrated)
        reviewer = w.reviewers[0]
        [item] = [i for i in (await client.get("/api/v1/assignments", headers=w.h[reviewer.id])).json()["items"]
                  if i["subject"]["kind"] == "pilot"]
        await visit(reviewer, f"/reviews/{item['id']}")
        for r in w.reviewers[:2]:
            for i in (await client.get("/api/v1/assignments", headers=w.h[r.id])).json()["items"]:
                if i["subject"]["kind"] == "pilot":
                    await review(client, w.h[r.id], i["id"], {"kpi_achievement": 4, "satisfaction": 5, "cost": 3,
                                                             "reusability": 4})
        await visit(w.owner, f"/pilots/{pid}/evaluation")  # scores per criterion
        adopted = await client.post(f"/api/v1/pilots/{pid}/transitions", headers=owner,
                                    json={"to": "adopted", "reason": "目標を達成した"})
        assert adopted.status_code == 200, adopted.text
        await visit(w.kou_member, f"/pilots/{pid}", f"/pilots/{pid}/evaluation/feedback")
