"""Partner documents and partner search: a second index kind beside the challenges.

Only findable partners (approved, consenting) are indexed, and only agency members and operators may
search them (models.policy.partners): everyone else gets an empty result without a query being run.
Two backends answer the same `PartnerQuery` — the database (`DatabasePartnerBackend`, the default and
the fallback) and Meilisearch (`MeiliPartnerBackend`, over the "partners" index) — and the match list
is ranked from their documents by the one pure function, models.partners.matching.rank.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from models.partners.invitations import open_loads
from models.partners.matching import Load, Match, NeedSpec, rank
from models.partners.models import PartnerProfile, PartnerSkill
from models.partners.profiles import SEARCH_TOPIC
from models.partners.skills import SKILLS
from models.policy import Actor
from models.policy.partners import findable_filter, is_findable, may_list_partners
from search.backend import FallbackBackend, ReadsTheDatabase, SearchBackend, SearchUnavailable
from search.documents import timestamp
from search.meili import ERRORS, MeiliBackend, _any_of
from search.sync import IndexSync

log = logging.getLogger("kyoso.search")

TOPIC = SEARCH_TOPIC  # "partner_search": one message per change to a partner
PARTNER_INDEX = "partners"
CANDIDATES = 1_000  # the most candidates a match list ranks
SEARCHABLE = ["name", "profile_ja", "profile_en", "tags", "skill_names"]


@dataclass(frozen=True)
class PartnerQuery:
    """Words, skills (a partner with any of them), availability, a page; or a need's candidates."""

    q: str = ""
    skills: tuple[str, ...] = ()
    available: bool | None = None
    ids: tuple[int, ...] = ()  # only these partners (a need naming a partner)
    page: int = 1
    per_page: int = 20

    @property
    def terms(self) -> list[str]:
        return self.q.lower().split()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class PartnerSearchResult:
    hits: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # {"skills": {slug: count}}
    degraded: bool = False
    backend: str = ""


def partner_document(partner: PartnerProfile, skills: list[str], load: Load | None = None) -> dict[str, Any]:
    load = load or Load()
    return {
        "id": partner.id,
        "name": partner.name,
        "profile_ja": partner.profile.get("ja", ""),
        "profile_en": partner.profile.get("en", ""),
        "tags": list(partner.tags),
        "skills": sorted(skills),
        "skill_names": [name for slug in sorted(skills) for name in SKILLS.get(slug, (slug, slug))[:2]],
        "years_experience": partner.years_experience,
        "public_sector_years": partner.public_sector_years,
        "languages": list(partner.languages),
        "days_per_month": partner.days_per_month,
        "work_mode": partner.work_mode,
        "areas": list(partner.areas),
        "engagement_types": list(partner.engagement_types),
        "available": partner.available,
        "approved_at": timestamp(partner.approved_at),
        # The open engagements against the partner's limits (models.partners.matching.room_for).
        "open_engagements": load.open_engagements,
        "days_committed": load.days_committed,
        "max_engagements": partner.max_engagements,
    }


async def _documents(partners: list[PartnerProfile]) -> list[dict[str, Any]]:
    skills: dict[int, list[str]] = {}
    rows = await PartnerSkill.filter(partner_id__in=[p.id for p in partners]).values_list("partner_id", "skill")
    for partner_id, skill in rows:
        skills.setdefault(partner_id, []).append(skill)
    loads = await open_loads(partners)
    return [partner_document(partner, skills.get(partner.id, []), loads[partner.id]) for partner in partners]


def _empty(query: PartnerQuery, backend: str = "") -> PartnerSearchResult:
    return PartnerSearchResult(hits=[], total=0, page=query.page, per_page=query.per_page,
                               facets={"skills": {}}, backend=backend)


# --- the database ---------------------------------------------------------------------------------


class DatabasePartnerBackend(ReadsTheDatabase):

    def _conditions(self, query: PartnerQuery, with_skills: bool = True) -> list[Q]:
        conditions = [findable_filter()]  # what the index holds: the one rule, in models.policy.partners
        if query.available is not None:
            conditions.append(Q(available=query.available))
        if query.ids:
            conditions.append(Q(id__in=list(query.ids)))
        for term in query.terms:
            conditions.append(Q(search_text__icontains=term))
        if with_skills and query.skills:
            having = PartnerSkill.filter(skill__in=list(query.skills)).values("partner_id")
            conditions.append(Q(id__in=Subquery(having)))
        return conditions

    async def search(self, query: PartnerQuery) -> PartnerSearchResult:
        matching = PartnerProfile.filter(*self._conditions(query))
        total = await matching.count()
        partners = await matching.order_by("-approved_at", "-id").offset(query.offset).limit(query.per_page) \
            if total > query.offset else []
        unfiltered = PartnerProfile.filter(*self._conditions(query, with_skills=False)).values("id")
        counts = await (PartnerSkill.filter(partner_id__in=Subquery(unfiltered)).annotate(count=Count("id"))
                        .group_by("skill").values_list("skill", "count"))
        facets = dict(sorted(((skill, int(n)) for skill, n in counts), key=lambda item: (-item[1], item[0])))
        return PartnerSearchResult(hits=await _documents(list(partners)), total=total, page=query.page,
                                   per_page=query.per_page, facets={"skills": facets}, backend=self.name)


# --- Meilisearch ----------------------------------------------------------------------------------


def partner_index_settings() -> dict[str, Any]:
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": ["id", "skills", "available"],
        "sortableAttributes": ["approved_at", "id"],
        "typoTolerance": {"enabled": False},  # as the database backend: no guessing at names and skills
        "faceting": {"maxValuesPerFacet": 200, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": CANDIDATES},
    }


def partner_filters(query: PartnerQuery, with_skills: bool = True) -> list[str]:
    expressions = []
    if query.available is not None:
        expressions.append(f"available = {'true' if query.available else 'false'}")
    if query.ids:
        expressions.append(_any_of("id", list(query.ids)))
    if with_skills and query.skills:
        expressions.append(_any_of("skills", list(query.skills)))
    return expressions


class MeiliPartnerBackend(MeiliBackend):
    """The Meilisearch client, writes and swaps of search.meili, with the partner index's settings and query."""

    def __init__(self, url: str, master_key: str | None, *, index: str = PARTNER_INDEX, timeout: int = 5) -> None:
        super().__init__(url, master_key, index=index, timeout=timeout)

    async def _apply_settings(self, uid: str, wait: bool) -> None:
        response = await self.client.http_client.patch(f"indexes/{uid}/settings", json=partner_index_settings())
        response.raise_for_status()
        if wait:
            await self._wait(response.json()["taskUid"], 600_000)

    def _partner_request(self, query: PartnerQuery, with_skills: bool = True, facets_only: bool = False) -> dict:
        request: dict[str, Any] = {
            "indexUid": self.index_uid, "q": " ".join(query.terms), "filter": partner_filters(query, with_skills),
            "facets": ["skills"], "matchingStrategy": "all", "sort": ["approved_at:desc", "id:desc"],
        }
        if facets_only:
            request["limit"] = 0
        else:
            request["page"], request["hitsPerPage"] = query.page, query.per_page
        return request

    async def search(self, query: PartnerQuery) -> PartnerSearchResult:  # type: ignore[override]
        await self._ensure_prepared()
        queries = [self._partner_request(query)]
        if query.skills:
            queries.append(self._partner_request(query, with_skills=False, facets_only=True))
        try:
            response = await self.client.http_client.post("multi-search", json={"queries": queries})
            response.raise_for_status()
            results = response.json()["results"]
        except ERRORS as exc:
            raise SearchUnavailable(str(exc)) from exc
        facets = (results[-1].get("facetDistribution") or {}).get("skills", {})
        facets = dict(sorted(((k, int(v)) for k, v in facets.items()), key=lambda item: (-item[1], item[0])))
        hits = [{k: v for k, v in hit.items() if not k.startswith("_")} for hit in results[0]["hits"]]
        return PartnerSearchResult(hits=hits, total=results[0].get("totalHits", 0), page=query.page,
                                   per_page=query.per_page, facets={"skills": facets}, backend=self.name)


def open_partner_backend(meili_url: str | None, meili_master_key: str | None, *, fallback: bool = True,
                         index: str = PARTNER_INDEX) -> SearchBackend:
    """Meilisearch when configured (with the database as fallback); otherwise the database alone."""
    if meili_url:
        meili = MeiliPartnerBackend(meili_url, meili_master_key, index=index)
        return FallbackBackend(meili, DatabasePartnerBackend()) if fallback else meili  # type: ignore[arg-type,return-value]
    return DatabasePartnerBackend()  # type: ignore[return-value]


# --- what pages and the API call: policy first ------------------------------------------------------


async def search_partners(backend: Any, actor: Actor, query: PartnerQuery) -> PartnerSearchResult:
    """Partners the actor may list matching the query; nothing at all for those who may list none."""
    if not may_list_partners(actor):
        return _empty(query)
    return await backend.search(query)


async def match_partners(backend: Any, actor: Actor, need: NeedSpec) -> tuple[list[Match], bool]:
    """The need's candidates, ranked best first, and whether the fallback answered."""
    if not may_list_partners(actor):
        return [], False
    ids = (need.named_partner_id,) if need.named_partner_id else ()
    query = PartnerQuery(skills=() if ids else need.skills, available=True, ids=ids, per_page=CANDIDATES)
    result = await backend.search(query)
    return rank(need, result.hits), result.degraded


# --- keeping the index in step, through the outbox (search.sync.IndexSync) ---------------------------

INDEX_SYNC = IndexSync(TOPIC, PartnerProfile, is_findable, findable_filter, _documents)
document_for = INDEX_SYNC.document_for
sync_partner = INDEX_SYNC.sync
consumer = INDEX_SYNC.consumer
documents_for_reindex = INDEX_SYNC.documents_for_reindex
rebuild_partner_index = INDEX_SYNC.rebuild
