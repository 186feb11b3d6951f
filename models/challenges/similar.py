"""Similar challenges of other agencies: "a neighbour already solved this".

The ranking is a pure function of profiles (category, tags, title words); `similar_to` fetches the
candidates (public, published or past, other owners, a bounded number) and ranks them.
Japanese titles have no spaces, so their words are approximated by overlapping pairs of kanji and
katakana (hiragana, mostly particles and endings, separates them); other scripts split into words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise.expressions import Subquery

from models.challenges.models import Challenge, ChallengeStatus, CoOwner
from models.identity.orgs import Category
from models.policy.challenges import accepted_co_owner_filter, public_challenge_filter

LIMIT = 5
CANDIDATES_PER_QUERY = 300
WEIGHTS = {"category": 1.0, "tags": 2.0, "title": 2.0}
# Open or past challenges; a cancelled one solved nothing.
SIMILAR_STATUSES = (ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.DECIDED)
STOPWORDS = frozenset(
    "a an and are as at be by for from how in into is it of on or our the their to we with our more less "
    "better new make making use using".split()
)
_WORD = re.compile(r"[^\W_]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u30a0-\u30ff\u31f0-\u31ff]+")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """What similarity looks at, taken from a challenge or from a form being filled in."""

    category_id: int | None = None
    tags: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self.category_id is None and not self.tags and not self.words


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def title_words(text: str) -> set[str]:
    """Words of a title in any language: Latin-script words, and kanji/katakana pairs for Japanese."""
    text = _normal(text)
    words: set[str] = set()
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            if _HAN.match(run):
                words.add(run)
        else:
            words.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(_JAPANESE.sub(" ", text)):
        if len(word) > 1 and word not in STOPWORDS:
            words.add(word)
    return words


def normal_tags(tags: Iterable[str]) -> frozenset[str]:
    return frozenset(t for t in (_normal(tag).strip() for tag in tags) if t)


def profile(category_id: int | None, tags: Iterable[str], titles: Iterable[str]) -> Profile:
    words: set[str] = set()
    for title in titles:
        words |= title_words(title or "")
    return Profile(category_id=category_id, tags=normal_tags(tags), words=frozenset(words))


def challenge_profile(challenge: Challenge) -> Profile:
    return profile(challenge.category_id, challenge.tags or [], (challenge.title or {}).values())


def _cosine(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def score(target: Profile, candidate: Profile) -> float:
    """0 when nothing is shared; a shared category counts, shared tags and title words count more."""
    same_category = target.category_id is not None and target.category_id == candidate.category_id
    return (
        WEIGHTS["category"] * same_category
        + WEIGHTS["tags"] * _cosine(target.tags, candidate.tags)
        + WEIGHTS["title"] * _cosine(target.words, candidate.words)
    )


def rank(
    target: Profile,
    candidates: Sequence[tuple[T, Profile, datetime | None]],
    limit: int = LIMIT,
) -> list[tuple[T, float]]:
    """The `limit` most similar candidates (item, profile, published_at), most similar first; ties go
    to the more recently published. Candidates sharing nothing are left out."""
    scored = [(score(target, prof), published, index) for index, (_, prof, published) in enumerate(candidates)]
    kept = [row for row in scored if row[0] > 0]
    kept.sort(key=lambda row: (-row[0], -(row[1].timestamp() if row[1] else 0.0), row[2]))
    return [(candidates[index][0], value) for value, _, index in kept[:limit]]


# --- fetching candidates ---------------------------------------------------------------------


async def _form_profile(fields: Mapping[str, Any]) -> Profile:
    """A profile from form values (title_ja/title_en or title as {lang: text}, category slug, tags)."""
    title = fields.get("title")
    titles = list(title.values()) if isinstance(title, Mapping) else [fields.get("title_ja", ""), fields.get("title_en", "")]
    tags = fields.get("tags") or []
    if isinstance(tags, str):
        tags = tags.replace("、", ",").split(",")
    slug = fields.get("category") or ""
    category = await Category.get_or_none(slug=slug) if isinstance(slug, str) and slug else None
    return profile(category.id if category else None, tags, [str(t or "") for t in titles])


async def similar_to(
    challenge_or_fields: Challenge | Mapping[str, Any],
    exclude_owner_id: int | Collection[int] | None,
    limit: int = LIMIT,
) -> list[Challenge]:
    """Up to `limit` published or past challenges of other agencies, most similar first, with their
    owner and category fetched. Nothing for a form that has no title, tags or category yet."""
    if isinstance(challenge_or_fields, Challenge):
        target, own_id = challenge_profile(challenge_or_fields), challenge_or_fields.id
    else:
        target, own_id = await _form_profile(challenge_or_fields), None
    if target.is_empty:
        return []
    excluded = {exclude_owner_id} if isinstance(exclude_owner_id, int) else set(exclude_owner_id or ())
    query = Challenge.filter(public_challenge_filter(), status__in=[s.value for s in SIMILAR_STATUSES])
    if excluded:
        co_owned = Subquery(CoOwner.filter(accepted_co_owner_filter(excluded)).values("challenge_id"))
        query = query.exclude(owner_id__in=excluded).exclude(id__in=co_owned)
    if own_id is not None:
        query = query.exclude(id=own_id)
    pools = [query.order_by("-published_at", "-id").limit(CANDIDATES_PER_QUERY)]
    if target.category_id is not None:
        pools.append(query.filter(category_id=target.category_id).order_by("-published_at", "-id").limit(CANDIDATES_PER_QUERY))
    found: dict[int, Challenge] = {}
    for pool in pools:
        for candidate in await pool:
            found[candidate.id] = candidate
    ranked = rank(target, [(c, challenge_profile(c), c.published_at) for c in found.values()], limit)
    chosen = [challenge for challenge, _ in ranked]
    if chosen:
        await Challenge.fetch_for_list(chosen, "owner", "category")
    return chosen
