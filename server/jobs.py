"""Background jobs on arq: WorkerSettings and thin job functions calling models/ and search/.

Jobs take ids, not objects, and do nothing when their work is already done (arq delivers at least once).
Keep arq-specific code in this module so the queue can be replaced.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import run_worker
from tortoise import Tortoise

from models.challenges import follows
from models.challenges import lifecycle as challenge_lifecycle
from models.core import outbox
from models.database import tortoise_config
from models.partners import profiles as partner_profiles
from models.review import reminders
from models.review import workflow as review_workflow
from search import partners as partner_search
from search import sync as search_sync
from search.backend import SearchUnavailable, open_backend
from server import mail
from server.settings import Settings, get_settings

log = logging.getLogger("kyoso.jobs")

# Topic -> consumer. The search and mail issues register theirs here.
OUTBOX_CONSUMERS: dict[str, outbox.Consumer] = {follows.TOPIC: follows.consume}  # "notify": saved searches
OUTBOX_CONSUMERS[review_workflow.TOPIC] = review_workflow.consume  # "review": assignment after closing, recusals
OUTBOX_CONSUMERS[partner_profiles.TOPIC] = partner_profiles.consume  # "partners": erasing withdrawn partners' data


def register_consumers(settings: Settings) -> None:
    """Consumers that need settings. Without SMTP_URL, mail is not consumed: it stays queued in the outbox."""
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


async def stop_search(ctx: dict[str, Any]) -> None:
    OUTBOX_CONSUMERS.pop(search_sync.TOPIC, None)
    OUTBOX_CONSUMERS.pop(partner_search.TOPIC, None)
    for name in ("search", "partner_search"):
        backend = ctx.pop(name, None)
        if backend is not None:
            await backend.close()


async def drain_outbox(ctx: dict[str, Any]) -> int:
    processed = await outbox.drain(OUTBOX_CONSUMERS)
    if processed:
        log.info("outbox: %d message(s) processed", processed)
    return processed


def _moment(now: str | None) -> datetime | None:
    return datetime.fromisoformat(now) if now else None


async def publish_due_challenges(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """Publish the challenges an operator approved for a later time, once that time has come."""
    published = await challenge_lifecycle.publish_due(_moment(now))
    if published:
        log.info("published scheduled challenges %s", published)
    return published


async def close_due_challenges(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """Close the challenges whose proposals deadline has passed, then start their review and assignment.
    (Each closing also queued the same start in the outbox, so a crash here loses nothing.)"""
    closed = await challenge_lifecycle.close_due(_moment(now))
    for challenge_id in closed:
        await review_workflow.begin_review(challenge_id)
    if closed:
        log.info("review: closed and started assignment for challenges %s", closed)
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


class WorkerSettings:
    functions = [drain_outbox, publish_due_challenges, close_due_challenges, assign_reviewers, send_review_reminders]
    cron_jobs = [
        # Often, so that a published challenge is searchable and a mail sent within seconds.
        cron(drain_outbox, second=set(range(0, 60, 3)), run_at_startup=True),
        cron(publish_due_challenges, second=15, run_at_startup=True),
        cron(close_due_challenges, second=30, run_at_startup=True),
        cron(send_review_reminders, minute={5, 35}, second=45),
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_tries = 5


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise SystemExit("configuration error: REDIS_URL: the worker needs Redis (`kyoso run` starts one)")
    return RedisSettings.from_dsn(settings.redis_url)


def run(settings: Settings) -> None:
    logging.getLogger("arq.worker").setLevel(logging.WARNING)  # not a line per 3-second drain; failures still show
    run_worker(WorkerSettings, redis_settings=redis_settings(settings), ctx={"settings": settings})  # type: ignore[arg-type]
