"""What a challenge looks like as a search document, and the Meilisearch index settings for it.

A document is flat (one attribute per language) so each attribute can be tokenised as its language:
`*_ja` as Japanese (no spaces between words), `*_en` as English. Both backends return documents of
this shape, so pages and the API render either alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from models.challenges.models import Challenge

LANGUAGES = ("ja", "en")
TEXT_FIELDS = ("title", "summary", "situation", "problem", "outcome")
# Prefetch these before calling challenge_document().
RELATED = ("owner", "category")

# Searchable attributes, most important first (Meilisearch's `attribute` ranking rule uses the order).
SEARCHABLE_ATTRIBUTES = [
    "title_ja", "title_en",
    "tags",
    "summary_ja", "summary_en",
    "problem_ja", "problem_en",
    "outcome_ja", "outcome_en",
    "situation_ja", "situation_en",
    "category_name_ja", "category_name_en",
    "agency_name_ja", "agency_name_en",
]
FILTERABLE_ATTRIBUTES = [
    "category", "agency_id", "municipality_type", "status", "tags",
    "budget_min_yen", "budget_max_yen", "proposals_deadline", "published_at",
]
SORTABLE_ATTRIBUTES = ["published_at", "proposals_deadline", "budget_max_yen", "id"]
# "sort" first: an explicit sort (newest, deadline, budget) orders strictly, relevance breaks ties. Equally relevant
# challenges come newest first, as in the database backend (search.database.ORDERINGS), so both answer alike; these
# last two rules order without counting in the ranking score.
RANKING_RULES = ["sort", "words", "typo", "proximity", "attribute", "exactness", "published_at:desc", "id:desc"]
MAX_TOTAL_HITS = 10_000
MAX_FACET_VALUES = 200  # more than Tokyo's 62 municipalities and its bureaus


def index_settings() -> dict[str, Any]:
    """Meilisearch settings (camelCase, as the settings route takes them); applying them is idempotent."""
    return {
        "searchableAttributes": SEARCHABLE_ATTRIBUTES,
        "filterableAttributes": FILTERABLE_ATTRIBUTES,
        "sortableAttributes": SORTABLE_ATTRIBUTES,
        "rankingRules": RANKING_RULES,
        "localizedAttributes": [
            {"locales": ["jpn"], "attributePatterns": ["*_ja"]},
            {"locales": ["eng"], "attributePatterns": ["*_en"]},
        ],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "faceting": {"maxValuesPerFacet": MAX_FACET_VALUES, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
    }


def timestamp(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def challenge_document(challenge: Challenge) -> dict[str, Any]:
    """The challenge as a search document; `owner` and `category` must be fetched."""
    document: dict[str, Any] = {"id": challenge.id}
    for name in TEXT_FIELDS:
        value = getattr(challenge, name) or {}
        for lang in LANGUAGES:
            document[f"{name}_{lang}"] = value.get(lang) or ""
    owner, category = challenge.owner, challenge.category
    document.update(
        tags=[str(tag) for tag in challenge.tags or []],
        category=category.slug if category else None,
        category_name_ja=category.name_ja if category else "",
        category_name_en=category.name_en if category else "",
        agency_id=owner.id,
        agency_name_ja=owner.name_ja,
        agency_name_en=owner.name_en,
        municipality_type=owner.municipality_type,
        status=challenge.status,
        budget_min_yen=challenge.budget_min_yen,
        budget_max_yen=challenge.budget_max_yen,
        proposals_deadline=timestamp(challenge.proposals_deadline),
        published_at=timestamp(challenge.published_at),
    )
    return document


def translated(document: dict[str, Any], name: str) -> dict[str, str]:
    """{"ja": ..., "en": ...} from the flat attributes, leaving out a missing language."""
    return {lang: document[f"{name}_{lang}"] for lang in LANGUAGES if document.get(f"{name}_{lang}")}


# Meilisearch marks matches with these; they never occur in text people type, so after escaping the
# text they can be turned into <mark> safely.
HIGHLIGHT_START, HIGHLIGHT_END = "\ue000", "\ue001"


def highlight_html(text: str) -> Markup:
    """A highlighted snippet as safe HTML: the text escaped, matches in <mark>."""
    return Markup(str(escape(text)).replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_END, "</mark>"))
