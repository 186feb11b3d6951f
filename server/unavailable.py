"""The database is away (restarting, failing over): a plain 503 to try again, not a 500 and a dropped
connection. Plain ASGI around the app, inside the security headers; the process itself keeps running and its
connection pool reconnects by itself once the database is back (`/readyz` says 503 until then)."""

from __future__ import annotations

import logging
from html import escape

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.database import is_database_unavailable
from server import i18n
from server.i18n import gettext as _
from server.middleware import LANG_COOKIE
from server.problems import problem

log = logging.getLogger("kyoso.unavailable")

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            if started or not is_database_unavailable(exc):
                raise
            log.warning("%s %s: the database is unavailable: %s: %s", scope.get("method"), scope["path"],
                        type(exc).__name__, exc)
            await response(scope)(scope, receive, send)


def response(scope: Scope) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if scope["path"].startswith("/api/"):
        return problem(503, "The database cannot be reached right now; try again in a few seconds.", headers=headers)
    request_headers = Headers(scope=scope)
    cookie_lang = cookie_parser(request_headers.get("cookie", "")).get(LANG_COOKIE)
    locale = i18n.negotiate(cookie_lang, accept_language=request_headers.get("accept-language", ""))
    with i18n.using_locale(locale):
        message = _("Kyoso cannot reach its database right now. Nothing you sent was saved; please try again in a moment.")
        back = _("Back to the home page")
    page = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8"><title>503</title></head>'
        f'<body><h1>{escape(message)}</h1><p><a href="/">{escape(back)}</a></p></body></html>'
    )
    return HTMLResponse(page, status_code=503, headers=headers)
