"""Discovery: the challenge search page and `GET /api/v1/challenges`, sharing one query schema.

Both ask the configured search backend, which answers from the database (and says so) while
Meilisearch is unavailable. Results are public: only challenges a visitor may list are indexed.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from pydantic import ValidationError
from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.challenges import listing
from models.core.base import translated
from models.core.errors import N_
from models.policy import Actor
from models.policy.challenges import may_follow
from search.backend import FACETS, SORTS, SearchBackend, SearchResult
from search.documents import LANGUAGES, from_timestamp
from search.documents import translated as document_text
from server import i18n, labels
from server.api import api
from server.caching import shared
from server.forms import errors_from
from server.schemas.discovery import (
    CategoryListOut,
    CategoryOut,
    CategoryQuery,
    ChallengeSearchOut,
    ChallengeSearchQuery,
)
from server.templating import templates

FACET_LABELS = {
    "category": N_("Category"),
    "agency": N_("Agency"),
    "municipality_type": N_("Type of municipality"),
    "status": N_("Status"),
}
VALUE_LABELS = {
    "status": labels.SEARCH_STATUSES,
    "municipality_type": {
        "prefecture": N_("Metropolitan government"),
        "ward": N_("Special ward"),
        "city": N_("City"),
        "town": N_("Town"),
        "village": N_("Village"),
    },
}
SORT_LABELS = {
    "relevance": N_("Best match"),
    "newest": N_("Newest first"),
    "deadline": N_("Deadline soonest (open only)"),
    "budget": N_("Highest budget first"),
}
PAGE_WINDOW = 2  # page links shown either side of the current page


def search_backend(request: Request) -> SearchBackend:
    return request.app.state.services.search


NAMES_TTL = 60.0  # seconds; categories and agencies are renamed rarely
NAMES_RETRY = 5.0  # an agency not yet known is looked up again at most this often
_names_cache: tuple[float, dict[str, dict[str, dict[str, str]]]] | None = None


async def _names(facets: dict[str, dict[str, int]], query: ChallengeSearchQuery) -> dict[str, dict[str, dict[str, str]]]:
    """Names in both languages of categories and agencies, for facet values (cached: every search needs them)."""
    global _names_cache
    wanted = {value for value in facets.get("agency", {})} | {str(agency) for agency in query.agency}
    if _names_cache is not None:
        age = time.monotonic() - _names_cache[0]
        if age < NAMES_TTL and (wanted <= _names_cache[1]["agency"].keys() or age < NAMES_RETRY):
            return _names_cache[1]
    names = {
        "category": await listing.category_names(),
        "agency": {str(org_id): name for org_id, name in (await listing.agency_names()).items()},
    }
    _names_cache = (time.monotonic(), names)
    return names


def _moment(document: dict[str, Any], name: str) -> datetime | None:
    value = document.get(name)
    return None if value is None else datetime.fromtimestamp(value, i18n.TOKYO)  # as from_timestamp, in Japan time


def _texts(document: dict[str, Any], keys: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {lang: text for lang, key in keys if (text := document.get(key))}


TITLE_KEYS = tuple((lang, f"title_{lang}") for lang in LANGUAGES)
SUMMARY_KEYS = tuple((lang, f"summary_{lang}") for lang in LANGUAGES)
AGENCY_KEYS = (("ja", "agency_name_ja"), ("en", "agency_name_en"))


def _hit(document: dict[str, Any]) -> dict[str, Any]:
    """A ChallengeHit as the plain data its JSON is written from (see `search_output`)."""
    get = document.get
    return {
        "id": document["id"],
        "title": _texts(document, TITLE_KEYS),
        "summary": _texts(document, SUMMARY_KEYS),
        "category": get("category"),
        "agency": {"id": document["agency_id"], "name": _texts(document, AGENCY_KEYS)},
        "municipality_type": get("municipality_type"),
        "status": document["status"],
        "tags": get("tags") or [],
        "budget_min_yen": get("budget_min_yen"),
        "budget_max_yen": get("budget_max_yen"),
        "proposals_deadline": _moment(document, "proposals_deadline"),
        "published_at": _moment(document, "published_at"),
        "highlight": get("_highlight"),
    }


async def search_output(result: SearchResult, query: ChallengeSearchQuery) -> Response:
    """The ChallengeSearchOut of this result, as JSON. Written from plain data by pydantic's serialiser rather
    than through the models: the hits come from the search index, of a known shape, and building and checking
    twenty hits and their facets as models cost more than the rest of the request (the schema tests hold the
    output to ChallengeSearchOut)."""
    names = await _names(result.facets, query)
    output = {
        "items": [_hit(document) for document in result.hits],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "facets": {
            facet: [{"value": value, "count": count, "name": names.get(facet, {}).get(value)}
                    for value, count in result.facets.get(facet, {}).items()]
            for facet in FACETS
        },
        "degraded": result.degraded,
    }
    return Response(to_json(output), media_type="application/json")


@api.operation(
    "/challenges",
    summary="Search published challenges (full text in Japanese and English, facets, sorting)",
    query=ChallengeSearchQuery,
    response=ChallengeSearchOut,
    public=True,
    tags=["challenges"],
)
async def search_challenges(request: Request, actor: Actor, query: ChallengeSearchQuery) -> Response:
    result = await search_backend(request).search(query.to_search_query())  # server/api.py used from_params
    return await search_output(result, query)


@api.operation("/categories", summary="The categories, with the slugs challenges and searches use",
               query=CategoryQuery, response=CategoryListOut, public=True, tags=["challenges"])
async def list_categories(request: Request, actor: Actor, query: CategoryQuery) -> CategoryListOut:
    every = await listing.categories()
    page = every[(query.page - 1) * query.per_page:query.page * query.per_page]
    return CategoryListOut(items=[CategoryOut(slug=c.slug, name={"ja": c.name_ja, "en": c.name_en}) for c in page],
                           total=len(every), page=query.page, per_page=query.per_page)


# --- the page --------------------------------------------------------------------------------


def value_label(facet: str, value: str) -> str:
    message = VALUE_LABELS.get(facet, {}).get(value)
    return i18n.gettext(message) if message else value


def _facet_options(facet: str, counts: dict[str, int], chosen: list[Any], names: dict[str, dict[str, str]]) -> list[dict]:
    chosen_values = [str(value) for value in chosen]
    values = list(counts) + [value for value in chosen_values if value not in counts]
    options = []
    for value in values:
        if facet in VALUE_LABELS:
            label = value_label(facet, value)
        else:
            label = translated(names.get(value), i18n.get_locale()) or value
        options.append({"value": value, "label": label, "count": counts.get(value, 0), "checked": value in chosen_values})
    return options


def _pages(page: int, last: int) -> list[int]:
    around = range(max(1, page - PAGE_WINDOW), min(last, page + PAGE_WINDOW) + 1)
    return sorted({1, last, *around})


def _result_view(document: dict[str, Any]) -> dict[str, Any]:
    locale = i18n.get_locale()
    highlight = document.get("_highlight") or {}

    def text(name: str) -> str | Markup:
        texts = document_text(document, name)
        shown = locale if texts.get(locale) else next(iter(texts), None)
        snippet = highlight.get(name, {}).get(shown or "")
        # snippets are already escaped, with only <mark> added (search.documents.highlight_html)
        return Markup(snippet) if snippet else translated(texts, locale)

    return {
        "id": document["id"],
        "title": text("title"),
        "summary": text("summary"),
        "agency": translated({"ja": document.get("agency_name_ja"), "en": document.get("agency_name_en")}, locale),
        "category": translated({"ja": document.get("category_name_ja"), "en": document.get("category_name_en")}, locale),
        "status": value_label("status", document["status"]),
        "tags": document.get("tags") or [],
        "budget_min_yen": document.get("budget_min_yen"),
        "budget_max_yen": document.get("budget_max_yen"),
        "proposals_deadline": from_timestamp(document.get("proposals_deadline")),
        "texts": {name: document_text(document, name) for name in ("title", "summary")},  # for lang_attr
    }


async def search_page(request: Request) -> Response:
    errors: dict[str, str] = {}
    try:
        query = ChallengeSearchQuery.from_params(request.query_params)
    except ValidationError as exc:
        errors = errors_from(exc)
        query = ChallengeSearchQuery()

    async def search_form() -> Markup:
        context = await _search_context(request, query, errors)
        return Markup(templates.get_template("challenges/_search_form.html").render(context))

    # the search, its results and filters are the same for every reader of this address in a language: kept a
    # moment for the next (server/caching.py), signed in or not
    form = await shared(("search form", str(request.url), i18n.get_locale()), search_form, public=not errors)
    context = {"query": query, "errors": errors, "search_form": form, "may_follow": may_follow(request.state.actor)}
    return templates.TemplateResponse(request, "challenges/search.html", context, status_code=422 if errors else 200)


async def _search_context(request: Request, query: ChallengeSearchQuery, errors: dict[str, str]) -> dict[str, Any]:
    result = await search_backend(request).search(query.to_search_query()) if not errors else None
    context: dict[str, Any] = {
        "request": request,
        "query": query,
        "raw": request.query_params,
        "errors": errors,
        "result": result,
        "sorts": [(name, i18n.gettext(SORT_LABELS[name])) for name in SORTS],
        "facet_labels": {facet: i18n.gettext(label) for facet, label in FACET_LABELS.items()},
    }
    if result is not None:
        names = await _names(result.facets, query)
        last_page = max(1, -(-min(result.total, 1000 * query.per_page) // query.per_page))
        context.update(
            results=[_result_view(document) for document in result.hits],
            facets={
                facet: _facet_options(facet, result.facets.get(facet, {}), query.model_dump()[facet], names.get(facet, {}))
                for facet in FACETS
            },
            pages=_pages(query.page, last_page),
            last_page=last_page,
            page_url=lambda page: "?" + urlencode(query.params(page=page)),
            tag_url=lambda tag: "?" + urlencode({"tag": tag}),
        )
    return context


routes = [Route("/challenges", search_page, methods=["GET"], name="search_challenges")]
