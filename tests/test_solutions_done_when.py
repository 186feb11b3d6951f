"""Issue 12's first Done-when line as one story, through the API and the pages as people would use them: an
adopted pilot drafts its solution (the worker's outbox consumer), an operator publishes it, three agencies
adopt it (one drops), three agencies buy it together in a round that closes, the contract is recorded, and the
shares and savings add up to the yen on the round, the solution (API and page), each agency's pages and the
platform totals (/insights and the figures snapshot)."""

from __future__ import annotations

from models.insights.figures import compute_snapshots
from models.insights.models import PLATFORM, InsightSnapshot
from tests.solution_helpers import adopted_pilot_world, drain_adopted

PRICE = 6_000_001  # over 21 units: no whole-yen split, the remainder yen must not be lost
JOINS = ((10, 4_000_000), (7, 2_900_000), (4, 1_700_000))
SHARES = [2_857_144, 2_000_000, 1_142_857]
SAVINGS = [4_000_000 - 2_857_144, 2_900_000 - 2_000_000, 1_700_000 - 1_142_857]


async def _platform_figures(scope: str = PLATFORM) -> dict[str, int]:
    snapshot = await InsightSnapshot.filter(scope=scope).order_by("-computed_at", "-id").first()
    assert snapshot is not None
    return {item["key"]: item["value"] for item in snapshot.figures["totals"]}


async def _saved(client, code: str) -> dict[str, int]:
    saved = await client.get(f"/api/v1/agencies/{code}/savings")
    assert saved.status_code == 200, saved.text
    return saved.json()


async def test_from_adopted_pilot_to_a_contracted_round_the_yen_add_up_everywhere(client, people):
    w = await adopted_pilot_world(people)
    owner, operator = [await people.token(w.users[name]) for name in ("owner", "operator")]
    adopters = [await people.token(w.users[f"adopter{n}"]) for n in range(3)]
    codes = [a.municipality_code for a in w.agencies]

    assert await drain_adopted() >= 1  # the worker drafts the solution from the adopted pilot
    drafted = await client.post(f"/api/v1/pilots/{w.pilot_id}/solution", headers=owner)  # the existing draft
    sid = drafted.json()["id"]
    assert drafted.json()["status"] == "draft" and drafted.json()["pilot_id"] == w.pilot_id, drafted.text
    edited = await client.patch(f"/api/v1/solutions/{sid}", headers=owner, json={
        "title": {"ja": "窓口予約システム", "en": "Counter booking system"},
        "summary": {"ja": "窓口の待ち時間を半分にした", "en": "Halved the waiting time at the counter"},
        "initial_cost_yen": 1_200_000, "yearly_cost_yen": 480_000})
    assert edited.status_code == 200, edited.text
    assert (await client.post(f"/api/v1/solutions/{sid}/transitions", headers=owner, json={"to": "in_review"})).status_code == 200
    published = await client.post(f"/api/v1/solutions/{sid}/transitions", headers=operator, json={"to": "published"})
    assert published.status_code == 200 and published.json()["status"] == "published"

    adoption_ids = []
    for headers in adopters:
        stated = await client.post(f"/api/v1/solutions/{sid}/adoptions", headers=headers, json={"status": "considering"})
        assert stated.status_code == 201, stated.text
        adoption_ids.append(stated.json()["id"])
    for number in (0, 1):
        moved = await client.post(f"/api/v1/adoptions/{adoption_ids[number]}/transitions", headers=adopters[number],
                                  json={"to": "contracted", "starts_on": "2027-04-01"})
        assert moved.status_code == 200, moved.text
    dropped = await client.post(f"/api/v1/adoptions/{adoption_ids[2]}/transitions", headers=adopters[2],
                                json={"to": "dropped", "reason": "予算が付かなかった"})
    assert dropped.status_code == 200, dropped.text

    before = {code: await _saved(client, code) for code in codes}
    await compute_snapshots()
    platform_before = await _platform_figures()

    # The two adopters and the pilot's own agency buy it together; the first adopter leads.
    members = [adopters[0], adopters[1], owner]
    member_codes = [codes[0], codes[1], w.agency.municipality_code]
    before[w.agency.municipality_code] = await _saved(client, w.agency.municipality_code)
    opened = await client.post("/api/v1/procurements", headers=adopters[0], json={
        "solution_id": sid, "item": {"ja": "窓口予約ライセンス", "en": "Counter booking licences"}, "unit": "licence",
        "closes_at": "2099-01-01T17:00:00+09:00"})
    assert opened.status_code == 201, opened.text
    rid = opened.json()["id"]
    for headers, (quantity, estimate) in zip(members, JOINS, strict=True):
        joined = await client.post(f"/api/v1/procurements/{rid}/members", headers=headers,
                                   json={"quantity": quantity, "solo_estimate_yen": estimate, "estimate_source": "quote"})
        assert joined.status_code == 201, joined.text
    closed = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=adopters[0], json={"to": "closed"})
    assert closed.status_code == 200, closed.text
    late = await client.post(f"/api/v1/procurements/{rid}/members", headers=adopters[2],
                             json={"quantity": 1, "solo_estimate_yen": 1})
    assert late.status_code == 409  # the agency that dropped cannot join after closing
    contracted = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=adopters[0],
                                   json={"to": "contracted", "contract_price_yen": PRICE})
    assert contracted.status_code == 200, contracted.text

    # The round, as a member sees it: shares sum exactly to the price, savings are estimate - share.
    round_ = contracted.json()
    assert [m["agency"]["code"] for m in round_["members"]] == member_codes
    assert [m["share_yen"] for m in round_["members"]] == SHARES and sum(SHARES) == PRICE
    assert [m["saving_yen"] for m in round_["members"]] == SAVINGS
    total = sum(estimate for _quantity, estimate in JOINS) - PRICE
    assert round_["saving_yen"] == total == sum(SAVINGS) == 2_599_999
    public_round = (await client.get(f"/api/v1/procurements/{rid}")).json()
    assert public_round["saving_yen"] == total and public_round["contract_price_yen"] == PRICE

    # The solution: the API and the page, for a visitor.
    solution = (await client.get(f"/api/v1/solutions/{sid}")).json()
    assert solution["savings_yen"] == total
    assert solution["adopted_count"] == 2
    assert {(a["agency"]["municipality_code"], a["status"]) for a in solution["adopters"]} == {
        (codes[0], "contracted"), (codes[1], "contracted"), (codes[2], "dropped")}
    page = await client.get(f"/solutions/{sid}")
    assert page.status_code == 200 and "2,599,999円" in page.text
    assert f'href="/procurements/{rid}"' in page.text  # the solution's page leads to its round
    english = await client.get(f"/solutions/{sid}", params={"lang": "en"})
    assert "¥2,599,999" in english.text

    # Each member agency: the savings API and page moved by exactly its share and saving.
    for code, share, saving in zip(member_codes, SHARES, SAVINGS, strict=True):
        after = await _saved(client, code)
        assert after["saving_yen"] - before[code]["saving_yen"] == saving
        assert after["contract_yen"] - before[code]["contract_yen"] == share
        savings_page = await client.get(f"/agencies/{code}/savings", params={"lang": "ja"})
        assert f'<strong id="saving">{after["saving_yen"]:,}円</strong>' in savings_page.text
    assert await _saved(client, codes[2]) == before[codes[2]]  # the agency that dropped saved nothing here
    adoptions_page = (await client.get(f"/agencies/{codes[2]}/adoptions")).text
    assert f"/solutions/{sid}" in adoptions_page

    # The platform totals: the figures snapshot and /insights.
    await compute_snapshots()
    platform = await _platform_figures()
    assert platform["procurement_saving_yen"] - platform_before.get("procurement_saving_yen", 0) == total
    assert platform["procurement_contract_yen"] - platform_before.get("procurement_contract_yen", 0) == PRICE
    assert platform["procurement_rounds"] - platform_before.get("procurement_rounds", 0) == 1
    insights = (await client.get("/insights", params={"lang": "en"})).text
    assert f"Saved by joint procurement (yen)</dt><dd>{platform['procurement_saving_yen']:,}</dd>" in insights
    # The pilot's agency publishes challenges, so its own insights snapshot carries its savings too.
    shibuya = await _platform_figures(w.agency.municipality_code)
    assert shibuya["procurement_saving_yen"] == (await _saved(client, w.agency.municipality_code))["saving_yen"]
