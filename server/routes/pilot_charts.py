"""Pilots' charts, drawn on the server as SVG with pygal (a kept, pure-Python library: no browser, no
JavaScript, no native converter), with the same numbers as a table and a CSV; and the residents' QR code."""

from __future__ import annotations

import csv
import io
import sys

import pygal
import segno
from pygal.style import Style
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from models.pilots import feedback, lifecycle, measurements
from models.pilots.charts import ChartPoint, kpi_series
from models.pilots.models import Pilot, PilotKpi
from models.policy import Actor
from server.i18n import get_locale
from server.i18n import gettext as _
from server.labels import unit_name

# pygal appends a finder for its map plugins (unused here) that only has the pre-3.4 `find_module`: every
# later import that reaches it warns (an error under the test settings). Taken out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

SVG = "image/svg+xml"
STYLE = Style(background="white", plot_background="white", colors=("#0017c1", "#767676", "#00844a"),
              font_family="sans-serif")


def _config(title: str) -> dict:
    # js=[]: pygal links its tooltips script from a CDN by default; the chart must stand alone.
    return {"title": title, "style": STYLE, "js": [], "width": 720, "height": 360, "show_legend": True,
            "legend_at_bottom": True, "disable_xml_declaration": True, "print_values": False,
            "explicit_size": False}


def kpi_svg(kpi: PilotKpi, points: list[ChartPoint], locale: str) -> str:
    name = kpi.name.get(locale) or next(iter(kpi.name.values()), "")
    chart = pygal.Line(**_config(f"{name} ({unit_name(kpi.unit)})" if kpi.unit else name), x_label_rotation=30)
    chart.x_labels = [p.measured_on.isoformat() for p in points]
    chart.add(_("Verified values"), [p.value for p in points])
    if kpi.baseline is not None:
        chart.add(_("Baseline"), [kpi.baseline] * len(points), show_dots=False, stroke_style={"dasharray": "4, 4"})
    if kpi.target is not None:
        chart.add(_("Target"), [kpi.target] * len(points), show_dots=False, stroke_style={"dasharray": "8, 4"})
    return chart.render(is_unicode=True)


def satisfaction_svg(per_level: dict[int, int]) -> str:
    chart = pygal.Bar(**_config(_("Residents' satisfaction (answers per level, 1 to 5)")))
    chart.x_labels = [str(level) for level in per_level]
    chart.add(_("Answers"), list(per_level.values()))
    return chart.render(is_unicode=True)


async def _kpi(actor: Actor, request: Request) -> tuple[Pilot, PilotKpi, list[ChartPoint]]:
    pilot = await lifecycle.get_pilot(actor, request.path_params["pilot_id"])
    kpi = await measurements.get_kpi(actor, pilot, request.path_params["kpi_id"])
    progress = next(p for p in await measurements.progress_for(pilot) if p.kpi.id == kpi.id)
    return pilot, kpi, kpi_series(progress)


async def kpi_chart(request: Request) -> Response:
    _pilot, kpi, points = await _kpi(request.state.actor, request)
    return Response(kpi_svg(kpi, points, get_locale()), media_type=SVG)


async def kpi_csv(pilot: Pilot, kpi: PilotKpi) -> Response:
    progress = next(p for p in await measurements.progress_for(pilot) if p.kpi.id == kpi.id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kpi", "measured_on", "value", "numerator", "denominator", "baseline", "target", "unit"])
    for p in kpi_series(progress):
        writer.writerow([kpi.key, p.measured_on.isoformat(), p.value, "" if p.numerator is None else p.numerator,
                         "" if p.denominator is None else p.denominator, kpi.baseline, kpi.target, kpi.unit])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="pilot-{pilot.id}-{kpi.key}.csv"'})


async def kpi_csv_page(request: Request) -> Response:
    pilot, kpi, _points = await _kpi(request.state.actor, request)
    return await kpi_csv(pilot, kpi)


async def satisfaction_chart(request: Request) -> Response:
    pilot = await lifecycle.get_pilot(request.state.actor, request.path_params["pilot_id"])
    return Response(satisfaction_svg((await feedback.satisfaction_of(pilot)).per_level), media_type=SVG)


def qr_svg(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False, title=url)
    return out.getvalue().decode("utf-8")


async def qr_code(request: Request) -> Response:
    pilot = await lifecycle.get_pilot(request.state.actor, request.path_params["pilot_id"])
    return Response(qr_svg(str(request.base_url).rstrip("/") + f"/p/{pilot.short_code}"), media_type=SVG)


routes: list[BaseRoute] = [
    Route("/pilots/{pilot_id:int}/kpis/{kpi_id:int}/chart.svg", kpi_chart, methods=["GET"]),
    Route("/pilots/{pilot_id:int}/kpis/{kpi_id:int}/values.csv", kpi_csv_page, methods=["GET"]),
    Route("/pilots/{pilot_id:int}/satisfaction.svg", satisfaction_chart, methods=["GET"]),
    Route("/pilots/{pilot_id:int}/qr.svg", qr_code, methods=["GET"]),
]
