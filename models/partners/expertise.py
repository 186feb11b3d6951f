"""What the review knows of a partner who reviews: expertise from their skills, conflicts from their affiliations.

A partner on a review panel is assigned by the same min-cost flow as any reviewer (models.review.rounds):
their claimed skills (slugs and names in both languages) and free tags are the expertise matched against
the round's and the subjects' tags, and the employers and clients they declared (current or past) are
affiliations, which models.review.conflicts treats like `User.affiliations`: never assigned to the work of
such an organisation, never shown its reviews. An affiliation names an organisation by its id when the
partner gave one, else by its name, read from the current
data each time, so that a company registered after the partner wrote its name still counts (Japanese or English, ignoring case and full-width forms).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from models.identity.orgs import Organisation
from models.partners.models import PartnerProfile, PartnerSkill
from models.partners.skills import SKILLS

MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class ReviewerProfile:
    partner_id: int
    expertise: frozenset[str] = frozenset()
    affiliations: frozenset[int] = frozenset()  # organisation ids


def comparable(name: str) -> str:
    """A name as compared: NFKC (full-width letters and spaces folded), case-folded, without spaces."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def _tags(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(v).strip().lower() for v in values if str(v).strip())


async def _organisations_named(names: set[str]) -> dict[str, set[int]]:
    """Comparable name -> the ids of organisations bearing it (Japanese or English), for names as written."""
    if not names:
        return {}
    condition = Q(id__in=[])
    for name in sorted(names):  # a first cut in the database, then the exact comparison here
        for form in {name, unicodedata.normalize("NFKC", name)}:
            condition |= Q(name_ja__icontains=form) | Q(name_en__icontains=form)
    wanted = {comparable(name) for name in names}
    found: dict[str, set[int]] = {}
    for organisation_id, name_ja, name_en in await Organisation.filter(condition).values_list("id", "name_ja", "name_en"):
        for name in (name_ja, name_en):
            key = comparable(name or "")
            if key in wanted:
                found.setdefault(key, set()).add(int(organisation_id))
    return found


async def reviewer_profiles(user_ids: Iterable[int], using_db: Any = None) -> dict[int, ReviewerProfile]:
    """User id -> the expertise and affiliations of their partner profile, for those of `user_ids` who have a live
    one (consent not withdrawn: a suspended partner's affiliations still count as conflicts)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    partners = await PartnerProfile.filter(user_id__in=ids, consent_withdrawn_at__isnull=True).using_db(using_db)
    if not partners:
        return {}
    skills: dict[int, list[str]] = {}
    for partner_id, slug in await PartnerSkill.filter(partner_id__in=[p.id for p in partners]).using_db(
            using_db).values_list("partner_id", "skill"):
        skills.setdefault(int(partner_id), []).append(str(slug))
    named = {str(a.get("name", "")).strip()[:200] for p in partners for a in p.affiliations or [] if isinstance(a, dict)}
    by_name = await _organisations_named({name for name in named if name})
    profiles = {}
    for partner in partners:
        slugs = skills.get(partner.id, [])
        names = [part for slug in slugs if slug in SKILLS for part in SKILLS[slug][:2]]
        affiliated: set[int] = set()
        for affiliation in partner.affiliations or []:
            if not isinstance(affiliation, dict):
                continue
            given = affiliation.get("organisation_id")
            if isinstance(given, int) and 0 < given <= MAX_ID:
                affiliated.add(given)
            affiliated |= by_name.get(comparable(str(affiliation.get("name", ""))), set())
        profiles[int(partner.user_id or 0)] = ReviewerProfile(
            partner.id, _tags([*slugs, *names, *(partner.tags or [])]), frozenset(affiliated))
    return profiles
