from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import BaseModel, Field

from server.i18n import TOKYO
from server.schemas.times import Day


class AuditFilter(BaseModel):
    action: str = Field(default="", max_length=64)
    actor: str = Field(default="", max_length=254)
    target_type: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    since: Day | None = None  # days in Japan time
    until: Day | None = None
    page: int = Field(default=1, ge=1, le=100000)

    def window(self) -> tuple[datetime | None, datetime | None]:
        since = datetime.combine(self.since, time(), TOKYO) if self.since else None
        until = datetime.combine(self.until + timedelta(days=1), time(), TOKYO) if self.until else None
        return since, until


class AccessForm(BaseModel):
    active: bool = False
    reviewer: bool = False
    operator: bool = False


class DecisionForm(BaseModel):
    reason: str = Field(default="", max_length=2000)
