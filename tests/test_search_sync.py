"""From a committed change to a search result: the outbox, a real arq worker, Meilisearch, the API and page.

And what happens while Meilisearch is down: writes still succeed, search answers from the database
and says so, and once Meilisearch is back the worker drains the backlog by itself.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise import timezone

from models.challenges.models import Challenge
from models.core import outbox
from models.core.outbox import OutboxMessage
from models.identity.orgs import Category, Organisation
from search.backend import FallbackBackend, open_backend
from server import jobs
from tests.helpers import run_kyoso
from tests.services import MeiliServer
from tests.workers import run_worker_once as run_workers_once


def unique_word() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=12))


async def run_worker_once(settings) -> None:
    """A burst worker as `kyoso worker` runs it, opening the search backend from these settings."""
    await run_workers_once(settings, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)


async def publish(word: str, **fields) -> Challenge:
    """A published challenge and its outbox message, committed together (as the lifecycle does)."""
    now = timezone.now()
    challenge = await Challenge.create(
        owner=await Organisation.get(municipality_code="131016"),
        category=await Category.get(slug="childcare"),
        status="published",
        title={"ja": f"保育園の入園申請 {word}", "en": f"Nursery admission applications {word}"},
        summary={"ja": "書類の準備に時間がかかる。", "en": "Preparing the documents takes long."},
        tags=["保育"],
        budget_min_yen=1_000_000,
        budget_max_yen=3_000_000,
        proposals_deadline=now + timedelta(days=14),
        published_at=now,
        **fields,
    )
    await outbox.enqueue("search", f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id})
    return challenge


async def search_api(client, **params) -> dict:
    response = await client.get("/api/v1/challenges", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_outbox_message_drained_by_the_worker_makes_a_challenge_searchable(app, client, migrated):
    word = unique_word()
    challenge = await publish(word)
    assert (await search_api(client, q=word))["items"] == []  # not indexed yet: the worker has not run

    await run_worker_once(migrated)

    body = await search_api(client, q=word)
    assert body["degraded"] is False
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 20
    (item,) = body["items"]
    assert item["id"] == challenge.id
    assert item["title"] == {"ja": f"保育園の入園申請 {word}", "en": f"Nursery admission applications {word}"}
    assert item["category"] == "childcare" and item["status"] == "published"
    assert item["agency"]["name"]["ja"] == "千代田区"
    assert item["proposals_deadline"].endswith("+09:00")
    assert "<mark>" in item["highlight"]["title"]["en"]
    assert {"value": "childcare", "count": 1, "name": {"ja": "子育て", "en": "Childcare"}} in body["facets"]["category"]
    assert body["facets"]["municipality_type"] == [{"value": "ward", "count": 1, "name": None}]

    page = await client.get("/challenges", params={"q": word, "lang": "en"})
    assert page.status_code == 200
    assert f'href="/challenges/{challenge.id}"' in page.text
    assert "1 challenge found" in page.text
    assert 'id="search-degraded"' not in page.text

    # Cancelled after publication: still public (its page says why), so it stays, and its status is a filter.
    challenge.status = "cancelled"
    await challenge.save(update_fields=["status"])
    await outbox.enqueue("search", f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id})
    await run_worker_once(migrated)
    body = await search_api(client, q=word, status="cancelled")
    assert [item["id"] for item in body["items"]] == [challenge.id] and body["items"][0]["status"] == "cancelled"
    assert body["facets"]["status"] == [{"value": "cancelled", "count": 1, "name": None}]
    page = await client.get("/challenges", params={"q": word, "status": "cancelled", "lang": "en"})
    assert page.status_code == 200 and f'href="/challenges/{challenge.id}"' in page.text

    # Back to a state only owners see: the next message takes it out of the index.
    challenge.status, challenge.published_at = "draft", None
    await challenge.save(update_fields=["status", "published_at"])
    await outbox.enqueue("search", f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id})
    await run_worker_once(migrated)
    assert (await search_api(client, q=word))["items"] == []


async def test_filters_in_the_query_string(client, migrated):
    word = unique_word()
    published = await publish(word)
    await run_worker_once(migrated)
    for params in (
        {"category": "childcare"},
        {"category": "health,childcare"},
        {"municipality_type": "ward", "status": "published"},
        {"budget_min": "2000000", "budget_max": ""},
        {"tag": "保育", "sort": "deadline"},
    ):
        body = await search_api(client, q=word, **params)
        assert [i["id"] for i in body["items"]] == [published.id], params
    response = await client.get(f"/api/v1/challenges?q={word}&category=health&category=childcare")
    assert [i["id"] for i in response.json()["items"]] == [published.id]
    assert (await search_api(client, q=word, category="health"))["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "draft"},
        {"sort": "cheapest"},
        {"page": "0"},
        {"per_page": "1000"},
        {"budget_min": "many"},
        {"budget_min": "5", "budget_max": "1"},
        {"deadline_after": "2026-02-30"},
        {"agency": "x"},
        {"q": "あ" * 201},
    ],
)
async def test_bad_input_is_a_clear_error_not_a_crash(client, params):
    response = await client.get("/api/v1/challenges", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    page = await client.get("/challenges", params={**params, "lang": "en"})
    assert page.status_code == 422
    assert "There is a problem" in page.text


async def test_the_search_page_works_without_javascript(client):
    page = await client.get("/challenges", params={"lang": "en", "category": "childcare"})
    assert page.status_code == 200
    text = page.text
    assert 'role="search"' in text and 'method="get" action="http://testserver/challenges"' in text
    assert '<label for="field-q">' in text and '<label for="field-sort">' in text
    assert 'name="category" value="childcare" checked' in text
    assert "<legend>Category</legend>" in text


async def test_search_degrades_while_meilisearch_is_down_and_catches_up_after(
    app, client, migrated, tmp_path: Path, monkeypatch
):
    server = MeiliServer(tmp_path / "meili")
    server.start()
    settings = migrated.model_copy(update={"meili_url": server.url, "meili_master_key": server.master_key})
    backend = open_backend(server.url, server.master_key)
    assert isinstance(backend, FallbackBackend)
    backend.cooldown = 0  # ask Meilisearch again at once, so the test sees it come back
    monkeypatch.setattr(app.state.services, "search", backend)
    try:
        await backend.prepare(wait=True)
        before = unique_word()
        first = await publish(before)
        await run_worker_once(settings)
        body = await search_api(client, q=before)
        assert [i["id"] for i in body["items"]] == [first.id] and body["degraded"] is False

        server.stop()

        # Publishing still works: it only writes the row and the outbox message.
        word = unique_word()
        challenge = await publish(word)
        body = await search_api(client, q=word)
        assert body["degraded"] is True
        assert [i["id"] for i in body["items"]] == [challenge.id]  # the database answers
        page = await client.get("/challenges", params={"q": word})
        assert page.status_code == 200
        assert 'id="search-degraded"' in page.text and f'href="/challenges/{challenge.id}"' in page.text
        assert (await client.get("/readyz")).json()["checks"]["search"] == "down"

        await run_worker_once(settings)  # the consumer fails; the message waits with back-off
        message = await OutboxMessage.filter(key=f"challenge:{challenge.id}").first()
        assert message.processed_at is None and message.attempts >= 1

        server.start()  # same data directory, same port

        deadline = time.monotonic() + 60
        while True:  # what the cron does every 10 s
            await run_worker_once(settings)
            await message.refresh_from_db()
            if message.processed_at is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert message.processed_at is not None, message.last_error

        body = await search_api(client, q=word)
        assert body["degraded"] is False
        assert [i["id"] for i in body["items"]] == [challenge.id]
        assert "<mark>" in body["items"][0]["highlight"]["title"]["en"]  # Meilisearch answered
        body = await search_api(client, q=before)
        assert [i["id"] for i in body["items"]] == [first.id]  # what was indexed before survived the restart
    finally:
        await backend.close()
        server.stop()


async def test_kyoso_reindex_rebuilds_the_index_from_the_database(app, client, env):
    word = unique_word()
    challenge = await publish(word)
    await OutboxMessage.filter(key=f"challenge:{challenge.id}").delete()  # as if the index had lost it
    assert (await search_api(client, q=word))["items"] == []

    result = await asyncio.to_thread(run_kyoso, env, "reindex")
    assert result.returncode == 0, result.stderr
    assert "reindexed" in result.stdout and "swapped" in result.stdout
    # not a terminal: plain progress lines (a log), the last one at 100%
    assert "documents read (100%)" in result.stderr, result.stderr

    body = await search_api(client, q=word)
    assert [i["id"] for i in body["items"]] == [challenge.id] and body["degraded"] is False

    result = await asyncio.to_thread(run_kyoso, {**env, "MEILI_URL": ""}, "reindex")
    assert result.returncode == 0 and "nothing to reindex" in result.stdout
