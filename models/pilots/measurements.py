"""KPI measurements: recorded by the company or an owner, verified or rejected by an owner; progress.

Only verified values count and only they are public. A rate is recorded as its two counts, so that
periods roll up honestly; its value is the percentage. Bad input is a ValidationFailed, never a 500.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.transitions import next_states
from models.pilots.lifecycle import today
from models.pilots.models import KpiDirection, Measurement, MeasurementStatus, Pilot, PilotKpi
from models.policy import Actor
from models.policy.pilots import may_record, may_verify, may_view_pilot, owns_pilot, runs_pilot, sees_internals

M = MeasurementStatus
TRANSITIONS: dict[MeasurementStatus, dict[MeasurementStatus, str]] = {
    M.RECORDED: {M.VERIFIED: "owner", M.REJECTED: "owner"},
    M.VERIFIED: {},
    M.REJECTED: {},
}
SOURCE_MAX = 200
AT_RISK_BELOW = 0.5  # of the expected progress by now


@dataclass
class MeasurementInput:
    measured_on: Any
    value: Any = None
    numerator: Any = None
    denominator: Any = None
    source: str = ""


def _finite(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    number = float(str(value).replace(",", "").strip()) if isinstance(value, str) else float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def checked(pilot: Pilot, kpi: PilotKpi, given: MeasurementInput) -> dict[str, Any]:
    """The row's values, or ValidationFailed naming each field in error."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"source": (given.source or "").strip()[:SOURCE_MAX]}
    try:
        measured_on = _day(given.measured_on)
    except (TypeError, ValueError):
        errors["measured_on"] = N_("Give the date measured as YYYY-MM-DD.")
    else:
        if measured_on > today():
            errors["measured_on"] = N_("The date measured cannot be in the future.")
        elif not pilot.starts_on <= measured_on <= pilot.ends_on:
            errors["measured_on"] = N_("The date measured must be within the pilot's period.")
        values["measured_on"] = measured_on
    try:
        value, numerator, denominator = _finite(given.value), _finite(given.numerator), _finite(given.denominator)
    except (TypeError, ValueError, OverflowError):
        errors["value"] = N_("Give a finite number.")
        raise ValidationFailed(errors) from None
    if kpi.is_rate or numerator is not None or denominator is not None:
        if numerator is None or denominator is None:
            errors["value"] = N_("A rate is recorded as its two counts: how many of how many.")
        elif denominator <= 0 or numerator < 0 or numerator > denominator:
            errors["value"] = N_("The first count must be between 0 and the second, which must be more than 0.")
        else:
            values |= {"numerator": numerator, "denominator": denominator, "value": 100 * numerator / denominator}
    elif value is None:
        errors["value"] = N_("Give a finite number.")
    else:
        values["value"] = value
    if errors:
        raise ValidationFailed(errors)
    return values


async def get_kpi(actor: Actor, pilot: Pilot, kpi_id: int) -> PilotKpi:
    kpi = await PilotKpi.get_or_none(id=kpi_id, pilot_id=pilot.id)
    if kpi is None:
        raise NotFound("no such KPI")
    return kpi


def _check_may_record(actor: Actor, pilot: Pilot) -> None:
    if not (owns_pilot(actor, pilot) or runs_pilot(actor, pilot)):
        raise NotAllowed("only the company and the owners record values")
    if not may_record(actor, pilot):
        raise InvalidTransition(N_("Values can be recorded only while the pilot runs or is evaluated."), allowed=[])


async def record(actor: Actor, pilot: Pilot, kpi: PilotKpi, given: MeasurementInput) -> Measurement:
    _check_may_record(actor, pilot)
    values = checked(pilot, kpi, given)
    async with in_transaction() as connection:
        measurement = await Measurement.create(kpi_id=kpi.id, recorded_by=actor.user, using_db=connection, **values)
        await audit.record("measurement.recorded", actor=actor.user, target=measurement,
                           after={"kpi": kpi.id, "value": measurement.value, "measured_on": values["measured_on"].isoformat()},
                           using_db=connection)
    return measurement


async def get_measurement(actor: Actor, measurement_id: int) -> tuple[Measurement, Pilot]:
    measurement = await Measurement.get_or_none(id=measurement_id).prefetch_related("kpi")
    pilot = await Pilot.get_or_none(id=measurement.kpi.pilot_id) if measurement else None
    if measurement is None or pilot is None or not may_view_pilot(actor, pilot):
        raise NotFound("no such measurement")
    if measurement.status != M.VERIFIED and not sees_internals(actor, pilot):
        raise NotFound("no such measurement")
    return measurement, pilot


def allowed_transitions(actor: Actor, pilot: Pilot, measurement: Measurement) -> list[str]:
    return next_states(TRANSITIONS, M(measurement.status), {"owner"} if may_verify(actor, pilot) else set())


async def decide(actor: Actor, measurement: Measurement, pilot: Pilot, to: str, reason: str = "") -> Measurement:
    """An owner verifies a value, or rejects it with a reason."""
    if not owns_pilot(actor, pilot):
        raise NotAllowed("only the pilot's owners verify values")
    allowed = allowed_transitions(actor, pilot, measurement)
    if to not in allowed:
        raise InvalidTransition(N_("This change of state is not possible now."), allowed=allowed)
    if to == M.REJECTED and not reason.strip():
        raise ValidationFailed({"reason": N_("Give a reason; it is shown to the people concerned.")})
    async with in_transaction() as connection:
        locked = await Measurement.filter(id=measurement.id).select_for_update().using_db(connection).get()
        if locked.status != measurement.status:
            raise InvalidTransition(N_("This change of state is not possible now."), allowed=[])
        before = measurement.status
        measurement.status, measurement.reason = to, reason.strip()
        await measurement.save(update_fields=["status", "reason", "updated_at"], using_db=connection)
        await audit.record(f"measurement.{to}", actor=actor.user, target=measurement, before={"status": before},
                           after={"status": to, "reason": measurement.reason}, using_db=connection)
    return measurement


async def measurements_of(actor: Actor, pilot: Pilot, kpi: PilotKpi) -> list[Measurement]:
    """Verified values for everyone; all of them for the company, owners and operators."""
    query = Measurement.filter(kpi_id=kpi.id)
    if not sees_internals(actor, pilot):
        query = query.filter(status=M.VERIFIED.value)
    return await query.order_by("measured_on", "id")


# --- progress --------------------------------------------------------------------------------


@dataclass
class KpiProgress:
    kpi: PilotKpi
    latest: float | None
    progress: float | None  # 0 at the baseline, 1 at the target; may be negative or above 1
    on_track: bool | None
    verified: list[Measurement] = field(default_factory=list)


def progress_of(kpi: PilotKpi, latest: float | None) -> float | None:
    """(latest − baseline) / (target − baseline): works as well when lower is better."""
    if latest is None or kpi.baseline is None or kpi.target is None or kpi.target == kpi.baseline:
        return None
    return (latest - kpi.baseline) / (kpi.target - kpi.baseline)


def on_track(pilot: Pilot, progress: float | None, day: date | None = None) -> bool | None:
    """On track when the progress is at least half of what the time elapsed would have it be."""
    if progress is None:
        return None
    total = (pilot.ends_on - pilot.starts_on).days or 1
    elapsed = min(max(((day or today()) - pilot.starts_on).days, 0), total) / total
    return progress >= AT_RISK_BELOW * elapsed


def rolled_up(verified: list[Measurement]) -> float | None:
    """The latest day's value; a rate's counts of that day are summed, not its percentages averaged."""
    if not verified:
        return None
    last = verified[-1].measured_on
    same_day = [m for m in verified if m.measured_on == last]
    if all(m.denominator for m in same_day):
        return 100 * sum(m.numerator or 0 for m in same_day) / sum(m.denominator or 0 for m in same_day)
    return same_day[-1].value


async def progress_for(pilot: Pilot) -> list[KpiProgress]:
    return (await progress_of_pilots([pilot]))[pilot.id]


async def progress_of_pilots(pilots: list[Pilot]) -> dict[int, list[KpiProgress]]:
    """Each pilot's KPI progress by pilot id, in two queries whatever the number of pilots (for lists and feeds)."""
    result: dict[int, list[KpiProgress]] = {pilot.id: [] for pilot in pilots}
    kpis = await PilotKpi.filter(pilot_id__in=list(result)) if pilots else []
    verified: dict[int, list[Measurement]] = {kpi.id: [] for kpi in kpis}
    if kpis:
        for measurement in await Measurement.filter(kpi_id__in=list(verified), status=M.VERIFIED.value).order_by(
                "measured_on", "id"):
            verified[measurement.kpi_id].append(measurement)
    by_id = {pilot.id: pilot for pilot in pilots}
    for kpi in kpis:
        mine = verified[kpi.id]
        latest = rolled_up(mine)
        progress = progress_of(kpi, latest)
        result[kpi.pilot_id].append(KpiProgress(kpi, latest, progress, on_track(by_id[kpi.pilot_id], progress), mine))
    return result


def is_better(kpi: PilotKpi, a: float, b: float) -> bool:
    return a > b if kpi.direction == KpiDirection.HIGHER else a < b


# --- CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = ("kpi", "measured_on", "value", "numerator", "denominator", "source")
CSV_MAX_ROWS = 5000


@dataclass
class CsvReport:
    recorded: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, English message id)


async def import_csv(actor: Actor, pilot: Pilot, text: str) -> CsvReport:
    """One row per KPI and date, matched by the KPI's key; each refused row is reported with its line."""
    _check_may_record(actor, pilot)
    kpis = {k.key: k for k in await PilotKpi.filter(pilot_id=pilot.id)}
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"kpi", "measured_on"} <= {(n or "").strip() for n in reader.fieldnames}:
        raise ValidationFailed({"file": N_("The CSV file needs the columns kpi, measured_on and value (or numerator and denominator).")})
    report = CsvReport()
    rows: list[tuple[PilotKpi, dict[str, Any]]] = []
    for number, row in enumerate(reader, start=2):
        if number > CSV_MAX_ROWS + 1:
            report.refused.append((number, N_("Too many rows: at most 5,000 in one file.")))
            break
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
        kpi = kpis.get(row.get("kpi", ""))
        if kpi is None:
            report.refused.append((number, N_("No KPI has this key.")))
            continue
        try:
            rows.append((kpi, checked(pilot, kpi, MeasurementInput(
                measured_on=row.get("measured_on"), value=row.get("value"), numerator=row.get("numerator"),
                denominator=row.get("denominator"), source=row.get("source", "")))))
        except ValidationFailed as exc:
            report.refused.append((number, next(iter(exc.errors.values()))))
    async with in_transaction() as connection:
        for kpi, values in rows:
            await Measurement.create(kpi_id=kpi.id, recorded_by=actor.user, using_db=connection, **values)
        await audit.record("measurement.imported", actor=actor.user, target=pilot,
                           after={"recorded": len(rows), "refused": len(report.refused)}, using_db=connection)
    report.recorded = len(rows)
    return report
