"""Conditional GET for what is the same for every visitor: an ETag on the answer, 304 when the client has it.

ASGI middleware, inside the CSRF protection (server/app.py). A GET answered 200 with a body of known length is
marked `Cache-Control: public, no-cache` with a strong ETag (a hash of the body) only when the policy lets the
answer be shared (models.policy.may_share_response: made for the visitor), and only when nothing personal went
into it: no CSRF token was put in a form, no cookie is being set, no language is being remembered. Anything
else made for a signed-in person is marked `private, no-cache`. `no-cache` means a cache must ask again each
time: the ETag answers that question cheaply (304, no body), and a change is never served stale.

The shared answers are also kept here, rendered, for `keep_seconds` (PAGE_CACHE_SECONDS), keyed by path, query
and language, and served again to visitors without running the route (no query, no template). Each is kept
with the pages' version (a counter in Redis) read before it was made, and served only while that version is
current. The version moves on whenever something may have changed what visitors see: a request that was not
a GET or wrote outbox messages (and this process drops its kept answers at once), and a worker's outbox drain
that handled messages (index updates, publications: `pages_changed`). Without Redis, or while it is
unreachable, nothing is served from here. Only the visitor is ever served from here, and only what the rules
above let be shared is ever kept.

Signed-in people are served their own page, made for them, each time; but the parts of it that are the same for
every reader (public rows: a search's results, a challenge's similar challenges and solutions; rendered parts: the
search form with its results, a public challenge's heading, text and what is beside it) are kept under the same
rule, by `shared()` (the route says what is public; nothing personal is ever passed to it).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from redis.exceptions import RedisError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.core import outbox
from models.policy import may_share_response

log = logging.getLogger("kyoso.pages")
SHARED = "public, no-cache"
PRIVATE = "private, no-cache"
MAX_BODY = 2_000_000  # larger answers (exports) are streamed, and carry their own ETags (server/routes/opendata.py)
KEPT_BODY = 512 * 1024  # larger shared answers are not kept
KEPT_ANSWERS = 256  # at most this many kept, the least recently used dropped first (≤ 128 MiB)
KEPT_VALUES = 1024  # shared parts of pages (`shared()`), the least recently used dropped first
T = TypeVar("T")


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(if_none_match: str, etag: str) -> bool:
    wanted = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in wanted or etag in wanted


Key = tuple[str, bytes, str]  # path, query string, language
VERSION_KEY = "kyoso:pages:version"


async def pages_changed(redis: Any) -> None:
    """Tell every web process that what visitors see may have changed (their kept answers are not served again)."""
    if redis is None:
        return
    try:
        await redis.incr(VERSION_KEY)
    except (ConnectionError, OSError, TimeoutError, RedisError) as exc:
        log.warning("pages: could not move the pages' version on (kept pages expire within seconds): %s", exc)


async def _version(redis: Any) -> bytes | None:
    try:
        return (await redis.get(VERSION_KEY)) or b"0"
    except (ConnectionError, OSError, TimeoutError, RedisError):
        return None


class PageCache:
    """The rendered answers kept for visitors in this process (app.state.page_cache)."""

    def __init__(self, keep_seconds: float = 0.0) -> None:
        self.keep_seconds = keep_seconds
        self.kept: OrderedDict[Key, tuple[float, bytes, list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self.values: OrderedDict[Hashable, tuple[float, bytes, Any]] = OrderedDict()
        self.making: dict[tuple[Hashable, bytes], asyncio.Future] = {}  # shared() values being made now

    def get(self, key: Key, version: bytes) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        kept = self.kept.get(key)
        if kept is None or kept[1] != version or time.monotonic() - kept[0] >= self.keep_seconds:
            return None
        self.kept.move_to_end(key)
        return kept[2], kept[3]

    def put(self, key: Key, version: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if not self.keep_seconds or len(body) > KEPT_BODY:
            return
        self.kept[key] = (time.monotonic(), version, headers, body)
        self.kept.move_to_end(key)
        while len(self.kept) > KEPT_ANSWERS:
            self.kept.popitem(last=False)

    def forget(self) -> None:
        self.kept.clear()
        self.values.clear()


class _Reading:
    """What `shared()` needs of the GET request being answered: this process's cache and the pages' version,
    read from Redis once, at the first use (before anything it keeps is made)."""

    def __init__(self, cache: PageCache, redis: Any, version: bytes | None) -> None:
        self.cache, self.redis, self._version = cache, redis, version

    async def version(self) -> bytes | None:
        if self._version is None:
            self._version = await _version(self.redis)
        return self._version


_reading: ContextVar[_Reading | None] = ContextVar("kyoso_page_reading", default=None)


async def shared(key: Hashable, make: Callable[[], Awaitable[T]], public: bool = True) -> T:
    """`await make()`, kept in this process for whoever reads a page next, under the kept pages' rule: at most
    PAGE_CACHE_SECONDS, and only while the pages' version is the one read before it was made. Only for what is
    the same for every reader (public rows, made without the actor); outside a GET, without Redis or with the
    cache off, made each time; and when not `public` (a draft's rows: the same for everyone who may see it, but
    kept for none). Never change what it returns: other requests hold it too."""
    reading = _reading.get()
    if not public or reading is None or not reading.cache.keep_seconds or reading.redis is None:
        return await make()
    version = await reading.version()
    if version is None:
        return await make()
    cache = reading.cache
    kept = cache.values.get(key)
    if kept is not None and kept[1] == version and time.monotonic() - kept[0] < cache.keep_seconds:
        cache.values.move_to_end(key)
        return kept[2]
    # Requests that find it missing at the same moment (each time it expires, every connection at once) wait for
    # the one making it, for this same version, rather than each making it again.
    making = cache.making.get((key, version))
    if making is None:
        making = asyncio.ensure_future(_make_and_keep(cache, key, version, make))
        cache.making[(key, version)] = making
        making.add_done_callback(lambda _: cache.making.pop((key, version), None))
    return await asyncio.shield(making)


async def _make_and_keep(cache: PageCache, key: Hashable, version: bytes, make: Callable[[], Awaitable[T]]) -> T:
    value = await make()
    values = cache.values
    values[key] = (time.monotonic(), version, value)
    values.move_to_end(key)
    while len(values) > KEPT_VALUES:
        values.popitem(last=False)
    return value


class ConditionalGet:
    def __init__(self, app: ASGIApp, cache: PageCache | None = None) -> None:
        self.app = app
        self.cache = cache or PageCache()

    def forget(self) -> None:
        self.cache.forget()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        services = getattr(scope["app"].state, "services", None)
        redis = getattr(services, "redis", None)
        if scope["method"] != "GET":
            try:
                await self.app(scope, receive, send)
            finally:
                if self.cache.keep_seconds:  # it may have changed what visitors see
                    self.forget()
                    await pages_changed(redis)
            return
        state = scope.get("state") or {}
        actor = state.get("actor")
        key = (scope["path"], scope.get("query_string", b""), str(state.get("locale")))
        version = None
        if (self.cache.keep_seconds and redis is not None and actor is not None and may_share_response(actor)
                and not state.get("remember_language") and not state.get("flashed")):
            version = await _version(redis)
            kept = self.cache.get(key, version) if version is not None else None
            if kept is not None:
                await self._replay(scope, send, *kept)
                return
        reading = _reading.set(_Reading(self.cache, redis, version))
        try:
            with outbox.noting_writes() as written:
                await self._answer(scope, receive, send, key, version)
        finally:
            _reading.reset(reading)
        if written and self.cache.keep_seconds:
            self.forget()
            await pages_changed(redis)

    async def _replay(self, scope: Scope, send: Send, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        etag = dict(headers).get(b"etag", b"").decode()
        if matches(Headers(scope=scope).get("if-none-match", ""), etag):
            kept = [(name, value) for name, value in headers if name not in (b"content-length", b"content-type")]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive, send: Send, key: Key, version: bytes | None) -> None:
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
            if version is not None:
                self.cache.put(key, version, list(start["headers"]), body)
            if matches(Headers(scope=scope).get("if-none-match", ""), etag):
                del headers["content-length"]
                del headers["content-type"]
                await send({**start, "status": 304})
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
