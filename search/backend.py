"""The interface every search backend offers, the query and result they share, and how Kyoso picks one.

Two backends implement it: Meilisearch (search.meili) when MEILI_URL is set, and the database
(search.database), which is the embedded default and the fallback while Meilisearch is unreachable.
Both index only what a visitor may list (models.policy.challenges.is_public), so results are public.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from tortoise import connections

log = logging.getLogger("kyoso.search")

Document = dict[str, Any]
Documents = Iterable[Document] | AsyncIterable[Document]
Sort = Literal["relevance", "newest", "deadline", "budget"]
SORTS: tuple[Sort, ...] = ("relevance", "newest", "deadline", "budget")
# Facet name -> the document attribute it counts.
FACETS = {"category": "category", "agency": "agency_id", "municipality_type": "municipality_type", "status": "status"}
DEFAULT_INDEX = "challenges"


class SearchUnavailable(Exception):
    """The backend cannot answer or accept writes right now (down, unreachable, index missing)."""


@dataclass(frozen=True)
class SearchQuery:
    """One search: words, filters (OR within a facet, AND across; every tag must be present), sort, page."""

    q: str = ""
    categories: tuple[str, ...] = ()
    agencies: tuple[int, ...] = ()
    municipality_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    budget_min: int | None = None  # the challenge's budget range reaches at least this much
    budget_max: int | None = None  # ... and starts at no more than this
    tags: tuple[str, ...] = ()
    deadline_after: datetime | None = None  # proposals deadline at or after
    deadline_before: datetime | None = None  # proposals deadline before
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20
    now: datetime | None = None  # "deadline" sort shows only deadlines after this (default: now)

    @property
    def terms(self) -> list[str]:
        """Japanese has no spaces between words, so the person's own spaces are the only split we trust."""
        return self.q.split()

    def facet_values(self, facet: str) -> tuple[Any, ...]:
        return {
            "category": self.categories,
            "agency": self.agencies,
            "municipality_type": self.municipality_types,
            "status": self.statuses,
        }[facet]

    def without_facet(self, facet: str) -> SearchQuery:
        """The same query without one facet's own filter: its counts show what choosing another value gives."""
        name = {"category": "categories", "agency": "agencies", "municipality_type": "municipality_types",
                "status": "statuses"}[facet]
        no_filter: dict[str, Any] = {name: ()}
        return replace(self, **no_filter)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class SearchResult:
    hits: list[Document]  # search documents (search.documents), Meilisearch's may carry "_highlight"
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> count
    degraded: bool = False  # answered by the fallback because the configured backend is unavailable
    backend: str = ""


class SearchBackend(Protocol):
    name: str
    needs_sync: bool  # False when the backend reads the database itself (no outbox consumer needed)

    async def prepare(self, wait: bool = False) -> None:
        """Create the index and apply its settings; idempotent, called at start and before a reindex."""

    async def upsert(self, documents: Sequence[Document]) -> None: ...

    async def delete(self, ids: Sequence[int]) -> None: ...

    async def search(self, query: SearchQuery) -> SearchResult: ...

    async def reindex(self, documents: Documents) -> int:
        """Build a new index from these documents and swap it in atomically; returns how many."""

    async def is_healthy(self) -> bool:
        """True when the backend can answer queries now."""

    async def close(self) -> None: ...


class ReadsTheDatabase:
    """The database backends' common part: the database is the data, so there is nothing to prepare, write or
    rebuild, and the backend is healthy while the database answers."""

    name = "database"
    needs_sync = False

    async def prepare(self, wait: bool = False) -> None:
        return None

    async def upsert(self, documents: Sequence[Document]) -> None:
        return None

    async def delete(self, ids: Sequence[int]) -> None:
        return None

    async def reindex(self, documents: Documents) -> int:
        return 0

    async def is_healthy(self) -> bool:
        try:
            await connections.get("default").execute_query("SELECT 1")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        return None


class FallbackBackend:
    """Searches the primary backend; while it is unavailable, answers from the fallback and says so.

    Writes go to the primary only and raise when it is down, so the outbox keeps them for later.
    After a failure the primary is left alone for `cooldown` seconds, so a hung server costs one
    timeout, not one per request.
    """

    def __init__(self, primary: SearchBackend, fallback: SearchBackend, cooldown: float = 5.0) -> None:
        self.primary = primary
        self.fallback = fallback
        self.cooldown = cooldown
        self.name = primary.name
        self.needs_sync = primary.needs_sync
        self._skip_until = 0.0

    async def search(self, query: SearchQuery) -> SearchResult:
        if time.monotonic() >= self._skip_until:
            try:
                result = await self.primary.search(query)
            except SearchUnavailable as exc:
                log.warning("search: %s unavailable, answering from %s: %s", self.primary.name, self.fallback.name, exc)
                self._skip_until = time.monotonic() + self.cooldown
            else:
                self._skip_until = 0.0
                return result
        return replace(await self.fallback.search(query), degraded=True)

    async def prepare(self, wait: bool = False) -> None:
        await self.primary.prepare(wait)

    async def upsert(self, documents: Sequence[Document]) -> None:
        await self.primary.upsert(documents)

    async def delete(self, ids: Sequence[int]) -> None:
        await self.primary.delete(ids)

    async def reindex(self, documents: Documents) -> int:
        return await self.primary.reindex(documents)

    async def is_healthy(self) -> bool:
        return await self.primary.is_healthy()

    async def close(self) -> None:
        await self.primary.close()
        await self.fallback.close()


def open_backend(
    meili_url: str | None,
    meili_master_key: str | None,
    *,
    index: str = DEFAULT_INDEX,
    fallback: bool = True,
    timeout: int = 5,
) -> SearchBackend:
    """Meilisearch when configured (with the database as fallback); otherwise the database alone."""
    from search.database import DatabaseBackend

    if meili_url:
        from search.meili import MeiliBackend

        meili = MeiliBackend(meili_url, meili_master_key, index=index, timeout=timeout)
        return FallbackBackend(meili, DatabaseBackend()) if fallback else meili
    return DatabaseBackend()
