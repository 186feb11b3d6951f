"""The solutions' jobs and outbox consumers (registered in server/jobs.py): thin and idempotent."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from arq import cron

from models.core import outbox
from models.solutions import adoptions, catalogue

log = logging.getLogger("kyoso.jobs")

# "pilot_adopted": an adopted pilot drafts its solution (models/pilots queues it, models/solutions consumes it).
CONSUMERS: dict[str, outbox.Consumer] = {catalogue.TOPIC: catalogue.consume_pilot_adopted}


async def mark_stale_adoptions(ctx: dict[str, Any], now: str | None = None) -> list[int]:
    """The yearly re-confirmation: live adoptions not confirmed for a year are marked stale (not deleted)."""
    marked = await adoptions.mark_stale(datetime.fromisoformat(now) if now else None)
    if marked:
        log.info("solutions: adoptions %s marked stale", marked)
    return marked


FUNCTIONS = [mark_stale_adoptions]
CRON_JOBS = [cron(mark_stale_adoptions, hour={3}, minute=40, second=10, unique=True, keep_result=3600)]
