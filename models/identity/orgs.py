"""Organisations (agencies, companies, the platform operator) and categories."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.core.base import TimestampedModel, translated


class OrgKind(StrEnum):
    AGENCY = "agency"
    COMPANY = "company"
    OPERATOR = "operator"


class OrgStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class MunicipalityType(StrEnum):
    PREFECTURE = "prefecture"
    WARD = "ward"
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"


class Organisation(TimestampedModel):
    kind = fields.CharField(max_length=16, db_index=True)
    status = fields.CharField(max_length=16, default=OrgStatus.PENDING.value, db_index=True)
    name_ja = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200, default="")
    # Agencies: 全国地方公共団体コード; companies: 法人番号. Both validated in models.core.identifiers.
    municipality_code = fields.CharField(max_length=6, null=True, unique=True)
    municipality_type = fields.CharField(max_length=16, null=True)
    corporate_number = fields.CharField(max_length=13, null=True, unique=True)
    website = fields.CharField(max_length=500, default="")
    size = fields.CharField(max_length=32, default="")
    description: dict[str, str] = fields.JSONField(default=dict)
    approved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "organisation"

    def name(self, locale: str) -> str:
        return translated({"ja": self.name_ja, "en": self.name_en}, locale)

    @property
    def code(self) -> str | None:
        return self.municipality_code or self.corporate_number


class Category(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name_ja = fields.CharField(max_length=100)
    name_en = fields.CharField(max_length=100)
    position = fields.IntField(default=0)

    class Meta:
        table = "category"
        ordering = ["position", "slug"]

    def name(self, locale: str) -> str:
        return translated({"ja": self.name_ja, "en": self.name_en}, locale)


async def find_organisation(org_id: int) -> Organisation | None:
    return await Organisation.get_or_none(id=org_id)


async def organisation_with_code(code: str, kind: str | None) -> Organisation | None:
    """An organisation by municipality code (kind "municipality") or corporate number (kind "corporate")."""
    if kind == "municipality":
        return await Organisation.get_or_none(municipality_code=code)
    if kind == "corporate":
        return await Organisation.get_or_none(corporate_number=code)
    return None


async def organisations_with_ids(ids: list[int]) -> list[Organisation]:
    return await Organisation.filter(id__in=ids or []) if ids else []
