"""One contract, two backends: Meilisearch and the database find the same solutions in the catalogue, with
the same facets (category, municipality type, adoption, has_savings), in Japanese and English; drafts,
solutions in review and withdrawn ones are never found. The corpus is restricted by id, so solutions other
tests create never interfere; Meilisearch gets an index of its own, filled by the outbox consumer's code."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from tortoise import timezone

from models.challenges.models import Challenge
from models.identity.orgs import Category, Organisation
from models.solutions.models import Adoption, ProcurementRound, RoundMember, Solution
from search.solutions import DatabaseSolutionBackend, MeiliSolutionBackend, SolutionQuery, sync_solution

LISTED = ("booking", "bus", "checkup")


@pytest.fixture(scope="module")
async def corpus(app) -> dict[str, int]:
    orgs = {code: await Organisation.get(municipality_code=code) for code in ("131016", "132012", "130001")}
    chiyoda, hachioji, tokyo = orgs["131016"], orgs["132012"], orgs["130001"]  # a ward, a city, the prefecture
    company = await Organisation.create(kind="company", status="approved", name_ja=f"検索社 {secrets.token_hex(3)}",
                                        name_en="Kensaku KK")
    categories = {c.slug: c for c in await Category.all()}
    now = timezone.now()
    rows = {
        "booking": (chiyoda, "administrative-procedures", "published", {"ja": "窓口予約システム", "en": "Counter booking system"}),
        "bus": (hachioji, "mobility", "published", {"ja": "コミュニティバスの運行最適化", "en": "Community bus route optimisation"}),
        "checkup": (tokyo, "health", "published", {"ja": "健診のオンライン予約", "en": "Online health checkup booking"}),
        "draft": (chiyoda, "health", "draft", {"ja": "下書きの予約", "en": "Draft booking"}),
        "review": (chiyoda, "health", "in_review", {"ja": "審査中の予約", "en": "Booking in review"}),
        "withdrawn": (chiyoda, "health", "withdrawn", {"ja": "取り下げた予約", "en": "Withdrawn booking"}),
    }
    ids = {}
    for hours, (name, (owner, category, status, title)) in enumerate(rows.items()):
        challenge = await Challenge.create(owner=owner, category=categories[category], title=title, status="decided")
        solution = await Solution.create(
            challenge=challenge, company=company, owner=owner, agency_ids=[owner.id], status=status, title=title,
            summary={"ja": "待ち時間を減らした", "en": "Cut the waiting"},
            published_at=now - timedelta(hours=hours) if status in ("published", "withdrawn") else None)
        ids[name] = solution.id
    # booking: two agencies use it (a city live, the prefecture contracted); checkup: one live, one dropped.
    await Adoption.create(solution_id=ids["booking"], agency=hachioji, municipality_code="132012", status="live")
    await Adoption.create(solution_id=ids["booking"], agency=tokyo, municipality_code="130001", status="contracted")
    await Adoption.create(solution_id=ids["checkup"], agency=chiyoda, municipality_code="131016", status="live")
    await Adoption.create(solution_id=ids["checkup"], agency=hachioji, municipality_code="132012", status="dropped")
    # booking's contracted joint procurement recorded a saving.
    round_ = await ProcurementRound.create(lead=chiyoda, solution_id=ids["booking"], item_ja="ライセンス", unit="licence",
                                           closes_at=now, status="contracted", contract_price_yen=700_000)
    await RoundMember.create(round=round_, agency=hachioji, quantity=1, solo_estimate_yen=1_000_000, share_yen=700_000,
                             saving_yen=300_000)
    return ids


@pytest.fixture(scope="module", params=["database", "meilisearch"])
async def backend(request, corpus, meili):
    if request.param == "database":
        yield DatabaseSolutionBackend()
        return
    meili_backend = MeiliSolutionBackend(meili.url, meili.master_key, index=f"solutions_{secrets.token_hex(4)}")
    await meili_backend.prepare(wait=True)
    for solution_id in corpus.values():  # what the outbox consumer does for each change
        await sync_solution(meili_backend, solution_id)
    yield meili_backend
    await meili_backend.client.index(meili_backend.index_uid).delete()
    await meili_backend.close()


def _names(corpus: dict[str, int], hits) -> list[str]:
    by_id = {v: k for k, v in corpus.items()}
    return [by_id.get(hit["id"], f"stranger:{hit['id']}") for hit in hits]


async def test_contract_words_in_japanese_and_english(backend, corpus):
    ids = tuple(corpus.values())
    assert _names(corpus, (await backend.search(SolutionQuery(q="予約", ids=ids))).hits) == ["booking", "checkup"]
    assert _names(corpus, (await backend.search(SolutionQuery(q="booking", ids=ids))).hits) == ["booking", "checkup"]
    assert _names(corpus, (await backend.search(SolutionQuery(q="bus route", ids=ids))).hits) == ["bus"]
    assert _names(corpus, (await backend.search(SolutionQuery(q="バス", ids=ids))).hits) == ["bus"]
    assert (await backend.search(SolutionQuery(q="booking nothing-like-this", ids=ids))).total == 0


async def test_contract_drafts_in_review_and_withdrawn_are_never_found(backend, corpus):
    everything = await backend.search(SolutionQuery(ids=tuple(corpus.values()), per_page=50))
    assert _names(corpus, everything.hits) == list(LISTED)  # newest first
    assert everything.total == 3


async def test_contract_facets_and_filters(backend, corpus):
    ids = tuple(corpus.values())
    every = await backend.search(SolutionQuery(ids=ids))
    assert every.facets["category"] == {"administrative-procedures": 1, "health": 1, "mobility": 1}
    assert every.facets["adoption"] == {"0": 1, "1": 1, "2-4": 1}
    assert every.facets["has_savings"] == {"false": 2, "true": 1}
    assert every.facets["municipality_type"] == {"city": 2, "prefecture": 2, "ward": 2}
    assert _names(corpus, (await backend.search(SolutionQuery(category=("mobility",), ids=ids))).hits) == ["bus"]
    prefecture = await backend.search(SolutionQuery(municipality_type=("prefecture",), ids=ids))
    assert _names(corpus, prefecture.hits) == ["booking", "checkup"]
    adopted = await backend.search(SolutionQuery(adoption=("2-4",), ids=ids))
    assert _names(corpus, adopted.hits) == ["booking"]
    assert adopted.facets["adoption"] == {"0": 1, "1": 1, "2-4": 1}  # a facet's counts ignore its own filter
    saved = await backend.search(SolutionQuery(has_savings=True, ids=ids))
    assert _names(corpus, saved.hits) == ["booking"] and saved.hits[0]["savings_yen"] == 300_000
    assert saved.hits[0]["adopted_count"] == 2
    paged = await backend.search(SolutionQuery(ids=ids, per_page=2, page=2))
    assert _names(corpus, paged.hits) == ["checkup"] and paged.total == 3


async def test_a_withdrawn_solution_leaves_the_index_through_the_consumer(corpus, meili):
    backend = MeiliSolutionBackend(meili.url, meili.master_key, index=f"solutions_{secrets.token_hex(4)}")
    await backend.prepare(wait=True)
    try:
        await sync_solution(backend, corpus["bus"])
        assert (await backend.search(SolutionQuery(q="bus", ids=(corpus["bus"],)))).total == 1
        await Solution.filter(id=corpus["bus"]).update(status="withdrawn")
        await sync_solution(backend, corpus["bus"])
        assert (await backend.search(SolutionQuery(q="bus", ids=(corpus["bus"],)))).total == 0
    finally:
        await Solution.filter(id=corpus["bus"]).update(status="published")
        await backend.client.index(backend.index_uid).delete()
        await backend.close()
