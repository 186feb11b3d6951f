"""Agencies invite partners to a need; a partner accepts or declines; an acceptance becomes a placement.

The partner is told in the app and by e-mail; the person who invited is told of the answer likewise. Neither
an invitation nor its acceptance may take a partner past the limits they set (models.partners.matching.room_for):
as many open engagements as they take at once, and their days per month.
"""

from __future__ import annotations

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.challenges.follows import notify
from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import queue_mail
from models.core.transitions import next_states
from models.identity.accounts import User
from models.partners.matching import DAYS, ENGAGEMENTS, Load, room_for
from models.partners.models import InvitationStatus, Need, PartnerInvitation, PartnerProfile, Placement
from models.partners.needs import add_to_shortlist, need_spec
from models.partners.profiles import queue_search_update
from models.partners.skills import role_name
from models.policy import Actor, require_user
from models.policy.partners import (
    invitation_filter,
    is_findable,
    may_answer_invitation,
    may_manage_need,
    placement_filter,
)

INVITED, ACCEPTED, DECLINED = "partner.invited", "partner.accepted", "partner.declined"
FULL_MESSAGES = {
    ENGAGEMENTS: N_("This partner has as many open engagements as they take on at once."),
    DAYS: N_("Every day a month this partner offers is taken by open engagements."),
}


async def open_loads(partners: list[PartnerProfile]) -> dict[int, Load]:
    """Partner id -> their open engagements (placements not ended) against the limits of their profile."""
    committed: dict[int, list[int]] = {p.id: [] for p in partners}
    for partner_id, days in await Placement.filter(partner_id__in=list(committed), ended_at__isnull=True).values_list(
            "partner_id", "days_per_month"):
        committed[int(partner_id)].append(int(days or 0))
    return {p.id: Load(len(committed[p.id]), sum(committed[p.id]), p.max_engagements, p.days_per_month)
            for p in partners}
TRANSITIONS: dict[InvitationStatus, dict[InvitationStatus, str]] = {
    InvitationStatus.PENDING: {InvitationStatus.ACCEPTED: "partner", InvitationStatus.DECLINED: "partner"},
}


async def invite(actor: Actor, need: Need, partner_id: int, message: str = "") -> PartnerInvitation:
    user = require_user(actor)
    if not may_manage_need(actor, need):
        raise NotAllowed("members of the need's agency invite")
    partner = await PartnerProfile.get_or_none(id=partner_id)
    if partner is None or not is_findable(partner) or partner.user_id is None:
        raise ValidationFailed({"partner_id": N_("This partner cannot be invited.")})
    if await PartnerInvitation.exists(need_id=need.id, partner_id=partner.id):
        raise ValidationFailed({"partner_id": N_("This partner has already been invited to this need.")})
    if (full := room_for(need_spec(need), (await open_loads([partner]))[partner.id])) is not None:
        raise ValidationFailed({"partner_id": FULL_MESSAGES[full]})
    await need.fetch_related("agency")
    recipient = await User.get(id=partner.user_id)
    async with in_transaction() as connection:
        invitation = await PartnerInvitation.create(need_id=need.id, partner_id=partner.id, invited_by_id=user.id,
                                                    message=message.strip(), using_db=connection)
        await add_to_shortlist(need, partner.id, connection)
        await audit.record("partner_invitation.sent", actor=user, organisation=need.agency, target=invitation,
                           using_db=connection, after={"need": need.id, "partner": partner.id})
        await queue_mail("partner_invitation", to=recipient.email, locale=recipient.locale, key=f"partner_invitation:{invitation.id}",
                         context={"agency_name": need.agency.name(recipient.locale),
                                  "role": role_name(need.role, recipient.locale), "invitation_id": invitation.id,
                                  "message": invitation.message}, using_db=connection)
    await notify([recipient.id], INVITED, {"invitation": invitation.id})
    return invitation


async def get_invitation(actor: Actor, invitation_id: int) -> PartnerInvitation:
    invitation = await PartnerInvitation.filter(invitation_filter(actor), id=invitation_id).first().prefetch_related(
        "need__agency", "partner")
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


def allowed_answers(actor: Actor, invitation: PartnerInvitation) -> list[str]:
    roles = {"partner"} if may_answer_invitation(actor, invitation, invitation.partner) else set()
    return next_states(TRANSITIONS, InvitationStatus(invitation.status), roles)


async def answer(actor: Actor, invitation: PartnerInvitation, to: str) -> PartnerInvitation:
    """The partner accepts (a placement follows, with the need's role and period) or declines."""
    user = require_user(actor)
    partner = invitation.partner
    if not may_answer_invitation(actor, invitation, partner):
        raise NotAllowed("only the invited partner answers")
    allowed = allowed_answers(actor, invitation)
    if to not in allowed:
        raise InvalidTransition(N_("This invitation cannot be moved to %(state)s now."), allowed, {"state": to})
    need = invitation.need
    if to == InvitationStatus.ACCEPTED and room_for(need_spec(need), (await open_loads([partner]))[partner.id]):
        raise InvalidTransition(N_("Accepting would take you past the engagements or the days a month you take on: "
                                   "end an engagement with its report, or change your profile, first."),
                                [InvitationStatus.DECLINED.value])
    invitation.status = to
    invitation.answered_at = timezone.now()
    inviter = await User.get_or_none(id=invitation.invited_by_id) if invitation.invited_by_id else None
    async with in_transaction() as connection:
        await invitation.save(update_fields=["status", "answered_at", "updated_at"], using_db=connection)
        await audit.record(f"partner_invitation.{to}", actor=user, organisation=need.agency, target=invitation,
                           using_db=connection, after={"status": to})
        if to == InvitationStatus.ACCEPTED:
            placement = await Placement.create(invitation_id=invitation.id, partner_id=partner.id,
                                               agency_id=need.agency_id, role=need.role, starts_on=need.starts_on,
                                               ends_on=need.ends_on, days_per_month=need.days_per_month,
                                               cap_days=need.cap_days, cap_hours=need.cap_hours, using_db=connection)
            await queue_search_update(partner.id, connection)  # the partner's open engagements changed
            await audit.record("partner_placement.created", actor=user, organisation=need.agency, target=placement,
                               using_db=connection, after={"partner": partner.id, "need": need.id})
        if inviter is not None:
            await queue_mail("partner_answer", to=inviter.email, locale=inviter.locale,
                             key=f"partner_invitation:{invitation.id}",
                             context={"answer": to, "role": role_name(need.role, inviter.locale),
                                      "need_id": need.id, "partner_id": partner.id}, using_db=connection)
    if inviter is not None:
        await notify([inviter.id], ACCEPTED if to == InvitationStatus.ACCEPTED else DECLINED,
                     {"invitation": invitation.id})
    return invitation


async def invitations_for(actor: Actor, *, need: Need | None = None) -> list[PartnerInvitation]:
    found = PartnerInvitation.filter(invitation_filter(actor))
    if need is not None:
        found = found.filter(need_id=need.id)
    return await found.order_by("-created_at", "-id").prefetch_related("need__agency", "partner")


async def placements_for(actor: Actor, *, partner: PartnerProfile | None = None,
                         agency_id: int | None = None) -> list[Placement]:
    found = Placement.filter(placement_filter(actor))
    if partner is not None:
        found = found.filter(partner_id=partner.id)
    if agency_id is not None:
        found = found.filter(agency_id=agency_id)
    return await found.order_by("-starts_on", "-id").prefetch_related("agency", "partner")
