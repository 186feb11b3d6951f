"""Partners on review panels: a challenge's owners add an approved partner who offers to review to the panel of
its proposal round, as an external reviewer.

This is a panel membership change through models.review.rounds (`join_panel`), nothing more: from then on the
partner is assigned by the review's own min-cost flow, with their skills as expertise and their declared
employers and clients as conflicts (models.partners.expertise), and reviews through the reviewer's pages like
anyone on a panel. Taking a partner off the panel is the panel's own change (models.review.workflow.set_panel).
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge, ChallengeStatus
from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, ValidationFailed
from models.identity.accounts import User
from models.identity.orgs import Organisation
from models.partners.models import PartnerProfile, PartnerSkill
from models.policy import Actor
from models.policy.challenges import owns_challenge
from models.policy.partners import offers_reviewing
from models.policy.review import CHANGE_PANEL, review_actions
from models.review import rounds
from models.review.closing import queue_assignment
from models.review.common import notify
from models.review.models import PanelMember

ALREADY_ON_PANEL = N_("This partner is already on the panel.")


async def add_to_panel(actor: Actor, challenge: Challenge, partner_id: int) -> PartnerProfile:
    """An owner puts a partner on the challenge's review panel (until the challenge is decided or cancelled); if the
    review is running, the missing reviewers are assigned again, the partner among them."""
    if CHANGE_PANEL not in await review_actions(actor, challenge):
        if not await owns_challenge(actor, challenge):
            raise NotAllowed("only the challenge's owners choose its panel")
        raise InvalidTransition(N_("The panel can no longer be changed."),
                                allowed=await challenge_lifecycle.allowed_transitions(actor, challenge))
    partner = await PartnerProfile.get_or_none(id=partner_id)
    user = await User.get_or_none(id=partner.user_id, is_active=True) if partner and partner.user_id else None
    if partner is None or user is None or not offers_reviewing(partner):
        raise ValidationFailed({"partner_id": N_("Choose an approved partner who offers to review.")})
    row = (await rounds.proposal_round(challenge)).row
    if await PanelMember.exists(round_id=row.id, reviewer_id=user.id):
        raise ValidationFailed({"partner_id": ALREADY_ON_PANEL})
    try:
        async with in_transaction() as connection:
            await rounds.join_panel(row, user.id, connection)
            await notify([user], "review.panel_added", {"challenge": challenge.id}, connection)
            await audit.record("challenge.panel_partner_added", actor=actor.user,
                               organisation=await Organisation.get(id=challenge.owner_id, using_db=connection),
                               target=challenge, after={"partner": partner.id, "reviewer": user.id},
                               using_db=connection)
            if challenge.status == ChallengeStatus.CLOSED:
                await queue_assignment(challenge.id, using_db=connection)
    except IntegrityError:  # added by someone else at the same moment
        raise ValidationFailed({"partner_id": ALREADY_ON_PANEL}) from None
    return partner


async def reviewing_partners(user_ids: list[int]) -> dict[int, PartnerProfile]:
    """User id -> the partner profile, for those of `user_ids` who sit on panels as partners (for the panel page)."""
    found = await PartnerProfile.filter(user_id__in=sorted(set(user_ids)), consent_withdrawn_at__isnull=True)
    return {int(p.user_id): p for p in found if p.user_id is not None and offers_reviewing(p)}


async def partner_skills(partners: dict[int, PartnerProfile]) -> dict[int, list[str]]:
    """User id -> the skill slugs of their partner profile (what the panel page shows beside a partner's name)."""
    slugs: dict[int, list[str]] = {}
    for partner_id, slug in await PartnerSkill.filter(partner_id__in=[p.id for p in partners.values()]).order_by(
            "id").values_list("partner_id", "skill"):
        slugs.setdefault(int(partner_id), []).append(str(slug))
    return {user_id: slugs.get(p.id, []) for user_id, p in partners.items()}
