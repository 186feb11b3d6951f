"""Figures about the talent pool for the insights page (built in server/ by the insights area).

Counts only, no personal data: registered (consent given, not withdrawn), approved, placed (with at
least one placement), by skill (approved partners claiming it), placements by municipality, the goal,
and the funnel need → shortlist → invitation → placement, counted in needs. Then what the engagements gave:
ended engagements with the days and hours their reports say were worked, and the follow-up survey's answers
(counted per answer: would engage again, the work still in use, the know-how kept, rated 1-5), never a comment.
"""

from __future__ import annotations

from typing import Any

from tortoise.functions import Count

from models.partners.models import Need, PartnerInvitation, PartnerProfile, PartnerSkill, PartnerStatus, Placement

GOAL = 1_000  # the model platform's aim: more than 1,000 digital talents working in the public sector
KNOWHOW_KEPT = 4  # a survey answer rating the know-how kept 4 or 5 (of 5) counts as "know-how kept"


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
    ended = await Placement.filter(ended_at__isnull=False).values_list("days_worked", "hours_worked")
    stored: list[Any] = await Placement.filter(survey_answered_at__isnull=False).values_list("survey", flat=True)
    answers: list[dict[str, Any]] = [survey for survey in stored if isinstance(survey, dict)]
    knowhow = [survey.get("knowhow_retained") for survey in answers]
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
        "engagements": {
            "ended": len(ended),
            "days_worked": sum(days or 0 for days, _hours in ended),
            "hours_worked": sum(hours or 0 for _days, hours in ended),
        },
        "survey": {
            "answered": len(answers),
            "would_engage_again": sum(1 for survey in answers if survey.get("would_engage_again") is True),
            "still_in_use": sum(1 for survey in answers if survey.get("still_in_use") is True),
            "knowhow_kept": sum(1 for rating in knowhow if isinstance(rating, int) and rating >= KNOWHOW_KEPT),
            "knowhow_retained": {rating: knowhow.count(rating) for rating in range(1, 6)},
        },
    }
