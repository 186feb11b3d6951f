"""Running a real arq worker, in burst mode, against the test Redis, inside the test process.

The app fixture has already opened the ORM in this process, so the worker's startup only registers the
outbox consumers (as `server.jobs.startup` does) instead of opening the database a second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from server import jobs
from server.settings import Settings


async def _register_consumers(ctx: dict[str, Any]) -> None:
    jobs.register_consumers(ctx["settings"])


async def run_worker_once(
    settings: Settings,
    *,
    job: str = "drain_outbox",
    on_startup: Callable[[dict[str, Any]], Awaitable[None]] | None = _register_consumers,
    on_shutdown: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> None:
    """Queue one job (an outbox drain unless told otherwise) and run a worker until the queue is empty."""
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    pool = await create_pool(redis_settings)
    await pool.enqueue_job(job)
    worker = Worker(
        functions=[getattr(jobs, job)],
        redis_settings=redis_settings,
        burst=True,
        poll_delay=0,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        ctx={"settings": settings},
    )
    try:
        await worker.main()
    finally:
        await worker.close()
        await pool.aclose()
