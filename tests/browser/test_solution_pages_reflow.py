"""The solution catalogue in a browser, in Japanese and English, at 390 and 1280 px: a visitor searches the
catalogue, opens a solution (who uses it, its results and costs), and an agency member opens the adoption
form and records "we use this too". axe-core finds nothing and nothing scrolls sideways."""

from __future__ import annotations

import pytest

from models.identity.accounts import Role
from models.solutions.models import Adoption
from server import jobs
from tests.browser.conftest import check_page, new_context
from tests.review_helpers import person
from tests.solution_helpers import published_solution_world
from tests.workers import run_worker_once


class _People:
    """What tests/solution_helpers needs of the `people` fixture, for a module-scoped world."""

    async def make(self, *, org=None, role: Role | None = None, reviewer: bool = False, operator: bool = False):
        return await person("solution", org=org, role=role or Role.MEMBER, reviewer=reviewer, operator=operator)


@pytest.fixture(scope="module")
async def solution(app, migrated):
    world = await published_solution_world(_People())
    await run_worker_once(migrated, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)
    return world


async def test_a_visitor_finds_a_solution_and_an_agency_adopts_it(browser, server_url, solution, look):
    lang, width = look
    await Adoption.filter(solution_id=solution.solution_id).delete()  # each look adopts anew
    context = await new_context(browser, server_url, width=width, lang=lang)
    page = await context.new_page()
    try:
        await page.goto("/solutions")
        await check_page(page)
        await page.fill("#field-q", "窓口予約" if lang == "ja" else "Counter booking")
        await page.locator("form[role=search] button[type=submit]").first.click()
        await page.wait_for_load_state()
        link = page.locator(f"#results-heading ~ ol a[href='/solutions/{solution.solution_id}']")
        assert await link.count() == 1
        await check_page(page)
        await link.click()
        await page.wait_for_load_state()
        assert "1" in (await page.locator("p.lead strong").inner_text())  # used by the agency that ran the pilot
        await check_page(page)
    finally:
        await context.close()
    context = await new_context(browser, server_url, width=width, lang=lang, user=solution.users["adopter0"])
    page = await context.new_page()
    try:
        await page.goto(f"/solutions/{solution.solution_id}/adopt")
        await check_page(page)
        await page.locator("#adopt-status-contracted").check()
        await page.fill("#adopt-scale", "30000")
        await page.locator("main form button[type=submit]").click()
        await page.wait_for_load_state()
        assert page.url.endswith(f"/solutions/{solution.solution_id}")
        banner = "導入を登録しました。" if lang == "ja" else "Your agency's adoption has been recorded."
        assert banner in await page.locator("main [role=status]").first.inner_text()
        await check_page(page)
    finally:
        await context.close()
