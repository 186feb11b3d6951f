"""The one Jinja2 environment for pages and e-mails."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from starlette.requests import Request

from models.base import translated
from models.policy import VISITOR, Actor
from server import i18n
from server.settings import REPO_ROOT

TEMPLATE_DIR = REPO_ROOT / "templates"


def _translated(value: dict | None) -> str:
    return translated(value, i18n.get_locale())


def current_actor(request: Request) -> Actor:
    # Error pages for unexpected exceptions are rendered outside the middleware that sets the actor.
    return getattr(request.state, "actor", VISITOR)


def csrf_token(request: Request) -> str:
    make_token = request.scope.get("csrftoken")
    return make_token() if make_token else ""


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
        current_actor=current_actor,
        csrf_token=csrf_token,
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
