"""The review's pictures, drawn on the server as SVG with pygal (the library the pilots' charts use): the ranking as
a dot plot of each reviewer's total per proposal, with the spread as the line between the lowest and the highest;
the company's feedback as bars per criterion against the average of every reviewed proposal. The pages that show
them give the same numbers as a table (templates/reviews/ranking.html, feedback.html)."""

from __future__ import annotations

import pygal
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.core.base import translated
from models.proposals import lifecycle as proposal_lifecycle
from models.review import decisions
from server.i18n import get_locale
from server.i18n import gettext as _
from server.problems import signed_in
from server.routes.pilot_charts import SVG, _config
from server.routes.review_common import owned


def _short(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def ranking_svg(rows: list[tuple[str, list[float]]]) -> str:
    """rows: (title, each reviewer's total) from the best ranked down; one line of dots per proposal."""
    chart = pygal.XY(**_config(_("Each reviewer's total per proposal (0–100), and the spread")),
                     stroke=True, dots_size=6, range=(0, len(rows) + 1), xrange=(0, 100), show_y_labels=False,
                     show_y_guides=False)
    for position, (title, totals) in enumerate(rows):
        y = len(rows) - position
        chart.add(f"{position + 1}. {_short(title)}", [(total, y) for total in sorted(totals)] or [None])
    return chart.render(is_unicode=True)


def feedback_svg(criteria: list[tuple[str, float | None, float | None]]) -> str:
    """criteria: (name, this proposal's mean, the mean of every reviewed proposal), scores 1 to 5."""
    chart = pygal.Bar(**_config(_("Your average score per criterion (1–5) and the average of all proposals")),
                      range=(0, 5))
    chart.x_labels = [_short(name, 24) for name, _mine, _all in criteria]
    chart.add(_("Your proposal"), [mine for _name, mine, _all in criteria])
    chart.add(_("Average of all proposals"), [every for _name, _mine, every in criteria])
    return chart.render(is_unicode=True)


async def ranking_chart(request: Request) -> Response:
    actor, challenge = await owned(request)
    ranked = await decisions.ranking(actor, challenge)
    rows = [(ranked.titles[row.proposal_id] or _("(untitled)"), ranked.totals.get(row.proposal_id, []))
            for row in ranked.rows]
    return Response(ranking_svg(rows), media_type=SVG)


async def feedback_chart(request: Request) -> Response:
    actor = signed_in(request)
    proposal = await proposal_lifecycle.get_proposal(actor, request.path_params["proposal_id"])
    feedback, averages = await decisions.feedback_with_averages(actor, proposal)
    locale = get_locale()
    criteria = [(translated(c.name, locale) if isinstance(c.name, dict) else _(c.name), c.mean, averages.get(c.id))
                for c in feedback.criteria]
    return Response(feedback_svg(criteria), media_type=SVG)


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/ranking.svg", ranking_chart, methods=["GET"]),
    Route("/proposals/{proposal_id:int}/feedback.svg", feedback_chart, methods=["GET"]),
]
