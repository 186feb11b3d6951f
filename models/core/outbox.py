"""The outbox: work that must not be lost (index updates, e-mails), committed with the change.

Workers drain it at least once, in order per object; consumers are idempotent. Several workers may drain at
once: each claims the messages it takes (a lease, see `claim`), so no two hand the same message over.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from tortoise import connections, fields, timezone
from tortoise.expressions import Q, RawSQL
from tortoise.indexes import Index
from tortoise.models import Model
from tortoise.transactions import in_transaction

log = logging.getLogger(__name__)

# A claim lapses after this, so that a worker that died (SIGKILL, a lost machine) does not hold its messages for
# long. It covers the handling of one message (the SMTP timeout is 30 s): the drain renews the claim of each
# message just before handing it over, and skips one whose claim lapsed and was taken by another drain.
LEASE = timedelta(seconds=90)


def configure(lease_seconds: float) -> None:
    """Set the claims' lease (the worker does, from its settings)."""
    global LEASE
    LEASE = timedelta(seconds=lease_seconds)


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
    # The drain handling it now, until when. Nullable, so that a process of the previous version can still insert.
    claimed_by = fields.CharField(max_length=32, null=True)
    claimed_until = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        ordering = ["id"]
        indexes = [Index(fields=("topic", "key", "id"), name="outbox_by_object")]  # an object's earlier messages


# The topics written in the current unit of work (a request, a job), when its runner watches: see `noting_writes`.
# Watchers nest (the web server's page cache around its worker wake-up): each sees every write inside it.
_written: ContextVar[tuple[set[str], ...]] = ContextVar("outbox_written", default=())


@contextmanager
def noting_writes() -> Iterator[set[str]]:
    """Within this block `enqueue` notes the topics it writes to, so that whoever runs the work (the web
    server, the worker) can wake a drain once it has committed. The domain does not know the queue."""
    written: set[str] = set()
    token = _written.set((*_written.get(), written))
    try:
        yield written
    finally:
        _written.reset(token)


async def enqueue(topic: str, key: str, payload: dict[str, Any], *, using_db: Any = None) -> OutboxMessage:
    message = await OutboxMessage.create(
        topic=topic, key=key, payload=payload, available_at=timezone.now(), using_db=using_db
    )
    for written in _written.get():
        written.add(topic)
    return message


def retry_delay(attempts: int) -> timedelta:
    """Back off exponentially, capped at one hour."""
    return timedelta(seconds=min(3600, 2 ** min(attempts, 12)))


Consumer = Callable[[OutboxMessage], Awaitable[None]]

# An earlier message about the same object of the same topic is still to be handled (failing, backing off,
# or being handled by another drain): this one waits for it.
_WAITS_FOR_EARLIER = RawSQL(
    'EXISTS (SELECT 1 FROM outbox_message earlier WHERE earlier.topic = outbox_message.topic'
    ' AND earlier."key" = outbox_message."key" AND earlier.processed_at IS NULL AND earlier.id < outbox_message.id)'
)


async def claim(topics: list[str], batch_size: int = 200) -> list[OutboxMessage]:
    """Take up to `batch_size` due messages of these topics for this drain alone, oldest first.

    Only the first unhandled message of each object (topic and key) is taken, so an object's messages are
    handled one after another, in order, even by several workers. The claim is a lease in the row, set by
    one UPDATE whose WHERE re-checks that nobody holds it: on PostgreSQL the candidates are locked with
    FOR UPDATE SKIP LOCKED first, so concurrent drains pass over each other's rows instead of waiting; SQLite
    has one writer at a time and takes its write lock before the UPDATE reads, so two claims cannot interleave.
    """
    now = timezone.now()
    claimable = (
        Q(processed_at=None, available_at__lte=now, topic__in=topics)
        & (Q(claimed_until=None) | Q(claimed_until__lt=now))
    )
    token = uuid.uuid4().hex
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    async with in_transaction() if postgres else nullcontext() as conn:
        candidates = (
            OutboxMessage.filter(claimable)
            .annotate(waits=_WAITS_FOR_EARLIER)
            .filter(Q(key="") | Q(waits=False))
            .order_by("id")
            .limit(batch_size)
            .using_db(conn)
        )
        if postgres:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = await candidates.values_list("id", flat=True)
        if not ids:
            return []
        await OutboxMessage.filter(claimable, id__in=ids).using_db(conn).update(
            claimed_by=token, claimed_until=now + LEASE
        )
    return await OutboxMessage.filter(claimed_by=token, processed_at=None).order_by("id")


async def renew(message: OutboxMessage) -> bool:
    """Extend this drain's claim on a message it is about to hand over; False when the claim lapsed and
    another drain took the message (it must then be left alone)."""
    renewed = await OutboxMessage.filter(id=message.id, claimed_by=message.claimed_by, processed_at=None).update(
        claimed_until=timezone.now() + LEASE)
    return bool(renewed)


async def release(messages: list[OutboxMessage]) -> None:
    """Give back claimed messages this drain will not handle (it is stopping): others may take them now."""
    for token in {message.claimed_by for message in messages}:
        ids = [message.id for message in messages if message.claimed_by == token]
        await OutboxMessage.filter(id__in=ids, claimed_by=token, processed_at=None).update(
            claimed_by=None, claimed_until=None)


async def drain(consumers: dict[str, Consumer], batch_size: int = 200, max_rounds: int = 50) -> int:
    """Hand due messages to their topic's consumer, oldest first; returns how many were processed.

    A message whose consumer fails is retried later with back-off, and later messages about the same
    object wait for it, so each object's updates arrive in order. Topics without a consumer stay queued.
    Claims rounds until nothing is due (each round takes the next message of every object), at most
    `max_rounds`, so that a steady stream of new messages does not keep one drain going for ever.
    """
    processed = 0
    for _ in range(max_rounds):
        batch = await claim(list(consumers), batch_size)
        if not batch:
            break
        handled = 0
        try:
            for message in batch:
                if await renew(message):
                    await _handle(message, consumers[message.topic])
                handled += 1
                processed += message.processed_at is not None
        finally:
            await release(batch[handled:])
    return processed


async def _handle(message: OutboxMessage, consumer: Consumer) -> None:
    try:
        await consumer(message)
    except Exception as exc:  # a consumer's failure must not stop the others
        log.warning("outbox message %s (%s) failed: %s", message.id, message.topic, exc)
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        message.available_at = timezone.now() + retry_delay(message.attempts)
        message.claimed_by, message.claimed_until = None, None
        await message.save(update_fields=["attempts", "last_error", "available_at", "claimed_by", "claimed_until"])
        return
    message.processed_at = timezone.now()
    message.claimed_by, message.claimed_until = None, None
    await message.save(update_fields=["processed_at", "claimed_by", "claimed_until"])
