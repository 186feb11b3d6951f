"""Browser tests: Debian's Chromium, driven by Playwright, against a real `kyoso serve` on the test database.

Every page a test visits goes through `check_page`: axe-core (WCAG 2.1 A and AA rules) must find no violation
and the page must not be wider than the window (WCAG 1.4.10, reflow). Playwright's own browser downloads are
not used: `.ci/run` installs the `chromium` package and the tests launch /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from models.identity.accounts import User
from models.identity.sessions import open_session
from server.auth.sessions import SESSION_COOKIE
from server.devrun import free_port, wait_for_port
from tests.helpers import REPO_ROOT

CHROMIUM = Path(os.environ.get("KYOSO_CHROMIUM", "/usr/bin/chromium"))
AXE = REPO_ROOT / "tests" / "services" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"narrow": 390, "wide": 1280}
LANGUAGES = ("ja", "en")
# `make screenshots` sets this: every checked page is also saved there as <lang>-<width>-<path>.png.
SCREENSHOTS = Path(os.environ["KYOSO_SCREENSHOTS"]) if os.environ.get("KYOSO_SCREENSHOTS") else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() and AXE.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"browser tests need {CHROMIUM} (apt-get install chromium) and {AXE} (npm ci)")
    skip = pytest.mark.skip(reason=f"no {CHROMIUM} or {AXE}: `apt-get install chromium` and `make test` install them")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def server_url(migrated, env: dict[str, str], work_dir: Path) -> Iterator[str]:
    """`kyoso serve` in its own process, on the same database, Redis and Meilisearch as the in-process app."""
    port = free_port()
    log = (work_dir / "browser-server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=dict(env, PYTHONPATH=str(REPO_ROOT)), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        await chromium.close()


async def new_context(browser: Browser, server_url: str, *, width: int, lang: str,
                      user: User | None = None) -> BrowserContext:
    """A fresh browser window of the given width, in one language, signed in as `user` if given."""
    context = await browser.new_context(
        viewport={"width": width, "height": 900}, locale={"ja": "ja-JP", "en": "en-GB"}[lang], base_url=server_url,
        bypass_csp=True,  # lets the test inject axe-core; the pages themselves keep their policy
    )
    context.set_default_timeout(30_000)  # a loaded 2-core machine can be slow
    cookies = [{"name": "kyoso_lang", "value": lang, "url": server_url}]
    if user is not None:
        cookies.append({"name": SESSION_COOKIE, "value": await open_session(user), "url": server_url})
    await context.add_cookies(cookies)
    return context


async def check_page(page: Page) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation, and nothing makes the page scroll sideways."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
    ]
    assert not violations, f"{page.url}:\n" + "\n".join(violations)
    sizes = await page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    if sizes["scroll"] > sizes["inner"]:
        widest = await page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(-5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""
        )
        raise AssertionError(f"{page.url} is {sizes['scroll']} px wide in a {sizes['inner']} px window: {widest}")
    if SCREENSHOTS:
        await save_screenshot(page, sizes["inner"])


async def save_screenshot(page: Page, width: int) -> None:
    lang = await page.get_attribute("html", "lang")
    address = page.url.split("://", 1)[1].split("/", 1)[1]
    path, _, query = address.partition("?")
    words = [re.sub(r"\d+", "n", path).strip("/").replace("/", "-") or "home"]
    words += sorted({part.split("=")[0] for part in query.split("&") if part and not part.startswith("lang=")})
    name = f"{lang}-{width}-{'-'.join(words)}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target, again = SCREENSHOTS / f"{name}.png", 1
    while target.exists():  # the same page later in a journey
        again += 1
        target = SCREENSHOTS / f"{name}-{again}.png"
    await page.screenshot(path=str(target), full_page=True)


@pytest.fixture(params=[(lang, width) for lang in LANGUAGES for width in WIDTHS], ids=lambda p: f"{p[0]}-{p[1]}")
def look(request) -> tuple[str, int]:
    """Each (language, width) a journey is walked in: Japanese and English, 390 and 1280 px."""
    lang, width = request.param
    return lang, WIDTHS[width]
