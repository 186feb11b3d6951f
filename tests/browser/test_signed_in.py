"""Signed-in pages at 390 px (then 1280 px), in Japanese and English: the header, the receipt, the ranking, the proposals list,
the operator console and the feedback page reflow without sideways scrolling, and axe-core finds nothing.

The world is made through the API and the domain functions, as tests/test_review_flow.py makes it: an agency's
challenge with a panel of two reviewers, two companies' proposals, every review done, then finalised."""

from __future__ import annotations

import secrets

import httpx2
import pytest

from models.identity.orgs import Organisation
from server import jobs
from tests.browser.conftest import check_page, new_context
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
from tests.workers import run_worker_once

LONG_NAME = "Alexandra Featherstonehaugh-Whittingham"  # a long name in the header: it must wrap, not widen the page


async def reviewed_challenge(client: httpx2.AsyncClient, settings) -> dict:
    run = secrets.token_hex(3)
    owner = await person("owner", org=await agency(), locale="en")
    await owner.__class__.filter(id=owner.id).update(name=LONG_NAME)
    operator = await person("operator", operator=True)
    kou = await company(f"Kou Digital Solutions Kabushiki Kaisha {run}")
    otsu = await company(f"乙合同会社 {run}")
    await Organisation.create(kind="company", status="pending", name_ja=f"審査待ち株式会社 {run}",
                              name_en=f"Pending Consulting {run}", corporate_number=f"7{secrets.randbelow(10**12):012d}")
    kou_member, otsu_member = await person("kou", org=kou), await person("otsu", org=otsu)
    await kou_member.__class__.filter(id=kou_member.id).update(name=LONG_NAME)
    r1, r2 = await person("r1", reviewer=True), await person("r2", reviewer=True)
    h = {u.id: await headers(u) for u in (owner, operator, kou_member, otsu_member, r1, r2)}

    challenge = await open_challenge(client, h[owner.id], h[operator.id])
    cid = challenge["id"]
    panel = await client.put(f"/api/v1/challenges/{cid}/panel", headers=h[owner.id],
                             json={"reviewers": [r1.id, r2.id], "reviews_per_proposal": 2, "max_per_reviewer": 2})
    assert panel.status_code == 200, panel.text
    kou_proposal = await submit(client, h[kou_member.id], cid, title="予約システムと呼び出し通知の導入による窓口の待ち時間短縮")
    otsu_proposal = await submit(client, h[otsu_member.id], cid, title="Call-ahead notifications")
    await pass_deadline(cid)
    await run_job(settings, "close_due_challenges")
    for index, reviewer in enumerate((r1, r2)):
        listed = (await client.get("/api/v1/assignments", headers=h[reviewer.id])).json()["items"]
        for item in listed:
            await review(client, h[reviewer.id], item["id"], await scores_for(cid, 3 + index, 4 - index))
    await run_worker_once(settings, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)
    return {"id": cid, "owner": owner, "operator": operator, "company": kou_member, "reviewer": r1,
            "proposal": kou_proposal["id"], "other": otsu_proposal["id"], "headers": h}


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_signed_in_pages_reflow(browser, server_url, app, migrated, lang):
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
        world = await reviewed_challenge(client, migrated)
        cid, proposal = world["id"], world["proposal"]

        async def visit(who: str, *paths: str) -> None:
            context = await new_context(browser, server_url, width=390, lang=lang, user=world[who])
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

        await visit("company", "/proposals", f"/proposals/{proposal}", f"/proposals/{proposal}/receipt", "/account")
        await visit("owner", "/challenges/mine", f"/challenges/{cid}", f"/challenges/{cid}/proposals",
                    f"/challenges/{cid}/panel", f"/challenges/{cid}/assignments", f"/challenges/{cid}/ranking")
        await visit("reviewer", "/reviews")
        await visit("operator", "/admin", "/admin/people", "/admin/audit")

        owner = world["headers"][world["owner"].id]
        for proposal_id, to in ((proposal, "shortlisted"), (proposal, "selected"), (world["other"], "not_selected")):
            decided = await client.post(f"/api/v1/proposals/{proposal_id}/transitions", headers=owner,
                                        json={"to": to, "reason": "総合評価による"})
            assert decided.status_code == 200, decided.text
        finalised = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "decided"}, headers=owner)
        assert finalised.status_code == 200, finalised.text
        await run_worker_once(migrated, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)

        await visit("company", f"/proposals/{proposal}/feedback", "/notifications", "/proposals")
        await visit("owner", f"/challenges/{cid}/ranking", f"/challenges/{cid}")
