"""The one Jinja2 environment for pages and e-mails."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import nh3
from jinja2 import Environment, FileSystemLoader, pass_context, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.routing import Match
from starlette.templating import Jinja2Templates

from models.core.base import translated
from models.policy import VISITOR, Actor
from models.policy.identity import navigation
from server import audit_words, flash, i18n, labels
from server.settings import REPO_ROOT

TEMPLATE_DIR = REPO_ROOT / "templates"


def _translated(value: dict | None) -> str:
    return translated(value, i18n.get_locale())


def other_language(value: dict | None) -> Markup:
    """` lang="xx"` when `tr` shows this text in a language other than the page's (WCAG 3.1.2), else nothing:
    `<h1{{ challenge.title | lang_attr }}>{{ challenge.title | tr }}</h1>`."""
    locale = i18n.get_locale()
    if not value or value.get(locale):
        return Markup("")
    shown = next((language for language, text in value.items() if text), None)
    return Markup(f' lang="{shown}"') if shown in i18n.LOCALES else Markup("")


def current_actor(request: Request) -> Actor:
    # Error pages for unexpected exceptions are rendered outside the middleware that sets the actor.
    return getattr(request.state, "actor", VISITOR)


_addresses: dict[tuple, tuple[Any, URL]] = {}  # (router's id, base URL, name, parameters) -> (router, address)


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    """Starlette's `url_for`, each address made once: Starlette tries every route in turn (a miss raises), and a
    page asks for a dozen addresses, which cost more than the rest of its template."""
    request: Request = context["request"]
    router = request.scope.get("router") or request.scope["app"]
    key = (id(router), str(request.base_url), name, tuple(sorted(path_params.items())))
    found = _addresses.get(key)
    if found is None or found[0] is not router:  # another router (a test's app) may have had that id
        if len(_addresses) > 4096:  # the base URL follows the Host header
            _addresses.clear()
        found = _addresses[key] = (router, request.url_for(name, **path_params))
    return found[1]


def csrf_token(request: Request) -> str:
    make_token = request.scope.get("csrftoken")
    return make_token() if make_token else ""


def csrf_field(request: Request) -> Markup:
    """The hidden field every unsafe form carries (checked by asgi-csrf against its cookie). A global rather than
    a macro: a template importing a macro makes the macros' module again at every render."""
    return Markup('<input type="hidden" name="csrftoken" value="{}">').format(csrf_token(request))


# Jinja's "newstyle" gettext (the translation is a format string, filled with escaped values where the template
# escapes), called directly: Jinja's own goes through two more calls per string (`_` → `gettext` → the callable).
@pass_eval_context
def _gettext(eval_context: EvalContext, message: str, /, **variables: Any) -> str:
    text = i18n.gettext(message)
    if not variables and "%" not in text:  # most strings: nothing to fill in (Markup's % escapes, even for none)
        return Markup(text) if eval_context.autoescape else text
    return (Markup(text) if eval_context.autoescape else text) % variables


@pass_eval_context
def _ngettext(eval_context: EvalContext, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    text = i18n.ngettext(singular, plural, num)
    return (Markup(text) if eval_context.autoescape else text) % variables


def _answers_get(request: Request, path: str) -> bool:
    """Whether some page route takes GET at this path (a form's POST address often does not)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "query_string": b"", "headers": []}
    routes = getattr(getattr(request.scope.get("app"), "router", None), "routes", [])
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def page_address(request: Request, **replace: str) -> str:
    """The address of the page the person is reading, as a link that GET can follow: its path and query (filters,
    sort, page) with `replace`d parameters. A page shown in answer to a POST (a form again, with its errors) links
    to the same path when it takes GET, else to the page the form was on (the Referer, same site only), else home.
    Used by the language switch and the feedback link."""
    path, query = request.url.path, list(request.query_params.multi_items())
    if request.method not in ("GET", "HEAD") and not _answers_get(request, path):
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc in ("", request.url.netloc) and referer.path.startswith("/")
        if same_site and referer.path and _answers_get(request, referer.path):
            path = referer.path
            query = parse_qsl(referer.query, keep_blank_values=True)
        else:
            path, query = "/", []
    pairs = [(key, value) for key, value in query if key not in replace] + list(replace.items())
    return f"{path}?{urlencode(pairs)}" if pairs else path


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@lru_cache(maxsize=1024)
def render_markdown(text: str | None) -> Markup:
    """Markdown written by people, rendered safely: raw HTML off, then sanitised (a pure function of the text: the
    same texts are shown again and again)."""
    return Markup(nh3.clean(_markdown.render(text or ""), link_rel="noopener noreferrer nofollow"))


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
        _=_gettext,
        gettext=_gettext,
        ngettext=_ngettext,
        csrf_field=csrf_field,
        url_for=url_for,
        get_locale=i18n.get_locale,
        current_actor=current_actor,
        navigation=navigation,
        csrf_token=csrf_token,
        page_address=page_address,
        status_name=labels.status_name,
        action_name=labels.action_name,
        proposal_status_name=labels.proposal_status_name,
        proposal_action_name=labels.proposal_action_name,
        assignment_status_name=labels.assignment_status_name,
        decision_name=labels.decision_name,
        role_name=labels.role_name,
        pilot_label=labels.pilot_label,
        flash_banner=flash.banner,
        audit_sentence=audit_words.sentence,
        audit_changes=audit_words.changes,
        solution_label=labels.solution_label,
        LOCALES=i18n.LOCALES,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
    )
    env.filters.update(
        datetime=i18n.format_datetime,
        yen=i18n.format_yen,
        unit=labels.unit_name,
        tr=_translated,
        lang_attr=other_language,
        markdown=render_markdown,
    )
    return env


environment = build_environment()
templates = Jinja2Templates(env=environment)
