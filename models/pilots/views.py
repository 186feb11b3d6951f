"""What a pilot's page and API show, fetched in one place, as the policy allows for this actor."""

from __future__ import annotations

from dataclasses import dataclass

from models.identity.orgs import Organisation
from models.pilots import feedback, lifecycle, measurements, milestones
from models.pilots.charts import ChartPoint, kpi_series
from models.pilots.feedback import Satisfaction
from models.pilots.measurements import KpiProgress
from models.pilots.models import CompanySurvey, Feedback, Milestone, Pilot
from models.policy import Actor
from models.policy.pilots import pilot_actions, sees_internals


@dataclass
class PilotView:
    pilot: Pilot
    agencies: list[Organisation]
    progress: list[KpiProgress]
    series: dict[int, list[ChartPoint]]  # KPI id -> verified points
    milestones: list[Milestone]
    satisfaction: Satisfaction
    comments: list[Feedback]
    survey: CompanySurvey | None
    allowed: list[str]
    actions: set[str]
    internals: bool


async def agencies_of(pilot: Pilot) -> list[Organisation]:
    return await Organisation.filter(id__in=pilot.agency_ids or [pilot.owner_id]).order_by("id")


async def pilot_view(actor: Actor, pilot: Pilot) -> PilotView:
    progress = await measurements.progress_for(pilot)
    return PilotView(
        pilot=pilot, agencies=await agencies_of(pilot), progress=progress,
        series={p.kpi.id: kpi_series(p) for p in progress},
        milestones=await milestones.milestones_of(actor, pilot), satisfaction=await feedback.satisfaction_of(pilot),
        comments=await feedback.comments_of(actor, pilot), survey=await feedback.survey_of(actor, pilot),
        allowed=lifecycle.allowed_transitions(actor, pilot), actions=pilot_actions(actor, pilot),
        internals=sees_internals(actor, pilot),
    )
