"""The outbox: work that must not be lost (index updates, e-mails), committed with the change.

A job drains it at least once, in order; consumers are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from tortoise import fields, timezone
from tortoise.models import Model

log = logging.getLogger(__name__)


class OutboxMessage(Model):
    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=32, db_index=True)  # e.g. "search", "mail"
    key = fields.CharField(max_length=64, default="")  # the object it is about, e.g. "challenge:12"
    payload: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    available_at = fields.DatetimeField(db_index=True)
    processed_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")

    class Meta:
        table = "outbox_message"
        ordering = ["id"]


async def enqueue(topic: str, key: str, payload: dict[str, Any], *, using_db: Any = None) -> OutboxMessage:
    return await OutboxMessage.create(
        topic=topic, key=key, payload=payload, available_at=timezone.now(), using_db=using_db
    )


def retry_delay(attempts: int) -> timedelta:
    """Back off exponentially, capped at one hour."""
    return timedelta(seconds=min(3600, 2 ** min(attempts, 12)))


Consumer = Callable[[OutboxMessage], Awaitable[None]]


async def drain(consumers: dict[str, Consumer], batch_size: int = 200) -> int:
    """Hand due messages to their topic's consumer, oldest first; returns how many were processed.

    A message whose consumer fails is retried later with back-off, and later messages about the same
    object wait for it, so each object's updates arrive in order. Topics without a consumer stay queued.
    """
    due = await OutboxMessage.filter(
        processed_at=None, available_at__lte=timezone.now(), topic__in=list(consumers)
    ).limit(batch_size)
    blocked_keys: set[str] = set()
    processed = 0
    for message in due:
        if message.key and message.key in blocked_keys:
            continue
        try:
            await consumers[message.topic](message)
        except Exception as exc:  # a consumer's failure must not stop the others
            log.warning("outbox message %s (%s) failed: %s", message.id, message.topic, exc)
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.available_at = timezone.now() + retry_delay(message.attempts)
            await message.save(update_fields=["attempts", "last_error", "available_at"])
            if message.key:
                blocked_keys.add(message.key)
            continue
        message.processed_at = timezone.now()
        await message.save(update_fields=["processed_at"])
        processed += 1
    return processed
