"""Agencies are told when an operator approves, sends back or publishes their challenge (issue 10): a notification
for every member, and one e-mail through the outbox, with the operator's reason when it was sent back."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from models.challenges.lifecycle import publish_due
from models.challenges.models import Challenge
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from server import mail
from tests.helpers import _at, _draft


async def _mails(challenge_id: int) -> list[OutboxMessage]:
    return await OutboxMessage.filter(topic="mail", key=f"challenge_status:{challenge_id}").order_by("id")


async def test_the_agency_hears_of_a_send_back_and_of_the_publication(client, cast):
    agency = cast["users"]["agency"]
    draft = await _draft(client, cast)
    cid = draft["id"]
    for step in ({"to": "in_review"}, ):
        assert (await client.post(f"/api/v1/challenges/{cid}/transitions", json=step, headers=cast["agency"])).status_code == 200
    back = await client.post(f"/api/v1/challenges/{cid}/transitions", headers=cast["operator"],
                             json={"to": "changes_requested", "reason": "予算の根拠を書いてください"})
    assert back.status_code == 200, back.text
    told = await Notification.filter(user_id=agency.id, kind="challenge.changes_requested")
    assert [n.payload for n in told] == [{"challenge": cid}]
    [sent_back] = await _mails(cid)
    assert sent_back.payload["to"] == agency.email and sent_back.payload["context"]["reason"] == "予算の根拠を書いてください"
    rendered = mail.render("challenge_status", "ja", sent_back.payload["context"], base_url="https://kyoso.example")
    assert "差し戻されました" in rendered.subject and "予算の根拠を書いてください" in rendered.body
    page = await client.get("/api/v1/notifications?lang=en", headers=cast["agency"])
    assert any("was sent back" in item["message"] for item in page.json()["items"])

    assert (await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "in_review"}, headers=cast["agency"])).status_code == 200
    published = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "published"}, headers=cast["operator"])
    assert published.status_code == 200
    assert await Notification.filter(user_id=agency.id, kind="challenge.published").count() == 1
    assert [m.payload["context"]["status"] for m in await _mails(cid)] == ["changes_requested", "published"]
    english = mail.render("challenge_status", "en", (await _mails(cid))[-1].payload["context"], base_url="https://k.example")
    assert "approved" in english.subject and f"/challenges/{cid}" in english.body


async def test_a_scheduled_challenge_tells_the_agency_when_approved_and_when_published(client, cast):
    draft = await _draft(client, cast, publish_at=_at(5))
    cid = draft["id"]
    assert (await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "in_review"}, headers=cast["agency"])).status_code == 200
    approved = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "published"}, headers=cast["operator"])
    assert approved.json()["status"] == "scheduled"
    await Challenge.filter(id=cid).update(publish_at=timezone.now() - timedelta(minutes=1))
    assert cid in await publish_due()
    assert [m.payload["context"]["status"] for m in await _mails(cid)] == ["scheduled", "published"]
