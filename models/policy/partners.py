"""Who may see and do what in the talent pool, and what each person may list.

Partner profiles are personal data. They are seen by the partner, by operators, and by agency members
once approved; companies and visitors see a partner only when the partner has opted into a public
profile, and then only the fields chosen. Partner lists and search (pages, API) are for agency members
and operators: everyone else lists nothing, whatever they search for. An agency sees a partner's e-mail
address only after the partner has accepted one of its invitations.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.identity.orgs import OrgKind
from models.partners.models import (
    PUBLIC_FIELDS,
    InvitationStatus,
    Need,
    PartnerInvitation,
    PartnerProfile,
    PartnerStatus,
    Placement,
)
from models.partners.skills import EngagementType
from models.policy import Actor

ALL_FIELDS = "all"


def is_agency_member(actor: Actor) -> bool:
    return bool(actor.organisation_ids(OrgKind.AGENCY))


def is_own_profile(actor: Actor, partner: PartnerProfile) -> bool:
    return actor.user is not None and partner.user_id == actor.user.id


def is_findable(partner: PartnerProfile) -> bool:
    """Approved, consenting, not erased: the partners agencies may find and invite."""
    return partner.status == PartnerStatus.APPROVED and partner.consent_withdrawn_at is None


def findable_filter() -> Q:
    return Q(status=PartnerStatus.APPROVED.value, consent_withdrawn_at__isnull=True)


def offers_reviewing(partner: PartnerProfile) -> bool:
    """Findable, with an account, and offering to review: a partner owners may put on a review panel."""
    return is_findable(partner) and partner.user_id is not None and \
        EngagementType.REVIEWER.value in (partner.engagement_types or [])


async def reviewing_partner_user_ids(user_ids: list[int] | None = None) -> set[int]:
    """The accounts of the partners who may sit on review panels (among `user_ids`, when given)."""
    found = PartnerProfile.filter(findable_filter(), user_id__isnull=False)
    if user_ids is not None:
        found = found.filter(user_id__in=sorted(set(user_ids)))
    rows = await found.values_list("user_id", "engagement_types")
    return {int(user_id) for user_id, kinds in rows if EngagementType.REVIEWER.value in (kinds or [])}


def may_list_partners(actor: Actor) -> bool:
    return actor.is_operator or is_agency_member(actor)


def partner_filter(actor: Actor) -> Q:
    """The partners the actor may list from the database: operators every profile not withdrawn (the
    vetting queue), agency members the findable ones, everyone else none. Search holds only findable
    partners and is refused to those who may list none (search.partners.search_partners)."""
    if actor.is_operator:
        return Q(consent_withdrawn_at__isnull=True)
    if is_agency_member(actor):
        return findable_filter()
    return Q(id__in=[])


def visible_fields(actor: Actor, partner: PartnerProfile) -> set[str] | str | None:
    """ALL_FIELDS, the set of public fields the actor may see, or None when the profile is hidden from them."""
    if partner.consent_withdrawn_at is not None:
        return ALL_FIELDS if actor.is_operator else None  # operators see the (soon erased) stub
    if is_own_profile(actor, partner) or actor.is_operator:
        return ALL_FIELDS
    if is_findable(partner) and is_agency_member(actor):
        return ALL_FIELDS
    if is_findable(partner) and partner.public_profile:
        return {name for name in partner.public_fields if name in PUBLIC_FIELDS} | {"name"}
    return None


async def may_see_email(actor: Actor, partner: PartnerProfile) -> bool:
    """The partner, operators, and members of an agency whose invitation the partner accepted."""
    if partner.consent_withdrawn_at is not None or partner.user_id is None:
        return False
    if is_own_profile(actor, partner) or actor.is_operator:
        return True
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    return bool(agencies) and await PartnerInvitation.exists(
        partner_id=partner.id, status=InvitationStatus.ACCEPTED.value, need__agency_id__in=list(agencies)
    )


def may_edit_partner(actor: Actor, partner: PartnerProfile) -> bool:
    return is_own_profile(actor, partner) and partner.consent_withdrawn_at is None


def may_vet_partners(actor: Actor) -> bool:
    return actor.is_operator


def may_post_needs(actor: Actor) -> bool:
    return is_agency_member(actor)


def may_manage_need(actor: Actor, need: Need) -> bool:
    """See the need, its matches and invitations, invite: members of its agency."""
    return need.agency_id in actor.organisation_ids(OrgKind.AGENCY)


def may_view_need(actor: Actor, need: Need) -> bool:
    return actor.is_operator or may_manage_need(actor, need)


def need_filter(actor: Actor) -> Q:
    if actor.is_operator:
        return Q()
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    return Q(agency_id__in=list(agencies)) if agencies else Q(id__in=[])


def may_answer_invitation(actor: Actor, invitation: PartnerInvitation, partner: PartnerProfile) -> bool:
    return is_own_profile(actor, partner) and partner.consent_withdrawn_at is None


def invitation_filter(actor: Actor) -> Q:
    """Invitations the actor may list: the partner's own, their agency's, or (operators) all."""
    if actor.user is None:
        return Q(id__in=[])
    if actor.is_operator:
        return Q()
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    mine = Q(partner__user_id=actor.user.id, partner__consent_withdrawn_at__isnull=True)
    return mine | Q(need__agency_id__in=list(agencies)) if agencies else mine


def placement_filter(actor: Actor) -> Q:
    """Placements the actor may list: the partner's own, their agency's, or (operators) all."""
    if actor.user is None:
        return Q(id__in=[])
    if actor.is_operator:
        return Q()
    agencies = actor.organisation_ids(OrgKind.AGENCY)
    mine = Q(partner__user_id=actor.user.id, partner__consent_withdrawn_at__isnull=True)
    return mine | Q(agency_id__in=list(agencies)) if agencies else mine


def is_placement_agency_member(actor: Actor, placement: Placement) -> bool:
    return placement.agency_id in actor.organisation_ids(OrgKind.AGENCY)


def may_end_placement(actor: Actor, placement: Placement, partner: PartnerProfile) -> bool:
    """End an engagement with its report: members of the agency, and the partner."""
    return is_placement_agency_member(actor, placement) or may_edit_partner(actor, partner)


def may_answer_placement_survey(actor: Actor, placement: Placement) -> bool:
    """The follow-up survey is the agency's to answer (what stayed of the partner's work and know-how)."""
    return is_placement_agency_member(actor, placement)


def may_see_placement_survey(actor: Actor, placement: Placement) -> bool:
    return actor.is_operator or is_placement_agency_member(actor, placement)
