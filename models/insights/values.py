"""How open data writes values: times in ISO 8601, Japan time; translated text picked by language."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def iso_jst(moment: datetime | None) -> str | None:
    return moment.astimezone(JST).isoformat(timespec="seconds") if moment else None


def decoded(value: Any) -> Any:
    """A JSON field as read by `.values()` (decoded already on some backends, text on others)."""
    return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value


def text_of(value: Any, lang: str) -> str:
    value = decoded(value)
    return (value or {}).get(lang, "") if isinstance(value, dict) else ""
