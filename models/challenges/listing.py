"""Reading challenges for lists: the categories, an agency's public challenges, an agency's own ones,
and the public challenges feeds show. Who may see what is decided in models.policy.challenges.
"""

from __future__ import annotations

from models.identity.orgs import Category


async def categories() -> list[Category]:
    """Every category, in the order pages list them."""
    return await Category.all()
