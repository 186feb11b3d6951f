"""Keeps the search index in step with the database, through the outbox.

Every change to a challenge commits an outbox message (topic "search", payload {"kind": "challenge",
"id": n}) in the same transaction. The consumer re-reads the current row and upserts its document if a
visitor may see it, otherwise removes it: idempotent, so at-least-once, in-order delivery is enough.
While the backend is down the consumer raises, and the outbox retries the message later.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from tortoise import timezone

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


async def sync_challenge(backend: SearchBackend, challenge_id: int) -> None:
    document = await document_for(challenge_id)
    if document is None:
        await backend.delete([challenge_id])
    else:
        await backend.upsert([document])


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
    recent = await OutboxMessage.filter(topic=TOPIC, created_at__gte=started - REPLAY_MARGIN).values_list(
        "payload", flat=True
    )
    ids = sorted({int(p["id"]) for p in recent if isinstance(p, dict) and p.get("kind") == "challenge" and "id" in p})  # type: ignore[call-overload]  # Tortoise types values_list(flat=True) as tuples
    for challenge_id in ids:
        await sync_challenge(backend, challenge_id)
    return count
