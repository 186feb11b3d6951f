"""Following challenges and saved searches, and the notifications that come of it (in-app only)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise import timezone

from models.challenges import follows
from models.challenges.lifecycle import publish_due
from models.challenges.models import Follow
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from tests.helpers import _at, _draft, _publish, browser, english
from tests.web import post_form
from tests.workers import run_worker_once


def _word() -> str:
    """A word no other test's challenge contains."""
    return "kw" + secrets.token_hex(4)


async def _matched(user_id: int, challenge_id: int) -> int:
    return len([n for n in await Notification.filter(user_id=user_id, kind=follows.MATCHED) if n.payload == {"challenge": challenge_id}])


async def test_following_a_challenge_tells_of_amendments_and_answers(client, cast, people):
    draft = await _draft(client, cast)
    cid = draft["id"]
    await _publish(client, cast, cid)
    follower = await people.make()
    headers = await people.token(follower)

    assert (await client.post("/api/v1/follows", json={"challenge_id": cid})).status_code == 401
    followed = await client.post("/api/v1/follows", json={"challenge_id": cid}, headers=headers)
    assert followed.status_code == 201, followed.text
    assert followed.json()["challenge_id"] == cid and followed.json()["challenge_title"]["ja"] == draft["title"]["ja"]
    again = await client.post("/api/v1/follows", json={"challenge_id": cid}, headers=headers)
    assert again.json()["id"] == followed.json()["id"]  # following twice is one follow
    listing = (await client.get("/api/v1/follows", headers=headers)).json()
    assert listing == {"items": [followed.json()], "total": 1, "page": 1, "per_page": 50}
    hidden = await _draft(client, cast)
    assert (await client.post("/api/v1/follows", json={"challenge_id": hidden["id"]}, headers=headers)).status_code == 404

    await client.patch(f"/api/v1/challenges/{cid}", json={"proposals_deadline": _at(25), "reason": "延長します"}, headers=cast["agency"])
    assert await Notification.exists(user=follower, kind="challenge.amended")
    question = (await client.post(f"/api/v1/challenges/{cid}/questions", json={"body": "質問"}, headers=cast["company"])).json()
    await client.post(f"/api/v1/questions/{question['id']}/answer", json={"answer": "回答"}, headers=cast["agency"])
    assert await Notification.exists(user=follower, kind="question.answered")
    assert not await OutboxMessage.filter(topic="mail", key__contains=f"challenge:{cid}").exists()

    # Only the follower stops their follow.
    assert (await client.delete(f"/api/v1/follows/{followed.json()['id']}", headers=cast["company"])).status_code == 404
    assert (await client.delete(f"/api/v1/follows/{followed.json()['id']}", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/follows", headers=headers)).json()["total"] == 0


async def test_a_saved_search_is_told_once_of_each_new_matching_challenge(client, cast, people, migrated):
    word = _word()
    fan, wrong_category, other_words, everything_ward = [await people.make() for _ in range(4)]
    queries = {
        fan: {"q": f"{word.upper()} 窓口", "category": "administrative-procedures", "sort": "newest"},
        wrong_category: {"q": word, "category": ["education"]},
        other_words: {"q": f"{word} 存在しない語"},
        everything_ward: {"municipality_type": "ward", "q": word},
    }
    for user, query in queries.items():
        response = await client.post("/api/v1/follows", json={"saved_query": query}, headers=await people.token(user))
        assert response.status_code == 201, response.text
    saved = (await Follow.get(user=fan)).saved_query
    assert saved == {"q": f"{word.upper()} 窓口", "category": ["administrative-procedures"]}  # the sort is not kept
    bad = await client.post("/api/v1/follows", json={"saved_query": {"category": "Not A Slug!"}}, headers=await people.token(fan))
    assert bad.status_code == 422
    both = await client.post("/api/v1/follows", json={"challenge_id": 1, "saved_query": {"q": "x"}}, headers=await people.token(fan))
    assert both.status_code == 422

    draft = await _draft(client, cast, title={"ja": f"窓口の混雑 {word}", "en": "Counter queues"})
    assert await follows.notify_saved_searches(draft["id"]) == 0  # not published yet
    await _publish(client, cast, draft["id"])
    message = await OutboxMessage.get(topic="notify", key=f"challenge:{draft['id']}")
    assert message.payload == {"kind": "challenge_published", "id": draft["id"]}

    await run_worker_once(migrated)
    await message.refresh_from_db()
    assert message.processed_at is not None
    assert await _matched(fan.id, draft["id"]) == 1
    assert await _matched(everything_ward.id, draft["id"]) == 1
    assert await _matched(wrong_category.id, draft["id"]) == 0
    assert await _matched(other_words.id, draft["id"]) == 0
    # Delivered at least once: running it again tells nobody twice.
    assert await follows.notify_saved_searches(draft["id"]) == 0
    assert await _matched(fan.id, draft["id"]) == 1

    # Words match the summary in English too, and a scheduled publication notifies the same way.
    later = await _draft(client, cast, summary={"ja": "要約", "en": f"Busy months, {word} 窓口."}, publish_at=_at(1))
    await client.post(f"/api/v1/challenges/{later['id']}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    await client.post(f"/api/v1/challenges/{later['id']}/transitions", json={"to": "published"}, headers=cast["operator"])
    await publish_due(timezone.now() + timedelta(days=2))
    assert await OutboxMessage.exists(topic="notify", key=f"challenge:{later['id']}")
    await run_worker_once(migrated)
    assert await _matched(fan.id, later["id"]) == 1


async def test_the_notifications_page_and_api(app, client, cast, people):
    draft = await _draft(client, cast, title={"ja": "通知の課題", "en": "Notified challenge"})
    cid = draft["id"]
    await _publish(client, cast, cid)
    reader = await english(await people.make())
    headers = await people.token(reader)
    await follows.notify([reader.id], "question.answered", {"challenge": cid, "question": 0})
    await follows.notify([reader.id], "question.answered", {"challenge": cid, "question": 0})  # not twice
    await follows.notify([reader.id], "something.else", {})

    listing = await client.get("/api/v1/notifications", headers=headers | {"Accept-Language": "en"})
    assert listing.status_code == 200
    body = listing.json()
    assert body["total"] == 2 and body["unread"] == 2 and body["page"] == 1
    answered = next(item for item in body["items"] if item["kind"] == "question.answered")
    assert answered["message"] == "A question on “Notified challenge” was answered."
    assert answered["link"] == f"/challenges/{cid}#questions" and answered["unread"] is True
    assert answered["created_at"].endswith("+09:00")

    async with browser(app) as visitor:
        refused = await visitor.get("/notifications")
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
    async with browser(app, reader) as browser_client:
        page = await browser_client.get("/notifications")
        assert "A question on “Notified challenge” was answered." in page.text
        assert f'href="/challenges/{cid}#questions"' in page.text and "New" in page.text
        assert "You have a new notification." in page.text
        done = await post_form(browser_client, "/notifications/read", page="/notifications")
        assert done.status_code == 303
    after = (await client.get("/api/v1/notifications?unread=true", headers=headers)).json()
    assert after["total"] == 0 and after["unread"] == 0
    marked = await client.post("/api/v1/notifications/read", headers=headers)
    assert marked.json() == {"marked": 0}


async def test_following_through_the_pages(app, client, cast, people):
    draft = await _draft(client, cast)
    cid = draft["id"]
    await _publish(client, cast, cid)
    person = await english(await people.make())
    async with browser(app, person) as me:
        page = (await me.get(f"/challenges/{cid}")).text
        assert f'action="/challenges/{cid}/follow"' in page
        followed = await post_form(me, f"/challenges/{cid}/follow", page=f"/challenges/{cid}")
        assert followed.status_code == 303 and followed.headers["location"] == f"/challenges/{cid}"
        assert f'action="/challenges/{cid}/unfollow"' in (await me.get(f"/challenges/{cid}")).text
        assert await Follow.exists(user=person, challenge_id=cid)
        word = _word()
        saved = await post_form(me, "/follows", {"q": word, "category": "education", "municipality_type": ""}, page="/notifications")
        assert saved.status_code == 303
        page = (await me.get("/notifications")).text
        assert f"Words: {word}" in page and draft["title"]["en"] in page
        wrong = await post_form(me, "/follows", {"category": "NOT VALID"}, page="/notifications")
        assert wrong.status_code == 400 and "cannot be saved" in wrong.text
        search = await Follow.get(user=person, challenge_id=None)
        assert search.saved_query == {"q": word, "category": ["education"]}
        removed = await post_form(me, f"/follows/{search.id}/delete", page="/notifications")
        assert removed.status_code == 303
        unfollowed = await post_form(me, f"/challenges/{cid}/unfollow", page=f"/challenges/{cid}")
        assert unfollowed.status_code == 303
    assert not await Follow.exists(user=person)

