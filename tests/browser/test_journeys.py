"""The issue's journeys, clicked through the real forms in Chromium: an agency drafts a challenge and an operator
approves and publishes it; a company asks a question, drafts a proposal, submits it and sees its receipt; a panel
reviews, the owner ranks, decides and finalises, and the company reads its feedback.

Each journey is walked twice, as a whole: in Japanese at 390 px (a phone) and in English at 1280 px (a desktop).
Every page a journey visits is also checked at the other width (`Walker.check`: axe-core and no sideways scroll at
both), so each page is seen in both languages at both widths while each journey's clicks happen only twice —
the suite runs on a 2-core CI machine. Only the world before a journey starts (people, organisations, a panel,
a passed deadline) is made through the API and domain functions; every step of a journey is a click or a typed
field, and the test asserts what the person sees: the banner, the page they land on, what it says happens next."""

from __future__ import annotations

import secrets

import httpx2
import pytest
from playwright.async_api import Browser, Page

from models.challenges.models import Challenge
from models.identity.accounts import User
from server import jobs
from tests.browser.conftest import check_page, new_context
from tests.review_helpers import agency, company, headers, open_challenge, pass_deadline, person, run_job, submit
from tests.workers import run_worker_once

OTHER = {390: 1280, 1280: 390}
WALKS = pytest.mark.parametrize("lang,width", [("ja", 390), ("en", 1280)], ids=["ja-390", "en-1280"])


class Walker:
    """One person's browser window: every page it lands on is checked at its width and at the other one."""

    def __init__(self, page: Page, width: int) -> None:
        self.page, self.width = page, width

    async def check(self) -> None:
        await check_page(self.page)
        await self.page.set_viewport_size({"width": OTHER[self.width], "height": 900})
        await check_page(self.page)
        await self.page.set_viewport_size({"width": self.width, "height": 900})

    async def goto(self, path: str) -> None:
        response = await self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        await self.check()

    async def click(self, selector: str) -> None:
        async with self.page.expect_navigation():
            await self.page.locator(selector).first.click()
        await self.check()

    async def banner(self) -> str:
        banner = self.page.locator(".banner--success[role=status]")
        assert await banner.count() == 1, f"no banner on {self.page.url}"
        return await banner.inner_text()


async def chart_is_drawn(page: Page) -> None:
    image = page.locator("figure.chart img")
    assert await image.count() == 1
    assert await image.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart did not load"


async def window(browser: Browser, server_url: str, lang: str, width: int, user: User | None) -> tuple[Walker, object]:
    context = await new_context(browser, server_url, width=width, lang=lang, user=user)
    return Walker(await context.new_page(), width), context


@WALKS
async def test_an_agency_drafts_a_challenge_and_an_operator_publishes_it(browser, server_url, app, lang, width):
    run = secrets.token_hex(3)
    member = await person("clerk", org=await agency(), locale=lang)
    operator = await person("operator", operator=True, locale=lang)
    title = {"ja": f"図書館の予約待ちを減らしたい {run}", "en": f"Shorter waiting lists at the library {run}"}

    walker, context = await window(browser, server_url, lang, width, member)
    try:
        await walker.goto("/tasks")
        await walker.click("a[href='/challenges/new']")
        page = walker.page
        await page.fill("#field-title_ja", title["ja"])
        await page.fill("#field-title_en", title["en"])
        async with page.expect_navigation():  # the first save needs only a title
            await page.locator("main form button[type=submit]").click()
        await walker.check()
        assert await walker.banner()
        assert title[lang] in await page.locator("h1").inner_text()
        cid = int(page.url.rstrip("/").split("/")[-1])

        await walker.click(f"a.button[href='/challenges/{cid}/edit']")  # complete it, then send it to the operators
        for name, text in (("summary", "貸出予約の待ちが長い。|Long waiting lists."), ("problem", "予約の順番が見えない。|Nobody sees their place.")):
            ja, en = text.split("|")
            await page.fill(f"#field-{name}_ja", ja)
            await page.fill(f"#field-{name}_en", en)
        await page.select_option("#field-category", "administrative-procedures")
        for code in ("ja", "en"):
            await page.check(f"input[name=languages][value={code}]")
        for name, days in (("questions_deadline", 10), ("proposals_deadline", 20), ("review_deadline", 30)):
            await page.fill(f"#field-{name}", f"2031-0{days // 10}-{days:02d}T17:00")
        levels = "\n".join(f"{n}" for n in range(1, 6))
        for i, (ja, en, weight) in enumerate((("効果", "Impact", "60"), ("費用", "Cost", "40"))):
            await page.fill(f"#field-criterion-{i}-name_ja", ja)
            await page.fill(f"#field-criterion-{i}-name_en", en)
            await page.fill(f"#field-criterion-{i}-weight", weight)
            await page.fill(f"#field-criterion-{i}-levels_ja", "\n".join(f"{n}点" for n in range(1, 6)))
            await page.fill(f"#field-criterion-{i}-levels_en", levels)
        async with page.expect_navigation():
            await page.locator("main form button[type=submit]").click()
        await walker.check()
        assert await walker.banner()

        async with page.expect_navigation():  # "Submit for approval"
            await page.locator("form[action$='/transitions']:has(input[value=in_review]) button").click()
        await walker.check()
        assert await walker.banner()
        assert (await Challenge.get(id=cid)).status == "in_review"
    finally:
        await context.close()

    walker, context = await window(browser, server_url, lang, width, operator)
    try:
        await walker.goto("/tasks")  # the operator finds it in the queue, not by typing its address
        task = walker.page.locator("section[aria-labelledby=tasks-operator] .task-list > li", has_text=run)
        assert await task.count() == 1
        async with walker.page.expect_navigation():
            await task.locator("a").first.click()
        await walker.check()
        await walker.click(f"a[href='/challenges/{cid}/confirm/published']")
        assert await walker.page.locator(".banner--warning li").count() >= 2  # what happens next, before the click
        await walker.click("main form button[type=submit]")
        assert await walker.banner()
        assert (await Challenge.get(id=cid)).status == "published"
    finally:
        await context.close()


@WALKS
async def test_a_company_asks_drafts_submits_and_sees_its_receipt(browser, server_url, app, lang, width):
    owner = await person("owner", org=await agency())
    operator = await person("operator", operator=True)
    member = await person("founder", org=await company(f"Startup {secrets.token_hex(3)}"), locale=lang)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
        challenge = await open_challenge(client, await headers(owner), await headers(operator))
    cid = challenge["id"]

    walker, context = await window(browser, server_url, lang, width, member)
    page = walker.page
    try:
        await walker.goto(f"/challenges/{cid}")
        await page.fill("#field-question_body", "予約データの形式を教えてください。" if lang == "ja" else "Which format is the booking data in?")
        async with page.expect_navigation():
            await page.locator(f"form[action='/challenges/{cid}/questions'] button").click()
        await walker.check()
        assert await walker.banner()

        await walker.click(f"a[href='/challenges/{cid}/proposals/new']")
        await page.fill("#field-title", "予約と呼び出し通知" if lang == "ja" else "Bookings and call-ahead notices")
        async with page.expect_navigation():  # a first save of the draft
            await page.locator("button[name=action][value=save]").click()
        await walker.check()
        assert await walker.banner()
        proposal_id = int(page.url.split("/proposals/")[1].split("/")[0].split("?")[0])

        if "/edit" not in page.url:
            await walker.click(f"a[href='/proposals/{proposal_id}/edit']")
        for name, text in (("summary", "Online bookings."), ("approach", "A booking page and SMS."),
                           ("cost_yen", "1500000"), ("schedule", "Three months."), ("team", "Two engineers.")):
            await page.fill(f"#field-{name}", text)
        kpis = page.locator("input[id^=field-kpi-][id$=-value]")
        for index in range(await kpis.count()):
            await kpis.nth(index).fill("20")
        async with page.expect_navigation():  # "Submit the proposal" saves, then asks on a page of its own
            await page.locator("button[name=action][value=submit]").click()
        await walker.check()
        if "/confirm/" in page.url:
            await walker.click("main form button[type=submit]")
        assert "/receipt" in page.url, page.url
        assert await page.locator("main").get_by_text("SHA-256").count() >= 1

        await walker.goto("/proposals")  # the receipt is found again from the list
        assert await page.locator(f"a[href^='/proposals/{proposal_id}']").count() >= 1
    finally:
        await context.close()


@WALKS
async def test_a_panel_reviews_the_owner_finalises_and_the_company_reads_its_feedback(
        browser, server_url, app, migrated, lang, width):
    owner = await person("owner", org=await agency(), locale=lang)
    operator = await person("operator", operator=True)
    r1, r2 = await person("r1", reviewer=True, locale=lang), await person("r2", reviewer=True, locale=lang)
    kou, otsu = await company(f"甲株式会社 {secrets.token_hex(3)}"), await company(f"Otsu LLC {secrets.token_hex(3)}")
    kou_member, otsu_member = await person("kou", org=kou, locale=lang), await person("otsu", org=otsu)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
        h = await headers(owner)
        challenge = await open_challenge(client, h, await headers(operator))
        cid = challenge["id"]
        panel = await client.put(f"/api/v1/challenges/{cid}/panel", headers=h,
                                 json={"reviewers": [r1.id, r2.id], "reviews_per_proposal": 2, "max_per_reviewer": 2})
        assert panel.status_code == 200, panel.text
        kou_proposal = await submit(client, await headers(kou_member), cid, title="予約システムの導入")
        otsu_proposal = await submit(client, await headers(otsu_member), cid, title="Call-ahead notices")
    await pass_deadline(cid)
    await run_job(migrated, "close_due_challenges")

    for number, reviewer in enumerate((r1, r2)):  # each reviewer scores both proposals through the form
        walker, context = await window(browser, server_url, lang, width, reviewer)
        page = walker.page
        try:
            await walker.goto("/reviews")
            links = page.locator("main table a[href^='/reviews/']")
            assigned = [await links.nth(i).get_attribute("href") for i in range(await links.count())]
            assert len(assigned) == 2
            for href in assigned:
                await walker.click(f"main table a[href='{href}']")
                for fieldset in await page.locator("fieldset.criterion").all():
                    await fieldset.locator("input[type=radio]").nth(2 + number).check()
                    await fieldset.locator("textarea").fill("明確な計画。" if lang == "ja" else "A clear plan.")
                for select in await page.locator("#review-form select").all():
                    await select.select_option(index=1)
                await page.check("#no-conflict")
                async with page.expect_navigation():
                    await page.locator("button[name=action][value=submit]").click()
                await walker.check()  # a page of its own: the review cannot be changed after
                assert await page.locator("main form input[name=confirm]").count() == 1
                await walker.click("main form button[type=submit]")
                assert await walker.banner()
                await walker.click("main a.button[href='/reviews']")  # what next: back to the other assignment
        finally:
            await context.close()

    walker, context = await window(browser, server_url, lang, width, owner)
    page = walker.page
    try:
        await walker.goto(f"/challenges/{cid}/ranking")
        for proposal_id, to in ((kou_proposal["id"], "shortlisted"), (kou_proposal["id"], "selected"),
                                (otsu_proposal["id"], "not_selected")):
            form = page.locator(f"form[action='/challenges/{cid}/decisions']:has(select)"
                                f":has(input[name=proposal_id][value='{proposal_id}'])")
            await form.locator("select").select_option(to)
            await form.locator("input[name=reason]").fill("総合評価による" if lang == "ja" else "Overall score")
            async with page.expect_navigation():
                await form.locator("button").click()
            await walker.check()
            assert await walker.banner()
        await chart_is_drawn(page)  # the dot plot of each reviewer's total, with its numbers as a table
        assert await page.locator("section[aria-labelledby=spread-heading] tbody tr").count() == 2
        await walker.click(f"a[href='/challenges/{cid}/confirm/decided']")
        await walker.click("main form button[type=submit]")
        assert await walker.banner()
        assert (await Challenge.get(id=cid)).status == "decided"
    finally:
        await context.close()
    await run_worker_once(migrated, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)

    walker, context = await window(browser, server_url, lang, width, kou_member)
    page = walker.page
    try:
        await walker.goto("/notifications")  # the decision reaches the company only now, with a link to read it
        await walker.click(f"a[href='/proposals/{kou_proposal['id']}/feedback']")
        assert await page.locator("main table").count() >= 1
        await chart_is_drawn(page)  # bars per criterion against the average of every proposal
        assert await page.locator("main .notice").count() >= 1  # what happens next, now that it is selected
    finally:
        await context.close()
