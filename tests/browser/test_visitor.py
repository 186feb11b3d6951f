"""A visitor finds a challenge: home, search, filter, open it, then the footer's pages — in Japanese and English,
at 390 and 1280 px."""

from __future__ import annotations

import secrets

import httpx2
import pytest

from models.identity.orgs import Organisation
from server import jobs
from tests.browser.conftest import check_page, new_context
from tests.review_helpers import headers, open_challenge, person
from tests.workers import run_worker_once

WORD = "kiosk" + secrets.token_hex(3)  # one word only this run's challenges carry


@pytest.fixture(scope="module")
async def published(app, migrated):
    """Two open challenges carrying WORD, indexed in Meilisearch; the second has an English-only title."""
    agency = await Organisation.get(municipality_code="131041")
    owner = await headers(await person("owner", org=agency))
    operator = await headers(await person("operator", operator=True))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
        first = await open_challenge(client, owner, operator, title={
            "ja": f"窓口の待ち時間を短くしたい {WORD}", "en": f"Shorter waiting times at the counter {WORD}"})
        second = await open_challenge(client, owner, operator, category="environment", title={
            "en": f"Cooler bus stops in summer {WORD}"})
    await run_worker_once(migrated, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)
    return [first, second]


async def test_a_visitor_searches_filters_and_opens_a_challenge(browser, server_url, published, look):
    lang, width = look
    context = await new_context(browser, server_url, width=width, lang=lang)
    page = await context.new_page()
    try:
        await page.goto("/")
        assert await page.get_attribute("html", "lang") == lang
        await check_page(page)

        await page.goto("/challenges")
        await check_page(page)
        await page.fill("#field-q", WORD)
        await page.locator("form[role=search] button[type=submit]").first.click()
        await page.wait_for_load_state()
        results = page.locator("#results-heading ~ ol a[href^='/challenges/']")
        assert await results.count() == 2
        await check_page(page)

        await page.locator("input[name=category][value=environment]").check()
        await page.locator("form[role=search] button[type=submit]").last.click()
        await page.wait_for_load_state()
        assert "category=environment" in page.url
        assert await results.count() == 1
        assert await page.get_attribute("#results-heading ~ ol h3", "lang") == ("en" if lang == "ja" else None)
        await check_page(page)

        await results.first.click()
        await page.wait_for_load_state()
        assert page.url.endswith(f"/challenges/{published[1]['id']}")
        # The English-only title is marked as English on a Japanese page (WCAG 3.1.2), and only there.
        assert await page.get_attribute("h1", "lang") == ("en" if lang == "ja" else None)
        await check_page(page)

        for about in ("accessibility", "terms", "privacy", "contact"):  # the footer's links, on every page
            await page.locator(f"footer a[href$='/about/{about}']").click()
            await page.wait_for_load_state()
            assert page.url.endswith(f"/about/{about}")
            await check_page(page)
    finally:
        await context.close()
