"""Joint procurement pages at 390 and 1280 px, in Japanese and English: the rounds, an open round with its
join form (as a member), a contracted round and an agency's savings (as a visitor) reflow without sideways
scrolling, and axe-core finds nothing."""

from __future__ import annotations

import pytest

from models.policy import actor_for
from models.solutions import procurement
from models.solutions.procurement import JoinInput
from tests.browser.conftest import check_page, new_context
from tests.procurement_helpers import new_agency
from tests.review_helpers import company, person


@pytest.fixture(scope="module")
async def rounds(app, migrated):
    from datetime import timedelta

    from tortoise import timezone

    from models.solutions.models import Solution

    agencies = [await new_agency(name) for name in ("Higashi", "Minami", "Kitakata")]
    users = [await person(f"buyer{i}", org=agency) for i, agency in enumerate(agencies)]
    vendor = await company("共同調達テスト株式会社 Joint Procurement Test Kabushiki Kaisha")
    solution = await Solution.create(company=vendor, owner=agencies[0], agency_ids=[agencies[0].id], status="published",
                                     published_at=timezone.now(), title={"ja": "窓口予約", "en": "Counter booking"})
    actors = [await actor_for(u) for u in users]
    closes = timezone.now() + timedelta(days=10)
    item = {"ja": "窓口予約システムの年間ライセンス（職員用・住民向け予約画面を含む）",
            "en": "Yearly licences of the counter booking system, staff and residents' screens included"}
    done = await procurement.open_round(actors[0], item=item, unit="licence", closes_at=closes, solution_id=solution.id)
    for actor, quantity, estimate in zip(actors, (12, 7, 3), (4_800_000, 3_100_000, 1_500_000), strict=True):
        await procurement.join_round(actor, done.id, JoinInput(quantity, estimate, "quote", population=230_000, staff=1_800))
    await procurement.transition(actors[0], done.id, "closed")
    await procurement.transition(actors[0], done.id, "contracted", contract_price_yen=7_654_321)
    still_open = await procurement.open_round(actors[1], item=item, unit="seat", closes_at=closes, solution_id=solution.id)
    await procurement.join_round(actors[1], still_open.id, JoinInput(5, 900_000, "estimate"))
    return {"done": done.id, "open": still_open.id, "member": users[1], "code": agencies[0].municipality_code}


async def test_procurement_pages_reflow_and_pass_axe(browser, server_url, rounds, look):
    lang, width = look
    visitor = await new_context(browser, server_url, width=width, lang=lang)
    member = await new_context(browser, server_url, width=width, lang=lang, user=rounds["member"])
    try:
        page = await visitor.new_page()
        for path in (f"/procurements/{rounds['done']}", f"/agencies/{rounds['code']}/savings", "/procurements"):
            await page.goto(path)
            assert await page.get_attribute("html", "lang") == lang
            await check_page(page)
        page = await member.new_page()
        for path in (f"/procurements/{rounds['open']}", f"/procurements/{rounds['done']}", "/procurements"):
            await page.goto(path)
            await check_page(page)
        await page.goto(f"/procurements/{rounds['open']}")
        assert await page.locator("#field-quantity").count() == 1  # the join form
    finally:
        await visitor.close()
        await member.close()
