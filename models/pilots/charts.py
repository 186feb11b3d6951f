"""The numbers a KPI chart and table show (server/ draws them): one series, the same for both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.pilots.measurements import KpiProgress


@dataclass
class ChartPoint:
    measured_on: date
    value: float
    numerator: float | None
    denominator: float | None


def kpi_series(progress: KpiProgress) -> list[ChartPoint]:
    """Verified values, one per day (a day's rate counts summed)."""
    by_day: dict[date, list] = {}
    for m in progress.verified:
        by_day.setdefault(m.measured_on, []).append(m)
    points = []
    for day, items in sorted(by_day.items()):
        if all(m.denominator for m in items):
            numerator = sum(m.numerator or 0 for m in items)
            denominator = sum(m.denominator or 0 for m in items)
            points.append(ChartPoint(day, round(100 * numerator / denominator, 4), numerator, denominator))
        else:
            points.append(ChartPoint(day, round(items[-1].value, 4), None, None))
    return points
