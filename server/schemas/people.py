from __future__ import annotations

from pydantic import BaseModel


class OrganisationRef(BaseModel):
    id: int
    kind: str
    name: dict[str, str]
    code: str | None
    status: str


class Me(BaseModel):
    id: int
    email: str
    name: str
    organisation: OrganisationRef | None
    roles: list[str]
    locale: str
