"""Public pages and the signed-in person's start: the home page (the front door) and "my tasks"."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models import tasks as my_tasks
from models.challenges import listing
from models.core.errors import N_
from models.insights.datasets import latest_snapshot
from models.insights.models import PLATFORM
from server.i18n import get_locale
from server.i18n import gettext as _
from server.problems import signed_in
from server.routes.insights import CHART_TITLES, chart_svg
from server.templating import templates

HOME_CHALLENGES = 5  # in each list
HOME_CHARTS = ("per_category", "per_municipality")  # where the challenges are: what about, and who asks
HOME_FIGURES = ("challenges_published", "proposals_received", "challenges_decided")
PARTNER_FIGURE = "approved"

# What each kind of task asks, the words of its link, and where the link goes.
TASKS: dict[str, tuple[str, str, str]] = {
    "proposal_draft": (N_("Finish your proposal and submit it before the deadline."), N_("Continue the draft"),
                       "/proposals/{target_id}/edit"),
    "questions_answered": (N_("The agency answered your questions."), N_("Read the answers"),
                           "/challenges/{target_id}#questions"),
    "decision": (N_("The decision on your proposal is out."), N_("Read the decision and feedback"),
                 "/proposals/{target_id}/feedback"),
    "challenge_changes": (N_("The operator asked for changes. Revise the challenge and send it again."),
                          N_("Open the challenge"), "/challenges/{target_id}#manage-heading"),
    "challenge_draft": (N_("A draft: finish it and send it for approval."), N_("Open the draft"), "/challenges/{target_id}#manage-heading"),
    "questions_to_answer": (N_("Companies asked questions that wait for an answer."), N_("Answer the questions"),
                            "/challenges/{target_id}#questions"),
    "finalise": (N_("Proposals are closed. Check the ranking, decide and finalise."), N_("Open the ranking"),
                 "/challenges/{target_id}/ranking"),
    "verify_measurements": (N_("The pilot has measurements to verify."), N_("Verify the measurements"),
                            "/pilots/{target_id}"),
    "review_due": (N_("Review the proposal assigned to you."), N_("Write the review"), "/reviews/{target_id}"),
    "approve_challenge": (N_("A challenge waits for your approval before it is published."), N_("Review the challenge"),
                          "/challenges/{target_id}#manage-heading"),
    "approve_organisation": (N_("An organisation signed up and waits for approval."), N_("Open the operator console"),
                             "/admin"),
}
DUE_LABELS = {  # what a task's date is
    "proposal_draft": N_("Proposals due"),
    "questions_to_answer": N_("Questions until"),
    "finalise": N_("Review until"),
    "review_due": N_("Review due"),
    "approve_challenge": N_("Publish at (Japan time)"),
}
ROLE_HEADINGS = {
    "company": N_("For your company"),
    "agency": N_("For your agency"),
    "reviewer": N_("As a reviewer"),
    "operator": N_("As the operator"),
}
ROLE_EMPTY = {
    "company": N_("Nothing to do for now. Find a challenge your company can solve."),
    "agency": N_("Nothing to do for now. Draft a challenge your agency wants solved."),
    "reviewer": N_("No review is waiting for you."),
    "operator": N_("Nothing is waiting for approval."),
}
ROLE_MORE = {  # the full list behind each role's tasks
    "company": (N_("All your proposals"), "/proposals"),
    "agency": (N_("All your agency's challenges"), "/challenges/mine"),
    "reviewer": (N_("All your reviews"), "/reviews"),
    "operator": (N_("Operator console"), "/admin"),
}
ROLE_START = {  # what a role can start from its tasks, whether or not something is waiting
    "agency": (N_("Draft a new challenge"), "/challenges/new"),
}


def _figures(snapshot: Any) -> list[dict[str, Any]]:
    """The platform's figures from the latest insights snapshot (the job computes them; nothing recounted here)."""
    if snapshot is None:
        return []
    totals = {item["key"]: item for item in snapshot.figures.get("totals", [])}
    shown = [totals[key] for key in HOME_FIGURES if key in totals]
    partners = {item["key"]: item for item in snapshot.figures.get("partners", [])}
    if PARTNER_FIGURE in partners:
        shown.append(partners[PARTNER_FIGURE])
    return shown


async def home(request: Request) -> Response:
    actor = request.state.actor
    closing = await listing.closing_soon(actor, HOME_CHALLENGES)
    shown = {challenge.id for challenge in closing}  # a challenge appears once: newest lists the others
    newest = [c for c in await listing.home_challenges(actor, 2 * HOME_CHALLENGES) if c.id not in shown]
    snapshot, lang = await latest_snapshot(PLATFORM), get_locale()
    context = {
        "challenges": newest[:HOME_CHALLENGES],
        "closing": closing,
        "figures": _figures(snapshot),
        "charts": [{"name": name, "title": _(CHART_TITLES[name]), "svg": chart_svg(name, snapshot.figures[name], lang),
                    "items": snapshot.figures[name]}
                   for name in HOME_CHARTS if snapshot is not None and snapshot.figures.get(name)],
        "tasks": await my_tasks.tasks_for(actor) if actor.user else None,
    }
    return templates.TemplateResponse(request, "home.html", context)


async def tasks_page(request: Request) -> Response:
    actor = signed_in(request)
    found = await my_tasks.tasks_for(actor)
    sections = [
        {
            "role": role,
            "heading": ROLE_HEADINGS[role],
            "empty": ROLE_EMPTY[role],
            "more": ROLE_MORE[role],
            "start": ROLE_START.get(role),
            "tasks": [
                {"task": task, "what": TASKS[task.kind][0], "link": TASKS[task.kind][1],
                 "due_label": DUE_LABELS.get(task.kind, N_("Due")),
                 "href": TASKS[task.kind][2].format(target_id=task.target_id)}
                for task in getattr(found, role)
            ],
        }
        for role in found.roles
    ]
    return templates.TemplateResponse(request, "tasks.html", {"found": found, "sections": sections})


routes = [Route("/", home, name="home"), Route("/tasks", tasks_page, methods=["GET"], name="tasks")]
