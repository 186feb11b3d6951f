"""What others see of a proposal: the last version submitted before the deadline, never the working copy.

A proposal row is its company's working copy, which the company may change without submitting again.
Everyone else (the challenge's owners, reviewers, the other companies, mails and the published result) sees
the last submitted `ProposalVersion`; a submission at or after the deadline is refused, so the last version
is the last one submitted before it. Only the company's own editing pages show the working copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from models.proposals.models import Proposal, ProposalVersion


@dataclass(frozen=True)
class Shown:
    proposal_id: int
    version: int | None  # None: never submitted, so nothing is shown
    content: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.content.get("title") or "")


async def shown_of(proposals: Iterable[Proposal | int], using_db: Any = None) -> dict[int, Shown]:
    """Proposal id -> what others see of it, for many proposals in one query."""
    ids = sorted({p if isinstance(p, int) else p.id for p in proposals})
    latest: dict[int, ProposalVersion] = {}
    if ids:
        for version in await ProposalVersion.filter(proposal_id__in=ids).order_by("proposal_id", "version").using_db(using_db):
            latest[version.proposal_id] = version  # ordered by version: the last one wins
    return {i: Shown(i, latest[i].version, latest[i].content) if i in latest else Shown(i, None, {}) for i in ids}


async def shown(proposal: Proposal | int, using_db: Any = None) -> Shown:
    """What others see of one proposal."""
    found = await shown_of([proposal], using_db=using_db)
    return next(iter(found.values()))
