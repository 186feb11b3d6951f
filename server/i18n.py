"""Languages: Japanese first, English too.

Message ids are English; `server/locale/<lang>/LC_MESSAGES/messages.po` holds both catalogues, compiled
to .mo by the set-up (`kyoso compile-messages`), never committed. The current language lives in a
context variable set per request (or per job/e-mail), so `gettext` works anywhere in server/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
TOKYO = ZoneInfo("Asia/Tokyo")
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}

_current_locale: ContextVar[str] = ContextVar("kyoso_locale", default=DEFAULT_LOCALE)


def compile_catalogues() -> list[Path]:
    """Compile every .po to .mo (idempotent); the set-up and the test run call this."""
    written = []
    for po_path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    _translations.cache_clear()
    return written


@cache
def _translations(locale: str) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [locale], domain=DOMAIN)


def negotiate(*candidates: str | None, accept_language: str = "") -> str:
    """The first supported language among explicit choices, then the Accept-Language header."""
    for candidate in candidates:
        if candidate in LOCALES:
            return candidate
    weighted = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.split("-")[0].lower()
        if primary in LOCALES and quality > 0:
            weighted.append((quality, primary))
    if weighted:
        return max(weighted, key=lambda item: item[0])[1]
    return DEFAULT_LOCALE


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def using_locale(locale: str) -> Iterator[None]:
    """For code outside a request (a job rendering an e-mail in its recipient's language)."""
    token = _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str, **variables: object) -> str:
    text = _translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = _translations(get_locale()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def to_tokyo(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO)


@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale)  # babel parses a locale's name again at every call given the name


def format_datetime(moment: datetime | None, style: str = "medium") -> str:
    """A moment in Japan time, in the reader's language, naming the zone."""
    if moment is None:
        return ""
    pattern = {"ja": "yyyy年M月d日 H:mm", "en": "d MMM yyyy, HH:mm"}[get_locale()]
    if style == "date":
        pattern = {"ja": "yyyy年M月d日", "en": "d MMM yyyy"}[get_locale()]
        return babel_format_datetime(to_tokyo(moment), pattern, locale=_babel_locale(get_locale()))
    text = babel_format_datetime(to_tokyo(moment), pattern, tzinfo=TOKYO, locale=_babel_locale(get_locale()))
    return f"{text} JST"


def format_yen(amount: int | None) -> str:
    if amount is None:
        return ""
    number = format_decimal(amount, locale=_babel_locale(get_locale()))
    return f"{number}円" if get_locale() == "ja" else f"¥{number}"
