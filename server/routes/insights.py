"""Insights: the platform's and each agency's figures as pages (SVG charts with their tables), CSV and JSON.

Pages read the latest snapshot written by the `compute_insights` job, never the live tables. Charts are
drawn on the server with pygal, without JavaScript; their style sheet is static/charts.css (the page's
Content-Security-Policy refuses the inline style pygal would embed).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from typing import Any

import pygal
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.core.errors import N_, NotFound
from models.identity.orgs import Organisation
from models.insights.datasets import latest_snapshot
from models.insights.figures import SERIES
from models.insights.models import PLATFORM, InsightSnapshot
from models.insights.values import JST, iso_jst
from models.policy import Actor
from models.policy.insights import publishing_agency_filter
from server.api import api
from server.i18n import get_locale
from server.i18n import gettext as _
from server.schemas.insights import InsightsOut
from server.templating import templates

CHART_TITLES = {
    "per_month": N_("Challenges published per month"),
    "per_category": N_("Challenges published per category"),
    "per_municipality": N_("Challenges published per municipality"),
    "per_municipality_type": N_("Challenges published per type of municipality"),
    "proposals_per_challenge": N_("Proposals received per challenge (the latest challenges)"),
    "partners": N_("Digital talent partners registered and placed, against the goal of 1,000"),
    "partner_funnel": N_("From need to placement: needs shortlisted, invited and placed"),
    "partners_per_skill": N_("Approved partners per skill"),
    "placements_per_municipality": N_("Partner placements per agency"),
    "partner_engagements": N_("Partner engagements ended, with the days and hours worked"),
    "partner_survey": N_("Follow-up survey: would the agency engage again, is the work in use, was the know-how kept"),
    "partner_knowhow": N_("Follow-up survey: know-how kept, rated from 1 to 5"),
}
HORIZONTAL = {"proposals_per_challenge", "partners_per_skill", "per_category", "per_municipality",
              "partner_survey"}  # long labels
# pygal appends an import hook for its map plugins (unused here) without `find_spec`: every import that reaches
# it afterwards warns (an error under the tests' warning filter). Removed.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]
INLINE_ELEMENTS = re.compile(r"<(style|script)[^>]*>.*?</\1>", re.S)  # refused by the CSP; not needed


async def _agency(code: str) -> Organisation:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):  # a municipality code, or no such agency
        raise NotFound(N_("There is no such agency."))
    agency = await Organisation.filter(publishing_agency_filter(), municipality_code=code).first()
    if agency is None:
        raise NotFound(N_("There is no such agency."))
    return agency


def _figures(snapshot: InsightSnapshot | None) -> dict[str, Any]:
    return snapshot.figures if snapshot else {}


def chart_svg(name: str, items: list[dict[str, Any]], lang: str) -> Markup:
    """A bar chart of one series, as inline SVG without script or style (see static/charts.css)."""
    chart = pygal.HorizontalBar if name in HORIZONTAL else pygal.Bar
    figure = chart(
        show_legend=False, disable_xml_declaration=True, js=[], no_prefix=True, width=800, height=360,
        x_label_rotation=0 if chart is pygal.HorizontalBar else 30, truncate_label=40, print_values=True,
        explicit_size=False, margin=12,
    )
    figure.title = _(CHART_TITLES[name])
    figure.x_labels = [item[lang] or item["key"] for item in items]
    figure.add(_(CHART_TITLES[name]), [item["value"] for item in items])
    values = [item["value"] for item in items]
    if values and all(float(v).is_integer() for v in values):  # counts: whole-number ticks, not 0.2, 0.4…
        top = int(max(values))
        figure.y_labels = list(range(0, top + 1, max(1, top // 8)))
    return Markup(INLINE_ELEMENTS.sub("", figure.render(is_unicode=True)))


def _charts(figures: dict[str, Any], csv_base: str, lang: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "title": _(CHART_TITLES[name]), "svg": chart_svg(name, figures[name], lang),
         "items": figures[name], "csv_url": f"{csv_base}/{name}.csv"}
        for name in SERIES if figures.get(name)  # no empty chart: a series appears once it has data
    ]


async def _page(request: Request, snapshot: InsightSnapshot | None, agency: Organisation | None) -> Response:
    lang = get_locale()
    base = f"/agencies/{agency.municipality_code}/insights" if agency else "/insights"
    figures = _figures(snapshot)
    return templates.TemplateResponse(request, "insights/page.html", {
        "agency": agency, "snapshot": snapshot, "totals": figures.get("totals", []),
        "charts": _charts(figures, base, lang), "api_url": "/api/v1" + base,
    })


async def platform_page(request: Request) -> Response:
    return await _page(request, await latest_snapshot(PLATFORM), None)


async def agency_page(request: Request) -> Response:
    agency = await _agency(request.path_params["code"])
    return await _page(request, await latest_snapshot(str(agency.municipality_code)), agency)


def _csv(snapshot: InsightSnapshot | None, name: str) -> Response:
    if name not in SERIES and name != "totals":
        raise NotFound(N_("There is no such figure."))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["key", "label_ja", "label_en", "value", "computed_at"])
    for item in _figures(snapshot).get(name, []):
        writer.writerow([item["key"], item["ja"], item["en"], item["value"], iso_jst(snapshot.computed_at if snapshot else None)])
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="{name}.csv"'})


async def platform_csv(request: Request) -> Response:
    return _csv(await latest_snapshot(PLATFORM), request.path_params["figure"])


async def agency_csv(request: Request) -> Response:
    agency = await _agency(request.path_params["code"])
    return _csv(await latest_snapshot(str(agency.municipality_code)), request.path_params["figure"])


def insights_out(scope: str, snapshot: InsightSnapshot | None) -> InsightsOut:
    computed_at = snapshot.computed_at.astimezone(JST) if snapshot else None  # as every time the API gives
    return InsightsOut(scope=scope, computed_at=computed_at, **_figures(snapshot))


@api.operation("/insights", summary="The platform's figures, from the latest snapshot (public)", response=InsightsOut,
               public=True, tags=["open data"])
async def platform_insights(request: Request, actor: Actor) -> InsightsOut:
    return insights_out(PLATFORM, await latest_snapshot(PLATFORM))


@api.operation("/agencies/{code}/insights", summary="An agency's figures, by municipality code (public)",
               response=InsightsOut, public=True, tags=["open data"])
async def agency_insights(request: Request, actor: Actor, code: str) -> InsightsOut:
    agency = await _agency(code)
    return insights_out(str(agency.municipality_code), await latest_snapshot(str(agency.municipality_code)))


routes: list[BaseRoute] = [
    Route("/insights", platform_page, methods=["GET"], name="insights"),
    Route("/insights/{figure}.csv", platform_csv, methods=["GET"], name="insights_csv"),
    Route("/agencies/{code}/insights", agency_page, methods=["GET"], name="agency_insights"),
    Route("/agencies/{code}/insights/{figure}.csv", agency_csv, methods=["GET"], name="agency_insights_csv"),
]
