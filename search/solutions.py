"""Solution documents and catalogue search: a third index kind beside challenges and partners.

Only listed solutions (published; models.policy.solutions) are indexed or found: drafts, solutions in
review and withdrawn ones never are. Two backends answer the same `SolutionQuery` alike (the contract
tests hold them to it): the database (`DatabaseSolutionBackend`, the default and the fallback, which builds
the documents and filters them with the one pure function `matches`; the catalogue is a few hundred case
studies, not millions) and Meilisearch (`MeiliSolutionBackend`, over the "solutions" index).

Facets: category (the solved challenge's), municipality type (of the agencies using it), adoption (how many
agencies adopted it, in bands) and has_savings (a joint procurement round recorded a saving).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from models.identity.orgs import Organisation
from models.policy.solutions import LISTED_STATUSES, is_listed, listed_filter
from models.solutions.adoptions import USING, adopted_counts
from models.solutions.catalogue import SEARCH_TOPIC
from models.solutions.models import Adoption, Solution
from models.solutions.views import savings_of
from search.backend import FallbackBackend, ReadsTheDatabase, SearchUnavailable
from search.documents import timestamp
from search.meili import CJK, ERRORS, MeiliBackend, _any_of
from search.sync import IndexSync

log = logging.getLogger("kyoso.search")

TOPIC = SEARCH_TOPIC  # "solution_search": one message per change to a solution or its adoptions
SOLUTION_INDEX = "solutions"
FACETS = ("category", "municipality_type", "adoption", "has_savings")
SEARCHABLE = ["title_ja", "title_en", "summary_ja", "summary_en", "company_ja", "company_en", "agencies", "kpis"]
MAX_HITS = 2_000
BANDS = ((0, "0"), (1, "1"), (2, "2-4"), (5, "5+"))  # adoption counts, as the facet shows them


def adoption_band(count: int) -> str:
    return next(label for low, label in reversed(BANDS) if count >= low)


@dataclass(frozen=True)
class SolutionQuery:
    """Words (all must match), facet filters (values of one facet are alternatives), a page."""

    q: str = ""
    category: tuple[str, ...] = ()
    municipality_type: tuple[str, ...] = ()
    adoption: tuple[str, ...] = ()  # bands: "0", "1", "2-4", "5+"
    has_savings: bool | None = None
    ids: tuple[int, ...] = ()  # only these (a page listing given solutions; the contract tests' corpus)
    page: int = 1
    per_page: int = 20

    @property
    def terms(self) -> list[str]:
        return self.q.casefold().split()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class SolutionSearchResult:
    hits: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    degraded: bool = False
    backend: str = ""


# --- documents ------------------------------------------------------------------------------------


async def documents_of(solutions: list[Solution]) -> list[dict[str, Any]]:
    """Search documents of these solutions (with their company, challenge and category fetched here)."""
    if not solutions:
        return []
    ids = [s.id for s in solutions]
    counts = await adopted_counts(ids)
    savings = await savings_of(ids)
    adopters: dict[int, list[int]] = {}
    for solution_id, agency_id in await Adoption.filter(solution_id__in=ids, status__in=[s.value for s in USING]) \
            .values_list("solution_id", "agency_id"):
        adopters.setdefault(int(solution_id), []).append(int(agency_id))
    org_ids = {s.company_id for s in solutions} | {a for s in solutions for a in s.agency_ids or [s.owner_id]} \
        | {a for agencies in adopters.values() for a in agencies}
    orgs = {o.id: o for o in await Organisation.filter(id__in=list(org_ids))}
    documents = []
    for s in solutions:
        await s.fetch_related("challenge__category")
        challenge = s.challenge
        category = challenge.category if challenge is not None else None
        agencies = [orgs[a] for a in [*(s.agency_ids or [s.owner_id]), *adopters.get(s.id, [])] if a in orgs]
        company = orgs.get(s.company_id)
        documents.append({
            "id": s.id,
            "title_ja": s.title.get("ja", ""), "title_en": s.title.get("en", ""),
            "summary_ja": s.summary.get("ja", ""), "summary_en": s.summary.get("en", ""),
            "company_ja": company.name_ja if company else "", "company_en": company.name_en if company else "",
            "agencies": [name for org in agencies for name in (org.name_ja, org.name_en) if name],
            "kpis": [name for r in s.results for name in (r.get("kpi") or {}).values() if name],
            "category": category.slug if category else "",
            "category_name_ja": category.name_ja if category else "", "category_name_en": category.name_en if category else "",
            "municipality_type": sorted({org.municipality_type for org in agencies if org.municipality_type}),
            "adopted_count": counts[s.id],
            "adoption": adoption_band(counts[s.id]),
            "savings_yen": savings[s.id],
            "has_savings": savings[s.id] > 0,
            "positive_share": s.positive_share,
            "status": s.status,
            "published_at": timestamp(s.published_at),
        })
    return documents


def _text_of(document: dict[str, Any]) -> str:
    parts = [str(document.get(name) or "") for name in SEARCHABLE if not isinstance(document.get(name), list)]
    parts += [item for name in SEARCHABLE if isinstance(document.get(name), list) for item in document[name]]
    return " ".join(parts).casefold()


def matches(document: dict[str, Any], query: SolutionQuery, without: str = "") -> bool:
    """The one rule of what a query finds (the database backend applies it; Meilisearch's filters say the same)."""
    if document.get("status") not in [s.value for s in LISTED_STATUSES]:
        return False
    if query.ids and document["id"] not in query.ids:
        return False
    text = _text_of(document)
    if not all(term in text for term in query.terms):
        return False
    if without != "category" and query.category and document["category"] not in query.category:
        return False
    if without != "municipality_type" and query.municipality_type and \
            not set(document["municipality_type"]) & set(query.municipality_type):
        return False
    if without != "adoption" and query.adoption and document["adoption"] not in query.adoption:
        return False
    return not (without != "has_savings" and query.has_savings is not None and document["has_savings"] != query.has_savings)


def _facet_values(document: dict[str, Any], facet: str) -> list[str]:
    value = document[facet]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value != "" else []


def _sorted_counts(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _order(document: dict[str, Any]) -> tuple[int, int]:
    return (-(document.get("published_at") or 0), -document["id"])


# --- the database ---------------------------------------------------------------------------------


class DatabaseSolutionBackend(ReadsTheDatabase):

    async def search(self, query: SolutionQuery) -> SolutionSearchResult:
        listed = Solution.filter(status__in=[s.value for s in LISTED_STATUSES])
        if query.ids:
            listed = listed.filter(id__in=list(query.ids))
        documents = await documents_of(list(await listed.order_by("-published_at", "-id").limit(MAX_HITS)))
        found = sorted((d for d in documents if matches(d, query)), key=_order)
        facets: dict[str, dict[str, int]] = {}
        for facet in FACETS:  # each facet counted without its own filter, as the challenges' search does
            counts: dict[str, int] = {}
            for document in documents:
                if matches(document, query, without=facet):
                    for value in _facet_values(document, facet):
                        counts[value] = counts.get(value, 0) + 1
            facets[facet] = _sorted_counts(counts)
        page = found[query.offset:query.offset + query.per_page]
        return SolutionSearchResult(hits=page, total=len(found), page=query.page, per_page=query.per_page,
                                    facets=facets, backend=self.name)


# --- Meilisearch ----------------------------------------------------------------------------------


def solution_index_settings() -> dict[str, Any]:
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": ["id", "status", *FACETS],
        "sortableAttributes": ["published_at", "id"],
        "localizedAttributes": [
            {"locales": ["jpn"], "attributePatterns": ["*_ja"]},
            {"locales": ["eng"], "attributePatterns": ["*_en"]},
        ],
        "typoTolerance": {"enabled": False},  # as the database backend: words match as written
        "faceting": {"maxValuesPerFacet": 200, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": MAX_HITS},
    }


def solution_filters(query: SolutionQuery, without: str = "") -> list[str]:
    expressions = [_any_of("status", [s.value for s in LISTED_STATUSES])]  # the public rule, again
    if query.ids:
        expressions.append(_any_of("id", list(query.ids)))
    for facet in ("category", "municipality_type", "adoption"):
        values = getattr(query, facet)
        if values and facet != without:
            expressions.append(_any_of(facet, list(values)))
    if query.has_savings is not None and without != "has_savings":
        expressions.append(f"has_savings = {'true' if query.has_savings else 'false'}")
    return expressions


class MeiliSolutionBackend(MeiliBackend):
    """The Meilisearch client, writes and swaps of search.meili, with the solution index's settings and query."""

    def __init__(self, url: str, master_key: str | None, *, index: str = SOLUTION_INDEX, timeout: int = 5) -> None:
        super().__init__(url, master_key, index=index, timeout=timeout)

    async def _apply_settings(self, uid: str, wait: bool) -> None:
        response = await self.client.http_client.patch(f"indexes/{uid}/settings", json=solution_index_settings())
        response.raise_for_status()
        if wait:
            await self._wait(response.json()["taskUid"], 600_000)

    def _solution_request(self, query: SolutionQuery, without: str = "") -> dict[str, Any]:
        request: dict[str, Any] = {
            "indexUid": self.index_uid, "q": " ".join(query.q.split()), "filter": solution_filters(query, without),
            "facets": list(FACETS), "matchingStrategy": "all", "sort": ["published_at:desc", "id:desc"],
        }
        if CJK.search(request["q"]):
            request["locales"] = ["jpn"]
        if without:
            request["limit"] = 0
        else:
            request["page"], request["hitsPerPage"] = query.page, query.per_page
        return request

    async def search(self, query: SolutionQuery) -> SolutionSearchResult:  # type: ignore[override]
        await self._ensure_prepared()
        queries = [self._solution_request(query), *(self._solution_request(query, facet) for facet in FACETS)]
        try:
            response = await self.client.http_client.post("multi-search", json={"queries": queries})
            response.raise_for_status()
            results = response.json()["results"]
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc
        facets = {facet: _sorted_counts({str(k).lower() if facet == "has_savings" else str(k): int(v) for k, v in
                                         (results[n + 1].get("facetDistribution") or {}).get(facet, {}).items()})
                  for n, facet in enumerate(FACETS)}
        hits = [{k: v for k, v in hit.items() if not k.startswith("_")} for hit in results[0]["hits"]]
        return SolutionSearchResult(hits=hits, total=results[0].get("totalHits", 0), page=query.page,
                                    per_page=query.per_page, facets=facets, backend=self.name)


def open_solution_backend(meili_url: str | None, meili_master_key: str | None, *, fallback: bool = True,
                          index: str = SOLUTION_INDEX) -> Any:
    """Meilisearch when configured (with the database as fallback); otherwise the database alone."""
    if meili_url:
        meili = MeiliSolutionBackend(meili_url, meili_master_key, index=index)
        return FallbackBackend(meili, DatabaseSolutionBackend()) if fallback else meili  # type: ignore[arg-type]
    return DatabaseSolutionBackend()


async def search_solutions(backend: Any, query: SolutionQuery) -> SolutionSearchResult:
    """The catalogue: what anyone may find (published solutions only, whoever asks)."""
    return await backend.search(query)


# --- keeping the index in step, through the outbox (search.sync.IndexSync) ---------------------------

INDEX_SYNC = IndexSync(TOPIC, Solution, is_listed, listed_filter, documents_of)
document_for = INDEX_SYNC.document_for
sync_solution = INDEX_SYNC.sync
consumer = INDEX_SYNC.consumer
documents_for_reindex = INDEX_SYNC.documents_for_reindex
rebuild_solution_index = INDEX_SYNC.rebuild
