"""What people are told after they act (issue 10), in a real browser, in Japanese and English at 390 and 1280 px:
the error summary lists every error at once and each of its links lands on a field of the page; saving shows a
banner once; cancelling asks on a page of its own, which brings its own error back. axe-core checks every page."""

from __future__ import annotations

from playwright.async_api import Page

from models.identity.orgs import Organisation
from tests.browser.conftest import check_page, new_context
from tests.review_helpers import person


async def summary_targets_exist(page: Page) -> list[str]:
    """The error summary's links, each of which must name an element of this page."""
    links = await page.eval_on_selector_all(".error-summary a", "links => links.map(a => a.getAttribute('href'))")
    assert links, "no error summary"
    for link in links:
        assert link.startswith("#"), link
        assert await page.locator(f"[id='{link[1:]}']").count() == 1, f"{link} leads nowhere on {page.url}"
    return links


async def test_errors_banner_and_confirmation(browser, server_url, app, migrated, look):
    lang, width = look
    owner = await person("drafter", org=await Organisation.get(municipality_code="131083"), locale=lang)
    context = await new_context(browser, server_url, width=width, lang=lang, user=owner)
    page = await context.new_page()
    try:
        await page.goto("/challenges/new")
        await check_page(page)
        assert await page.locator(".required-tag").count() >= 1  # "Required" in words, before anything is sent
        await page.fill("#field-summary_ja", "窓口が混む。")
        await page.fill("#field-budget_min_yen", "500")
        await page.fill("#field-budget_max_yen", "100")
        await page.fill("#field-criterion-0-name_ja", "効果")
        await page.fill("#field-criterion-0-weight", "many")
        await page.fill("#field-criterion-0-levels_ja", "1\n2\n3")
        await page.locator("form[action='/challenges/new'] button[type=submit]").click()
        await page.wait_for_load_state()
        links = await summary_targets_exist(page)
        assert links == ["#field-title", "#field-budget_max_yen", "#field-criterion-0-weight",
                         "#field-criterion-0-levels_ja"], links  # every error at once, in the page's order
        assert await page.input_value("#field-budget_min_yen") == "500"  # what was typed is kept
        await check_page(page)
        await page.locator(".error-summary a").nth(2).click()
        assert page.url.endswith("#field-criterion-0-weight")

        await page.fill("#field-title_ja", "窓口の混雑を減らしたい")
        await page.fill("#field-title_en", "Fewer queues at the counter")
        await page.fill("#field-budget_max_yen", "1000")
        await page.fill("#field-criterion-0-weight", "100")
        await page.fill("#field-criterion-0-levels_ja", "1\n2\n3\n4\n5")
        await page.locator("form[action='/challenges/new'] button[type=submit]").click()
        await page.wait_for_load_state()
        banner = page.locator(".banner[role=status]")
        assert await banner.count() == 1
        assert ("下書きを保存しました" if lang == "ja" else "The draft has been saved") in await banner.inner_text()
        await check_page(page)
        challenge_url = page.url
        await page.reload()
        assert await page.locator(".banner[role=status]").count() == 0  # shown once

        await page.locator(".danger-zone a.button--danger").click()
        await page.wait_for_load_state()
        assert "/confirm/cancelled" in page.url
        await check_page(page)
        await page.locator("main form button[type=submit]").click()  # without the reason it asks for
        await page.wait_for_load_state()
        assert await summary_targets_exist(page) == ["#field-reason"]
        await check_page(page)
        await page.fill("#field-reason", "予算が付かなかったため" if lang == "ja" else "No budget this year")
        await page.locator("main form button[type=submit]").click()
        await page.wait_for_load_state()
        assert page.url.split("?")[0] == challenge_url.split("?")[0]
        assert ("課題を中止しました" if lang == "ja" else "The challenge has been cancelled") in \
            await page.locator(".banner[role=status]").inner_text()
        await check_page(page)
    finally:
        await context.close()


async def test_forgot_password_answers_with_a_banner(browser, server_url, app, migrated, look):
    lang, width = look
    context = await new_context(browser, server_url, width=width, lang=lang)
    page = await context.new_page()
    try:
        await page.goto("/login")
        await page.locator("a[href$='/password/forgot']").click()
        await page.wait_for_load_state()
        await check_page(page)
        await page.locator("main form button[type=submit]").click()  # nothing typed
        await page.wait_for_load_state()
        assert await summary_targets_exist(page) == ["#field-email"]
        await check_page(page)
        await page.fill("#field-email", "nobody-at-all@example.org")
        await page.locator("main form button[type=submit]").click()
        await page.wait_for_load_state()
        assert page.url.split("?")[0].endswith("/login")
        banner = await page.locator(".banner[role=status]").inner_text()
        assert ("メールを確認してください" if lang == "ja" else "Check your e-mail") in banner
        await check_page(page)
    finally:
        await context.close()
