"""Request body limits, as plain ASGI in front of everything else.

A declared Content-Length over the limit is answered 413 before anything reads the body; a body sent
without one (chunked) is cut off, with the same 413, as soon as it passes the limit. So no middleware
(the CSRF check reads whole forms) and no route ever holds more than the limit in memory.
"""

from __future__ import annotations

import logging
import re
from html import escape

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import i18n
from server.auth.security import SecurityHeaders
from server.i18n import gettext as _
from server.middleware import LANG_COOKIE
from server.problems import problem

log = logging.getLogger("kyoso.limits")

# Attachment uploads (page and API) may carry a file of max_upload_bytes: a challenge's attachments, and a
# milestone's evidence (the page's milestone form, the API's evidence upload).
UPLOAD_PATH = re.compile(r"^((/api/v1)?/challenges/\d+/attachments|/milestones/\d+/transitions|/api/v1/milestones/\d+/evidence)$")
# Room for the multipart envelope (boundary, part headers, the CSRF field) around the largest file; a file
# just over the size still reaches the upload's own message ("The file is larger than 20 MB.").
UPLOAD_ENVELOPE = 64 * 1024
MEGABYTE = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit; caught by BodyLimit alone."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int, dev: bool) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.dev = dev

    def limit_for(self, path: str) -> int:
        return self.max_upload + UPLOAD_ENVELOPE if UPLOAD_PATH.match(path) else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self.refuse(scope, receive, send, limit)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if received > limit:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:  # the app answered before reading all of the body: nothing more can be said
                log.warning("%s: the body passed %d bytes after the response had started", scope["path"], limit)
                return
            await self.refuse(scope, receive, send, limit)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """413, as problem details for the API and a short page otherwise, with the security headers.
        `Connection: close` tells the server not to read the rest of the body."""
        response = self.response(scope, limit)
        response.headers["connection"] = "close"
        await SecurityHeaders(response, dev=self.dev)(scope, receive, send)

    def response(self, scope: Scope, limit: int) -> Response:
        size = f"{max(1, round(limit / MEGABYTE))} MB"
        if scope["path"].startswith("/api/"):
            return problem(413, f"The request body is larger than the {size} accepted here.")
        headers = Headers(scope=scope)
        cookie_lang = cookie_parser(headers.get("cookie", "")).get(LANG_COOKIE)
        locale = i18n.negotiate(cookie_lang, accept_language=headers.get("accept-language", ""))
        with i18n.using_locale(locale):
            message = _("What you sent is too large: at most %(size)s can be sent here.", size=size)
            back = _("Back to the home page")
        page = (
            f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8"><title>413</title></head>'
            f'<body><h1>{escape(message)}</h1><p><a href="/">{escape(back)}</a></p></body></html>'
        )
        return HTMLResponse(page, status_code=413)
