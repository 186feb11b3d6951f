"""The outbox is drained by a real arq worker against real Redis."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from models.core import outbox
from models.core.outbox import OutboxMessage
from server import jobs
from tests.workers import run_worker_once


async def _run_worker_once(settings) -> None:
    await run_worker_once(settings, on_startup=None)  # the test registers its own consumer


async def test_the_worker_drains_the_outbox_in_order_and_retries_failures(app, migrated, monkeypatch):
    seen: list[str] = []

    async def flaky(message: OutboxMessage) -> None:
        if message.payload.get("fail"):
            raise RuntimeError("backend unavailable")
        seen.append(message.payload["name"])

    monkeypatch.setitem(jobs.OUTBOX_CONSUMERS, "test", flaky)
    first = await outbox.enqueue("test", "thing:1", {"name": "first"})
    failing = await outbox.enqueue("test", "thing:2", {"name": "fails", "fail": True})
    behind = await outbox.enqueue("test", "thing:2", {"name": "after the failure"})
    other = await outbox.enqueue("test", "thing:3", {"name": "other object"})
    unknown = await outbox.enqueue("no-consumer-yet", "x:1", {})

    await _run_worker_once(migrated)

    assert seen == ["first", "other object"]
    await failing.refresh_from_db()
    assert failing.processed_at is None and failing.attempts == 1
    assert "backend unavailable" in failing.last_error
    assert failing.available_at > timezone.now()
    for message in (behind, unknown):
        await message.refresh_from_db()
        assert message.processed_at is None and message.attempts == 0
    for message in (first, other):
        await message.refresh_from_db()
        assert message.processed_at is not None

    # Once the consumer recovers and the back-off has passed, the object's messages go through in order.
    await OutboxMessage.filter(id=failing.id).update(
        payload={"name": "fails, then works"}, available_at=timezone.now() - timedelta(seconds=1)
    )
    await _run_worker_once(migrated)
    assert seen == ["first", "other object", "fails, then works", "after the failure"]
    await OutboxMessage.filter(id=unknown.id).delete()


async def test_the_worker_publishes_scheduled_challenges_when_their_time_comes(app, migrated):
    from models.challenges.models import Challenge
    from models.identity.orgs import Organisation

    owner = await Organisation.get(municipality_code="131016")
    due = await Challenge.create(owner=owner, status="scheduled", title={"ja": "予約公開"},
                                 publish_at=timezone.now() - timedelta(seconds=1))
    later = await Challenge.create(owner=owner, status="scheduled", title={"ja": "後で公開"},
                                   publish_at=timezone.now() + timedelta(days=1))
    await run_worker_once(migrated, job="publish_due_challenges", on_startup=None)
    await due.refresh_from_db()
    await later.refresh_from_db()
    assert due.status == "published" and due.published_at is not None
    assert later.status == "scheduled"
