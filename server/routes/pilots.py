"""Pilots through the API: starting one, its lifecycle, KPIs, measurements (one by one or from a CSV),
milestones, residents' feedback (no account) and the company's survey. Pages are in pilot_pages."""

from __future__ import annotations

from limits import RateLimitItemPerHour
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from models.challenges.attachments import NO_FILE
from models.core.errors import ValidationFailed
from models.pilots import evaluation, feedback, lifecycle, measurements, milestones
from models.pilots.lifecycle import KPI_TEMPLATES, KpiInput
from models.pilots.measurements import MeasurementInput
from models.pilots.views import pilot_view
from models.policy import Actor
from models.policy.pilots import sees_internals
from server.api import api
from server.auth.sessions import client_address
from server.routes.attachments import store_for, uploaded
from server.routes.pilot_charts import kpi_csv
from server.schemas.pilots import (
    CommentListOut,
    CsvRefusal,
    CsvReportOut,
    DecisionIn,
    FeedbackIn,
    KpiListOut,
    KpiTemplateListOut,
    KpiTemplateOut,
    MeasurementIn,
    MeasurementListOut,
    MeasurementOut,
    MilestoneIn,
    MilestoneListOut,
    MilestoneOut,
    MilestoneTransitionIn,
    PilotBrief,
    PilotEvaluationFeedbackOut,
    PilotEvaluationOut,
    PilotFeedbackOut,
    PilotIn,
    PilotKpiOut,
    PilotKpisIn,
    PilotListOut,
    PilotListQuery,
    PilotOut,
    PilotPanelIn,
    PilotPatchIn,
    PilotRankingOut,
    PilotRubricIn,
    PilotTransitionIn,
    PublishIn,
    SurveyIn,
    SurveyOut,
)
from server.text import CONTROL_CHARACTER, has_control_character

TAGS = ["pilots"]
# Residents answer without an account: a few answers per browser, more per address (a counter's tablet).
FEEDBACK_PER_BROWSER = RateLimitItemPerHour(3)
FEEDBACK_PER_ADDRESS = RateLimitItemPerHour(20)
BROWSER_COOKIE = "kyoso_resident"


async def _detail(actor: Actor, pilot_id: int) -> PilotOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    view = await pilot_view(actor, pilot)
    return PilotOut.of(pilot, view.agencies, view.progress, view.milestones, view.satisfaction, view.allowed,
                       view.internals)


@api.operation("/pilot-kpi-templates", summary="The four service KPIs offered as templates", public=True,
               response=KpiTemplateListOut, tags=TAGS)
async def list_kpi_templates(request: Request, actor: Actor) -> KpiTemplateListOut:
    return KpiTemplateListOut(items=[KpiTemplateOut(key=key, **t) for key, t in KPI_TEMPLATES.items()])


@api.operation("/pilots", "POST", summary="Start a pilot (planned) from a selected proposal (the challenge's owners)",
               body=PilotIn, response=PilotOut, status=201, tags=TAGS)
async def create_pilot(request: Request, actor: Actor, body: PilotIn) -> PilotOut:
    pilot = await lifecycle.start_pilot(actor, body.proposal_id, body.starts_on, body.ends_on)
    return await _detail(actor, pilot.id)


@api.operation("/pilots", summary="Pilots the caller may see", query=PilotListQuery, response=PilotListOut,
               public=True, tags=TAGS)
async def list_pilots(request: Request, actor: Actor, query: PilotListQuery) -> PilotListOut:
    pilots = await lifecycle.list_pilots(actor, status=query.status, agency=query.agency, company=query.company,
                                         challenge=query.challenge)
    return PilotListOut(items=[PilotBrief.of(p) for p in pilots], total=len(pilots))


@api.operation("/pilots/{pilot_id:int}", summary="A pilot", response=PilotOut, public=True, tags=TAGS)
async def get_pilot(request: Request, actor: Actor, pilot_id: int) -> PilotOut:
    return await _detail(actor, pilot_id)


@api.operation("/pilots/{pilot_id:int}", "PATCH",
               summary="Change a planned pilot's dates (owners), or its internal notes (the company, owners)",
               body=PilotPatchIn, response=PilotOut, tags=TAGS)
async def update_pilot(request: Request, actor: Actor, pilot_id: int, body: PilotPatchIn) -> PilotOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    if body.starts_on is not None or body.ends_on is not None:
        await lifecycle.update_dates(actor, pilot, body.starts_on or pilot.starts_on, body.ends_on or pilot.ends_on)
    if body.internal_notes is not None:
        await lifecycle.set_internal_notes(actor, pilot, body.internal_notes)
    return await _detail(actor, pilot_id)


@api.operation("/pilots/{pilot_id:int}/transitions", "POST", summary="Move a pilot (owners)",
               body=PilotTransitionIn, response=PilotOut, tags=TAGS)
async def transition_pilot(request: Request, actor: Actor, pilot_id: int, body: PilotTransitionIn) -> PilotOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    await lifecycle.transition(actor, pilot, body.to, reason=body.reason, ends_on=body.ends_on)
    return await _detail(actor, pilot_id)


@api.operation("/pilots/{pilot_id:int}/kpis", "PUT", summary="Replace a planned pilot's KPIs (owners)",
               body=PilotKpisIn, response=KpiListOut, tags=TAGS)
async def replace_kpis(request: Request, actor: Actor, pilot_id: int, body: PilotKpisIn) -> KpiListOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    kpis = await lifecycle.update_kpis(actor, pilot, [KpiInput(**k.model_dump()) for k in body.kpis])
    return KpiListOut(items=[PilotKpiOut.of(k) for k in kpis])


@api.operation("/pilots/{pilot_id:int}/kpis/{kpi_id:int}/measurements", "POST",
               summary="Record a KPI value (the company, owners)", body=MeasurementIn, response=MeasurementOut,
               status=201, tags=TAGS)
async def record_measurement(request: Request, actor: Actor, pilot_id: int, kpi_id: int, body: MeasurementIn) -> MeasurementOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    kpi = await measurements.get_kpi(actor, pilot, kpi_id)
    return MeasurementOut.of(await measurements.record(actor, pilot, kpi, MeasurementInput(**body.model_dump())))


@api.operation("/pilots/{pilot_id:int}/kpis/{kpi_id:int}/measurements",
               summary="A KPI's values (verified ones only, unless the caller runs or owns the pilot)",
               response=MeasurementListOut, public=True, tags=TAGS)
async def list_measurements(request: Request, actor: Actor, pilot_id: int, kpi_id: int) -> MeasurementListOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    kpi = await measurements.get_kpi(actor, pilot, kpi_id)
    return MeasurementListOut(items=[MeasurementOut.of(m) for m in await measurements.measurements_of(actor, pilot, kpi)])


@api.operation("/pilots/{pilot_id:int}/kpis/{kpi_id:int}/values.csv", summary="A KPI's verified values as CSV",
               public=True, tags=TAGS)
async def kpi_values_csv(request: Request, actor: Actor, pilot_id: int, kpi_id: int) -> Response:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    kpi = await measurements.get_kpi(actor, pilot, kpi_id)
    return await kpi_csv(pilot, kpi)


@api.operation("/pilots/{pilot_id:int}/measurements.csv", "POST",
               summary="Load values from a CSV body (kpi,measured_on,value,numerator,denominator,source); "
                       "refused rows are reported by line", response=CsvReportOut, tags=TAGS)
async def import_measurements(request: Request, actor: Actor, pilot_id: int) -> CsvReportOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "The CSV file is not UTF-8.") from None
    report = await measurements.import_csv(actor, pilot, text)
    return CsvReportOut(recorded=report.recorded,
                        refused=[CsvRefusal(line=line, message=message) for line, message in report.refused])


@api.operation("/measurements/{measurement_id:int}/transitions", "POST",
               summary="Verify or reject a value (owners; rejecting needs a reason)", body=DecisionIn,
               response=MeasurementOut, tags=TAGS)
async def decide_measurement(request: Request, actor: Actor, measurement_id: int, body: DecisionIn) -> MeasurementOut:
    measurement, pilot = await measurements.get_measurement(actor, measurement_id)
    return MeasurementOut.of(await measurements.decide(actor, measurement, pilot, body.to, body.reason))


@api.operation("/pilots/{pilot_id:int}/milestones", summary="A pilot's milestones", response=MilestoneListOut,
               public=True, tags=TAGS)
async def list_milestones(request: Request, actor: Actor, pilot_id: int) -> MilestoneListOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    internals = sees_internals(actor, pilot)
    return MilestoneListOut(items=[MilestoneOut.of(m, internals) for m in await milestones.milestones_of(actor, pilot)])


@api.operation("/pilots/{pilot_id:int}/milestones", "POST", summary="Plan a milestone (owners)", body=MilestoneIn,
               response=MilestoneOut, status=201, tags=TAGS)
async def create_milestone(request: Request, actor: Actor, pilot_id: int, body: MilestoneIn) -> MilestoneOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    milestone = await milestones.add_milestone(actor, pilot, body.title, body.due_on, body.deliverable)
    return MilestoneOut.of(milestone, True)


@api.operation("/milestones/{milestone_id:int}/transitions", "POST",
               summary="done (the company, with evidence), accepted or returned (owners)",
               body=MilestoneTransitionIn, response=MilestoneOut, tags=TAGS)
async def transition_milestone(request: Request, actor: Actor, milestone_id: int, body: MilestoneTransitionIn) -> MilestoneOut:
    milestone, pilot = await milestones.get_milestone(actor, milestone_id)
    return MilestoneOut.of(await milestones.transition(actor, milestone, pilot, body.to, note=body.note), True)


@api.operation("/milestones/{milestone_id:int}/evidence", "POST",
               summary="Mark a milestone done with its evidence and one file (the company; multipart/form-data: "
                       "`note` and `file`, the file checked as challenges' attachments are: PDF, PNG, JPEG, docx, "
                       "xlsx, pptx, text or CSV, at most 20 MB). The file is for the company, the owners and operators",
               response=MilestoneOut, tags=TAGS, upload=True, errors=(507,),
               form_fields=(("note", "the evidence: what was delivered"),))
async def milestone_evidence(request: Request, actor: Actor, milestone_id: int) -> MilestoneOut:
    milestone, pilot = await milestones.get_milestone(actor, milestone_id)
    milestones.check_may_send_evidence(actor, pilot, milestone)  # before reading the body
    async with uploaded(request) as (source, filename, fields):
        note = fields.get("note", "")
        if has_control_character(note):
            raise ValidationFailed({"note": CONTROL_CHARACTER})
        if source is None:
            raise ValidationFailed({"file": NO_FILE})
        milestone = await milestones.transition(actor, milestone, pilot, "done", note=note, file=source,
                                                filename=filename, store=store_for(request))
    return MilestoneOut.of(milestone, True)


async def feedback_allowed(request: Request, pilot_id: int) -> bool:
    """The abuse limits: per address and per browser (a cookie), kept in Redis."""
    limiter = request.app.state.services.limiter
    allowed = await limiter.allow(FEEDBACK_PER_ADDRESS, "pilot-feedback-address", str(pilot_id), client_address(request))
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if browser:
        allowed = await limiter.allow(FEEDBACK_PER_BROWSER, "pilot-feedback-browser", str(pilot_id), browser[:64]) and allowed
    return allowed


@api.operation("/pilots/{pilot_id:int}/feedback", "POST",
               summary="A resident's satisfaction (1–5) and optional comment; no account, no personal data",
               body=FeedbackIn, status=201, public=True, tags=TAGS)
async def give_feedback(request: Request, actor: Actor, pilot_id: int, body: FeedbackIn) -> dict:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    if not await feedback_allowed(request, pilot.id):
        raise HTTPException(429, "Too many answers from here; thank you, please try again later.")
    await feedback.give_feedback(pilot, body.satisfaction, body.comment)
    return {"received": True}


@api.operation("/pilots/{pilot_id:int}/comments", summary="Residents' comments (published ones, unless the caller "
               "runs or owns the pilot)", response=CommentListOut, public=True, tags=TAGS)
async def list_comments(request: Request, actor: Actor, pilot_id: int) -> CommentListOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    return CommentListOut(items=[PilotFeedbackOut(id=f.id, satisfaction=f.satisfaction, comment=f.comment, published=f.published)
                                 for f in await feedback.comments_of(actor, pilot)])


@api.operation("/pilots/{pilot_id:int}/comments/{feedback_id:int}", "PATCH", summary="Publish or hide a comment (owners)",
               body=PublishIn, response=PilotFeedbackOut, tags=TAGS)
async def publish_comment(request: Request, actor: Actor, pilot_id: int, feedback_id: int, body: PublishIn) -> PilotFeedbackOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    f = await feedback.publish_comment(actor, pilot, feedback_id, body.published)
    return PilotFeedbackOut(id=f.id, satisfaction=f.satisfaction, comment=f.comment, published=f.published)


@api.operation("/pilots/{pilot_id:int}/survey", "PUT", summary="The company's survey on how the pilot was run",
               body=SurveyIn, response=SurveyOut, tags=TAGS)
async def answer_survey(request: Request, actor: Actor, pilot_id: int, body: SurveyIn) -> SurveyOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    survey = await feedback.answer_survey(actor, pilot, body.satisfaction, body.answers, body.comment)
    return SurveyOut(satisfaction=survey.satisfaction, answers=survey.answers, comment=survey.comment)


# --- the evaluation round (models.pilots.evaluation) -------------------------------------------


@api.operation("/pilots/{pilot_id:int}/evaluation",
               summary="The pilot's evaluation round: panel, settings and review form (owners, operators)",
               response=PilotEvaluationOut, tags=TAGS)
async def get_evaluation(request: Request, actor: Actor, pilot_id: int) -> PilotEvaluationOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    return PilotEvaluationOut.of(await evaluation.evaluation_of(actor, pilot))


@api.operation("/pilots/{pilot_id:int}/panel", "PUT",
               summary="Choose the evaluation's reviewers from the pool, the reviews of the pilot and the cap "
                       "per reviewer (owners, until the pilot is adopted or stopped)",
               body=PilotPanelIn, response=PilotEvaluationOut, tags=TAGS)
async def put_evaluation_panel(request: Request, actor: Actor, pilot_id: int, body: PilotPanelIn) -> PilotEvaluationOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    found = await evaluation.set_panel(actor, pilot, list(body.reviewers), body.reviews_per_subject,
                                       body.max_per_reviewer)
    return PilotEvaluationOut.of(found)


@api.operation("/pilots/{pilot_id:int}/rubric", "PUT",
               summary="Change the evaluation's form, scored criteria included, until the round starts (owners)",
               body=PilotRubricIn, response=PilotEvaluationOut, tags=TAGS)
async def put_evaluation_rubric(request: Request, actor: Actor, pilot_id: int, body: PilotRubricIn) -> PilotEvaluationOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    return PilotEvaluationOut.of(await evaluation.set_rubric(actor, pilot, body.items()))


@api.operation("/pilots/{pilot_id:int}/ranking",
               summary="The evaluation's scores so far, overall and per criterion (owners, operators)",
               response=PilotRankingOut, tags=TAGS)
async def get_evaluation_ranking(request: Request, actor: Actor, pilot_id: int) -> PilotRankingOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    return PilotRankingOut.of(pilot.id, await evaluation.ranking(actor, pilot))


@api.operation("/pilots/{pilot_id:int}/evaluation/feedback",
               summary="The reviewers' scores, comments and feedback per criterion, without names (the company "
                       "once the owners have decided; owners, operators)",
               response=PilotEvaluationFeedbackOut, tags=TAGS, errors=(409,))
async def get_evaluation_feedback(request: Request, actor: Actor, pilot_id: int) -> PilotEvaluationFeedbackOut:
    pilot = await lifecycle.get_pilot(actor, pilot_id)
    return PilotEvaluationFeedbackOut.of(await evaluation.feedback_for(actor, pilot))
