"""Reading challenges for pages and the API: the categories, a challenge's details, the home page's,
an agency's, one's own agency's, and the public ones feeds show. Who may see what is decided in
models.policy.challenges; these functions only ask it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.models import Model

from models.challenges.models import Challenge, ChallengeKpi, ChallengeStatus, CoOwner, Criterion, Interest
from models.identity.orgs import Category, Organisation, OrgKind, OrgStatus
from models.policy import Actor
from models.policy.challenges import (
    accepted_co_owner_filter,
    challenge_filter,
    is_public,
    owned_challenge_filter,
    public_challenge_filter,
)


async def categories() -> list[Category]:
    """Every category, in the order pages list them."""
    return await Category.all()


async def category_names() -> dict[str, dict[str, str]]:
    """Category slug -> {"ja": ..., "en": ...}."""
    return {slug: {"ja": ja, "en": en} for slug, ja, en in await Category.all().values_list("slug", "name_ja", "name_en")}


async def agency_names(ids: Collection[int] | None = None) -> dict[int, dict[str, str]]:
    """Agency id -> {"ja": ..., "en": ...}; every agency's, or these organisations'."""
    rows = Organisation.filter(kind=OrgKind.AGENCY.value) if ids is None else Organisation.filter(id__in=list(ids))
    return {org_id: {"ja": ja, "en": en} for org_id, ja, en in await rows.values_list("id", "name_ja", "name_en")}


async def organisations(ids: Collection[int]) -> dict[int, Organisation]:
    return {o.id: o for o in await Organisation.filter(id__in=list(ids))} if ids else {}


async def criteria_and_kpis(challenge: Challenge) -> tuple[list[Criterion], list[ChallengeKpi]]:
    return await Criterion.filter(challenge_id=challenge.id), await ChallengeKpi.filter(challenge_id=challenge.id)


@dataclass
class Details:
    criteria: list[Criterion]
    kpis: list[ChallengeKpi]


async def details(challenge: Challenge, *, amendments: bool = False) -> Details:
    """What the page and the API show of one challenge beyond its row: owner, category, co-owners (with
    their organisations) and, for the page, amendments (all fetched onto the challenge); criteria and KPIs."""
    missing = [name for name in ("owner", "category") if not _fetched(challenge, name)]
    await challenge.fetch_related(*missing, "co_owners__organisation", *(["amendments"] if amendments else []))
    criteria, kpis = await criteria_and_kpis(challenge)
    return Details(criteria, kpis)


async def public_challenge(challenge_id: int) -> tuple[Challenge, Details] | None:
    """A public challenge and what its page shows of it (`details`, with amendments), the same for every reader;
    None when no public challenge has this id (one not public is read by lifecycle.get_challenge, for whoever
    may see it)."""
    challenge = await Challenge.get_or_none(id=challenge_id).select_related("owner", "category")
    if challenge is None or not is_public(challenge):
        return None
    return challenge, await details(challenge, amendments=True)


def _fetched(challenge: Challenge, relation: str) -> bool:
    """Whether a foreign key's object is already on the instance (or there is none to fetch)."""
    if getattr(challenge, f"{relation}_id") is None:
        return True
    return isinstance(challenge.__dict__.get(f"_{relation}"), Model)


async def home_challenges(actor: Actor, limit: int) -> list[Challenge]:
    """The latest published challenges the person may see, newest first."""
    return await (
        Challenge.filter(challenge_filter(actor), published_at__not_isnull=True)
        .distinct()
        .order_by("-published_at")
        .limit(limit)
        .prefetch_related("owner", "category")
    )


async def closing_soon(actor: Actor, limit: int, now: datetime | None = None) -> list[Challenge]:
    """Published challenges still taking proposals, the nearest deadline first."""
    return await (
        Challenge.filter(challenge_filter(actor), status=ChallengeStatus.PUBLISHED.value,
                         proposals_deadline__gt=now or timezone.now())
        .distinct()
        .order_by("proposals_deadline", "id")
        .limit(limit)
        .prefetch_related("owner", "category")
    )


async def own_challenges(actor: Actor) -> list[Challenge]:
    """Every challenge the person's agencies own or co-own, last changed first."""
    return await (
        Challenge.filter(owned_challenge_filter(actor.organisation_ids(OrgKind.AGENCY)))
        .distinct()
        .order_by("-updated_at")
        .prefetch_related("category", "owner")
    )


async def challenges_by_id(ids: Collection[int]) -> dict[int, Challenge]:
    return {c.id: c for c in await Challenge.filter(id__in=list(ids))} if ids else {}


async def invitable_agencies(taken: Collection[int]) -> list[Organisation]:
    """Approved agencies that could be invited to co-own a challenge, in municipality order."""
    agencies = await Organisation.filter(kind=OrgKind.AGENCY.value, status=OrgStatus.APPROVED.value).order_by(
        "municipality_code", "id"
    )
    return [agency for agency in agencies if agency.id not in taken]


# --- an agency's public page -------------------------------------------------------------------


@dataclass
class AgencyChallenges:
    agency: Organisation
    owned: list[Challenge]
    co_owned: list[Challenge]
    interest_count: int


async def agency_challenges(agency_id: int) -> AgencyChallenges | None:
    """An agency's public challenges, owned and co-owned, and how often it said "we have this too"."""
    agency = await Organisation.get_or_none(id=agency_id, kind=OrgKind.AGENCY.value)
    if agency is None:
        return None
    owned = await Challenge.filter(public_challenge_filter(), owner_id=agency.id).order_by(
        "-published_at", "-id").prefetch_related("category")
    co_owned_ids = await CoOwner.filter(accepted_co_owner_filter({agency.id})).values_list("challenge_id", flat=True)
    co_owned = await Challenge.filter(public_challenge_filter(), id__in=list(co_owned_ids)).order_by(
        "-published_at", "-id"
    ).prefetch_related("category", "owner") if co_owned_ids else []
    return AgencyChallenges(agency, owned, co_owned, await Interest.filter(organisation_id=agency.id).count())


# --- public challenges for feeds ---------------------------------------------------------------


@dataclass(frozen=True)
class PublicFilter:
    """Filters feeds honour: values of one filter are alternatives; every tag must be present."""

    categories: tuple[str, ...] = ()
    agencies: tuple[int, ...] = ()
    municipality_types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    deadline_from: datetime | None = None  # only challenges with a deadline at or after this


async def public_challenges(filters: PublicFilter, *, order: tuple[str, ...], limit: int) -> list[Challenge]:
    """Public challenges (models.policy.challenges.is_public) matching the filters, owner and category fetched."""
    query = Challenge.filter(public_challenge_filter())
    if filters.categories:
        query = query.filter(category__slug__in=list(filters.categories))
    if filters.agencies:
        query = query.filter(owner_id__in=list(filters.agencies))
    if filters.municipality_types:
        query = query.filter(owner__municipality_type__in=list(filters.municipality_types))
    if (moment := filters.deadline_from) is not None:
        query = query.filter(
            Q(questions_deadline__gte=moment) | Q(proposals_deadline__gte=moment) | Q(review_deadline__gte=moment)
        )
    query = query.order_by(*order)
    if filters.tags:
        # Tags are a JSON list; matched here rather than in SQL that differs between the databases.
        wanted = {tag.casefold() for tag in filters.tags}
        matching = [
            challenge_id for challenge_id, tags in await query.values_list("id", "tags")
            if wanted <= {str(tag).casefold() for tag in _tag_list(tags)}
        ][:limit]
        query = Challenge.filter(id__in=matching or [0]).order_by(*order)
    return list(await query.limit(limit).prefetch_related("owner", "category"))


def _tag_list(value: Any) -> list:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return value if isinstance(value, list) else []
