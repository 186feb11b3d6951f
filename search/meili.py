"""The Meilisearch backend, through the official async client.

Searches go through `/multi-search` in one round trip: the page of hits with facet counts, plus, for
each facet with a value chosen, the counts without that facet's own filter (so the other values of
that facet still show what choosing them would give).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx2
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.errors import MeilisearchError
from pydantic_core import from_json, to_json
from tortoise import timezone

from models.challenges.models import PUBLIC_STATUSES, ChallengeStatus
from models.policy.challenges import PUBLIC_ONCE_PUBLISHED
from search.backend import FACETS, Document, Documents, SearchQuery, SearchResult, SearchUnavailable
from search.documents import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    LANGUAGES,
    highlight_html,
    index_settings,
    timestamp,
)

BATCH_SIZE = 5_000
WRITE_TIMEOUT_MS = 30_000
REINDEX_TIMEOUT_MS = 600_000
HIGHLIGHTED = ("title", "summary")
# Hits carry what a result list shows; the long texts stay in the index.
RETRIEVED = [
    "id", "title_ja", "title_en", "summary_ja", "summary_en", "tags", "category", "category_name_ja",
    "category_name_en", "agency_id", "agency_name_ja", "agency_name_en", "municipality_type", "status",
    "budget_min_yen", "budget_max_yen", "proposals_deadline", "published_at",
]
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
JSON_CONTENT = {"Content-Type": "application/json"}
ERRORS = (MeilisearchError, httpx2.HTTPError, aiohttp.ClientError, OSError, asyncio.TimeoutError)


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(attribute: str, values: Sequence[Any]) -> str:
    return f"{attribute} IN [{', '.join(_literal(v) for v in values)}]"


def filters(query: SearchQuery) -> list[str]:
    """Meilisearch filter expressions, ANDed; the public rule (models.policy.challenges.is_public) is
    repeated here as a safeguard."""
    expressions = [
        f"({_any_of('status', [str(s) for s in PUBLIC_STATUSES])} OR "
        f"({_any_of('status', [str(s) for s in PUBLIC_ONCE_PUBLISHED])} AND published_at IS NOT NULL))"
    ]
    for facet, attribute in FACETS.items():
        if values := query.facet_values(facet):
            expressions.append(_any_of(attribute, values))
    expressions += [f"tags = {_literal(tag)}" for tag in query.tags]
    if query.budget_min is not None:
        expressions.append(f"budget_max_yen >= {int(query.budget_min)}")
    if query.budget_max is not None:
        expressions.append(f"budget_min_yen <= {int(query.budget_max)}")
    if query.deadline_after is not None:
        expressions.append(f"proposals_deadline >= {timestamp(query.deadline_after)}")
    if query.deadline_before is not None:
        expressions.append(f"proposals_deadline < {timestamp(query.deadline_before)}")
    if query.sort == "deadline":  # open ones only
        expressions.append(f"status = {_literal(ChallengeStatus.PUBLISHED.value)}")
        expressions.append(f"proposals_deadline > {timestamp(query.now or timezone.now())}")
    return expressions


def sort_rules(query: SearchQuery) -> list[str] | None:
    sort = query.sort
    if sort == "relevance":
        if query.q.strip():
            return None
        sort = "newest"  # nothing to be relevant to
    return {
        "newest": ["published_at:desc", "id:desc"],
        "deadline": ["proposals_deadline:asc", "id:asc"],
        "budget": ["budget_max_yen:desc", "published_at:desc", "id:desc"],
    }[sort]


def _highlights(hit: dict[str, Any]) -> dict[str, dict[str, str]]:
    formatted = hit.get("_formatted") or {}
    found: dict[str, dict[str, str]] = {}
    for name in HIGHLIGHTED:
        for lang in LANGUAGES:
            text = formatted.get(f"{name}_{lang}")
            if isinstance(text, str) and HIGHLIGHT_START in text:
                found.setdefault(name, {})[lang] = str(highlight_html(text))
    return found


async def _documents(documents: Documents) -> AsyncIterator[Document]:
    if isinstance(documents, AsyncIterable):
        async for document in documents:
            yield document
    else:
        for document in documents:
            yield document


class MeiliBackend:
    name = "meilisearch"
    needs_sync = True

    def __init__(self, url: str, master_key: str | None, *, index: str = "challenges", timeout: int = 5) -> None:
        # Over plain HTTP (loopback, a private network) responses are not compressed: Meilisearch compresses
        # them in pieces, and on a kept-alive connection the last piece then waits for the client's delayed ACK
        # (~40 ms per search, measured here: 45 ms against 4 ms). Uncompressed, connections are kept alive.
        # Over HTTPS (a proxy in front, a remote server) compression and its cost are left as they are.
        headers = None if urlsplit(url).scheme == "https" else {"Accept-Encoding": "identity"}
        self.client = AsyncClient(url, master_key, timeout=timeout, custom_headers=headers)
        self._search_url = str(self.client.http_client.base_url.join("multi-search"))
        self._search_headers = {name: value for name, value in self.client.http_client.headers.items()
                                if name.lower() not in ("accept-encoding", "user-agent")} | JSON_CONTENT | (headers or {})
        self._timeout = timeout
        self._searches: aiohttp.ClientSession | None = None
        self.index_uid = index
        self._prepared = False  # settings applied by this process (else tried again before the next use)

    # -- writing ----------------------------------------------------------------------------------

    async def _wait(self, task_uid: int, timeout_ms: int = WRITE_TIMEOUT_MS) -> None:
        result = await self.client.wait_for_task(task_uid, timeout_in_ms=timeout_ms, interval_in_ms=10)
        if result.status != "succeeded":
            raise SearchUnavailable(f"Meilisearch task {task_uid} {result.status}: {result.error}")

    async def _apply_settings(self, uid: str, wait: bool) -> None:
        # Updating the settings creates the index if it is missing.
        response = await self.client.http_client.patch(f"indexes/{uid}/settings", json=index_settings())
        response.raise_for_status()
        if wait:
            await self._wait(response.json()["taskUid"], REINDEX_TIMEOUT_MS)

    async def prepare(self, wait: bool = False) -> None:
        try:
            await self._apply_settings(self.index_uid, wait)
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc
        self._prepared = True

    async def _ensure_prepared(self) -> None:
        # Meilisearch was down when this process started: apply the settings before the first use, so
        # an index created by a write gets them (Meilisearch runs the tasks in order).
        if not self._prepared:
            await self.prepare()

    async def upsert(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        await self._ensure_prepared()
        try:
            task = await self.client.index(self.index_uid).add_documents(list(documents), primary_key="id")
            await self._wait(task.task_uid)
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc

    async def delete(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        await self._ensure_prepared()
        try:
            task = await self.client.index(self.index_uid).delete_documents([str(i) for i in ids])
            await self._wait(task.task_uid)
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc

    async def reindex(self, documents: Documents) -> int:
        """Fill a fresh index, then swap it with the live one in one step; searches never see it half-built."""
        staging = f"{self.index_uid}__rebuild_{int(time.time() * 1000)}"
        try:
            await self._apply_settings(staging, wait=True)
            staged = self.client.index(staging)
            tasks, batch, count = [], [], 0
            async for document in _documents(documents):
                batch.append(document)
                count += 1
                if len(batch) >= BATCH_SIZE:
                    tasks.append((await staged.add_documents(batch, primary_key="id")).task_uid)
                    batch = []
            if batch:
                tasks.append((await staged.add_documents(batch, primary_key="id")).task_uid)
            for task_uid in tasks:
                await self._wait(task_uid, REINDEX_TIMEOUT_MS)
            await self._apply_settings(self.index_uid, wait=True)  # the live index exists, so it can be swapped
            swap = await self.client.swap_indexes([(self.index_uid, staging)])
            await self._wait(swap.task_uid, REINDEX_TIMEOUT_MS)
            await self._wait((await staged.delete()).task_uid, REINDEX_TIMEOUT_MS)  # now the old documents
        except ERRORS as exc:
            await self._discard(staging)
            raise SearchUnavailable(str(exc)) from exc
        return count

    async def _discard(self, uid: str) -> None:
        try:
            await self.client.index(uid).delete()
        except ERRORS:
            pass  # best effort: a leftover staging index is harmless and named as such

    # -- reading ----------------------------------------------------------------------------------

    def _request(self, query: SearchQuery) -> dict[str, Any]:
        request: dict[str, Any] = {
            "indexUid": self.index_uid,
            "q": query.q.strip(),
            "filter": filters(query),
            "facets": list(FACETS.values()),
            "page": query.page,
            "hitsPerPage": query.per_page,
            "attributesToRetrieve": RETRIEVED,
            "matchingStrategy": "all",  # like the database backend: every word must match
        }
        if sort := sort_rules(query):
            request["sort"] = sort
        if request["q"]:
            request["attributesToHighlight"] = [f"{n}_{lang}" for n in HIGHLIGHTED for lang in LANGUAGES]
            request["attributesToCrop"] = [f"summary_{lang}" for lang in LANGUAGES]
            request["cropLength"] = 40
            request["highlightPreTag"], request["highlightPostTag"] = HIGHLIGHT_START, HIGHLIGHT_END
            if CJK.search(request["q"]):
                # Kanji-only words would otherwise be guessed as Chinese and cut differently.
                request["locales"] = ["jpn"]
        return request

    def _facet_request(self, query: SearchQuery, facet: str) -> dict[str, Any]:
        narrower = query.without_facet(facet)
        request: dict[str, Any] = {
            "indexUid": self.index_uid,
            "q": query.q.strip(),
            "filter": filters(narrower),
            "facets": [FACETS[facet]],
            "limit": 0,
            "matchingStrategy": "all",
        }
        if CJK.search(request["q"]):
            request["locales"] = ["jpn"]
        return request

    async def search(self, query: SearchQuery) -> SearchResult:
        await self._ensure_prepared()
        own_facets = [facet for facet in FACETS if query.facet_values(facet)]
        queries = [self._request(query), *(self._facet_request(query, facet) for facet in own_facets)]
        try:
            async with self._search_session().post(self._search_url, data=to_json({"queries": queries})) as response:
                body = await response.read()
            if response.status >= 400:
                raise SearchUnavailable(f"Meilisearch answered {response.status}: {body[:300]!r}")
            results = from_json(body)["results"]  # pydantic's parser: a third of json's time
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc
        main = results[0]
        distribution = dict(main.get("facetDistribution") or {})
        for facet, result in zip(own_facets, results[1:]):
            distribution[FACETS[facet]] = (result.get("facetDistribution") or {}).get(FACETS[facet], {})
        hits = []
        for hit in main["hits"]:
            highlights = _highlights(hit)
            hit.pop("_formatted", None)
            if highlights:
                hit["_highlight"] = highlights
            hits.append(hit)
        return SearchResult(
            hits=hits,
            total=main.get("totalHits", 0),
            page=query.page,
            per_page=query.per_page,
            facets={facet: dict(distribution.get(attribute, {})) for facet, attribute in FACETS.items()},
            backend=self.name,
        )

    async def get_document(self, document_id: int) -> Document | None:
        """One indexed document, or None (for checks and the benchmark)."""
        try:
            response = await self.client.http_client.get(f"indexes/{self.index_uid}/documents/{document_id}")
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    async def is_healthy(self) -> bool:
        try:
            health = await self.client.health()
        except Exception:
            return False
        return health.status == "available"

    def _search_session(self) -> aiohttp.ClientSession:
        """Searches go through aiohttp rather than the SDK's httpx client: its own work per request is a third
        of httpx's (0.7 against 1.9 ms p50 for the same kept-alive request to Meilisearch, measured here), and
        a search is the one request whose latency a person waits for. Made on first use, in the running loop."""
        if self._searches is None or self._searches.closed:
            self._searches = aiohttp.ClientSession(headers=self._search_headers,
                                                   timeout=aiohttp.ClientTimeout(total=self._timeout))
        return self._searches

    async def close(self) -> None:
        await self.client.aclose()
        if self._searches is not None:
            await self._searches.close()

