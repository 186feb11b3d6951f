"""Insights: figures computed by the job into snapshots; pages (SVG charts and tables), CSV and the API agree."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from tortoise import timezone

from models.insights.figures import compute_snapshots
from models.insights.models import InsightSnapshot
from server import jobs
from tests.opendata_world import make_open_world

VALUE = re.compile(r'<desc class="value">([^<]*)</desc>')


@pytest.fixture
async def open_world(people):
    return await make_open_world(people)


def _chart_values(page: str, name: str) -> list[float]:
    section = page.split(f'id="chart-{name}"', 1)[1].split("</section>", 1)[0]
    return [float(value) for value in VALUE.findall(section.split("</svg>", 1)[0])]


async def test_the_job_snapshots_the_figures_and_the_api_gives_them(client, open_world):  # noqa: F811
    code = open_world["code"]
    assert await jobs.compute_insights({}) >= 2  # the platform, and each publishing agency
    body = (await client.get(f"/api/v1/agencies/{code}/insights")).json()
    assert body["scope"] == code and body["computed_at"].endswith("+09:00")
    totals = {item["key"]: item["value"] for item in body["totals"]}
    assert totals == {"challenges_published": 2, "proposals_received": 2, "challenges_decided": 1,
                      "median_days_to_decision": 10.0}
    assert [item["value"] for item in body["proposals_per_challenge"]] == [2, 0]  # oldest first: the decided one
    assert [item["key"] for item in body["per_municipality_type"]] == ["town"]
    months = body["per_month"]
    assert sum(item["value"] for item in months) == 2 and all(re.fullmatch(r"\d{4}-\d{2}", m["key"]) for m in months)
    platform = (await client.get("/api/v1/insights")).json()
    assert platform["scope"] == "platform"
    assert {i["key"]: i["value"] for i in platform["totals"]}["challenges_published"] >= 2


async def test_the_charts_hold_the_numbers_the_api_gives(client, open_world):  # noqa: F811
    await compute_snapshots()
    for url, api in (("/insights", "/api/v1/insights"),
                     (f"/agencies/{open_world['code']}/insights", f"/api/v1/agencies/{open_world['code']}/insights")):
        figures = (await client.get(api)).json()
        page = (await client.get(url + "?lang=en")).text
        assert "Computed at" in page and "<script" not in page
        for name in ("per_month", "per_category", "per_municipality_type", "proposals_per_challenge"):
            if not figures[name]:
                assert f'id="chart-{name}"' not in page  # no empty chart
                continue
            assert _chart_values(page, name) == [item["value"] for item in figures[name]], name
            numbers = await client.get(f"{url}/{name}.csv")
            assert numbers.status_code == 200 and numbers.content.startswith(b"\xef\xbb\xbf")
            rows = list(csv.DictReader(io.StringIO(numbers.content.decode("utf-8-sig"))))
            assert [float(row["value"]) for row in rows] == [item["value"] for item in figures[name]]
            assert f'href="{url}/{name}.csv"' in page


async def test_the_page_speaks_japanese_and_english(client, open_world):  # noqa: F811
    await compute_snapshots()
    url = f"/agencies/{open_world['code']}/insights"
    japanese = (await client.get(url + "?lang=ja")).text
    english = (await client.get(url + "?lang=en")).text
    assert "月別の公開課題数" in japanese and f"公開町{open_world['n']}" in japanese
    assert "Challenges published per month" in english and f"Open Town {open_world['n']}" in english


async def test_pages_read_the_latest_snapshot_and_say_when_it_was_computed(client, open_world):  # noqa: F811
    code = open_world["code"]
    assert "not been computed yet" in (await client.get(f"/agencies/{code}/insights?lang=en")).text
    earlier = timezone.now() - timedelta(days=2)
    await compute_snapshots(earlier)
    await compute_snapshots()
    latest = await InsightSnapshot.filter(scope=code).order_by("-computed_at").first()
    body = (await client.get(f"/api/v1/agencies/{code}/insights")).json()
    assert datetime.fromisoformat(body["computed_at"]) == latest.computed_at
    assert (await client.get("/agencies/000000/insights")).status_code == 404


async def test_a_page_view_reads_only_the_snapshot(client, open_world, queries):  # noqa: F811
    await compute_snapshots()
    with queries() as log:
        response = await client.get(f"/agencies/{open_world['code']}/insights")
    assert response.status_code == 200
    assert log.count <= 3, str(log)  # the agency, the snapshot (and the visitor's session lookup, if any)


async def test_the_openapi_document_describes_the_insights(client):
    document = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/insights" in document["paths"] and "/api/v1/agencies/{code}/insights" in document["paths"]
    assert "InsightsOut" in document["components"]["schemas"]


async def test_an_agency_code_that_cannot_exist_is_a_404_not_a_500(client):
    for code in ("reviewer", "13101%00", "1" * 300, "１３１０１６"):
        for path in (f"/api/v1/agencies/{code}/insights", f"/agencies/{code}/insights"):
            response = await client.get(path)
            assert response.status_code == 404, (path, response.status_code)
