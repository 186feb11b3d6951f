"""Drains claim what they take: concurrent drains never share a message, an object's messages keep their order
across drains, and a claim left by a drain that died lapses."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from tortoise import timezone

from models.core import outbox
from models.core.outbox import OutboxMessage


def _topic() -> str:
    return f"t-{secrets.token_hex(3)}"  # a topic of its own: other tests' messages stay out of the way


async def test_concurrent_claims_never_take_the_same_message(app):
    topic = _topic()
    for n in range(40):
        await outbox.enqueue(topic, f"thing:{n}", {"n": n})
    taken: list[int] = []
    for _ in range(10):  # claims racing for the same rows may come back short, never sharing a message
        batches = await asyncio.gather(*(outbox.claim([topic], batch_size=15) for _ in range(4)))
        taken += [message.id for batch in batches for message in batch]
    assert len(taken) == len(set(taken)) == 40
    assert await outbox.claim([topic]) == []  # all held


async def test_a_later_message_waits_for_a_failing_earlier_one_across_drains(app):
    topic = _topic()
    seen: list[str] = []

    async def consumer(message: OutboxMessage) -> None:
        if message.payload.get("fail"):
            raise RuntimeError("down")
        seen.append(message.payload["name"])

    failing = await outbox.enqueue(topic, "thing:1", {"name": "first", "fail": True})
    await outbox.enqueue(topic, "thing:1", {"name": "second"})
    await outbox.enqueue(topic, "thing:2", {"name": "other"})
    assert await outbox.drain({topic: consumer}) == 1
    assert await outbox.drain({topic: consumer}) == 0  # backing off: "second" still waits for it
    assert seen == ["other"]

    await OutboxMessage.filter(id=failing.id).update(payload={"name": "first"}, available_at=timezone.now())
    assert await outbox.drain({topic: consumer}) == 2
    assert seen == ["other", "first", "second"]


async def test_a_claim_left_by_a_drain_that_died_lapses(app):
    topic = _topic()
    message = await outbox.enqueue(topic, "thing:1", {})
    [claimed] = await outbox.claim([topic])
    assert claimed.id == message.id and await outbox.claim([topic]) == []
    await OutboxMessage.filter(id=message.id).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert [m.id for m in await outbox.claim([topic])] == [message.id]
