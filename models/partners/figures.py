"""Figures about the talent pool for the insights page (built in server/ by the insights area).

Counts only, no personal data: registered (consent given, not withdrawn), approved, placed (with at
least one placement), by skill (approved partners claiming it), placements by municipality, the goal,
and the funnel need → shortlist → invitation → placement, counted in needs.
"""

from __future__ import annotations

from typing import Any

from tortoise.functions import Count

from models.partners.models import Need, PartnerInvitation, PartnerProfile, PartnerSkill, PartnerStatus, Placement

GOAL = 1_000  # the model platform's aim: more than 1,000 digital talents working in the public sector


async def partner_figures() -> dict[str, Any]:
    live = PartnerProfile.filter(consent_withdrawn_at__isnull=True)
    approved = live.filter(status=PartnerStatus.APPROVED.value)
    by_skill = await (
        PartnerSkill.filter(partner__status=PartnerStatus.APPROVED.value, partner__consent_withdrawn_at__isnull=True)
        .annotate(count=Count("id")).group_by("skill").values_list("skill", "count")
    )
    by_municipality = await (
        Placement.all().annotate(count=Count("id")).group_by("agency__municipality_code")
        .values_list("agency__municipality_code", "count")
    )
    needs = await Need.all().values_list("id", "shortlist")
    invited = set(await PartnerInvitation.all().values_list("need_id", flat=True))
    placed_needs = set(await PartnerInvitation.filter(status="accepted").values_list("need_id", flat=True))
    return {
        "registered": await live.count(),
        "approved": await approved.count(),
        "placed": len(set(await Placement.filter(partner__consent_withdrawn_at__isnull=True)
                          .values_list("partner_id", flat=True))),
        "placements": await Placement.all().count(),
        "goal": GOAL,
        "by_skill": dict(sorted(((skill, int(count)) for skill, count in by_skill), key=lambda i: (-i[1], i[0]))),
        "placements_by_municipality": {code or "": int(count) for code, count in by_municipality},
        "funnel": {
            "needs": len(needs),
            "shortlisted": sum(1 for _, shortlist in needs if shortlist),
            "invited": len(invited),
            "placed": len(placed_needs),
        },
    }
