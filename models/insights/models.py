"""Open data's own tables: the figures computed by a job, and what the catalogue has ever published."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

PLATFORM = "platform"  # the scope of the platform's figures; an agency's scope is its municipality code


class InsightSnapshot(Model):
    # The figures of one scope at one moment; pages and the API read the latest, never the live tables.

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=16, db_index=True)
    computed_at = fields.DatetimeField(db_index=True)
    figures: dict = fields.JSONField(default=dict)

    class Meta:
        table = "insight_snapshot"


class DatasetRecord(Model):
    # Every dataset the catalogue has published, so that one which disappears is shown as withdrawn.

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    kind = fields.CharField(max_length=32)
    organisation = fields.CharField(max_length=16)  # the publisher's CKAN name: a municipality code, or "kyoso"
    title: dict = fields.JSONField(default=dict)
    first_seen_at = fields.DatetimeField()
    modified_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)

    class Meta:
        table = "dataset_record"
