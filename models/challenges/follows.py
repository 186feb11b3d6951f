"""Following a challenge or a saved search, and the in-app notifications that follow from it.

A saved search is the search page's query parameters that say what is wanted (words, category,
agency, municipality type); when a challenge is published, everyone whose saved search matches it is
told once. `notify` is the one way this area writes notifications: it never writes the same
(person, kind, payload) twice, so jobs and retries can call it again safely.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from tortoise import connections, timezone
from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.challenges.models import Challenge, ChallengeStatus, Follow
from models.core.base import one_or_none
from models.core.errors import N_, NotFound, ValidationFailed
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from models.policy import Actor, require_user
from models.policy.challenges import public_challenge_filter

log = logging.getLogger(__name__)

TOPIC = "notify"  # the outbox topic whose messages `consume` handles
SAVED_QUERY_LISTS = ("category", "agency", "municipality_type")
MAX_SAVED_SEARCHES = 50
MATCHED = "search.matched"  # the notification kind for a new challenge matching a saved search


# --- notifications ---------------------------------------------------------------------------


async def notify(user_ids: Iterable[int | None], kind: str, payload: dict[str, Any]) -> int:
    """Tell each person once: nobody gets a second notification with the same kind and payload."""
    wanted = {int(user_id) for user_id in user_ids if user_id is not None}
    if not wanted:
        return 0
    existing = await Notification.filter(kind=kind, user_id__in=list(wanted)).values_list("user_id", "payload")
    wanted -= {user_id for user_id, known in existing if known == payload}
    if wanted:
        await Notification.bulk_create([Notification(user_id=user_id, kind=kind, payload=payload) for user_id in sorted(wanted)])
    return len(wanted)


async def followers_of(challenge: Challenge) -> set[int]:
    return set(await Follow.filter(challenge_id=challenge.id).values_list("user_id", flat=True))  # type: ignore[arg-type]  # Tortoise types values_list(flat=True) as tuples


# --- following -------------------------------------------------------------------------------


def clean_saved_query(raw: dict[str, Any]) -> dict[str, Any]:
    """A saved search in one canonical form: `q` (words) and sorted lists of filter values, blanks left out."""
    unknown = set(raw) - {"q", *SAVED_QUERY_LISTS}
    if unknown:
        raise ValidationFailed({"saved_query": N_("A saved search can only hold words, categories, agencies and types of municipality.")})
    clean: dict[str, Any] = {}
    words = " ".join(str(raw.get("q") or "").split())
    if words:
        clean["q"] = words
    for name in SAVED_QUERY_LISTS:
        values = raw.get(name) or []
        values = values if isinstance(values, list) else [values]
        if name == "agency":
            try:
                items: list[Any] = sorted({int(value) for value in values})
            except (TypeError, ValueError):
                raise ValidationFailed({"saved_query": N_("An agency is given by its number.")}) from None
        else:
            items = sorted({str(value).strip() for value in values if str(value).strip()})
        if items:
            clean[name] = items
    return clean


async def follow(actor: Actor, *, challenge: Challenge | None = None, saved_query: dict[str, Any] | None = None) -> Follow:
    """Follow a challenge (which the caller has already been allowed to see) or a saved search.

    Following the same thing twice returns the existing follow.
    """
    user = require_user(actor)
    if (challenge is None) == (saved_query is None):
        raise ValidationFailed({"follow": N_("Follow either a challenge or a search.")})
    if challenge is not None:
        existing = await Follow.get_or_none(user=user, challenge_id=challenge.id)
        return existing or await Follow.create(user=user, challenge=challenge)
    assert saved_query is not None
    query = clean_saved_query(saved_query)
    searches = await Follow.filter(user=user, challenge_id__isnull=True)
    for search in searches:
        if search.saved_query == query:
            return search
    if len(searches) >= MAX_SAVED_SEARCHES:
        raise ValidationFailed({"saved_query": N_("You follow too many searches; stop following some first.")})
    return await Follow.create(user=user, saved_query=query)


async def unfollow(actor: Actor, follow_id: int) -> None:
    user = require_user(actor)
    deleted = await Follow.filter(id=follow_id, user=user).delete()
    if not deleted:
        raise NotFound("no such follow")


async def unfollow_challenge(actor: Actor, challenge: Challenge) -> None:
    user = require_user(actor)
    await Follow.filter(user=user, challenge_id=challenge.id).delete()


def follows_of(actor: Actor) -> QuerySet[Follow]:
    """The caller's follows, newest first, with their challenges."""
    user = require_user(actor)
    return Follow.filter(user=user).order_by("-created_at", "-id").prefetch_related("challenge")


async def follows_page(actor: Actor, offset: int = 0, limit: int | None = None) -> tuple[list[Follow], int]:
    """A page of the caller's follows (every one without a limit), and how many there are."""
    mine = follows_of(actor)
    page = mine.offset(offset).limit(limit) if limit is not None else mine
    return list(await page), await follows_of(actor).count()


async def current_follow(actor: Actor, challenge: Challenge) -> Follow | None:
    """The person's follow of this challenge, if any."""
    if actor.user is None:
        return None
    return await one_or_none(Follow, user_id=actor.user.id, challenge_id=challenge.id)


async def with_challenge(follow: Follow) -> Follow:
    await follow.fetch_related("challenge")
    return follow


# --- the notifications one reads -------------------------------------------------------------


def _notifications_of(actor: Actor) -> QuerySet[Notification]:
    return Notification.filter(user_id=actor.user.id) if actor.user else Notification.filter(id=-1)


async def notifications_page(actor: Actor, offset: int, limit: int, unread_only: bool = False,
                             ) -> tuple[list[Notification], int, int]:
    """A page of the person's notifications, newest first; how many there are (of those shown); how many unread."""
    mine = _notifications_of(actor)
    shown = mine.filter(read_at__isnull=True) if unread_only else mine
    page = await shown.order_by("-created_at", "-id").offset(offset).limit(limit)
    total = await shown.count()
    unread = total if unread_only else await mine.filter(read_at__isnull=True).count()
    return list(page), total, unread


async def mark_read(actor: Actor) -> int:
    """Mark all the person's notifications read; returns how many were unread."""
    return await _notifications_of(actor).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- new challenges for saved searches -------------------------------------------------------


def _text_sql() -> str:
    """SQL for the title and summary of the `challenge` row in both languages (no user input in it)."""
    column = '"challenge"."{}"'.format
    if connections.get("default").capabilities.dialect == "postgres":
        parts = [f"coalesce({column(name)}->>'{lang}', '')" for name in ("title", "summary") for lang in ("ja", "en")]
        return " || ' ' || ".join(parts)
    # SQLite keeps JSON as text with \u escapes: read the values out with its JSON functions.
    parts = [f"coalesce(json_extract({column(name)}, '$.{lang}'), '')" for name in ("title", "summary") for lang in ("ja", "en")]
    return " || ' ' || ".join(parts)


def _matching(challenge_id: int, query: dict[str, Any]) -> QuerySet[Challenge]:
    found = Challenge.filter(public_challenge_filter(), id=challenge_id)
    if query.get("category"):
        found = found.filter(category__slug__in=query["category"])
    if query.get("agency"):
        found = found.filter(owner_id__in=query["agency"])
    if query.get("municipality_type"):
        found = found.filter(owner__municipality_type__in=query["municipality_type"])
    terms = str(query.get("q") or "").split()
    if terms:
        found = found.annotate(followed_text=RawSQL(_text_sql()))
        for term in terms:
            found = found.filter(followed_text__icontains=term)
    return found


async def notify_saved_searches(challenge_id: int) -> int:
    """Tell everyone whose saved search matches a newly published challenge (a job; idempotent).

    Returns how many people were notified this time.
    """
    challenge = await Challenge.get_or_none(id=challenge_id)
    if challenge is None or challenge.status != ChallengeStatus.PUBLISHED.value:
        return 0
    by_query: dict[str, set[int]] = {}
    for user_id, saved_query in await Follow.filter(challenge_id__isnull=True).values_list("user_id", "saved_query"):
        if isinstance(saved_query, dict):
            by_query.setdefault(json.dumps(saved_query, sort_keys=True), set()).add(user_id)
    people: set[int] = set()
    for key, user_ids in by_query.items():
        if user_ids - people and await _matching(challenge_id, json.loads(key)).exists():
            people |= user_ids
    async with in_transaction():
        return await notify(people, MATCHED, {"challenge": challenge_id})


async def consume(message: OutboxMessage) -> None:
    """The outbox consumer for the "notify" topic."""
    kind = message.payload.get("kind")
    if kind == "challenge_published":
        await notify_saved_searches(int(message.payload["id"]))
    else:
        log.warning("outbox message %s: no notification handler for kind %r", message.id, kind)
