"""Keeps the search index in step with the database, through the outbox.

Every change to a challenge commits an outbox message (topic "search", payload {"kind": "challenge",
"id": n}) in the same transaction. The consumer re-reads the current row and upserts its document if a
visitor may see it, otherwise removes it: idempotent, so at-least-once, in-order delivery is enough.
While the backend is down the consumer raises, and the outbox retries the message later.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.models import Model

from models.challenges.models import Challenge
from models.core.outbox import Consumer, OutboxMessage
from models.policy import VISITOR
from models.policy.challenges import challenge_filter, is_public
from search.backend import Document, SearchBackend
from search.documents import RELATED, challenge_document

log = logging.getLogger("kyoso.search")

TOPIC = "search"
REINDEX_BATCH = 1_000
# A reindex replays the changes made from this long before it started: the slowest transaction that
# could have committed a change the new index missed.
REPLAY_MARGIN = timedelta(minutes=5)


async def document_for(challenge_id: int) -> Document | None:
    """The current document of a challenge, or None when a visitor may not see it (or it is gone)."""
    challenge = await Challenge.get_or_none(id=challenge_id).prefetch_related(*RELATED)
    if challenge is None or not is_public(challenge):
        return None
    return challenge_document(challenge)


async def _write(backend: Any, row_id: int, document: Document | None) -> None:
    """The row's current document into the index, or the row out of it when it has none."""
    if document is None:
        await backend.delete([row_id])
    else:
        await backend.upsert([document])


async def sync_challenge(backend: SearchBackend, challenge_id: int) -> None:
    await _write(backend, challenge_id, await document_for(challenge_id))


def consumer(backend: SearchBackend) -> Consumer:
    """The outbox consumer for topic "search", writing to this backend."""

    async def consume(message: OutboxMessage) -> None:
        if not backend.needs_sync:
            return  # the database backend reads the rows themselves
        if message.payload.get("kind") != "challenge":
            log.warning("search: outbox message %s has an unknown kind, skipped: %s", message.id, message.payload)
            return
        await sync_challenge(backend, int(message.payload["id"]))

    return consume


Progress = Callable[[int, int], None]  # (documents read so far, how many there are)


async def documents_for_reindex(batch_size: int = REINDEX_BATCH, progress: Progress | None = None) -> AsyncIterator[Document]:
    """Every document a visitor may find, read in batches by id so memory stays flat (one batch of rows, and
    the backend's own batch of documents, at a time)."""
    total = await Challenge.filter(challenge_filter(VISITOR)).count() if progress else 0
    done = 0
    last_id = 0
    while True:
        batch = await (
            Challenge.filter(challenge_filter(VISITOR), id__gt=last_id)
            .order_by("id")
            .limit(batch_size)
            .prefetch_related(*RELATED)
        )
        if not batch:
            return
        for challenge in batch:
            yield challenge_document(challenge)
        last_id = batch[-1].id
        done += len(batch)
        if progress:
            progress(done, max(total, done))


async def rebuild_index(backend: SearchBackend, progress: Progress | None = None) -> int:
    """Rebuild the index from the database and swap it in; returns how many documents it holds.

    Changes committed while the new index was filling may have reached only the old one, so the
    challenges named by recent outbox messages are synced again afterwards (the sync is idempotent).
    """
    started = timezone.now()
    await backend.prepare(wait=True)
    count = await backend.reindex(documents_for_reindex(progress=progress))
    for challenge_id in await _changed_since(TOPIC, started, kind="challenge"):
        await sync_challenge(backend, challenge_id)
    return count


async def _changed_since(topic: str, started: datetime, kind: str | None = None) -> list[int]:
    """The ids named by the topic's outbox messages of the replay margin before `started` (of this kind)."""
    recent: list = await OutboxMessage.filter(topic=topic, created_at__gte=started - REPLAY_MARGIN).values_list(
        "payload", flat=True)
    return sorted({int(p["id"]) for p in recent
                   if isinstance(p, dict) and "id" in p and (kind is None or p.get("kind") == kind)})


# --- the same for the other indexes (solutions, partners) -------------------------------------------------

Row = TypeVar("Row", bound=Model)


@dataclass(frozen=True)
class IndexSync(Generic[Row]):
    """The outbox consumer, the sync of one row and the rebuild of another index kind, on the challenges'
    pattern above: each kind gives its model, who may find a row (as a test of one row and as a query),
    and how a batch of rows becomes documents."""

    topic: str
    model: type[Row]
    findable: Callable[[Row], bool]
    findable_filter: Callable[[], Q]
    documents_of: Callable[[list[Row]], Awaitable[list[Document]]]

    async def document_for(self, row_id: int) -> Document | None:
        """The current document of a row, or None when it may not be found (or it is gone)."""
        row = await self.model.get_or_none(id=row_id)
        if row is None or not self.findable(row):
            return None
        return (await self.documents_of([row]))[0]

    async def sync(self, backend: Any, row_id: int) -> None:
        await _write(backend, row_id, await self.document_for(row_id))

    def consumer(self, backend: Any) -> Consumer:
        """The outbox consumer for this kind's topic, writing to this backend."""

        async def consume(message: OutboxMessage) -> None:
            if not backend.needs_sync:
                return
            await self.sync(backend, int(message.payload["id"]))

        return consume

    async def documents_for_reindex(self, batch_size: int = 500) -> AsyncIterator[Document]:
        last_id = 0
        while True:
            batch = await self.model.filter(self.findable_filter(), id__gt=last_id).order_by("id").limit(batch_size)
            if not batch:
                return
            for document in await self.documents_of(list(batch)):
                yield document
            last_id = batch[-1].pk

    async def rebuild(self, backend: Any) -> int:
        """Rebuild the index from the database and swap it in; then replay the recent changes (as
        rebuild_index does, for the same reason)."""
        started = timezone.now()
        await backend.prepare(wait=True)
        count = await backend.reindex(self.documents_for_reindex())
        for row_id in await _changed_since(self.topic, started):
            await self.sync(backend, row_id)
        return count
