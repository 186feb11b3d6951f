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


# --- deadlines: stored in UTC whatever the database, obeyed by the close job -----------------------


async def _published_challenge(days: float = 10):
    from models.challenges.models import Challenge
    from models.identity.orgs import Organisation

    owner = await Organisation.get(municipality_code="131041")  # Shinjuku, the cast's agency
    now = timezone.now()
    return await Challenge.create(owner=owner, status="published", title={"ja": "締切の変更"}, published_at=now,
                                  proposals_deadline=now + timedelta(days=days), review_deadline=now + timedelta(days=40))


async def test_an_amended_deadline_is_stored_in_utc_and_the_close_job_closes_on_time(app, client, cast):
    import asyncio

    from tortoise import connections

    from models.challenges.models import Challenge
    from server.i18n import TOKYO

    challenge = await _published_challenge()
    soon = timezone.now() + timedelta(seconds=2)
    amended = await client.patch(
        f"/api/v1/challenges/{challenge.id}",
        json={"proposals_deadline": soon.astimezone(TOKYO).isoformat(), "reason": "早期終了"},  # as the API shows times
        headers=cast["operator"],
    )
    assert amended.status_code == 200, amended.text
    await asyncio.sleep(max(0.0, (soon - timezone.now()).total_seconds()) + 0.5)
    assert challenge.id in await jobs.close_due_challenges({})
    assert (await Challenge.get(id=challenge.id)).status == "closed"

    # SQLite compares the stored text, so every time is written in UTC, in one format.
    _, rows = await connections.get("default").execute_query(
        f"SELECT CAST(proposals_deadline AS TEXT) AS stored FROM challenge WHERE id = {int(challenge.id)}")
    stored = str(dict(rows[0])["stored"])
    assert stored.endswith(("+00", "+00:00")), stored  # PostgreSQL shows +00, SQLite keeps +00:00


async def test_owners_bring_a_public_deadline_forward_only_with_three_days_notice(app, client, cast):
    from models.challenges.models import Challenge
    from server.i18n import TOKYO
    from tests.web import post_form, sign_in_as

    challenge = await _published_challenge(days=10)

    def at(days: float) -> str:
        return (timezone.now() + timedelta(days=days)).astimezone(TOKYO).isoformat()

    url = f"/api/v1/challenges/{challenge.id}"
    short = await client.patch(url, json={"proposals_deadline": at(2), "reason": "前倒し"}, headers=cast["agency"])
    assert short.status_code == 422, short.text
    assert [e["field"] for e in short.json()["errors"]] == ["proposals_deadline"]
    assert (await Challenge.get(id=challenge.id)).proposals_deadline > timezone.now() + timedelta(days=9)

    await sign_in_as(client, cast["users"]["agency"])
    form = {"proposals_deadline": (timezone.now() + timedelta(days=1)).astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
            "review_deadline": (timezone.now() + timedelta(days=40)).astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
            "reason": "前倒し"}
    for lang, message in (("ja", "締切を早めるときは、今から3日以上先にしてください。"),
                          ("en", "A deadline can be brought forward only to at least 3 days from now.")):
        page = await post_form(client, f"/challenges/{challenge.id}/edit?lang={lang}", form,
                               page=f"/challenges/{challenge.id}")
        assert page.status_code == 400 and message in page.text, page.text

    assert (await client.patch(url, json={"proposals_deadline": at(4), "reason": "前倒し"},
                               headers=cast["agency"])).status_code == 200  # enough notice
    assert (await client.patch(url, json={"proposals_deadline": at(1), "reason": "延長"},
                               headers=cast["operator"])).status_code == 200  # operators may
    assert (await client.patch(url, json={"proposals_deadline": at(1.5), "reason": "延長"},
                               headers=cast["agency"])).status_code == 200  # later again: not forward


async def test_closing_starts_the_review_once_through_the_outbox(app, cast):
    from models.challenges.models import Challenge
    from models.core.audit import AuditEvent
    from models.identity.accounts import Membership
    from models.proposals.models import Proposal
    from models.review import workflow

    challenge = await _published_challenge()
    await Challenge.filter(id=challenge.id).update(proposals_deadline=timezone.now() - timedelta(seconds=1))
    company = cast["users"]["company"]
    membership = await Membership.get(user=company)
    proposal = await Proposal.create(challenge_id=challenge.id, company_id=membership.organisation_id,
                                     created_by=company, status="submitted", title="提案", submitted_at=timezone.now())

    assert challenge.id in await jobs.close_due_challenges({})
    assert (await Proposal.get(id=proposal.id)).status == "submitted"  # the job itself starts nothing
    queued = await OutboxMessage.filter(topic=workflow.TOPIC, key=f"review:{challenge.id}", processed_at=None)
    assert [message.payload["kind"] for message in queued] == ["begin"]

    await outbox.drain({workflow.TOPIC: workflow.consume})
    assert (await Proposal.get(id=proposal.id)).status == "under_review"
    assert await AuditEvent.filter(action="proposal.under_review", target_id=str(proposal.id)).count() == 1
