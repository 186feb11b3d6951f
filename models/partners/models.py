"""The talent pool's tables: partner profiles and their skills, needs, invitations, placements."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from models.core.base import TimestampedModel

if TYPE_CHECKING:
    from models.identity.accounts import User
    from models.identity.orgs import Organisation


class PartnerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"  # consent withdrawn: hidden at once, personal data erased by a job


class NeedStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


# The profile fields a partner may choose to show on a public profile (companies and visitors).
PUBLIC_FIELDS = ("name", "profile", "skills", "tags", "years_experience", "public_sector_years", "languages",
                 "engagement_types")


class PartnerProfile(TimestampedModel):
    # The person's own account; set to null when the personal data is erased.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", related_name="partner_profiles", null=True, on_delete=fields.SET_NULL)
    user_id: int | None
    status = fields.CharField(max_length=16, default=PartnerStatus.PENDING.value, db_index=True)
    status_reason = fields.TextField(default="")
    name = fields.CharField(max_length=200, default="")
    profile: dict = fields.JSONField(default=dict)  # {"ja": ..., "en": ...}
    tags: list = fields.JSONField(default=list)
    years_experience = fields.IntField(default=0)
    public_sector_years = fields.IntField(default=0)
    public_sector_experience = fields.TextField(default="")
    languages: list = fields.JSONField(default=list)
    days_per_month = fields.IntField(default=0)
    work_mode = fields.CharField(max_length=16, default="either")
    areas: list = fields.JSONField(default=list)  # Tokyo municipality codes; empty: anywhere in Tokyo
    engagement_types: list = fields.JSONField(default=list)
    affiliations: list = fields.JSONField(default=list)  # [{"name", "kind": employer|client, "organisation_id"}]
    available = fields.BooleanField(default=True)  # accepting new engagements
    max_engagements = fields.IntField(null=True)  # open engagements taken at once; null: no limit
    public_profile = fields.BooleanField(default=False)
    public_fields: list = fields.JSONField(default=list)  # a subset of PUBLIC_FIELDS
    search_text = fields.TextField(default="")  # name, profile, tags and skill names, for the database search
    consent_version = fields.CharField(max_length=32, default="")
    consented_at = fields.DatetimeField(null=True)
    consent_withdrawn_at = fields.DatetimeField(null=True)
    erased_at = fields.DatetimeField(null=True)
    approved_at = fields.DatetimeField(null=True)

    skills: fields.ReverseRelation[PartnerSkill]

    class Meta:
        table = "partner_profile"


class PartnerSkill(TimestampedModel):
    partner: fields.ForeignKeyRelation[PartnerProfile] = fields.ForeignKeyField("models.PartnerProfile", related_name="skills", on_delete=fields.CASCADE)
    partner_id: int
    skill = fields.CharField(max_length=64, db_index=True)  # a slug of models.partners.skills.SKILLS
    experience = fields.TextField(default="")  # where, when, what

    class Meta:
        table = "partner_skill"
        unique_together = (("partner", "skill"),)


class Need(TimestampedModel):
    agency: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField("models.Organisation", related_name="partner_needs", on_delete=fields.CASCADE)
    agency_id: int
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", related_name="partner_needs", null=True,
                                        on_delete=fields.SET_NULL)
    created_by_id: int | None
    role = fields.CharField(max_length=64)
    description: dict = fields.JSONField(default=dict)
    skills: list = fields.JSONField(default=list)  # [{"skill": slug, "essential": bool}]
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    days_per_month = fields.IntField(default=0)
    work_mode = fields.CharField(max_length=16, default="either")
    area = fields.CharField(max_length=6, default="")
    languages: list = fields.JSONField(default=list)
    cap_days = fields.IntField(null=True)  # an engagement may be capped, in days or in hours (or both)
    cap_hours = fields.IntField(null=True)
    named_partner: fields.ForeignKeyNullableRelation[PartnerProfile] = fields.ForeignKeyField("models.PartnerProfile", related_name="named_in", null=True,
                                           on_delete=fields.SET_NULL)
    named_partner_id: int | None
    status = fields.CharField(max_length=16, default=NeedStatus.OPEN.value, db_index=True)
    shortlist: list = fields.JSONField(default=list)  # partner ids of the latest match list's top (the funnel's 2nd step)

    class Meta:
        table = "partner_need"


class PartnerInvitation(TimestampedModel):
    need: fields.ForeignKeyRelation[Need] = fields.ForeignKeyField("models.Need", related_name="invitations", on_delete=fields.CASCADE)
    need_id: int
    partner: fields.ForeignKeyRelation[PartnerProfile] = fields.ForeignKeyField("models.PartnerProfile", related_name="invitations", on_delete=fields.CASCADE)
    partner_id: int
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField("models.User", related_name="partner_invitations", null=True,
                                        on_delete=fields.SET_NULL)
    invited_by_id: int | None
    message = fields.TextField(default="")
    status = fields.CharField(max_length=16, default=InvitationStatus.PENDING.value, db_index=True)
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "partner_invitation"
        unique_together = (("need", "partner"),)


class Placement(TimestampedModel):
    invitation: fields.OneToOneRelation[PartnerInvitation] = fields.OneToOneField(
        "models.PartnerInvitation", related_name="placement", on_delete=fields.CASCADE)
    invitation_id: int
    partner: fields.ForeignKeyRelation[PartnerProfile] = fields.ForeignKeyField("models.PartnerProfile", related_name="placements", on_delete=fields.CASCADE)
    partner_id: int
    agency: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField("models.Organisation", related_name="partner_placements", on_delete=fields.CASCADE)
    agency_id: int
    role = fields.CharField(max_length=64)
    starts_on = fields.DateField(null=True)
    ends_on = fields.DateField(null=True)
    # The engagement as agreed (from the need): days a month, and its cap in days or hours.
    days_per_month = fields.IntField(default=0)
    cap_days = fields.IntField(null=True)
    cap_hours = fields.IntField(null=True)
    # Open until it ends with a short report (what was done, days and hours worked, within the cap).
    ended_at = fields.DatetimeField(null=True, db_index=True)
    report = fields.TextField(default="")
    days_worked = fields.IntField(null=True)
    hours_worked = fields.IntField(null=True)
    # The follow-up survey, some months after the end: due on, sent at, and the agency's answers.
    survey_due_on = fields.DateField(null=True, db_index=True)
    survey_sent_at = fields.DatetimeField(null=True)
    survey_answered_at = fields.DatetimeField(null=True)
    survey: dict = fields.JSONField(default=dict)  # {"still_in_use", "knowhow_retained", "would_engage_again", "comment"}

    class Meta:
        table = "partner_placement"
