"""Organisations, members and invitations: the shapes of forms and JSON alike."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.identity.accounts import Role
from server.text import Name


class InvitationIn(BaseModel):
    """Invite someone by e-mail; `locale` is the language of the mail when they have no account yet."""
    model_config = ConfigDict(json_schema_extra={"examples": [{'email': 'hanako@example.jp', 'role': 'member', 'locale': 'ja'}]})


    email: str = Field(max_length=254)
    role: Role = Role.MEMBER
    locale: Literal["ja", "en"] | None = None


class InvitationOut(BaseModel):
    id: int
    organisation_id: int
    email: str
    role: str
    status: str  # pending, expired (accepted invitations become members; revoked ones are gone)
    expires_at: datetime
    invited_by: int | None


class ProfileIn(BaseModel):
    """The editable profile; the names only for companies (agencies' names are reference data)."""

    website: str = ""
    size: str = ""
    description_ja: str = ""
    description_en: str = ""
    name_ja: Name | None = None
    name_en: Name | None = None


class OrganisationOut(BaseModel):
    id: int
    kind: str
    status: str
    name: dict[str, str]
    code: str | None
    municipality_type: str | None
    website: str
    size: str
    description: dict[str, str]
    approved_at: datetime | None


class MemberOut(BaseModel):
    id: int  # the membership
    user_id: int
    name: str
    email: str
    role: str
    joined_at: datetime


class MemberList(BaseModel):
    items: list[MemberOut]
    total: int
    page: int
    per_page: int


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=50, ge=1, le=200)
