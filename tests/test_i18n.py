from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from server import i18n

REPO_ROOT = Path(__file__).resolve().parent.parent


async def test_home_is_japanese_by_default(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="ja">' in response.text
    assert "本文へスキップ" in response.text
    assert response.headers["content-language"] == "ja"


async def test_lang_parameter_switches_to_english_and_is_remembered(client):
    response = await client.get("/?lang=en")
    assert '<html lang="en">' in response.text
    assert "Skip to main content" in response.text
    assert "kyoso_lang=en" in response.headers["set-cookie"]
    again = await client.get("/")  # the client keeps the cookie
    assert '<html lang="en">' in again.text
    back = await client.get("/?lang=ja")
    assert '<html lang="ja">' in back.text


async def test_accept_language_is_honoured(client):
    response = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,ja;q=0.5"})
    assert '<html lang="en">' in response.text
    response = await client.get("/", headers={"Accept-Language": "fr-FR, ja;q=0.3"})
    assert '<html lang="ja">' in response.text


async def test_error_pages_speak_the_users_language(client):
    assert "このページは存在しないか" in (await client.get("/no-such-page")).text
    assert "This page does not exist" in (await client.get("/no-such-page?lang=en")).text


def test_times_are_shown_in_japan_time():
    moment = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # 00:30 on 1 April in Tokyo
    with i18n.using_locale("ja"):
        assert i18n.format_datetime(moment) == "2026年4月1日 0:30 JST"
    with i18n.using_locale("en"):
        assert i18n.format_datetime(moment) == "1 Apr 2026, 00:30 JST"


def test_both_catalogues_translate_every_message_in_the_code():
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    method_map = [
        ("server/**.py", "python"),
        ("models/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern, method in method_map if method == "jinja2"}
    used = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(REPO_ROOT), method_map, options, keywords=keywords)
    }
    assert used
    for locale in i18n.LOCALES:
        with (i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalogue = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(po) if m.id}
        missing = sorted(message for message in used if message not in catalogue or not catalogue[message].string)
        assert not missing, f"{locale} catalogue lacks: {missing}"
