"""Joint procurement through the API: a round with three members, its contract and savings as each role
sees them, refusals as problem details, an agency's savings, and the round as an OCDS release package
valid against the OCDS schema (vendored in tests/data/ocds)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs

from tests.procurement_helpers import procurement_world

OCDS = Path(__file__).parent / "data" / "ocds"
RELEASE_SCHEMA_URLS = ("https://standard.open-contracting.org/schema/1__1__5/release-schema.json",)


def _ocds_validator():
    package = json.loads((OCDS / "release-package-schema-1__1__5.json").read_text())
    release = json.loads((OCDS / "release-schema-1__1__4.json").read_text())

    def retrieve(uri: str):
        if uri in RELEASE_SCHEMA_URLS:
            return release
        raise ValueError(f"no network at test time: {uri}")

    return jsonschema_rs.Draft4Validator(package, retriever=retrieve, validate_formats=True)


async def _round_of_three(client, people):
    w = await procurement_world(people)
    h = [await people.token(u) for u in w["users"]]
    opened = await client.post("/api/v1/procurements", headers=h[0], json={
        "solution_id": w["solution"].id, "item": {"ja": "窓口予約ライセンス", "en": "Counter booking licences"},
        "unit": "licence", "closes_at": w["closes_at"].isoformat()})
    assert opened.status_code == 201, opened.text
    rid = opened.json()["id"]
    for headers, body in zip(h, ({"quantity": 10, "solo_estimate_yen": 4_000_000, "estimate_source": "quote"},
                                 {"quantity": 7, "solo_estimate_yen": 2_900_000, "estimate_source": "last_contract"},
                                 {"quantity": 4, "solo_estimate_yen": 1_700_000}), strict=True):
        joined = await client.post(f"/api/v1/procurements/{rid}/members", headers=headers, json=body)
        assert joined.status_code == 201, joined.text
    return w, h, rid


async def test_a_round_through_the_api_adds_up_and_is_valid_open_contracting_data(client, people):
    w, h, rid = await _round_of_three(client, people)
    company = await people.token(w["company_user"])
    assert (await client.get(f"/api/v1/procurements/{rid}")).status_code == 404  # not public while open
    assert (await client.get(f"/api/v1/procurements/{rid}", headers=company)).status_code == 404
    seen = (await client.get(f"/api/v1/procurements/{rid}", headers=h[1])).json()
    assert [m["quantity"] for m in seen["members"]] == [10, 7, 4] and seen["joinable"] is True
    assert (await client.get(f"/api/v1/procurements/{rid}/ocds", headers=h[0])).status_code == 409

    refused = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=h[1], json={"to": "closed"})
    assert refused.status_code == 403
    closed = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=h[0], json={"to": "closed"})
    assert closed.status_code == 200 and closed.json()["allowed_transitions"] == ["contracted"]
    late = await client.post(f"/api/v1/procurements/{rid}/members", headers=h[2], json={"quantity": 1, "solo_estimate_yen": 1})
    assert late.status_code == 409 and late.headers["content-type"].startswith("application/problem+json")
    negative = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=h[0],
                                 json={"to": "contracted", "contract_price_yen": -1})
    assert negative.status_code == 422
    missing = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=h[0], json={"to": "contracted"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "contract_price_yen"
    contracted = await client.post(f"/api/v1/procurements/{rid}/transitions", headers=h[0],
                                   json={"to": "contracted", "contract_price_yen": 6_000_001})
    assert contracted.status_code == 200, contracted.text
    body = contracted.json()
    # 6,000,001 yen over 21 units: exact shares 2,857,143.33, 2,000,000.33, 1,142,857.33; equal remainders: the lone yen goes to the first.
    assert [m["share_yen"] for m in body["members"]] == [2_857_144, 2_000_000, 1_142_857]
    assert sum(m["share_yen"] for m in body["members"]) == 6_000_001
    assert [m["saving_yen"] for m in body["members"]] == [4_000_000 - body["members"][0]["share_yen"],
                                                          2_900_000 - body["members"][1]["share_yen"],
                                                          1_700_000 - body["members"][2]["share_yen"]]
    assert body["saving_yen"] == 8_600_000 - 6_000_001 == sum(m["saving_yen"] for m in body["members"])

    public = (await client.get(f"/api/v1/procurements/{rid}")).json()
    assert public["saving_yen"] == 2_599_999 and public["contract_price_yen"] == 6_000_001
    assert [m["agency"]["code"] for m in public["members"]] == [a.municipality_code for a in w["agencies"]]
    assert {m["quantity"] for m in public["members"]} == {None}  # the members' figures stay with the members
    assert rid in [r["id"] for r in (await client.get("/api/v1/procurements")).json()["items"]]
    for agency, member in zip(w["agencies"], body["members"], strict=True):
        saved = (await client.get(f"/api/v1/agencies/{agency.municipality_code}/savings")).json()
        assert saved["saving_yen"] == member["saving_yen"] and saved["contract_yen"] == member["share_yen"]
    assert (await client.get("/api/v1/agencies/999999x/savings")).status_code == 404
    told = (await client.get("/api/v1/notifications", headers=h[2])).json()["items"]
    assert any(n["kind"] == "procurement.contracted" and n["link"] == f"/procurements/{rid}" for n in told), told

    rows = (await client.get("/data/procurements.json")).json()["rows"]
    row = next(r for r in rows if r["procurement_id"] == rid)
    assert row["contract_price_yen"] == 6_000_001 and row["saving_yen"] == 2_599_999 and row["members"] == 3
    assert row["member_municipality_codes"].split() == [a.municipality_code for a in w["agencies"]]
    assert "quantity" not in row and "solo_estimate_yen" not in row
    lead_rows = (await client.get(f"/data/procurements-{w['agencies'][0].municipality_code}.json")).json()["rows"]
    assert [r["procurement_id"] for r in lead_rows] == [rid]

    package = (await client.get(f"/api/v1/procurements/{rid}/ocds")).json()
    errors = [f"{e.instance_path}: {e.message}" for e in _ocds_validator().iter_errors(package)]
    assert errors == []
    release = package["releases"][0]
    broken = {**package, "releases": [{k: v for k, v in release.items() if k != "ocid"}]}
    assert not _ocds_validator().is_valid(broken)  # the schema is really applied to each release
    buyers = [p for p in release["parties"] if "buyer" in p["roles"]]
    assert len(buyers) == 3 and release["tender"]["procuringEntity"]["id"] == buyers[0]["id"]
    assert "procuringEntity" in buyers[0]["roles"]
    supplier = next(p for p in release["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"] == {"scheme": "JP-JCN", "id": w["company"].corporate_number,
                                      "legalName": w["company"].name_ja}
    assert [c["buyer"]["id"] for c in release["contracts"]] == [b["id"] for b in buyers]
    assert sum(c["value"]["amount"] for c in release["contracts"]) == release["awards"][0]["value"]["amount"] == 6_000_001


async def test_only_agency_members_open_and_join_and_bad_input_is_a_clear_422(client, people):
    w = await procurement_world(people)
    lead = await people.token(w["users"][0])
    company = await people.token(w["company_user"])
    body = {"solution_id": w["solution"].id, "item": {"ja": "ライセンス"}, "unit": "seat",
            "closes_at": w["closes_at"].isoformat()}
    assert (await client.post("/api/v1/procurements", json=body)).status_code == 401
    assert (await client.post("/api/v1/procurements", headers=company, json=body)).status_code == 403
    for change, field in (({"unit": "barrel"}, "unit"), ({"closes_at": "2001-01-01T00:00:00+09:00"}, "closes_at"),
                          ({"solution_id": None}, "solution_id"), ({"item": {"ja": ""}}, "item")):
        refused = await client.post("/api/v1/procurements", headers=lead, json={**body, **change})
        assert refused.status_code == 422, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]]
    opened = await client.post("/api/v1/procurements", headers=lead, json=body)
    rid = opened.json()["id"]
    for bad in ({"quantity": 0, "solo_estimate_yen": 1}, {"quantity": 1, "solo_estimate_yen": -1},
                {"quantity": 1.5, "solo_estimate_yen": 1}, {"quantity": 1, "solo_estimate_yen": 1, "estimate_source": "x"}):
        assert (await client.post(f"/api/v1/procurements/{rid}/members", headers=lead, json=bad)).status_code == 422
    joined = await client.post(f"/api/v1/procurements/{rid}/members", headers=company, json={"quantity": 1, "solo_estimate_yen": 1})
    assert joined.status_code == 404  # a company does not see an open round
