"""Liveness and readiness, for load balancers and operators."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from models.database import database_up

CHECK_TIMEOUT = 3.0


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _check(probe) -> str:
    try:
        return "up" if await asyncio.wait_for(probe(), CHECK_TIMEOUT) else "down"
    except Exception:
        return "down"


async def readyz(request: Request) -> JSONResponse:
    services = request.app.state.services
    checks = {
        "database": await _check(database_up),
        "redis": await _check(services.redis_up),
        "search": await _check(services.search.is_healthy),
    }
    # Without the database nothing works; Redis and search degrade gracefully, so they only inform.
    status = 503 if checks["database"] != "up" else 200
    body = {"status": "ready" if status == 200 else "unavailable", "checks": checks, "search_backend": services.search.name}
    return JSONResponse(body, status_code=status)


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
