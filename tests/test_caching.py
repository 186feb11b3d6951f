"""Conditional GET: what is the same for every visitor carries an ETag and `Cache-Control: public`, and a
client that has it gets 304; nothing made for a signed-in person (or carrying a form token) is ever shared."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

from models.challenges.models import Follow, Interest
from models.policy import actor_for
from models.proposals.models import Proposal
from server.caching import PageCache, pages_changed
from tests.helpers import _draft, _publish, browser, english, make_company


async def test_a_visitor_revalidates_a_public_challenge_page_and_gets_304(client, cast):
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    page = await client.get(f"/challenges/{challenge['id']}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, no-cache"
    etag = page.headers["etag"]
    assert "Cookie" in page.headers["vary"] and "Accept-Language" in page.headers["vary"]

    again = await client.get(f"/challenges/{challenge['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b"" and again.headers["etag"] == etag

    other = await client.get(f"/challenges/{challenge['id']}", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == page.content


async def test_the_api_gives_visitors_an_etag_and_token_holders_none(client, cast):
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    url = f"/api/v1/challenges/{challenge['id']}"
    public = await client.get(url)
    assert public.status_code == 200 and public.headers["cache-control"] == "public, no-cache"
    assert (await client.get(url, headers={"If-None-Match": public.headers["etag"]})).status_code == 304

    mine = await client.get(url, headers=cast["agency"])
    assert mine.status_code == 200
    assert mine.headers["cache-control"] == "private, no-cache" and "etag" not in mine.headers


async def test_no_shared_answer_carries_a_name_a_token_or_a_form_key(app, client, cast):
    """Signed in, a person's pages are private; a visitor's pages with a form token are private too."""
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    person = cast["users"]["agency"]
    paths = ["/", f"/challenges/{challenge['id']}", "/challenges", "/login", "/signup", "/about"]
    async with browser(app, person) as signed_in:
        for path in paths:
            response = await signed_in.get(path)
            if response.status_code != 200:
                continue
            assert "public" not in response.headers.get("cache-control", ""), path
            assert "etag" not in response.headers, path
    shared = 0
    async with browser(app) as visitor:
        for path in paths:
            response = await visitor.get(path)
            if "public" not in response.headers.get("cache-control", ""):
                continue
            shared += 1
            for secret in (person.name, "csrftoken", "kyoso_session"):
                assert secret not in response.text, (path, secret)
            assert "set-cookie" not in response.headers, path
        login = await visitor.get("/login")  # its form carries a token tied to this browser
        assert login.headers["cache-control"] == "private, no-cache" and "etag" not in login.headers
    assert shared >= 2  # the home page and the challenge page at least


async def test_a_language_being_remembered_is_not_shared(client, cast):
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    response = await client.get(f"/challenges/{challenge['id']}?lang=en")
    assert "set-cookie" in response.headers
    assert "public" not in response.headers.get("cache-control", "") and "etag" not in response.headers


@contextmanager
def page_cache(app, seconds: float = 60.0):
    """Turn on the app's kept pages (the shared test settings have them off, so other tests see every change)."""
    cache: PageCache = app.state.page_cache
    cache.keep_seconds, before = seconds, cache.keep_seconds
    cache.forget()
    try:
        yield cache
    finally:
        cache.keep_seconds = before
        cache.forget()


async def test_a_kept_page_is_served_to_visitors_without_the_database_until_something_changes(app, client, cast, queries):
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    path = f"/challenges/{challenge['id']}"
    with page_cache(app):
        first = await client.get(path)
        assert first.status_code == 200 and first.headers["cache-control"] == "public, no-cache"
        with queries() as log:
            again = await client.get(path)
            revalidated = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert log.count == 0, str(log)
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        assert again.headers["content-language"] == first.headers["content-language"]  # the outer layers still run
        assert revalidated.status_code == 304 and revalidated.content == b""

        person = cast["users"]["agency"]  # a signed-in person is never served the kept page
        async with browser(app, person) as signed_in:
            theirs = await signed_in.get(path)
        assert person.name in theirs.text and theirs.headers["cache-control"] == "private, no-cache"

        english = await client.get(path, headers={"Accept-Language": "en"})  # each language kept apart
        assert english.headers["content-language"] == "en" and english.content != first.content

        await pages_changed(app.state.services.redis)  # as a worker does after its drain: a change made elsewhere
        with queries() as log:
            fresh = await client.get(path)
        assert log.count > 0 and fresh.content == first.content  # made again, though nothing here changed

        cancelled = await client.post(f"/api/v1/challenges/{challenge['id']}/transitions",
                                      json={"to": "cancelled", "reason": "Budget withdrawn"}, headers=cast["agency"])
        assert cancelled.status_code == 200, cancelled.text
        after = await client.get(path)  # the change went through this process: the kept pages were dropped
        assert after.status_code == 200 and after.content != first.content
        assert after.headers["etag"] != first.headers["etag"]


async def test_a_signed_in_person_gets_their_own_page_made_of_kept_public_parts_and_sees_a_change_at_once(
        app, client, cast, queries):
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    path = f"/challenges/{challenge['id']}"
    company, agency = cast["users"]["company"], cast["users"]["other_agency"]
    with page_cache(app) as cache:
        async with browser(app, company) as signed_in:
            with queries() as log:
                first = await signed_in.get(path)
            with queries() as again_log:
                again = await signed_in.get(path)
            assert again_log.count < log.count, str(again_log)  # the challenge's public rows were kept
            assert company.name in again.text and again.headers["cache-control"] == "private, no-cache"
            async with browser(app, agency) as other:  # someone else's page: their name, not the first reader's
                theirs = await other.get(path)
            assert agency.name in theirs.text and company.name not in theirs.text

            registered = await client.post(f"/api/v1/challenges/{challenge['id']}/interest",
                                           json={"note": "同じ課題があります"}, headers=cast["other_agency"])
            assert registered.status_code == 200, registered.text
            after = await signed_in.get(path)  # the change went through this process: nothing kept is served
            assert "同じ課題があります" in after.text and "同じ課題があります" not in first.text

            await Interest.filter(challenge_id=challenge["id"]).update(note="別の工程で")  # written by another process
            assert "別の工程で" not in (await signed_in.get(path)).text  # the rows kept here a moment ...
            await pages_changed(app.state.services.redis)  # ... until that process moves the pages' version on
            assert "別の工程で" in (await signed_in.get(path)).text

            # the page's public parts are rendered once for every reader in a language: nothing of a reader's in them
            english = await signed_in.get(f"{path}?lang=en")
            assert english.headers["content-language"] == "en" and company.name in english.text
            kept = [value for key, (_, _, value) in cache.values.items() if key[0] == "challenge parts"]
            assert len(kept) == 2  # Japanese and English
            for parts in kept:
                for html in parts.values():
                    for secret in (company.name, agency.name, "csrftoken", "<form", "kyoso_session"):
                        assert secret not in html, secret
            assert "<h2>Summary</h2>" in english.text and "<h2>Summary</h2>" not in after.text

            cancelled = await client.post(f"/api/v1/challenges/{challenge['id']}/transitions",
                                          json={"to": "cancelled", "reason": "Budget withdrawn"}, headers=cast["agency"])
            assert cancelled.status_code == 200, cancelled.text
            now = await signed_in.get(path)  # its heading and text changed: shown at once, not the kept parts
            assert "Budget withdrawn" in now.text and "Budget withdrawn" not in after.text


async def test_a_readers_own_rows_are_read_for_them_each_time_beside_the_kept_parts(app, client, cast, people):
    """Their question waiting for an answer, their follow, their company's proposal: shown on their page at once,
    even when written where the pages' version did not move, and on nobody else's."""
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    path = f"/challenges/{challenge['id']}"
    asker = await english(cast["users"]["company"])
    bystander = await english(await people.make(org=await make_company()))
    secret = "Which vendor runs the booking system today?"
    with page_cache(app):
        async with browser(app, asker) as theirs, browser(app, bystander) as other:
            for page in (await theirs.get(path), await other.get(path)):  # the public parts are kept from here on
                assert secret not in page.text and "Stop following" not in page.text
            asked = await client.post(f"/api/v1/challenges/{challenge['id']}/questions", json={"body": secret},
                                      headers=cast["company"])
            assert asked.status_code == 201, asked.text
            company = (await actor_for(asker)).organisation
            await Follow.create(user=asker, challenge_id=challenge["id"])  # as another process would: no version moved
            proposal = await Proposal.create(challenge_id=challenge["id"], company=company, created_by=asker)
            mine = (await theirs.get(path)).text
            assert secret in mine and "Stop following" in mine and f'href="/proposals/{proposal.id}"' in mine
            seen = (await other.get(path)).text
            assert bystander.name in seen
            assert secret not in seen and "Stop following" not in seen and f'href="/proposals/{proposal.id}"' not in seen


async def test_readers_arriving_together_wait_for_the_public_parts_being_made_rather_than_each_making_them(
        app, client, cast, people, queries):
    challenge = await _publish(client, cast, (await _draft(client, cast))["id"])
    path = f"/challenges/{challenge['id']}"
    users = [cast["users"]["company"], *[await people.make(org=await make_company()) for _ in range(2)]]
    with page_cache(app) as cache:
        async with browser(app, users[0]) as first, browser(app, users[1]) as second, browser(app, users[2]) as third:
            readers = (first, second, third)
            for reader in readers:
                await reader.get(path)  # a first visit sets the CSRF cookie
            cache.forget()
            with queries() as alone:
                await first.get(path)  # nothing kept: the public parts made
            with queries() as kept:
                await first.get(path)  # only this reader's own
            cache.forget()
            with queries() as together:
                pages = await asyncio.gather(*(reader.get(path) for reader in readers))
    for user, page in zip(users, pages, strict=True):
        assert page.status_code == 200 and user.name in page.text
        assert all(other.name not in page.text for other in users if other is not user)
    assert kept.count < alone.count
    assert together.count == alone.count + 2 * kept.count, str(together)
