"""The pilots' cron jobs (registered in server/jobs.py): thin, idempotent, taking ids and ISO moments."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from arq import cron

from models.pilots import lifecycle, milestones

log = logging.getLogger("kyoso.jobs")


def _day(day: str | None) -> date | None:
    return date.fromisoformat(day) if day else None


async def end_due_pilots(ctx: dict[str, Any], day: str | None = None) -> list[int]:
    """Move running pilots past their end date to under_evaluation; each queues its evaluation's start."""
    moved = await lifecycle.end_due(_day(day))
    if moved:
        log.info("pilots: %s ended, under evaluation", moved)
        if (queue := ctx.get("redis")) is not None:
            await queue.enqueue_job("drain_outbox")
    return moved


async def send_milestone_reminders(ctx: dict[str, Any], day: str | None = None) -> int:
    sent = await milestones.send_reminders(_day(day))
    if sent:
        log.info("pilots: %d milestone reminder(s) sent", sent)
    return sent


FUNCTIONS = [end_due_pilots, send_milestone_reminders]
# Once per moment however many workers run (as server/jobs.py does for its own cron jobs).
CRON_JOBS = [
    cron(end_due_pilots, minute={10}, second=20, run_at_startup=True, unique=True, keep_result=3600),
    cron(send_milestone_reminders, hour={0, 6, 12}, minute=20, second=50, unique=True, keep_result=3600),
]
