"""Feeds to follow: new challenges as Atom, deadlines as iCalendar; and similar challenges elsewhere.

Everything here is public: only what `models.policy.challenges.is_public` lets a visitor see
ever appears in a feed (one challenge's calendar follows `may_view_challenge`, like its page).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as lifecycle
from models.challenges import listing
from models.challenges.models import Challenge, ChallengeStatus
from models.challenges.similar import similar_to
from models.core.base import translated
from models.core.errors import N_
from models.identity.orgs import OrgKind
from models.pilots import lifecycle as pilot_lifecycle
from models.pilots import measurements
from models.policy import VISITOR, Actor
from models.policy.challenges import is_public, owner_organisation_ids
from server import atom, ical
from server.caching import shared
from server.i18n import get_locale
from server.i18n import gettext as _
from server.labels import pilot_label
from server.schemas.discovery import ChallengeSearchQuery

FEED_ENTRIES = 50
CALENDAR_CHALLENGES = 500
SUMMARY_CHARS = 1000
FILTERS = ("category", "agency", "municipality_type", "tag")
DEADLINES = (
    ("questions_deadline", "questions", N_("Questions deadline: %(title)s")),
    ("proposals_deadline", "proposals", N_("Proposals deadline: %(title)s")),
    ("review_deadline", "review", N_("Review deadline: %(title)s")),
)
ATOM_TYPE = f"{atom.MEDIA_TYPE}; charset=utf-8"
ICS_TYPE = "text/calendar; charset=utf-8"


def _base_url(request: Request) -> str:
    return request.app.state.settings.base_url


def _filters(request: Request) -> ChallengeSearchQuery:
    """The list's filters that feeds honour; other parameters (lang, q, page...) play no part."""
    params = QueryParams([(key, value) for key, value in request.query_params.multi_items() if key in FILTERS])
    return ChallengeSearchQuery.from_params(params)


def _filter_pairs(filters: ChallengeSearchQuery) -> list[tuple[str, str]]:
    return [(name, value) for name, value in filters.params() if name in FILTERS]


def _public_filter(filters: ChallengeSearchQuery, deadline_from: datetime | None = None) -> listing.PublicFilter:
    return listing.PublicFilter(categories=tuple(filters.category), agencies=tuple(filters.agency),
                                municipality_types=tuple(filters.municipality_type), tags=tuple(filters.tag),
                                deadline_from=deadline_from)


def _title(challenge: Challenge, lang: str) -> str:
    title = translated(challenge.title, lang) or _("(untitled)")
    if challenge.status == ChallengeStatus.CANCELLED:
        return _("[Cancelled] %(title)s", title=title)
    return title


# --- Atom ------------------------------------------------------------------------------------


async def challenges_feed(request: Request) -> Response:
    filters = _filters(request)
    lang = get_locale()
    base = _base_url(request)
    challenges = await listing.public_challenges(_public_filter(filters), order=("-published_at", "-id"),
                                                 limit=FEED_ENTRIES)
    pairs = _filter_pairs(filters)
    self_url = f"{base}/feeds/challenges.atom?{urlencode([*pairs, ('lang', lang)])}"
    entries = []
    for challenge in challenges:
        url = f"{base}/challenges/{challenge.id}"
        category = challenge.category
        entries.append(atom.Entry(
            id=url,
            title=_title(challenge, lang),
            updated=challenge.updated_at,
            published=challenge.published_at,
            link=url,
            author=challenge.owner.name(lang),
            summary=translated(challenge.summary, lang)[:SUMMARY_CHARS],
            categories=[atom.Category(category.slug, category.name(lang))] if category else [],
        ))
    feed = atom.Feed(
        id=self_url,
        title=_("Kyoso: new challenges"),
        subtitle=_("Challenges published on Kyoso by Tokyo's public agencies, newest first."),
        updated=max((c.updated_at for c in challenges), default=datetime.now(UTC)),
        self_url=self_url,
        alternate_url=f"{base}/challenges" + (f"?{urlencode(pairs)}" if pairs else ""),
        language=lang,
        generator="Kyoso",
        entries=entries,
    )
    return Response(atom.render(feed), media_type=ATOM_TYPE)


async def pilots_feed(request: Request) -> Response:
    """Public pilots (started: running, paused, under evaluation, adopted, stopped), newest first, with their
    KPIs' latest verified values only: what a visitor sees on the pilot's page, never a planned pilot."""
    lang = get_locale()
    base = _base_url(request)
    pilots = (await pilot_lifecycle.list_pilots(VISITOR))[:FEED_ENTRIES]  # as a visitor: the policy's public pilots
    self_url = f"{base}/feeds/pilots.atom?lang={lang}"
    progress = await measurements.progress_of_pilots(pilots)
    entries = []
    for pilot in pilots:
        url = f"{base}/pilots/{pilot.id}"
        title = translated(pilot.challenge.title, lang) or _("(untitled)")
        lines = [
            _("Status: %(status)s", status=pilot_label("status", pilot.status)),
            _("Period: %(start)s – %(end)s", start=pilot.starts_on.isoformat(), end=pilot.ends_on.isoformat()),
            _("Company: %(name)s", name=pilot.company.name(lang)),
        ]
        for kpi in progress[pilot.id]:  # verified values only
            if kpi.latest is not None:
                name = translated(kpi.kpi.name, lang) or kpi.kpi.key
                lines.append(f"{name}: {kpi.latest:g}{kpi.kpi.unit}")
        entries.append(atom.Entry(
            id=url,
            title=_("Pilot: %(title)s", title=title),
            updated=pilot.updated_at,
            published=pilot.started_at,
            link=url,
            author=pilot.owner.name(lang),
            summary="\n".join(lines)[:SUMMARY_CHARS],
        ))
    feed = atom.Feed(
        id=self_url,
        title=_("Kyoso: pilots"),
        subtitle=_("Pilots of proposals selected on Kyoso, with their verified results, newest first."),
        updated=max((p.updated_at for p in pilots), default=datetime.now(UTC)),
        self_url=self_url,
        alternate_url=f"{base}/pilots",
        language=lang,
        generator="Kyoso",
        entries=entries,
    )
    return Response(atom.render(feed), media_type=ATOM_TYPE)


# --- iCalendar -------------------------------------------------------------------------------


def _events(challenge: Challenge, base: str, lang: str, after: datetime | None = None) -> list[ical.Event]:
    host = urlsplit(base).hostname or "kyoso"
    url = f"{base}/challenges/{challenge.id}"
    title = _title(challenge, lang)
    description = "\n\n".join(
        part for part in (challenge.owner.name(lang), translated(challenge.summary, lang)[:SUMMARY_CHARS], url) if part
    )
    category = challenge.category.name(lang) if challenge.category else ""
    events = []
    for field, kind, label in DEADLINES:
        moment: datetime | None = getattr(challenge, field)
        if moment is None or (after is not None and moment < after):
            continue
        events.append(ical.Event(
            uid=f"challenge-{challenge.id}-{kind}@{host}",
            start=moment,
            stamp=challenge.updated_at,
            summary=_(label, title=title),
            url=url,
            description=description,
            cancelled=challenge.status == ChallengeStatus.CANCELLED,
            categories=[category] if category else [],
        ))
    return events


def _calendar_response(events: list[ical.Event], name: str) -> Response:
    text = ical.calendar(events, prodid="-//Kyoso//Challenge deadlines//EN", name=name)
    return Response(text.encode("utf-8"), media_type=ICS_TYPE)


async def deadlines_calendar(request: Request) -> Response:
    """Every public challenge's upcoming deadlines (a cancelled challenge's, marked cancelled)."""
    filters = _filters(request)
    lang = get_locale()
    now = datetime.now(UTC)
    challenges = await listing.public_challenges(_public_filter(filters, deadline_from=now),
                                                 order=("proposals_deadline", "id"), limit=CALENDAR_CHALLENGES)
    base = _base_url(request)
    events = [event for challenge in challenges for event in _events(challenge, base, lang, after=now)]
    return _calendar_response(events, _("Kyoso: challenge deadlines"))


async def challenge_calendar(request: Request) -> Response:
    """One challenge's deadlines, past ones included; only for those who may see the challenge."""
    actor: Actor = request.state.actor
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    lang = get_locale()
    events = _events(challenge, _base_url(request), lang)
    return _calendar_response(events, _("Deadlines: %(title)s", title=_title(challenge, lang)))


# --- the challenge page and the draft form ---------------------------------------------------


async def _similar(challenge: Challenge) -> list[Challenge]:
    """The same for every reader of the page (public challenges of other agencies): a public challenge's are kept a
    moment for the next."""
    return await similar_to(challenge, exclude_owner_id=await owner_organisation_ids(challenge))


async def detail_context(actor: Actor, challenge: Challenge) -> dict:
    """Similar challenges of other agencies, and where to follow this one's deadlines."""
    lang = get_locale()
    category = challenge.category  # fetched by lifecycle.get_challenge
    has_deadlines = any(getattr(challenge, field) for field, _kind, _label in DEADLINES)
    return {
        "similar": await shared(("similar", challenge.id), lambda: _similar(challenge), public=is_public(challenge)),
        "ics_url": f"/challenges/{challenge.id}/deadlines.ics?lang={lang}" if is_public(challenge) and has_deadlines else None,
        "category_feed_url": f"/feeds/challenges.atom?{urlencode({'category': category.slug, 'lang': lang})}" if category else None,
    }


async def similar_for_form(actor: Actor, challenge: Challenge | None, values: Mapping[str, Any]) -> list[Challenge]:
    """Similar challenges of other agencies beside the draft form, from what has been typed so far."""
    owners = await owner_organisation_ids(challenge) if challenge else actor.organisation_ids(OrgKind.AGENCY)
    return await similar_to(values, exclude_owner_id=owners)


routes: list[BaseRoute] = [
    Route("/feeds/challenges.atom", challenges_feed, methods=["GET"], name="challenges_feed"),
    Route("/feeds/pilots.atom", pilots_feed, methods=["GET"], name="pilots_feed"),
    Route("/feeds/deadlines.ics", deadlines_calendar, methods=["GET"], name="deadlines_calendar"),
    Route("/challenges/{challenge_id:int}/deadlines.ics", challenge_calendar, methods=["GET"], name="challenge_calendar"),
]
