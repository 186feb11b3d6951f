"""Days and times people may send: within years the service can mean, so that converting one to Japan time
or UTC cannot overflow (year 1, year 9999) and the database stores what was meant."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from models.core.errors import N_

FIRST_YEAR, LAST_YEAR = 2000, 2099
OUT_OF_RANGE = N_("Enter a date between 2000 and 2099.")


def within_years(value: Any) -> Any:
    if isinstance(value, (date, datetime)) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(OUT_OF_RANGE)
    return value


Day = Annotated[
    date,
    AfterValidator(within_years),
    Field(json_schema_extra={"format": "date", "formatMinimum": f"{FIRST_YEAR}-01-01",
                             "formatMaximum": f"{LAST_YEAR}-12-31"}),
]
"""A day (YYYY-MM-DD) from 2000 to 2099."""
