"""The permission matrix's partner world (tests/test_permissions.py)."""

from __future__ import annotations

from tortoise import timezone

from models.identity.accounts import User
from models.partners import needs
from models.partners.models import PartnerInvitation, PartnerProfile, PartnerSkill, Placement
from models.partners.profiles import CONSENT_VERSION
from models.policy import actor_for


async def partner_world(members: dict[str, User], people) -> dict[str, object]:
    """The permission matrix's partner (approved, private), the world agency's need, and its pending
    invitation to the partner: the ids the matrix's partner routes use. Rows are written directly, so the
    many worlds leave no outbox messages behind for later tests' workers to wade through."""
    person = await people.make()
    partner = await PartnerProfile.create(user_id=person.id, status="approved", name="行列 パートナー",
                                          profile={"ja": "行列"}, days_per_month=1, consent_version=CONSENT_VERSION,
                                          consented_at=timezone.now(), approved_at=timezone.now())
    await PartnerSkill.create(partner_id=partner.id, skill="open-data", experience="行列")
    agency = await actor_for(members["agency"])
    need = await needs.post_need(agency, needs.NeedInput(role="data-scientist", skills=[("open-data", True)]))
    invitation = await PartnerInvitation.create(need_id=need.id, partner_id=partner.id,
                                                invited_by_id=members["agency"].id)
    placed = await needs.post_need(agency, needs.NeedInput(role="data-scientist", skills=[("open-data", True)]))
    accepted = await PartnerInvitation.create(need_id=placed.id, partner_id=partner.id, status="accepted",
                                              invited_by_id=members["agency"].id, answered_at=timezone.now())
    placement = await Placement.create(invitation_id=accepted.id, partner_id=partner.id, agency_id=placed.agency_id,
                                       role=placed.role)
    return {"partner_id": partner.id, "need_id": need.id, "partner_invitation_id": invitation.id,
            "placement_id": placement.id}
