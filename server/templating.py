"""The one Jinja2 environment for pages and e-mails."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from models.base import translated
from server import i18n
from server.settings import REPO_ROOT

TEMPLATE_DIR = REPO_ROOT / "templates"


def _translated(value: dict | None) -> str:
    return translated(value, i18n.get_locale())


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        get_locale=i18n.get_locale,
        LOCALES=i18n.LOCALES,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
    )
    env.filters.update(
        datetime=i18n.format_datetime,
        yen=i18n.format_yen,
        tr=_translated,
    )
    return env


environment = build_environment()
templates = Jinja2Templates(env=environment)
