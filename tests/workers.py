"""Running a real arq worker, in burst mode, against the test Redis, inside the test process.

The app fixture has already opened the ORM in this process, so the worker's startup only registers the
outbox consumers (as `server.jobs.startup` does) instead of opening the database a second time.
"""

from __future__ import annotations

from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from server import jobs
from server.settings import Settings


async def _register_consumers(ctx: dict[str, Any]) -> None:
    jobs.register_consumers(ctx["settings"])


async def run_worker_once(settings: Settings) -> None:
    """Queue one outbox drain and run a worker until the queue is empty."""
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    pool = await create_pool(redis_settings)
    await pool.enqueue_job("drain_outbox")
    worker = Worker(
        functions=[jobs.drain_outbox],
        redis_settings=redis_settings,
        burst=True,
        poll_delay=0,
        on_startup=_register_consumers,
        ctx={"settings": settings},
    )
    try:
        await worker.main()
    finally:
        await worker.close()
        await pool.aclose()
