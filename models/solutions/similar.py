"""Adopted solutions to a similar problem: shown next to a challenge and beside the draft-challenge form,
with "adopt instead". The similar-challenges scoring (models.challenges.similar: category, tags, title
words) extended to solutions: a solution's profile is its solved challenge's category and tags with the
words of both titles. Only published solutions are candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.challenges.models import Challenge
from models.challenges.similar import CANDIDATES_PER_QUERY, Profile, _form_profile, challenge_profile, profile, rank
from models.policy.solutions import LISTED_STATUSES
from models.solutions.models import Solution

LIMIT = 3


def solution_profile(solution: Solution) -> Profile:
    """`challenge` must be fetched (or None)."""
    challenge = solution.challenge
    titles = [*(solution.title or {}).values(), *((challenge.title or {}).values() if challenge else ())]
    return profile(challenge.category_id if challenge else None, (challenge.tags or []) if challenge else [], titles)


async def similar_solutions(challenge_or_fields: Challenge | Mapping[str, Any], limit: int = LIMIT) -> list[Solution]:
    """Up to `limit` published solutions most similar to a challenge (not its own) or a draft form's values,
    with their company and owner fetched. Nothing for a form with no title, tags or category yet."""
    if isinstance(challenge_or_fields, Challenge):
        target, own_id = challenge_profile(challenge_or_fields), challenge_or_fields.id
    else:
        target, own_id = await _form_profile(challenge_or_fields), None
    if target.is_empty:
        return []
    query = Solution.filter(status__in=[s.value for s in LISTED_STATUSES])
    if own_id is not None:
        query = query.exclude(challenge_id=own_id)
    # One statement whatever is found (the challenge page's query count stays flat): joined, not prefetched.
    candidates = await query.order_by("-published_at", "-id").limit(CANDIDATES_PER_QUERY).select_related(
        "challenge", "company", "owner")
    ranked = rank(target, [(s, solution_profile(s), s.published_at) for s in candidates], limit)
    return [solution for solution, _ in ranked]
