"""The database backend: queries the ORM directly, so it is always as fresh as the data.

It is the embedded default (no other service) and the fallback while Meilisearch is unreachable.
Text matching is substring matching over the attributes Meilisearch searches, in both languages.
Japanese has no spaces between words, so the query is split only on the spaces the person typed and
every term must occur somewhere. No typo tolerance and no relevance ranking: "relevance" is newest first.

Terms of 3 characters or more are answered from a trigram index (migration 0012_search_fts): on SQLite
the FTS5 table `challenge_search` (trigram tokenizer, kept in step by triggers), on PostgreSQL a pg_trgm
GIN index on the very expression matched below. Shorter terms have no trigram and are scanned with LIKE,
as before. Which challenges a visitor may see is still decided only by `challenge_filter(VISITOR)`.
"""

from __future__ import annotations

from typing import cast

from tortoise import connections, timezone
from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.functions import Coalesce, Count

from models.challenges.models import Challenge, ChallengeStatus
from models.identity.orgs import Category, Organisation, OrgKind
from models.policy import VISITOR
from models.policy.challenges import challenge_filter
from search.backend import FACETS, ReadsTheDatabase, SearchQuery, SearchResult
from search.documents import RELATED, TEXT_FIELDS, challenge_document

MATCHED_IDS = 5_000
TRIGRAM = 3  # the shortest term a trigram index can answer
TAG_SEPARATOR = "\x1f"  # never part of a tag; tags are matched whole between two of these
# Facet -> the field its counts group by.
GROUP_BY = {"category": "category__slug", "agency": "owner_id", "municipality_type": "owner__municipality_type",
            "status": "status"}
ORDERINGS = {
    "relevance": ("-published_at", "-id"),
    "newest": ("-published_at", "-id"),
    "deadline": ("proposals_deadline", "id"),
    "budget": ("-budget_order", "-published_at", "-id"),
}


def _columns(dialect: str) -> tuple[str, str]:
    """SQL for (the row's searchable text, its tags between separators); no user input goes in here.

    The text is both languages of each text field and the tags. The category's and the agency's names,
    which Meilisearch searches too, are matched separately (see `_named`): a few rows, looked up once.
    """
    column = '"challenge"."{}"'.format
    if dialect == "postgres":
        # Immutable operators only, exactly as the trigram index of migration 0011 is built, so the
        # planner uses it for `UPPER(CAST(text AS VARCHAR)) LIKE UPPER('%term%')` (Tortoise's icontains).
        texts = [f"coalesce({column(name)}->>'{lang}', '')" for name in TEXT_FIELDS for lang in ("ja", "en")]
        texts.append(f"coalesce({column('tags')}::text, '')")
        text = "(" + " || ' ' || ".join(texts) + ")"
        tags = (f"chr(31) || coalesce((SELECT string_agg(value, chr(31)) FROM jsonb_array_elements_text("
                f"{column('tags')})), '') || chr(31)")
        return text, tags
    # SQLite keeps JSON as text with \u escapes, so values are read out with its JSON functions.
    texts = [f"coalesce(json_extract({column(name)}, '$.{lang}'), '')" for name in TEXT_FIELDS for lang in ("ja", "en")]
    texts.append(f"coalesce((SELECT group_concat(value, ' ') FROM json_each({column('tags')})), '')")
    text = " || ' ' || ".join(texts)
    tags = (f"char(31) || coalesce((SELECT group_concat(value, char(31)) FROM json_each({column('tags')})), '')"
            " || char(31)")
    return text, tags


async def _named(term: str) -> tuple[list[int], list[int]]:
    """The categories and the agencies named with this term (their challenges match it)."""
    named = Q(name_ja__icontains=term) | Q(name_en__icontains=term)
    categories = await Category.filter(named).values_list("id", flat=True)
    agencies = await Organisation.filter(named, kind=OrgKind.AGENCY.value).values_list("id", flat=True)
    return cast(list[int], categories), cast(list[int], agencies)


async def _fts_ids(term: str) -> list[int]:
    """SQLite: ids of challenges (any status: the caller filters) whose text contains the term, from
    the FTS5 trigram table. The term is one quoted phrase, a parameter: a substring match, any case."""
    phrase = '"' + term.replace('"', '""') + '"'
    _, rows = await connections.get("default").execute_query(
        "SELECT rowid FROM challenge_search WHERE challenge_search MATCH ?", [phrase])
    return [row[0] for row in rows]


class DatabaseBackend(ReadsTheDatabase):
    def __init__(self, matched_ids: int = MATCHED_IDS, trigram: bool = True) -> None:
        self.matched_ids = matched_ids
        self.trigram = trigram  # False: SQLite scans with LIKE for every term (bench/db_search.py's "before")

    def _dialect(self) -> str:
        return "postgres" if connections.get("default").capabilities.dialect == "postgres" else "sqlite"

    async def _matching(self, query: SearchQuery) -> Q | None:
        """Words and tags. The text is scanned once: up to `matched_ids` matches are passed on as ids, so
        the grouping and page queries need not scan it again; beyond that, as `id IN (subquery)`."""
        if not query.terms and not query.tags:
            return None
        text, tags = _columns(self._dialect())
        matches = Challenge.filter(challenge_filter(VISITOR)).annotate(search_text=RawSQL(text), search_tags=RawSQL(tags))
        fts = self.trigram and self._dialect() == "sqlite"
        narrowed: set[int] | None = None  # the ids every indexed term found, when no name matched it
        for term in query.terms:
            categories, agencies = await _named(term)
            named = Q(category_id__in=categories) | Q(owner_id__in=agencies)
            if fts and len(term) >= TRIGRAM:
                texts = set(await _fts_ids(term))
                if not categories and not agencies:
                    narrowed = texts if narrowed is None else narrowed & texts
                    continue
                found = Q(id__in=list(texts))
            else:
                found = Q(search_text__icontains=term)
            matches = matches.filter(found | named)
        if narrowed is not None:
            matches = matches.filter(id__in=sorted(narrowed))
        for tag in query.tags:
            matches = matches.filter(search_tags__icontains=f"{TAG_SEPARATOR}{tag}{TAG_SEPARATOR}")
        ids = await matches.limit(self.matched_ids + 1).values_list("id", flat=True)
        if len(ids) <= self.matched_ids:
            return Q(id__in=list(ids))
        return Q(id__in=Subquery(matches.values("id")))

    def _facet_conditions(self, query: SearchQuery) -> list[Q]:
        conditions = []
        if query.categories:
            conditions.append(Q(category__slug__in=list(query.categories)))
        if query.agencies:
            conditions.append(Q(owner_id__in=list(query.agencies)))
        if query.municipality_types:
            conditions.append(Q(owner__municipality_type__in=list(query.municipality_types)))
        if query.statuses:
            conditions.append(Q(status__in=list(query.statuses)))
        return conditions

    async def _other_conditions(self, query: SearchQuery) -> list[Q]:
        conditions = [challenge_filter(VISITOR)]  # what a visitor may list: the one rule, in models.policy
        if query.budget_min is not None:
            conditions.append(Q(budget_max_yen__gte=query.budget_min))
        if query.budget_max is not None:
            conditions.append(Q(budget_min_yen__lte=query.budget_max))
        if query.deadline_after is not None:
            conditions.append(Q(proposals_deadline__gte=query.deadline_after))
        if query.deadline_before is not None:
            conditions.append(Q(proposals_deadline__lt=query.deadline_before))
        if query.sort == "deadline":  # open ones only
            conditions.append(Q(status=ChallengeStatus.PUBLISHED.value, proposals_deadline__gt=query.now or timezone.now()))
        if (matching := await self._matching(query)) is not None:
            conditions.append(matching)
        return conditions

    async def _counts(self, query: SearchQuery, others: list[Q]) -> tuple[int, dict[str, dict[str, int]]]:
        """The total and every facet's counts from one grouping query, without the facet filters.

        Each facet's counts apply the other facets' filters but not its own, so they show what
        choosing another value would give (as the Meilisearch backend's do).
        """
        fields = [GROUP_BY[facet] for facet in FACETS]
        rows = await (
            Challenge.filter(*others)
            .annotate(count=Count("id"))
            .group_by(*fields)
            .values_list(*fields, "count")
        )
        chosen = {facet: {str(value) for value in query.facet_values(facet)} for facet in FACETS}
        combinations = [
            ({facet: None if value is None else str(value) for facet, value in zip(FACETS, row[:-1])}, int(row[-1]))
            for row in rows
        ]

        def passes(values: dict[str, str | None], ignoring: str | None = None) -> bool:
            return all(not chosen[f] or values[f] in chosen[f] for f in FACETS if f != ignoring)

        total = sum(count for values, count in combinations if passes(values))
        facets: dict[str, dict[str, int]] = {}
        for facet in FACETS:
            counts: dict[str, int] = {}
            for values, count in combinations:
                if (value := values[facet]) is not None and passes(values, ignoring=facet):
                    counts[value] = counts.get(value, 0) + count
            facets[facet] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        return total, facets

    async def search(self, query: SearchQuery) -> SearchResult:
        others = await self._other_conditions(query)
        total, facets = await self._counts(query, others)
        challenges: list[Challenge] = []
        if total > query.offset:
            page = Challenge.filter(*others, *self._facet_conditions(query))
            if query.sort == "budget":
                page = page.annotate(budget_order=Coalesce("budget_max_yen", -1))
            challenges = await (
                page.order_by(*ORDERINGS[query.sort]).offset(query.offset).limit(query.per_page).select_related(*RELATED)
            )
        return SearchResult(
            hits=[challenge_document(challenge) for challenge in challenges],
            total=total,
            page=query.page,
            per_page=query.per_page,
            facets=facets,
            backend=self.name,
        )


