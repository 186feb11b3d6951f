"""The front door and "my tasks" in a real browser, on the demo's world (`kyoso seed-demo`), in Japanese and
English at 390 and 1280 px: a visitor searches from the home page and opens a challenge closing soon; each kind
of signed-in person lands on their tasks and opens one; the language switch keeps the page and its query.
axe-core and the reflow check run on every page (check_page)."""

from __future__ import annotations

import pytest

from models.identity.accounts import User
from models.seed.demo import seed_demo
from tests.browser.conftest import check_page, new_context
from tests.pilot_helpers import drain_backlog

ROLES = {  # the demo's people, and what their tasks page must offer
    "tokyo@demo.kyoso.jp": "agency",
    "machitech@demo.kyoso.jp": "company",
    "reviewer@demo.kyoso.jp": "reviewer",
    "operator@demo.kyoso.jp": "operator",
}
SEARCH_WORD = {"ja": "防災", "en": "disaster"}


@pytest.fixture
async def demo(app, migrated) -> dict[str, User]:
    await seed_demo()  # idempotent: the world is made once per database
    await drain_backlog(migrated, topics=("search",))  # the real worker puts the demo's challenges in the index
    return {user.email: user for user in await User.filter(email__in=list(ROLES))}


async def test_a_visitor_searches_from_the_home_page(browser, server_url, demo, look):
    lang, width = look
    context = await new_context(browser, server_url, width=width, lang=lang)
    page = await context.new_page()
    try:
        assert (await page.goto("/")).ok
        await check_page(page)
        assert await page.locator("#figures-heading").count() == 1
        for chart in ("per_category", "per_municipality"):  # counts by category and municipality: SVG and table
            section = page.locator(f"section[aria-labelledby=home-chart-{chart}]")
            assert await section.locator("figure svg").count() == 1
            assert await section.locator("details tbody tr").count() >= 2
        closing = page.locator("section[aria-labelledby=closing-heading] h3 a")
        assert await closing.count() >= 3
        await page.get_by_role("searchbox").fill(SEARCH_WORD[lang])
        await page.locator(".home-search button").click()
        await page.wait_for_url("**/challenges?q=*")
        await check_page(page)
        assert await page.locator("#results-heading").count() == 1
        assert await page.locator("ol.challenge-list > li").count() >= 2  # the demo's disaster-prevention challenges

        other = "en" if lang == "ja" else "ja"
        await page.locator(f".language-switch a[hreflang={other}]").click()
        await page.wait_for_load_state()
        assert "q=" in page.url and f"lang={other}" in page.url  # the same search, in the other language
        assert await page.get_attribute("html", "lang") == other

        await page.locator(".page-feedback a").click()  # "report a problem with this page"
        await page.wait_for_url("**/about/contact?page=*")
        await check_page(page)
        assert await page.locator("main code").inner_text() == "/challenges"

        await page.goto("/")
        first = closing.first
        title = (await first.inner_text()).strip()
        await first.click()
        await page.wait_for_load_state()
        await check_page(page)
        assert title in await page.locator("h1").inner_text()
    finally:
        await context.close()


@pytest.mark.parametrize("email", list(ROLES))
async def test_each_role_finds_its_tasks(browser, server_url, demo, look, email):
    lang, width = look
    context = await new_context(browser, server_url, width=width, lang=lang, user=demo[email])
    page = await context.new_page()
    try:
        assert (await page.goto("/")).ok
        await check_page(page)  # the home page names the person's tasks
        await page.locator("section[aria-labelledby=tasks-heading] a").first.click()
        await page.wait_for_url("**/tasks")
        await check_page(page)
        section = page.locator(f"section[aria-labelledby=tasks-{ROLES[email]}]")
        tasks = section.locator(".task-list > li")
        assert await tasks.count() >= 1, f"{email} has nothing to do in the demo"
        await tasks.first.locator("a").click()
        await page.wait_for_load_state()
        assert "/tasks" not in page.url
        await check_page(page)
    finally:
        await context.close()
