"""The open dataset of published solutions (models.insights.datasets registers it as "solutions")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from tortoise.functions import Count, Max

from models.core.errors import JST
from models.identity.orgs import Organisation
from models.policy.solutions import LISTED_STATUSES
from models.solutions.adoptions import USING
from models.solutions.models import Adoption, Solution
from models.solutions.views import savings_of


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(JST).isoformat(timespec="seconds") if moment else None


async def solution_rows(batch: int) -> AsyncIterator[list[list[Any]]]:
    """Published solutions, `batch` at a time by increasing id."""
    last = 0
    listed = [s.value for s in LISTED_STATUSES]
    while True:
        chunk = await Solution.filter(status__in=listed, id__gt=last).order_by("id").limit(batch)
        if not chunk:
            return
        ids = [s.id for s in chunk]
        savings = await savings_of(ids)
        adopters: dict[int, list[int]] = {}
        for solution_id, agency_id in await Adoption.filter(solution_id__in=ids, status__in=[s.value for s in USING]) \
                .order_by("id").values_list("solution_id", "agency_id"):
            adopters.setdefault(int(solution_id), []).append(int(agency_id))
        org_ids = {s.company_id for s in chunk} | {a for s in chunk for a in s.agency_ids or [s.owner_id]} \
            | {a for agencies in adopters.values() for a in agencies}
        orgs = {o.id: o for o in await Organisation.filter(id__in=list(org_ids))}

        def codes(ids: list[int], orgs: dict[int, Organisation] = orgs) -> str:
            return ";".join(str(orgs[i].municipality_code) for i in ids if i in orgs and orgs[i].municipality_code)

        rows = []
        for s in chunk:
            company = orgs.get(s.company_id)
            rows.append([
                s.id, f"/solutions/{s.id}", s.title.get("ja", ""), s.title.get("en", ""), s.summary.get("ja", ""),
                s.summary.get("en", ""), s.challenge_id, company.name_ja if company else "",
                company.name_en if company else "", company.corporate_number if company else None,
                codes(s.agency_ids or [s.owner_id]), codes(adopters.get(s.id, [])), len(adopters.get(s.id, [])),
                s.cost_yen, s.initial_cost_yen, s.yearly_cost_yen, "true" if s.spec_shareable else "false",
                s.positive_share, savings[s.id], _iso(s.published_at), _iso(s.updated_at),
            ])
        yield rows
        last = chunk[-1].id


async def solution_state() -> tuple[datetime | None, int]:
    """When the dataset last changed (a solution, or an adoption of one) and how many rows it has."""
    listed = [s.value for s in LISTED_STATUSES]
    row = await Solution.filter(status__in=listed).annotate(n=Count("id"), modified=Max("updated_at")).first().values("n", "modified")
    adopted = await Adoption.filter(solution__status__in=listed).annotate(modified=Max("updated_at")).first().values("modified")
    moments = [m for m in ((row or {}).get("modified"), (adopted or {}).get("modified")) if m is not None]
    return (max(moments) if moments else None), int((row or {}).get("n") or 0)
