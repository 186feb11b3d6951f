"""The talent pool's pages at 390 px (then 1280 px), in Japanese and English: the agency's needs and match list (with
the shortlist buttons), an ended engagement with its report and the follow-up survey form, and the partner's own page
reflow without sideways scrolling, and axe-core finds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.identity.orgs import Organisation
from models.partners import invitations, needs, placements, profiles
from models.partners.models import Placement
from models.partners.profiles import CONSENT_VERSION, ProfileInput, SkillClaim
from models.policy import actor_for
from tests.browser.conftest import check_page, new_context
from tests.review_helpers import person


async def engagement_world() -> dict:
    agency_user = await person("agency", org=await Organisation.get(municipality_code="131041"), locale="en")
    operator = await actor_for(await person("operator", operator=True))
    partner_user = await person("partner")
    partner = await profiles.register(await actor_for(partner_user), ProfileInput(
        name="Alexandra Featherstonehaugh-Whittingham", profile={"ja": "データ活用の専門家", "en": "Data expert"},
        skills=[SkillClaim("open-data", "2019–2024 区のオープンデータ公開を主導")], days_per_month=8,
        max_engagements=2, engagement_types=["advisor", "reviewer"]), consent_version=CONSENT_VERSION)
    await profiles.transition(operator, partner, "approved", "経歴確認済み")
    agency = await actor_for(agency_user)
    need = await needs.post_need(agency, needs.NeedInput(role="data-strategist", skills=[("open-data", True)],
                                                         days_per_month=4, cap_days=12, cap_hours=80))
    await needs.set_shortlist(agency, need, [partner.id])
    invitation = await invitations.invite(agency, need, partner.id)
    partner_actor = await actor_for(partner_user)
    await invitations.answer(partner_actor, await invitations.get_invitation(partner_actor, invitation.id), "accepted")
    placement = await Placement.get(invitation_id=invitation.id)
    placement = await placements.get_placement(agency, placement.id)
    await placements.end(agency, placement, "ended", "12のデータセットを公開し、職員への引き継ぎを終えた。", 10, 70)
    await Placement.filter(id=placement.id).update(survey_due_on=placements.today() - timedelta(days=1))
    open_need = await needs.post_need(agency, needs.NeedInput(role="data-strategist", skills=[("open-data", True)]))
    return {"agency": agency_user, "partner": partner_user, "need": open_need.id, "placement": placement.id}


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_partner_pages_reflow(browser, server_url, app, migrated, lang):
    world = await engagement_world()

    async def visit(who: str, *paths: str) -> None:
        context = await new_context(browser, server_url, width=390, lang=lang, user=world[who])
        page = await context.new_page()
        try:
            for path in paths:
                await page.set_viewport_size({"width": 390, "height": 900})
                response = await page.goto(path)
                assert response.ok, f"{path}: {response.status}"
                await check_page(page)
                await page.set_viewport_size({"width": 1280, "height": 900})
                await check_page(page)
        finally:
            await context.close()

    await visit("agency", "/needs", f"/needs/{world['need']}", f"/placements/{world['placement']}")
    await visit("partner", "/partners/me", f"/placements/{world['placement']}")
