"""How many SQL statements the challenge list and detail pages make, for a visitor, a company member and an
owner agency's member: a bound each, so that a change adding a statement per row or per panel fails here (the
pages' speed is measured by bench/pages.py). Counted with the kept parts off, as the tests' app has them: what a
page costs when nothing is kept."""

from __future__ import annotations

import uuid

import pytest

from search.database import DatabaseBackend
from tests.helpers import _draft, _publish, browser, complete_challenge

# (page, reader) -> at most this many statements. A signed-in page starts with 1 (the session with its person and
# their memberships with their organisations). The list: the facets' counts and one page of challenges with their
# owners and categories. The detail page: the challenge with its owner and category, co-owners, amendments,
# criteria, KPIs, answered questions, interests, attachments, similar challenges (two pools of candidates, then
# the owners and categories of those shown), similar solutions;
# + for a signed-in reader, one statement telling which of their own rows they have (questions waiting, a follow,
# their company's proposal: models.challenges.reader), each then read only if they have it; + an owner's
# questions with askers (in place of the answered ones), agencies to invite, pending invitation and count of
# proposals received.
MOST = {
    ("list", "visitor"): 3,
    ("list", "company"): 4,
    ("list", "agency"): 4,
    ("detail", "visitor"): 13,
    ("detail", "company"): 15,
    ("detail", "agency"): 18,
}


@pytest.fixture
def database_search(app, monkeypatch):
    monkeypatch.setattr(app.state.services, "search", DatabaseBackend())  # the default backend: reads the rows


async def _statements(app, user, path: str, queries, shown: list[int] = ()) -> tuple[int, str]:
    async with browser(app, user) as reader:
        await reader.get(path)  # a first visit sets the CSRF cookie; category and agency names are cached
        with queries() as log:
            page = await reader.get(path)
    assert page.status_code == 200, page.text
    assert all(f'href="/challenges/{number}"' in page.text for number in shown), "a challenge is missing"
    return log.count, str(log)


async def _publish_more(client, cast, tag: str, count: int) -> list[int]:
    """Published challenges of two agencies, in two categories (rows that would each need their own look-ups)."""
    published = []
    for number in range(count):
        owner = ("agency", "other_agency")[number % 2]
        category = ("administrative-procedures", "childcare")[number % 2]
        draft = await client.post("/api/v1/challenges", json=complete_challenge(tags=[tag], category=category),
                                  headers=cast[owner])
        url = f"/api/v1/challenges/{draft.json()['id']}/transitions"
        assert (await client.post(url, json={"to": "in_review"}, headers=cast[owner])).status_code == 200
        assert (await client.post(url, json={"to": "published"}, headers=cast["operator"])).status_code == 200
        published.append(draft.json()["id"])
    return published


async def test_the_challenge_pages_make_a_bounded_number_of_statements_for_each_reader(
        app, client, cast, queries, database_search):
    tag = f"count-{uuid.uuid4().hex[:8]}"
    await _publish_more(client, cast, tag, 2)
    challenge = await _publish(client, cast, (await _draft(client, cast, tags=[tag]))["id"])
    readers = {"visitor": None, "company": cast["users"]["company"], "agency": cast["users"]["agency"]}
    paths = {"list": f"/challenges?tag={tag}", "detail": f"/challenges/{challenge['id']}"}
    found = {(page, reader): await _statements(app, user, path, queries)
             for page, path in paths.items() for reader, user in readers.items()}
    for key, (count, log) in found.items():
        assert count <= MOST[key], f"{key}: {count}\n{log}"


async def test_the_list_page_makes_as_many_statements_for_many_challenges_as_for_few(
        app, client, cast, queries, database_search):
    tag = f"count-{uuid.uuid4().hex[:8]}"
    shown = await _publish_more(client, cast, tag, 1)
    readers = {"visitor": None, "company": cast["users"]["company"]}
    few = {reader: await _statements(app, user, f"/challenges?tag={tag}", queries, shown) for reader, user in readers.items()}
    shown += await _publish_more(client, cast, tag, 6)
    for reader, user in readers.items():
        count, log = await _statements(app, user, f"/challenges?tag={tag}", queries, shown)
        assert count == few[reader][0], f"{reader}: {few[reader][1]}\n---\n{log}"
