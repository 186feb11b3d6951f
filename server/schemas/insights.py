"""The insights figures as the API gives them (the same numbers as the pages' charts and tables)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FigureItem(BaseModel):
    key: str = Field(description="Month (YYYY-MM, Japan time), category slug, municipality type, challenge id...")
    ja: str = Field(description="The label in Japanese")
    en: str = Field(description="The label in English")
    value: float


class InsightsOut(BaseModel):
    """The latest snapshot of one scope's figures; `computed_at` is null until the job has run once."""

    scope: str = Field(description='"platform", or the agency\'s municipality code')
    computed_at: datetime | None
    totals: list[FigureItem] = []
    per_month: list[FigureItem] = []
    per_category: list[FigureItem] = []
    per_municipality: list[FigureItem] = Field(
        default=[], description="Challenges published per agency (local government code, e.g. 130001 for TMG)")
    per_municipality_type: list[FigureItem] = []
    proposals_per_challenge: list[FigureItem] = Field(
        default=[], description="The most recently published challenges, oldest first")
    # The partners' figures: the platform's only (counts, never a person).
    partners: list[FigureItem] = Field(
        default=[], description="Partners registered, approved, placed; placements; the goal (1,000)")
    partner_funnel: list[FigureItem] = Field(
        default=[], description="Needs posted, shortlisted, with an invitation, with a placement")
    partners_per_skill: list[FigureItem] = Field(default=[], description="Approved partners per skill (slug)")
    placements_per_municipality: list[FigureItem] = Field(
        default=[], description="Placements per agency (municipality code)")
    partner_engagements: list[FigureItem] = Field(
        default=[], description="Engagements ended; days and hours worked, as their reports say (once one has ended)")
    partner_survey: list[FigureItem] = Field(
        default=[], description="Follow-up survey answers: would engage again, work still in use, know-how kept "
                                "(rated 4 or 5), as counts and whole percents of the answers (once one is answered)")
    partner_knowhow: list[FigureItem] = Field(
        default=[], description="Follow-up survey answers per rating of the know-how kept (1 to 5)")
