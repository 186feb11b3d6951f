"""The web application: `create_app()` wires routes, middleware and the services the lifespan opens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from models.database import tortoise_config
from models.pilots import review_subject as pilot_review_subject  # noqa: F401  (registers the "pilot" review kind)
from search.backend import SearchBackend, SearchUnavailable, open_backend
from server import i18n, templating
from server.api import api, openapi_document
from server.auth.ratelimit import Limiter
from server.auth.security import protect, security_headers, with_security_headers
from server.caching import ConditionalGet, PageCache
from server.jobs import WakeWorker
from server.limits import BodyLimit
from server.middleware import RequestContextMiddleware
from server.problems import EXCEPTION_HANDLERS, handle_server_error
from server.routes import page_routes
from server.settings import Settings, get_settings
from server.unavailable import DatabaseUnavailable

log = logging.getLogger("kyoso")
STATIC_DIR = Path(__file__).parent / "static"
SEARCH_PREPARE_TIMEOUT = 10.0


@dataclass
class Services:
    settings: Settings
    redis: Redis | None
    search: SearchBackend
    limiter: Limiter

    async def redis_up(self) -> bool:
        return bool(self.redis and await self.redis.ping())


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    i18n.compile_catalogues()
    templating.environment.auto_reload = settings.is_dev  # in production each template is read once, not checked per use

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
            search = open_backend(settings.meili_url, settings.meili_master_key)
            try:
                await asyncio.wait_for(search.prepare(wait=True), SEARCH_PREPARE_TIMEOUT)  # idempotent
            except (SearchUnavailable, TimeoutError) as exc:
                # Search answers from the database meanwhile; the settings are applied before first use.
                log.warning("search: %s is unavailable at start: %s", search.name, exc)
            app.state.services = Services(
                settings=settings, redis=redis, search=search, limiter=Limiter(settings.redis_url)
            )
            try:
                yield
            finally:
                await search.close()
                if redis is not None:
                    await redis.aclose()

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(openapi_document(api, settings.base_url))

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette answers an unexpected error outside every middleware: the headers are added here.
        response = await handle_server_error(request, exc)
        response.headers.update(security_headers(settings.is_dev).headers)
        return response

    routes = [  # the API first: its paths all start with /api/v1/, and each request is matched in this order
        Route("/api/v1/openapi.json", openapi, name="openapi"),
        *api.routes(),
        *page_routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    page_cache = PageCache(settings.page_cache_seconds)
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=[
            Middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes, dev=settings.is_dev),
            Middleware(with_security_headers, dev=settings.is_dev),
            Middleware(DatabaseUnavailable),  # a 503 to try again while the database is away, not a 500
            Middleware(RequestContextMiddleware),
            Middleware(protect, secret_key=settings.secret_key, dev=settings.is_dev),
            # ETag and 304 for what is the same for every visitor, and their rendered pages kept a moment; inside
            # the CSRF check (it sees whether a form token went into a page) and outside WakeWorker
            Middleware(ConditionalGet, cache=page_cache),
            Middleware(WakeWorker),  # outbox messages committed: a drain now, not at the next periodic one
        ],
        exception_handlers={**EXCEPTION_HANDLERS, Exception: server_error},  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.page_cache = page_cache
    return app
