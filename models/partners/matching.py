"""Ranking partners for a need: a pure function of the need and the partners' search documents.

Both search backends (search.partners) find the candidates — findable partners, available, sharing at
least one of the need's skills — and hand their documents here, so the ranking is the same whichever
backend answered. Points out of 100: skills 60 (an essential skill weighs three times an asset),
availability 20 (the days per month left, after the open engagements', against the need's), place 10
(remote or on site, and the area), languages 10. Ties go to the partner registered first (the lower id).

A partner at the limit they set is left out: as many open engagements as they take at once, or every day
a month they offer taken by open engagements (`room_for`; invitations and their acceptance ask the same
question). Fewer days left than the need asks only lowers the availability points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ESSENTIAL_WEIGHT, ASSET_WEIGHT = 3, 1
SKILL_POINTS, DAYS_POINTS, PLACE_POINTS, LANGUAGE_POINTS = 60.0, 20.0, 10.0, 10.0


@dataclass(frozen=True)
class NeedSpec:
    essential: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()
    days_per_month: int = 0
    work_mode: str = "either"  # remote, on_site, either
    area: str = ""  # a Tokyo municipality code
    languages: tuple[str, ...] = ()
    named_partner_id: int | None = None

    @property
    def skills(self) -> tuple[str, ...]:
        return self.essential + self.assets


@dataclass
class Match:
    partner_id: int
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Load:
    """A partner's open engagements (placements not yet ended) against the limits of their profile."""

    open_engagements: int = 0
    days_committed: int = 0  # the open engagements' days per month
    max_engagements: int | None = None  # None: no limit
    days_per_month: int = 0  # 0: not said, no limit

    @property
    def days_left(self) -> int:
        return max(0, self.days_per_month - self.days_committed)


ENGAGEMENTS, DAYS = "engagements", "days"


def load_of(document: dict[str, Any]) -> Load:
    return Load(int(document.get("open_engagements") or 0), int(document.get("days_committed") or 0),
                document.get("max_engagements"), int(document.get("days_per_month") or 0))


def room_for(need: NeedSpec, load: Load) -> str | None:
    """None when the partner can take the need on; else what stops them: ENGAGEMENTS (as many open as they take at
    once) or DAYS (the days a month they offer are all taken by open engagements)."""
    if load.max_engagements is not None and load.open_engagements >= load.max_engagements:
        return ENGAGEMENTS
    if load.days_per_month and need.days_per_month and load.days_left == 0:
        return DAYS
    return None


def _place(need: NeedSpec, document: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    mode = document.get("work_mode", "either")
    areas = document.get("areas") or []
    in_area = not areas or need.area in areas or not need.area
    remote_ok = mode in ("remote", "either")
    on_site_ok = mode in ("on_site", "either")
    if need.work_mode == "remote":
        points = PLACE_POINTS if remote_ok else 0.0
    elif need.work_mode == "on_site":
        points = PLACE_POINTS if on_site_ok and in_area else PLACE_POINTS / 2 if on_site_ok else 0.0
    else:
        points = PLACE_POINTS if remote_ok or in_area else PLACE_POINTS / 2
    return points, {"factor": "place", "points": points, "work_mode": mode, "in_area": in_area}


def score(need: NeedSpec, document: dict[str, Any]) -> Match:
    skills = set(document.get("skills") or [])
    essential = [slug for slug in need.essential if slug in skills]
    assets = [slug for slug in need.assets if slug in skills]
    total_weight = ESSENTIAL_WEIGHT * len(need.essential) + ASSET_WEIGHT * len(need.assets)
    weight = ESSENTIAL_WEIGHT * len(essential) + ASSET_WEIGHT * len(assets)
    skill_points = SKILL_POINTS * weight / total_weight if total_weight else SKILL_POINTS
    days = load_of(document).days_left
    days_points = DAYS_POINTS * min(1.0, days / need.days_per_month) if need.days_per_month else DAYS_POINTS
    place_points, place = _place(need, document)
    spoken = set(document.get("languages") or [])
    languages = [lang for lang in need.languages if lang in spoken]
    language_points = LANGUAGE_POINTS * len(languages) / len(need.languages) if need.languages else LANGUAGE_POINTS
    reasons = [
        {"factor": "essential_skills", "points": round(SKILL_POINTS * ESSENTIAL_WEIGHT * len(essential) / total_weight, 1)
         if total_weight else 0.0, "matched": essential, "missing": [s for s in need.essential if s not in skills]},
        {"factor": "asset_skills", "points": round(SKILL_POINTS * ASSET_WEIGHT * len(assets) / total_weight, 1)
         if total_weight else 0.0, "matched": assets},
        {"factor": "availability", "points": round(days_points, 1), "days_per_month": days},
        {**place, "points": round(place_points, 1)},
        {"factor": "languages", "points": round(language_points, 1), "matched": languages},
    ]
    total = round(skill_points + days_points + place_points + language_points, 1)
    return Match(partner_id=int(document["id"]), score=total, reasons=reasons)


def rank(need: NeedSpec, documents: list[dict[str, Any]]) -> list[Match]:
    matches = [score(need, document) for document in documents if room_for(need, load_of(document)) is None]
    return sorted(matches, key=lambda match: (-match.score, match.partner_id))
