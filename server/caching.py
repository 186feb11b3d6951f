"""Conditional GET for what is the same for every visitor: an ETag on the answer, 304 when the client has it.

ASGI middleware, inside the CSRF protection (server/app.py). A GET answered 200 with a body of known length is
marked `Cache-Control: public, no-cache` with a strong ETag (a hash of the body) only when the policy lets the
answer be shared (models.policy.may_share_response: made for the visitor), and only when nothing personal went
into it: no CSRF token was put in a form, no cookie is being set, no language is being remembered. Anything
else made for a signed-in person is marked `private, no-cache`. `no-cache` means a cache must ask again each
time: the ETag answers that question cheaply (304, no body), and a change is never served stale.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.policy import may_share_response

SHARED = "public, no-cache"
PRIVATE = "private, no-cache"
MAX_BODY = 2_000_000  # larger answers (exports) are streamed, and carry their own ETags (server/routes/opendata.py)


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str, etag: str) -> bool:
    wanted = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in wanted or etag in wanted


class ConditionalGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        personal = False  # a CSRF token went into the page (asgi-csrf's, tied to this browser's cookie)
        make_token = scope.get("csrftoken")
        if make_token is not None:
            def token() -> Any:
                nonlocal personal
                personal = True
                return make_token()

            scope = {**scope, "csrftoken": token}
        state = scope.get("state") or {}
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                actor = state.get("actor")
                if actor is None or not may_share_response(actor):
                    if actor is not None and "cache-control" not in headers:
                        headers["cache-control"] = PRIVATE
                    await send(message)
                    return
                length = headers.get("content-length")
                if (message["status"] != 200 or "cache-control" in headers or "set-cookie" in headers
                        or length is None or int(length) > MAX_BODY or state.get("remember_language")):
                    await send(message)
                    return
                start = message  # held until the whole body is here
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            if personal:
                headers["cache-control"] = PRIVATE
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            etag = etag_for(body)
            headers["etag"] = etag
            headers["cache-control"] = SHARED
            if matches(Headers(scope=scope).get("if-none-match", ""), etag):
                del headers["content-length"]
                del headers["content-type"]
                await send({**start, "status": 304})
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
