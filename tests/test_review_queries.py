"""The review's hot pages and API calls make a fixed number of SQL statements, however many proposals there are."""

from __future__ import annotations

from dataclasses import dataclass

from tests.review_helpers import (
    RUN,
    agency,
    company,
    headers,
    open_challenge,
    pass_deadline,
    person,
    run_job,
    submit,
)
from tests.web import sign_in_as


@dataclass
class Counts:
    ranking_page: int
    ranking_api: int
    inbox: int
    assignments_page: int
    assignments_api: int
    reviews_api: int


async def _counts(client, migrated, queries, proposals: int) -> Counts:
    owner = await person("owner", org=await agency())
    operator = await person("operator", operator=True)
    panel = [await person(f"reviewer{i}", reviewer=True) for i in range(2)]
    h = {u.id: await headers(u) for u in (owner, operator, *panel)}
    challenge = await open_challenge(client, h[owner.id], h[operator.id])
    cid = challenge["id"]
    await client.put(f"/api/v1/challenges/{cid}/panel", headers=h[owner.id],
                     json={"reviewers": [r.id for r in panel], "reviews_per_proposal": 2})
    for i in range(proposals):
        member = await person(f"company{i}", org=await company(f"社{i} {RUN}"))
        await submit(client, await headers(member), cid, title=f"提案{i}")
    await pass_deadline(cid)
    await run_job(migrated, "close_due_challenges")

    async def count(url: str, **kwargs) -> int:
        with queries() as log:
            response = await client.get(url, **kwargs)
        assert response.status_code == 200, (url, response.text)
        return log.count

    await sign_in_as(client, owner)
    ranking_page = await count(f"/challenges/{cid}/ranking")
    assignments_page = await count(f"/challenges/{cid}/assignments")
    ranking_api = await count(f"/api/v1/challenges/{cid}/ranking", headers=h[owner.id])
    assignments_api = await count(f"/api/v1/challenges/{cid}/assignments", headers=h[owner.id])
    reviews_api = await count("/api/v1/assignments", headers=h[panel[0].id])
    await sign_in_as(client, panel[0])
    inbox = await count("/reviews")
    return Counts(ranking_page, ranking_api, inbox, assignments_page, assignments_api, reviews_api)


async def test_the_review_pages_make_as_many_queries_for_two_proposals_as_for_six(client, migrated, queries):
    few = await _counts(client, migrated, queries, 2)
    many = await _counts(client, migrated, queries, 6)
    assert few == many, (few, many)
    # One query each (ranking: the reader's, assignments: the panel's) reads partner profiles, whose declared
    # employers and clients are conflicts (models.partners.expertise).
    assert many.ranking_page <= 17 and many.ranking_api <= 18, many
    assert many.inbox <= 8 and many.reviews_api <= 7, many
    assert many.assignments_page <= 22 and many.assignments_api <= 22, many
