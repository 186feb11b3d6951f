"""The solutions' jobs and outbox consumers (registered in server/jobs.py): thin and idempotent."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from arq import cron

from models.core import outbox
from models.solutions import adoptions, catalogue, procurement

log = logging.getLogger("kyoso.jobs")

# "pilot_adopted": an adopted pilot drafts its solution (models/pilots queues it, models/solutions consumes it).
CONSUMERS: dict[str, outbox.Consumer] = {catalogue.TOPIC: catalogue.consume_pilot_adopted}


async def mark_stale_adoptions(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """The yearly re-confirmation: live adoptions not confirmed for a year are marked stale (not deleted)."""
    marked = await adoptions.mark_stale(datetime.fromisoformat(now) if now else None)
    if marked:
        log.info("solutions: adoptions %s marked stale", marked)
    return marked


async def close_due_procurements(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """Joint procurement rounds past their closing time are closed (their mails go out with the next drain)."""
    closed = await procurement.close_due(datetime.fromisoformat(now) if now else None)
    if closed:
        log.info("procurement: rounds %s closed", closed)
    return closed


FUNCTIONS = [mark_stale_adoptions, close_due_procurements]
CRON_JOBS = [
    cron(mark_stale_adoptions, hour={3}, minute=40, second=10, unique=True, keep_result=3600),
    cron(close_due_procurements, second=40, unique=True, keep_result=3600),
]
