"""Solutions through the API, as an agency, a company, an operator and a visitor see them: drafted from an
adopted pilot, published by an operator, adopted by agencies that say so themselves, found in the catalogue
in Japanese and English once the worker has indexed it (never while a draft)."""

from __future__ import annotations

from tests.pilot_helpers import drain_backlog
from tests.solution_helpers import adopted_pilot_world

TOPICS = ("solution_search", "pilot_adopted")


async def test_from_an_adopted_pilot_to_a_catalogue_entry_three_agencies_adopt(client, people, settings):
    w = await adopted_pilot_world(people)
    owner, company, operator = [await people.token(w.users[name]) for name in ("owner", "company", "operator")]
    adopters = [await people.token(w.users[f"adopter{n}"]) for n in range(3)]

    drafted = await client.post(f"/api/v1/pilots/{w.pilot_id}/solution", headers=owner)
    assert drafted.status_code == 201, drafted.text
    solution = drafted.json()
    sid = solution["id"]
    assert solution["status"] == "draft" and solution["pilot_id"] == w.pilot_id
    assert solution["results"] == [{"kpi": {"ja": "待ち時間"}, "baseline": 40.0, "latest": 22.0, "unit": "min"}]
    assert solution["positive_share"] == 0.75
    again = await client.post(f"/api/v1/pilots/{w.pilot_id}/solution", headers=owner)
    assert again.json()["id"] == sid  # one solution per pilot
    assert (await client.get(f"/api/v1/solutions/{sid}")).status_code == 404  # a draft is not public
    assert (await client.get(f"/api/v1/solutions/{sid}", headers=company)).status_code == 200

    bad = await client.patch(f"/api/v1/solutions/{sid}", headers=owner, json={"yearly_cost_yen": -1, "title": {"fr": "x"}})
    assert bad.status_code == 422 and "yearly_cost_yen" in {e["field"] for e in bad.json()["errors"]}
    edited = await client.patch(f"/api/v1/solutions/{sid}", headers=owner, json={
        "title": {"ja": "窓口予約システム", "en": "Counter booking system"},
        "summary": {"ja": "窓口の待ち時間を半分にした", "en": "Halved the waiting time at the counter"},
        "initial_cost_yen": 1_200_000, "yearly_cost_yen": 480_000, "spec_shareable": True})
    assert edited.status_code == 200, edited.text
    await drain_backlog(settings, TOPICS)
    found = await client.get("/api/v1/solutions", params={"q": "窓口予約"})
    assert sid not in [item["id"] for item in found.json()["items"]]  # never found while a draft

    review = await client.post(f"/api/v1/solutions/{sid}/transitions", headers=owner, json={"to": "in_review"})
    assert review.status_code == 200 and review.json()["status"] == "in_review"
    refused = await client.post(f"/api/v1/solutions/{sid}/transitions", headers=owner, json={"to": "published"})
    assert refused.status_code == 409 and "published" not in refused.json()["allowed"]
    published = await client.post(f"/api/v1/solutions/{sid}/transitions", headers=operator, json={"to": "published"})
    assert published.status_code == 200 and published.json()["published_at"]

    adoption_ids = []
    for number, headers in enumerate(adopters):
        stated = await client.post(f"/api/v1/solutions/{sid}/adoptions", headers=headers,
                                   json={"status": "considering", "scale": 40_000 + number})
        assert stated.status_code == 201, stated.text
        adoption_ids.append(stated.json()["id"])
    vendor = await client.post(f"/api/v1/solutions/{sid}/adoptions", headers=company, json={"status": "live"})
    assert vendor.status_code == 403  # the vendor does not write the list
    for number, moves in ((0, ["contracted", "live"]), (1, ["live"])):
        for to in moves:
            moved = await client.post(f"/api/v1/adoptions/{adoption_ids[number]}/transitions", headers=adopters[number],
                                      json={"to": to, "starts_on": "2027-04-01"})
            assert moved.status_code == 200 and moved.json()["status"] == to, moved.text
    unreasoned = await client.post(f"/api/v1/adoptions/{adoption_ids[2]}/transitions", headers=adopters[2], json={"to": "dropped"})
    assert unreasoned.status_code == 422
    dropped = await client.post(f"/api/v1/adoptions/{adoption_ids[2]}/transitions", headers=adopters[2],
                                json={"to": "dropped", "reason": "予算が付かなかった"})
    assert dropped.status_code == 200 and dropped.json()["reason"] == "予算が付かなかった"

    public = (await client.get(f"/api/v1/solutions/{sid}")).json()
    assert public["adopted_count"] == 2 and public["used_by_count"] == 3
    assert {(a["agency"]["name"]["en"], a["status"]) for a in public["adopters"]} == {
        ("Shinjuku City", "live"), ("Setagaya City", "live"), ("Koto City", "dropped")}
    assert public["corrections"] == []  # the visitor sees no corrections

    await drain_backlog(settings, TOPICS)
    for words in ("窓口予約", "Counter booking"):
        result = (await client.get("/api/v1/solutions", params={"q": words})).json()
        hit = next(item for item in result["items"] if item["id"] == sid)
        assert hit["adopted_count"] == 2
    facets = (await client.get("/api/v1/solutions", params={"q": "Counter booking", "adoption": "2-4"})).json()
    assert sid in [item["id"] for item in facets["items"]]
    koto = (await client.get("/api/v1/agencies/131083/adoptions")).json()
    assert [(a["solution_id"], a["status"]) for a in koto["items"] if a["solution_id"] == sid] == [(sid, "dropped")]
    assert (await client.get("/api/v1/agencies/99999x/adoptions")).status_code == 404


async def test_corrections_through_the_api(client, people, settings):
    from tests.solution_helpers import published_solution_world

    w = await published_solution_world(people)
    owner, company = await people.token(w.users["owner"]), await people.token(w.users["company"])
    proposed = await client.post(f"/api/v1/solutions/{w.solution_id}/corrections", headers=company,
                                 json={"changes": {"yearly_cost_yen": 360_000}, "note": "値下げ"})
    assert proposed.status_code == 201, proposed.text
    cid = proposed.json()["id"]
    told = (await client.get("/api/v1/notifications", headers=owner)).json()["items"]
    assert any(n["kind"] == "solution.correction_proposed" and n["link"] == f"/solutions/{w.solution_id}"
               and n["message"] == "企業が解決策の修正を提案しました。" for n in told), told
    assert (await client.post(f"/api/v1/solution-corrections/{cid}/transitions", headers=company,
                              json={"to": "accepted"})).status_code == 403
    accepted = await client.post(f"/api/v1/solution-corrections/{cid}/transitions", headers=owner, json={"to": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (await client.get(f"/api/v1/solutions/{w.solution_id}")).json()["yearly_cost_yen"] == 360_000
