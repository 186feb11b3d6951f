"""Open data: the datasets' files, the DCAT catalogue (read with rdflib) and the CKAN API (read with ckanapi).

The world has public and private things side by side; every private one carries "SECRET" in its text,
and no file, catalogue entry or API answer may ever hold that word.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from datetime import timedelta

import httpx2
import pytest
from tortoise import timezone

from models.identity.orgs import Organisation
from models.insights import catalogue as open_catalogue
from models.insights.figures import compute_snapshots
from server.devrun import free_port
from tests.helpers import REPO_ROOT
from tests.opendata_world import SECRET, _challenge, make_open_world


@pytest.fixture
async def open_world(people):
    return await make_open_world(people)


async def _all_files(client) -> str:
    names = (await client.get("/api/3/action/package_list")).json()["result"]
    texts = []
    for name in names:
        for fmt in ("csv", "json"):
            response = await client.get(f"/data/{name}.{fmt}")
            assert response.status_code == 200, (name, fmt, response.text)
            texts.append(response.content.decode("utf-8-sig"))
    return "\n".join(texts)


async def test_the_files_hold_what_is_public_and_nothing_private(client, open_world):
    await compute_snapshots()
    n = open_world["n"]
    everything = await _all_files(client)
    for public in (f"公開課題OD{n}", f"決定課題OD{n}", f"公開質問OD{n}", f"公開回答OD{n}", f"採択提案OD{n}", f"採択株式会社{n}"):
        assert public in everything, public
    assert SECRET not in everything
    assert "4.25" not in everything and open_world["reviewer"].email not in everything
    catalogue = (await client.get("/data/catalog.jsonld")).text + (await client.get(
        "/api/3/action/package_search?rows=1000")).text + (await client.get("/data/")).text
    assert SECRET not in catalogue


async def test_results_name_the_selected_proposal_by_its_last_submitted_version(client, open_world):
    response = await client.get(f"/data/results-{open_world['code']}.json")
    rows = response.json()["rows"]
    assert [(r["proposal_title"], r["company_ja"], r["proposals_received"], r["proposals_selected"]) for r in rows] == [
        (f"採択提案OD{open_world['n']}", f"採択株式会社{open_world['n']}", 2, 1)]
    assert rows[0]["municipality_code"] == open_world["code"]


async def test_csv_has_a_bom_by_default_and_iso_dates_in_japan_time(client, open_world):
    name = f"challenges-{open_world['code']}"
    with_bom = await client.get(f"/data/{name}.csv")
    assert with_bom.headers["content-type"] == "text/csv; charset=utf-8"
    assert with_bom.content.startswith(b"\xef\xbb\xbf")
    without = await client.get(f"/data/{name}.csv?bom=0")
    assert not without.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(without.text)))
    assert [row["title_ja"] for row in rows] == [f"公開課題OD{open_world['n']}", f"決定課題OD{open_world['n']}"]
    assert rows[0]["published_at"].endswith("+09:00") and rows[0]["municipality_code"] == open_world["code"]
    document = (await client.get(f"/data/{name}.json")).json()
    assert document["license"]["id"] == "CC-BY-4.0" and document["generated_at"].endswith("+09:00")
    assert {"name": "municipality_code", "type": "string", "description_ja": "全国地方公共団体コード",
            "description_en": "Local government code (全国地方公共団体コード)"} in document["columns"]


async def test_an_unchanged_file_answers_304_and_a_change_gives_a_new_etag(client, open_world):
    url = f"/data/challenges-{open_world['code']}.csv"
    first = await client.get(url)
    etag = first.headers["etag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert (await client.get(url + "?bom=0", headers={"If-None-Match": etag})).status_code == 200
    await _challenge(open_world["agency"], f"新しい課題OD{open_world['n']}", "published")
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_an_unknown_dataset_is_404(client):
    assert (await client.get("/data/nothing-here.csv")).status_code == 404


async def test_rdflib_reads_the_catalogue_and_every_distribution_answers(client, open_world, monkeypatch):
    from rdflib import Graph, Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, RDF

    monkeypatch.setattr(open_catalogue, "PAGE_SIZE", 5)  # several pages, each read on its own
    graph = Graph()
    url, pages = "/data/catalog.jsonld", 0
    hydra = Namespace("http://www.w3.org/ns/hydra/core#")
    while url:
        response = await client.get(url)
        assert response.status_code == 200 and response.headers["content-type"] == "application/ld+json"
        page = Graph().parse(data=response.text, format="json-ld")
        assert len(list(page.subjects(RDF.type, DCAT.Catalog))) == 1
        for dataset in page.subjects(RDF.type, DCAT.Dataset):  # self-contained: each page names the publishers
            assert page.value(page.value(dataset, DCTERMS.publisher), URIRef("http://xmlns.com/foaf/0.1/name"))
        graph += page
        following = list(page.objects(None, hydra.next))
        url = str(following[0]).removeprefix("http://testserver") if following else ""
        pages += 1
    assert pages > 1
    rows = graph.query("""
        PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/>
        PREFIX adms: <http://www.w3.org/ns/adms#>
        SELECT ?id ?download ?type ?license ?modified WHERE {
          ?dataset a dcat:Dataset ; dct:identifier ?id ; dct:license ?license ; dct:modified ?modified ;
                   dcat:distribution ?d .
          ?d dcat:downloadURL ?download ; dcat:mediaType ?type .
        }""")
    found: dict[str, list] = {}
    for identifier, download, media_type, licence, _modified in rows:
        assert str(licence) == "https://creativecommons.org/licenses/by/4.0/"
        found.setdefault(str(identifier), []).append((str(download), str(media_type).rsplit("/", 2)[-2:]))
    listed = (await client.get("/api/3/action/package_list")).json()["result"]
    assert sorted(found) == sorted(listed) and f"challenges-{open_world['code']}" in found
    for name in (f"challenges-{open_world['code']}", f"results-{open_world['code']}", "answers", "figures"):
        for download, (top, sub) in found[name]:
            response = await client.get(download.removeprefix("http://testserver"))
            assert response.status_code == 200
            assert response.headers["content-type"].split(";")[0] == f"{top}/{sub}"


async def test_ckan_search_pages_by_id_and_filters_as_harvesters_do(client, open_world):
    code = open_world["code"]
    everything = (await client.get("/api/3/action/package_search", params={"rows": 1000})).json()["result"]
    ids = [p["id"] for p in everything["results"]]
    assert ids == sorted(ids) and everything["count"] == len(ids)
    paged = []
    for start in range(0, everything["count"], 3):
        page = (await client.get("/api/3/action/package_search",
                                 params={"rows": 3, "start": start, "sort": "id asc"})).json()["result"]
        paged += [p["id"] for p in page["results"]]
    assert paged == ids
    mine = (await client.get("/api/3/action/package_search", params={"fq": f"organization:{code}"})).json()["result"]
    assert sorted(p["name"] for p in mine["results"]) == [f"answers-{code}", f"challenges-{code}", f"results-{code}"]
    package = mine["results"][0]
    assert package["organization"]["name"] == code and package["license_id"] == "CC-BY-4.0"
    assert {r["format"] for r in package["resources"]} == {"CSV", "JSON"}
    since = (timezone.now() + timedelta(days=1)).astimezone(open_catalogue.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    later = (await client.get("/api/3/action/package_search",
                              params={"fq": f"metadata_modified:[{since}Z TO *]"})).json()["result"]
    assert later["count"] == 0
    since = (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    recent = (await client.get("/api/3/action/package_search", params={
        "fq": f"metadata_modified:[{since}Z TO *] organization:{code}"})).json()["result"]
    assert recent["count"] == 3
    organisations = (await client.get("/api/3/action/organization_list")).json()["result"]
    assert code in organisations and "kyoso" in organisations
    shown = (await client.get("/api/3/action/organization_show", params={"id": code})).json()["result"]
    assert shown["package_count"] == 3
    group = (await client.get("/api/3/action/group_show", params={"id": "challenges"})).json()["result"]
    assert f"challenges-{code}" in [p["name"] for p in group["packages"]]
    missing = await client.get("/api/3/action/package_show", params={"id": "nothing"})
    assert missing.status_code == 404 and missing.json()["success"] is False


async def test_a_withdrawn_dataset_is_shown_as_deleted_everywhere(client, open_world):
    code = open_world["code"]
    await open_catalogue.sync_records()
    await Organisation.filter(id=open_world["agency"].id).update(status="suspended")
    added, withdrawn = await open_catalogue.sync_records()
    assert sorted(withdrawn) == [f"answers-{code}", f"challenges-{code}", f"results-{code}"]
    shown = (await client.get("/api/3/action/package_show", params={"id": f"challenges-{code}"})).json()["result"]
    assert shown["state"] == "deleted" and shown["resources"] == []
    assert f"challenges-{code}" not in (await client.get("/api/3/action/package_list")).json()["result"]
    search = (await client.get("/api/3/action/package_search", params={"fq": f"organization:{code}"})).json()
    assert {p["state"] for p in search["result"]["results"]} == {"deleted"}
    assert (await client.get(f"/data/challenges-{code}.csv")).status_code == 410
    catalogue = json.dumps((await client.get("/data/catalog.jsonld?page=1")).json())
    assert "http://purl.org/adms/status/Withdrawn" in catalogue
    assert f"challenges-{code}" in (await client.get("/data/")).text


@pytest.fixture
def served(env, migrated):
    """A real Kyoso (`kyoso serve`) on a free port, on the tests' database."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                              env=dict(env, BASE_URL=base), cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


async def test_ckanapi_lists_and_shows_the_datasets_of_the_catalogue(client, open_world, served):
    import asyncio

    from ckanapi import NotFound, RemoteCKAN

    def harvest() -> tuple[list[str], dict, list[str], dict]:
        for get_only in (True, False):  # harvesters use GET; ckanapi's default is POST
            remote = RemoteCKAN(served, get_only=get_only, user_agent="kyoso-tests")
            names = remote.action.package_list()
            shown = remote.action.package_show(id=f"results-{open_world['code']}")
            organisations = remote.action.organization_list()
            searched = remote.action.package_search(fq=f"organization:{open_world['code']}", rows=10, start=0,
                                                    sort="id asc")
            try:
                remote.action.package_show(id="nothing-here")
                raise AssertionError("package_show found a dataset that does not exist")
            except NotFound:
                pass
        return names, shown, organisations, searched

    names, shown, organisations, searched = await asyncio.to_thread(harvest)
    catalogue = await open_catalogue.catalogue()
    assert names == [d.name for d in catalogue.live]
    assert shown["organization"]["name"] == open_world["code"] and shown["state"] == "active"
    assert {r["url"] for r in shown["resources"]} == {
        f"{served}/data/results-{open_world['code']}.csv", f"{served}/data/results-{open_world['code']}.json"}
    assert open_world["code"] in organisations
    assert searched["count"] == 3
    resource = httpx2.get(shown["resources"][0]["url"], timeout=30)
    assert resource.status_code == 200 and f"採択提案OD{open_world['n']}" in resource.content.decode("utf-8-sig")


async def test_an_export_reads_its_rows_batch_by_batch(client, open_world, monkeypatch, queries):
    from models.insights import datasets

    monkeypatch.setattr(datasets, "BATCH", 1)  # every row a batch of its own: keyset paging across the boundaries
    with queries() as log:
        response = await client.get(f"/data/challenges-{open_world['code']}.csv?bom=0")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["title_ja"] for row in rows] == [f"公開課題OD{open_world['n']}", f"決定課題OD{open_world['n']}"]
    batches = [sql for sql in log.statements if "LIMIT" in sql.upper() and '"challenge"' in sql and "GROUP BY" not in sql.upper()]
    assert len(batches) == 3, str(log)  # two rows, then an empty batch that ends the stream
