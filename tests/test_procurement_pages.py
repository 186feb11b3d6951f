"""Joint procurement pages, in Japanese and English: opening a round, joining it, closing it and recording
the contract through the forms, what the public and the members read, bad input as a form error, and an
agency's savings page adding up to the yen."""

from __future__ import annotations

import re

from models.insights.figures import compute_snapshots
from models.solutions import procurement
from models.solutions.models import ProcurementRound
from tests.helpers import browser, english, make_company
from tests.procurement_helpers import new_agency, procurement_matrix_world, procurement_world
from tests.web import post_form


def _yen(text: str, css_class: str) -> list[int]:
    return [int(re.sub(r"[^0-9-]", "", cell)) for cell in re.findall(rf'class="number {css_class}"[^>]*>([^<]+)<', text)]


async def test_a_round_through_the_pages_in_both_languages(app, people):
    w = await procurement_world(people)
    lead_user, kita_user, nishi_user = w["users"]
    await english(kita_user)
    async with browser(app, lead_user) as lead, browser(app, kita_user) as kita, browser(app, nishi_user) as nishi:
        form = (await lead.get(f"/procurements?solution={w['solution'].id}")).text
        assert "共同調達を始める" in form and f'value="{w["solution"].id}"' in form
        bad = await post_form(lead, "/procurements", {"solution_id": str(w["solution"].id), "item_ja": "", "item_en": "",
                                                      "unit": "licence", "closes_at": "2099-01-01T17:00"})
        assert bad.status_code == 400 and "調達するものの名前を日本語か英語で入力してください。" in bad.text
        opened = await post_form(lead, "/procurements", {
            "solution_id": str(w["solution"].id), "item_ja": "窓口予約ライセンス", "item_en": "Counter booking licences",
            "unit": "licence", "closes_at": w["closes_at"].strftime("%Y-%m-%dT%H:%M")})
        assert opened.status_code == 303, opened.text
        url = opened.headers["location"]
        rid = int(url.rsplit("/", 1)[1])
        for client, quantity, estimate in ((lead, "3", "600000"), (kita, "3", "550000"), (nishi, "1", "230000")):
            joined = await post_form(client, f"{url}/members", {"quantity": quantity, "solo_estimate_yen": estimate,
                                                                "estimate_source": "quote", "population": ""})
            assert joined.status_code == 303, joined.text
        refused = await post_form(kita, f"{url}/members", {"quantity": "0", "solo_estimate_yen": "-3"})
        assert refused.status_code == 400 and "The quantity is a whole number, at least 1." in refused.text
        page = (await kita.get(url)).text
        assert "Join this round" in page and "Counter booking licences" in page and "Close the round" not in page
        async with browser(app) as visitor:
            assert (await visitor.get(url)).status_code == 404  # not public until the contract is recorded
            assert (await post_form(lead, f"{url}/transitions", {"to": "closed"})).status_code == 303
            assert "参加する" not in (await nishi.get(url)).text  # closed: no more joining
            late = await post_form(nishi, f"{url}/members", {"quantity": "2", "solo_estimate_yen": "1"})
            assert late.status_code == 409 and "締め切られました" in late.text
            unknown = await post_form(lead, f"{url}/transitions", {"to": "contracted", "contract_price_yen": "1000000",
                                                                   "company_corporate_number": "1234567890123"})
            assert unknown.status_code == 400 and "法人番号の企業はKyosoに登録されていません" in unknown.text
            contracted = await post_form(lead, f"{url}/transitions", {
                "to": "contracted", "contract_price_yen": "1000000", "company_corporate_number": w["company"].corporate_number})
            assert contracted.status_code == 303
            member_page = (await lead.get(url)).text
            assert _yen(member_page, "member-share") == [428_572, 428_571, 142_857]
            assert _yen(member_page, "member-saving") == [171_428, 121_429, 87_143]
            assert "380,000円" in member_page
            public = await visitor.get(url)
            assert public.status_code == 200 and "380,000円" in public.text
            assert "member-share" not in public.text  # the members' figures stay with the members
            assert all(a.name_ja in public.text for a in w["agencies"])
            assert "/ocds" in public.text
            en = (await kita.get(url)).text
            assert "¥380,000" in en and "Contract recorded" in en
            for agency, saving in zip(w["agencies"], (171_428, 121_429, 87_143), strict=True):
                savings = await visitor.get(f"/agencies/{agency.municipality_code}/savings")
                assert savings.status_code == 200
                assert f'<strong id="saving">{saving:,}円</strong>' in savings.text
            assert (await visitor.get("/agencies/000000/savings")).status_code == 404
            feed = await visitor.get("/feeds/procurements.atom?lang=en")
            assert feed.headers["content-type"].startswith("application/atom+xml")
            assert "3 agencies bought this together and saved ¥380,000 against buying alone." in feed.text
            await compute_snapshots()
            platform = await procurement.platform_savings()
            insights = (await visitor.get("/insights")).text
            assert f"Saved by joint procurement (yen)</dt><dd>{platform.saving_yen:,}</dd>" in insights  # lang=en above
            listed = (await visitor.get("/procurements")).text
            assert f'/procurements/{rid}"' in listed
    assert (await ProcurementRound.get(id=rid)).status == "contracted"


async def test_the_procurements_feed_does_not_grow_with_its_rounds(app, queries):
    company = await make_company()
    counts = []
    async with browser(app) as visitor:
        for more in (2, 4):  # 2 contracted rounds, then 6
            for _ in range(more):
                await procurement_matrix_world(await new_agency("Higashi"), await new_agency("Minami"), company)
            with queries() as log:
                feed = await visitor.get("/feeds/procurements.atom?lang=en")
            assert feed.status_code == 200
            counts.append(log.count)
    assert feed.text.count("2 agencies bought this together and saved ¥150 against buying alone.") >= 6
    assert counts[0] == counts[1], str(log)
