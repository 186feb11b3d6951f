"""One contract, two backends: Meilisearch and the database answer the same searches alike.

The corpus is a handful of challenges carrying a tag unique to this run; every query filters on it,
so challenges other tests create in the shared database never interfere. Meilisearch gets an index
of its own, filled through the outbox consumer's own code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from tortoise import timezone

from models.challenges.models import Challenge
from models.identity.orgs import Category, Organisation
from search.backend import SearchQuery
from search.database import DatabaseBackend
from search.meili import MeiliBackend
from search.sync import documents_for_reindex, sync_challenge

BACKENDS = ["database", "meilisearch"]


@dataclass
class Corpus:
    marker: str
    now: datetime
    ids: dict[str, int]  # name -> challenge id
    agencies: dict[str, int]  # chiyoda / hachioji / tokyo -> organisation id

    def names(self, hits) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id.get(hit["id"], f"stranger:{hit['id']}") for hit in hits]

    def query(self, **values) -> SearchQuery:
        values["tags"] = (self.marker, *values.get("tags", ()))
        return SearchQuery(now=self.now, **values)


def _text(ja: str = "", en: str = "") -> dict[str, str]:
    return {lang: text for lang, text in (("ja", ja), ("en", en)) if text}


@pytest.fixture(scope="module")
async def corpus(app) -> Corpus:
    marker = f"contract-{secrets.token_hex(4)}"
    now = timezone.now()
    day = timedelta(days=1)
    orgs = {
        "chiyoda": await Organisation.get(municipality_code="131016"),  # a special ward
        "hachioji": await Organisation.get(municipality_code="132012"),  # a city
        "tokyo": await Organisation.get(municipality_code="130001"),  # the metropolitan government
    }
    categories = {c.slug: c for c in await Category.all()}
    rows = {
        "A": dict(owner="chiyoda", category="childcare", status="published",
                  title=_text("子育て支援の申請をオンラインで10分に", "Childcare support applications online in 10 minutes"),
                  summary=_text("オンライン申請の途中離脱を減らしたい。", "Reduce drop-outs in the online application."),
                  tags=["子育て", "オンライン申請", "DX"], budget=(1_000_000, 5_000_000), deadline=30, published=-10),
        "B": dict(owner="hachioji", category="childcare", status="closed",
                  title=_text("こども食堂の運営を支えるしくみ", "Supporting children's cafeterias"),
                  summary=_text("地域の食堂の情報をまとめたい。", "Bring together information on local cafeterias."),
                  tags=["こども"], budget=(500_000, 2_000_000), deadline=-5, published=-40),
        "C": dict(owner="tokyo", category="health", status="decided",
                  title=_text("健診の予約を簡単にしたい", "Simpler health checkup booking"),
                  summary=_text("電話予約が混雑している。", "Phone booking lines are congested."),
                  tags=["健康"], budget=(10_000_000, 30_000_000), deadline=-60, published=-90),
        "D": dict(owner="chiyoda", category="mobility", status="published",
                  title=_text("コミュニティバスの運行を最適化", "Optimising community bus routes"),
                  summary=_text("利用者データを活用して運行を見直す。", "Use ridership data to redesign routes."),
                  tags=["交通"], budget=(None, None), deadline=10, published=-1),
        "E": dict(owner="hachioji", category="administrative-procedures", status="published",
                  title=_text(en="Online permit application for small shops"),
                  summary=_text(en="Shop owners apply on paper today."),
                  tags=["申請"], budget=(2_000_000, 8_000_000), deadline=60, published=-5),
        # Cancelled after publication: public, with its status, as on its page (models.policy.challenges).
        "F": dict(owner="tokyo", category="mobility", status="cancelled",
                  title=_text("粗大ごみの収集受付を自動化", "Automating bulky waste collection requests"),
                  summary=_text("電話受付をやめたい。", "Stop taking requests by phone."),
                  tags=["ごみ"], budget=(None, None), deadline=15, published=-20),
        # Never found: not (or never) published.
        "draft": dict(owner="chiyoda", category="childcare", status="draft",
                      title=_text("子育て 下書き オンライン申請", "Childcare draft online"), summary={}, tags=[],
                      budget=(1, 10**9), deadline=20, published=None),
        "cancelled": dict(owner="hachioji", category="childcare", status="cancelled",
                          title=_text("子育て 中止 オンライン申請", "Childcare cancelled online"), summary={}, tags=[],
                          budget=(1, 10**9), deadline=20, published=None),
        "in_review": dict(owner="tokyo", category="childcare", status="in_review",
                          title=_text("子育て 審査中 オンライン申請", "Childcare in review online"), summary={}, tags=[],
                          budget=(1, 10**9), deadline=20, published=None),
    }
    ids = {}
    for name, row in rows.items():
        challenge = await Challenge.create(
            owner=orgs[row["owner"]], category=categories[row["category"]], status=row["status"],
            title=row["title"], summary=row["summary"], tags=[marker, *row["tags"]],
            budget_min_yen=row["budget"][0], budget_max_yen=row["budget"][1],
            proposals_deadline=now + row["deadline"] * day,
            published_at=now + row["published"] * day if row["published"] is not None else None,
        )
        ids[name] = challenge.id
    yield Corpus(marker=marker, now=now, ids=ids, agencies={k: v.id for k, v in orgs.items()})
    await Challenge.filter(id__in=list(ids.values())).delete()


@pytest.fixture(scope="module", params=BACKENDS)
async def backend(request, corpus, meili):
    if request.param == "database":
        yield DatabaseBackend()
        return
    meili_backend = MeiliBackend(meili.url, meili.master_key, index=f"contract_{secrets.token_hex(4)}")
    await meili_backend.prepare(wait=True)
    for challenge_id in corpus.ids.values():  # what the outbox consumer does for each change
        await sync_challenge(meili_backend, challenge_id)
    yield meili_backend
    await meili_backend.client.index(meili_backend.index_uid).delete()
    await meili_backend.close()


async def found(backend, corpus: Corpus, **values) -> list[str]:
    result = await backend.search(corpus.query(**values))
    assert result.degraded is False
    return corpus.names(result.hits)


# --- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("子育て", {"A", "B"}),  # kanji and kana, no spaces; B through its category's name
        ("こども", {"B"}),  # kana only
        ("健診", {"C"}),  # kanji only
        ("申請", {"A", "E"}),  # kanji only, in a title and in a tag
        ("申請 オンライン", {"A"}),  # mixed: every word must match
        ("オンライン 申請", {"A"}),
        ("online", {"A", "E"}),  # English
        ("ONLINE permit", {"E"}),
        ("booking", {"C"}),
        ("千代田区", {"A", "D"}),  # the agency's name
        ("存在しない言葉", set()),
    ],
)
async def test_words_in_japanese_and_english(backend, corpus, q, expected):
    assert set(await found(backend, corpus, q=q)) == expected


async def test_one_typo_in_english_still_finds_it(backend, corpus):
    # the database backend forgives it when nothing matches as typed (words of 5+ letters, as Meilisearch)
    assert set(await found(backend, corpus, q="chidlcare")) == {"A", "B"}
    assert set(await found(backend, corpus, q="bookng")) == {"C"}


async def test_unpublished_challenges_are_never_returned(backend, corpus):
    everything = await backend.search(corpus.query(per_page=100))
    assert sorted(corpus.names(everything.hits)) == ["A", "B", "C", "D", "E", "F"]
    assert everything.total == 6
    for q in ("下書き", "中止", "審査中", "draft", "cancelled", "review"):
        assert await found(backend, corpus, q=q) == []
    # not even when asked for by status: only the one cancelled after publication
    result = await backend.search(corpus.query(statuses=("draft", "cancelled", "in_review")))
    assert corpus.names(result.hits) == ["F"] and result.total == 1
    assert sum(result.facets["status"].values()) == 6  # the status facet ignores its own filter


async def test_a_challenge_cancelled_after_publication_is_found_with_its_status(backend, corpus):
    assert await found(backend, corpus, q="粗大ごみ") == ["F"]
    assert await found(backend, corpus, statuses=("cancelled",)) == ["F"]
    result = await backend.search(corpus.query(q="bulky"))
    assert result.hits[0]["status"] == "cancelled"
    assert result.facets["status"] == {"cancelled": 1}
    assert "F" not in await found(backend, corpus, sort="deadline")  # not open, whatever its deadline


# --- facets and filters ----------------------------------------------------------------------


async def test_facets_count_every_match(backend, corpus):
    result = await backend.search(corpus.query())
    agencies = corpus.agencies
    assert result.facets == {
        "category": {"childcare": 2, "health": 1, "mobility": 2, "administrative-procedures": 1},
        "agency": {str(agencies["chiyoda"]): 2, str(agencies["hachioji"]): 2, str(agencies["tokyo"]): 2},
        "municipality_type": {"ward": 2, "city": 2, "prefecture": 2},
        "status": {"published": 3, "closed": 1, "decided": 1, "cancelled": 1},
    }


async def test_facet_counts_follow_the_other_filters_but_not_their_own(backend, corpus):
    result = await backend.search(corpus.query(categories=("childcare",)))
    assert sorted(corpus.names(result.hits)) == ["A", "B"] and result.total == 2
    # choosing another category would add these:
    assert result.facets["category"] == {"childcare": 2, "health": 1, "mobility": 2, "administrative-procedures": 1}
    assert result.facets["status"] == {"published": 1, "closed": 1}
    assert result.facets["municipality_type"] == {"ward": 1, "city": 1}

    result = await backend.search(corpus.query(q="online"))
    assert result.facets["category"] == {"childcare": 1, "administrative-procedures": 1}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"categories": ("childcare", "health")}, {"A", "B", "C"}),
        ({"agencies": "chiyoda"}, {"A", "D"}),
        ({"municipality_types": ("city",)}, {"B", "E"}),
        ({"municipality_types": ("ward", "prefecture")}, {"A", "C", "D", "F"}),
        ({"statuses": ("closed", "decided")}, {"B", "C"}),
        ({"budget_min": 6_000_000}, {"C", "E"}),
        ({"budget_max": 1_500_000}, {"A", "B"}),
        ({"budget_min": 3_000_000, "budget_max": 9_000_000}, {"A", "E"}),
        ({"tags": ("子育て",)}, {"A"}),
        ({"tags": ("子育て", "交通")}, set()),  # every tag must be present
        ({"tags": ("dx",)}, {"A"}),  # whole tags, in any case
        ({"tags": ("D",)}, set()),
        ({"deadline_after": 20}, {"A", "E"}),
        ({"deadline_before": 0}, {"B", "C"}),
        ({"deadline_after": 0, "deadline_before": 45}, {"A", "D", "F"}),
        ({"q": "online", "categories": ("administrative-procedures",)}, {"E"}),
        ({"q": "申請", "statuses": ("published",), "agencies": "hachioji"}, {"E"}),
    ],
)
async def test_filters(backend, corpus, filters, expected):
    values = dict(filters)
    if "agencies" in values:
        values["agencies"] = (corpus.agencies[values["agencies"]],)
    for name in ("deadline_after", "deadline_before"):
        if name in values:
            values[name] = corpus.now + timedelta(days=values[name])
    assert set(await found(backend, corpus, **values)) == expected


# --- sorting and pages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["D", "E", "A", "F", "B", "C"]),
        ("relevance", ["D", "E", "A", "F", "B", "C"]),  # with no words, newest first
        ("deadline", ["D", "A", "E"]),  # soonest first, only open ones with deadlines still ahead
        ("budget", ["C", "E", "A", "B", "D", "F"]),  # highest first, no budget last
    ],
)
async def test_sorts(backend, corpus, sort, expected):
    assert await found(backend, corpus, sort=sort) == expected


async def test_relevance_finds_the_same_challenges(backend, corpus):
    assert set(await found(backend, corpus, q="オンライン", sort="relevance")) == {"A"}
    assert await found(backend, corpus, q="online", sort="newest") == ["E", "A"]


async def test_equally_relevant_challenges_come_newest_first(backend, corpus):
    """Two challenges alike but for when they were published: the newer first on both backends, whichever was
    written (and indexed) first; so a search answers the same while the database stands in for Meilisearch."""
    marker = f"twins-{secrets.token_hex(4)}"
    owner, category = await Organisation.get(municipality_code="131016"), await Category.get(slug="childcare")
    twins = {}
    for name, days_ago in (("older", 9), ("newer", 2)):  # the older one written and indexed first
        challenge = await Challenge.create(
            owner=owner, category=category, status="published", title=_text("放課後児童クラブの入所案内"),
            summary={}, tags=[marker], proposals_deadline=corpus.now + timedelta(days=30),
            published_at=corpus.now - timedelta(days=days_ago))
        twins[challenge.id] = name
        if backend.name == "meilisearch":
            await sync_challenge(backend, challenge.id)
    try:
        result = await backend.search(SearchQuery(q="児童クラブ", tags=(marker,), now=corpus.now))
        assert [twins[hit["id"]] for hit in result.hits] == ["newer", "older"]
    finally:
        await Challenge.filter(id__in=list(twins)).delete()


async def test_pages(backend, corpus):
    pages = []
    for page in (1, 2, 3, 4):
        result = await backend.search(corpus.query(sort="newest", page=page, per_page=2))
        assert result.total == 6 and result.page == page and result.per_page == 2
        pages.append(corpus.names(result.hits))
    assert pages == [["D", "E"], ["A", "F"], ["B", "C"], []]


async def test_documents_carry_what_a_result_list_shows(backend, corpus):
    result = await backend.search(corpus.query(q="健診"))
    (hit,) = result.hits
    assert hit["title_ja"] == "健診の予約を簡単にしたい"
    assert hit["title_en"] == "Simpler health checkup booking"
    assert hit["category"] == "health" and hit["status"] == "decided"
    assert hit["agency_id"] == corpus.agencies["tokyo"] and hit["municipality_type"] == "prefecture"
    assert (hit["budget_min_yen"], hit["budget_max_yen"]) == (10_000_000, 30_000_000)
    assert hit["proposals_deadline"] == int((corpus.now - timedelta(days=60)).timestamp())
    assert corpus.marker in hit["tags"]


# --- Meilisearch only: highlighting, the outbox consumer, rebuilding ----------------------------


async def test_matches_are_highlighted_as_safe_html(backend, corpus):
    if backend.name != "meilisearch":
        pytest.skip("only Meilisearch highlights")
    result = await backend.search(corpus.query(q="booking"))
    (hit,) = result.hits
    assert "<mark>booking</mark>" in hit["_highlight"]["title"]["en"]


async def test_a_challenge_leaving_the_public_states_leaves_the_index(backend, corpus):
    if backend.name != "meilisearch":
        pytest.skip("the database backend reads the rows themselves")
    challenge = await Challenge.get(id=corpus.ids["D"])
    challenge.status = "cancelled"
    await challenge.save(update_fields=["status"])
    await sync_challenge(backend, challenge.id)
    assert "D" in await found(backend, corpus, statuses=("cancelled",))  # cancelled after publication: stays
    challenge.status, published_at, challenge.published_at = "draft", challenge.published_at, None
    await challenge.save(update_fields=["status", "published_at"])
    try:
        await sync_challenge(backend, challenge.id)
        await sync_challenge(backend, challenge.id)  # idempotent
        assert "D" not in await found(backend, corpus)
    finally:
        challenge.status, challenge.published_at = "published", published_at
        await challenge.save(update_fields=["status", "published_at"])
        await sync_challenge(backend, challenge.id)
    assert "D" in await found(backend, corpus)


async def test_reindex_builds_a_new_index_and_swaps_it_in(corpus, meili):
    backend = MeiliBackend(meili.url, meili.master_key, index=f"reindex_{secrets.token_hex(4)}")
    try:
        await backend.prepare(wait=True)
        stale = {"id": 2_000_000_000, "title_ja": "古い文書", "status": "published", "tags": [corpus.marker]}
        await backend.upsert([stale])
        documents = [d async for d in documents_for_reindex() if corpus.marker in d["tags"]]
        assert await backend.reindex(documents) == 6
        result = await backend.search(corpus.query(per_page=100))
        assert sorted(corpus.names(result.hits)) == ["A", "B", "C", "D", "E", "F"]
        assert await backend.get_document(stale["id"]) is None
        indexes = await backend.client.get_indexes(limit=1000) or []
        assert not [i.uid for i in indexes if i.uid.startswith(backend.index_uid + "__rebuild")]
        assert (await backend.client.index(backend.index_uid).get_settings()).localized_attributes
    finally:
        await backend.client.index(backend.index_uid).delete()
        await backend.close()


def test_queries_are_values():
    query = SearchQuery(q="a b", categories=("x",))
    assert query.terms == ["a", "b"]
    assert query.without_facet("category") == replace(query, categories=())
    assert SearchQuery(q="申請\u3000オンライン").terms == ["申請", "オンライン"]  # a full-width space splits too
