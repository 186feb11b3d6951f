"""Background jobs on arq: WorkerSettings and thin job functions calling models/ and search/.

Jobs take ids, not objects, and do nothing when their work is already done (arq delivers at least once).
Keep arq-specific code in this module so the queue can be replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import signal
from datetime import date, datetime
from typing import Any

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job, JobStatus
from arq.worker import Worker, create_worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise import Tortoise

from models.challenges import follows
from models.challenges import lifecycle as challenge_lifecycle
from models.core import outbox
from models.database import tortoise_config
from models.insights import catalogue as open_catalogue
from models.insights import figures as insight_figures
from models.partners import placements as partner_placements
from models.partners import profiles as partner_profiles
from models.pilots import review_subject as pilot_review_subject  # noqa: F401  (registers the "pilot" review kind)
from models.review import reminders
from models.review import workflow as review_workflow
from search import partners as partner_search
from search import solutions as solution_search
from search import sync as search_sync
from search.backend import SearchUnavailable, open_backend
from server import mail, pilot_jobs, solution_jobs
from server.caching import pages_changed
from server.pilot_jobs import end_due_pilots, send_milestone_reminders  # noqa: F401  (jobs are found by name here)
from server.settings import Settings, get_settings

log = logging.getLogger("kyoso.jobs")

# Topic -> consumer. The search and mail issues register theirs here.
OUTBOX_CONSUMERS: dict[str, outbox.Consumer] = {follows.TOPIC: follows.consume}  # "notify": saved searches
OUTBOX_CONSUMERS[review_workflow.TOPIC] = review_workflow.consume  # "review": assignment after closing, recusals
OUTBOX_CONSUMERS[partner_profiles.TOPIC] = partner_profiles.consume  # "partners": erasing withdrawn partners' data
OUTBOX_CONSUMERS.update(solution_jobs.CONSUMERS)  # "pilot_adopted": drafting the adopted pilot's solution


def register_consumers(settings: Settings) -> None:
    """Consumers that need settings. Without SMTP_URL, mail is not consumed: it stays queued in the outbox."""
    outbox.configure(settings.outbox_lease_seconds)
    if mail.configure(settings):
        OUTBOX_CONSUMERS[mail.TOPIC] = mail.send_mail_message
    else:
        OUTBOX_CONSUMERS.pop(mail.TOPIC, None)


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    register_consumers(settings)
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    await start_search(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await stop_search(ctx)
    await Tortoise.close_connections()


async def start_search(ctx: dict[str, Any]) -> None:
    """Open the search backend for the "search" outbox consumer (no fallback: a write must fail while
    Meilisearch is down, so the outbox retries it). Without MEILI_URL the consumer just marks messages done."""
    settings: Settings = ctx.get("settings") or get_settings()
    backend = open_backend(settings.meili_url, settings.meili_master_key, fallback=False)
    ctx["search"] = backend
    try:
        await backend.prepare()
    except SearchUnavailable as exc:
        log.warning("search: could not apply the index settings now (retried at the next start): %s", exc)
    OUTBOX_CONSUMERS[search_sync.TOPIC] = search_sync.consumer(backend)
    partners = partner_search.open_partner_backend(settings.meili_url, settings.meili_master_key, fallback=False)
    ctx["partner_search"] = partners
    OUTBOX_CONSUMERS[partner_search.TOPIC] = partner_search.consumer(partners)
    solutions = solution_search.open_solution_backend(settings.meili_url, settings.meili_master_key, fallback=False)
    ctx["solution_search"] = solutions
    OUTBOX_CONSUMERS[solution_search.TOPIC] = solution_search.consumer(solutions)


async def stop_search(ctx: dict[str, Any]) -> None:
    OUTBOX_CONSUMERS.pop(search_sync.TOPIC, None)
    OUTBOX_CONSUMERS.pop(partner_search.TOPIC, None)
    OUTBOX_CONSUMERS.pop(solution_search.TOPIC, None)
    for name in ("search", "partner_search", "solution_search"):
        backend = ctx.pop(name, None)
        if backend is not None:
            await backend.close()


async def drain_outbox(ctx: dict[str, Any]) -> int:
    processed = await outbox.drain(OUTBOX_CONSUMERS)
    if processed:
        log.info("outbox: %d message(s) processed", processed)
        await pages_changed(ctx.get("redis"))  # the index (or what a page shows) changed: kept pages are stale
    return processed


# --- waking a drain as soon as outbox messages are committed -------------------------------------------
# A drain queued under one well-known job id: arq refuses a second job with an id already queued, so the
# wake-ups of many commits made while it waits become that one drain, which sees them all. A drain already
# running may have looked before the commit, so the wake-up then queues one more behind it (a second id, then
# any). A lost wake-up loses nothing: the periodic drain (SAFETY_NET_SECONDS) still finds the messages.
WAKE_JOB_IDS = ("drain_outbox:wake", "drain_outbox:wake-next")


async def wake(redis: ArqRedis) -> None:
    """Queue a drain that will start after now (called once the outbox messages are committed)."""
    for job_id in (*WAKE_JOB_IDS, None):
        if await redis.enqueue_job("drain_outbox", _job_id=job_id) is not None:
            return
        if await Job(job_id or "", redis).status() == JobStatus.queued:
            return  # not started yet: it will see this commit


async def wake_quietly(redis: ArqRedis | None, written: set[str]) -> None:
    if redis is None or not written:
        return
    try:
        await wake(redis)
    except REDIS_DOWN as exc:
        log.warning("outbox: could not wake the worker (the periodic drain will take the messages): %s", exc)


class WakeWorker:
    """ASGI middleware: after a request that wrote outbox messages, queue a drain at once. By then its
    transactions have committed (a route returns after the domain call), so the drain sees the messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with outbox.noting_writes() as written:
            try:
                await self.app(scope, receive, send)
            finally:
                if written:
                    redis = getattr(getattr(scope["app"].state, "services", None), "redis", None)
                    await wake_quietly(ArqRedis(connection_pool=redis.connection_pool) if redis else None, written)


def _waking(job: Any) -> Any:
    """A job that writes outbox messages (closing a challenge queues its review) wakes a drain when done."""

    @functools.wraps(job)
    async def waking(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        with outbox.noting_writes() as written:
            result = await job(ctx, *args, **kwargs)
        await wake_quietly(ctx.get("redis"), written)
        return result

    return waking


def _moment(now: str | None) -> datetime | None:
    return datetime.fromisoformat(now) if now else None


async def publish_due_challenges(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """Publish the challenges an operator approved for a later time, once that time has come."""
    published = await challenge_lifecycle.publish_due(_moment(now))
    if published:
        log.info("published scheduled challenges %s", published)
    return published


async def close_due_challenges(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """Close the challenges whose proposals deadline has passed. Each closing queues the start of its
    review and assignment in the outbox, in the same transaction; `drain_outbox` runs it, once."""
    closed = await challenge_lifecycle.close_due(_moment(now))
    if closed:
        log.info("review: closed challenges %s; their review starts through the outbox", closed)
    return closed


async def assign_reviewers(ctx: dict[str, Any], challenge_id: int) -> int:
    """Fill the missing places of a closed challenge's proposals; returns how many assignments were made."""
    result = await review_workflow.run_assignment(challenge_id)
    return len(result.assignments) if result else 0


async def send_review_reminders(ctx: dict[str, Any], now: str | None = None) -> int:
    sent = await reminders.send_reminders(_moment(now))
    if sent:
        log.info("review: %d reminder(s) sent", sent)
    return sent


async def send_partner_surveys(ctx: dict[str, Any], day: str | None = None) -> int:
    """Ask agencies the follow-up survey on engagements that ended some months ago (each once)."""
    sent = await partner_placements.send_due_surveys(date.fromisoformat(day) if day else None)
    if sent:
        log.info("partners: %d follow-up survey(s) sent", sent)
    return sent


async def compute_insights(ctx: dict[str, Any], now: str | None = None) -> int:
    """Snapshot the insights figures, and record which datasets the catalogue publishes (or withdrew)."""
    snapshots = await insight_figures.compute_snapshots(_moment(now))
    added, withdrawn = await open_catalogue.sync_records(_moment(now))
    if added or withdrawn:
        log.info("open data: datasets added %s, withdrawn %s", added, withdrawn)
    return len(snapshots)


SAFETY_NET_SECONDS = 10  # the periodic drain, for wake-ups lost (Redis down a moment) or never sent (the CLI)
CRON_RESULT_SECONDS = 3600  # kept so that a worker late to a moment cannot queue its run again (arq's unique id)


def _cron(job: Any, **when: Any) -> Any:
    """A cron job run once per moment however many workers there are: arq gives it the job id
    "<name>:<moment>", refused while a job of that id is queued, running or has a result kept."""
    return cron(job, unique=True, keep_result=CRON_RESULT_SECONDS, **when)


_drain = _waking(drain_outbox)
_publish = _waking(publish_due_challenges)
_close = _waking(close_due_challenges)
_remind = _waking(send_review_reminders)


class WorkerSettings:
    functions = [_drain, _publish, _close, _waking(assign_reviewers), _remind,
                 compute_insights, send_partner_surveys, *pilot_jobs.FUNCTIONS, *solution_jobs.FUNCTIONS]
    cron_jobs = [
        # The safety net: commits wake a drain at once (`wake`), so it matters only when a wake-up was lost.
        _cron(_drain, second=set(range(0, 60, SAFETY_NET_SECONDS)), run_at_startup=True),
        _cron(_publish, second=15, run_at_startup=True),
        _cron(_close, second=30, run_at_startup=True),
        _cron(_remind, minute={5, 35}, second=45),
        _cron(compute_insights, minute=20, second=50, run_at_startup=True),
        _cron(send_partner_surveys, hour={0, 12}, minute=40, second=10),
        *pilot_jobs.CRON_JOBS,
        *solution_jobs.CRON_JOBS,
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_tries = 5
    poll_delay = 0.1  # seconds between looks at the queue: a woken drain starts within this (arq's default is 0.5)
    keep_result = 0  # nobody reads the results; a kept result would also block the wake-up job ids


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise SystemExit("configuration error: REDIS_URL: the worker needs Redis (`kyoso run` starts one)")
    return RedisSettings.from_dsn(settings.redis_url)


# Redis going away, as arq and redis-py report it.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
RECONNECT_FIRST = 1.0  # seconds; doubled after each failed attempt, up to RECONNECT_MAX
RECONNECT_MAX = 30.0
JOB_GRACE = 60.0  # how long jobs running when Redis went away may take to finish (they need no Redis)


def run(settings: Settings) -> None:
    """`kyoso worker`: arq's worker, started again with back-off whenever Redis goes away, until SIGTERM or
    Ctrl-C. The database and search stay open across reconnections."""
    logging.getLogger("arq.worker").setLevel(logging.WARNING)  # not a line per 3-second drain; failures still show
    # Reconnecting is done by _work, with back-off, rather than by arq's few quick retries at start.
    redis = dataclasses.replace(redis_settings(settings), conn_retries=0)
    asyncio.run(_run(settings, redis))


async def _run(settings: Settings, redis: RedisSettings) -> None:
    ctx: dict[str, Any] = {"settings": settings}
    await startup(ctx)
    try:
        work = asyncio.create_task(_work(redis, ctx))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, work.cancel)
        await asyncio.wait([work])
        if not work.cancelled():
            work.result()
    finally:
        await shutdown(ctx)


async def _work(redis: RedisSettings, ctx: dict[str, Any]) -> None:
    delay = RECONNECT_FIRST
    while True:
        worker = create_worker(
            WorkerSettings,  # type: ignore[arg-type]
            redis_settings=redis, ctx=ctx, on_startup=None, on_shutdown=None, handle_signals=False,
        )
        try:
            await worker.async_run()
            return
        except REDIS_DOWN as exc:
            if worker._pool is not None:  # it had connected: a new outage, start the back-off again
                delay = RECONNECT_FIRST
            log.warning("worker: Redis is unavailable (%s); reconnecting in %.0fs", exc, delay)
            await _discard(worker)
        except asyncio.CancelledError:
            log.info("worker: stopping")
            try:
                await worker.close()  # arq's own stop: running jobs are cancelled and retried at the next start
            except REDIS_DOWN:
                await _discard(worker)
            raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, RECONNECT_MAX)
        log.info("worker: connecting to Redis again")


async def _discard(worker: Worker) -> None:
    """Let the jobs that were running finish their work (their results cannot be stored: arq runs them
    again, and they are idempotent), then drop the broken connections."""
    tasks = list(worker.tasks.values())
    if tasks:
        await asyncio.wait(tasks, timeout=JOB_GRACE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if worker._pool is not None:
        with contextlib.suppress(*REDIS_DOWN):
            await worker._pool.close(close_connection_pool=True)
        worker._pool = None
