"""Every e-mail a person can make Kyoso send to someone else is rate-limited, per person and per organisation:
partner invitations (to the partner) and reviewers assigned by hand (to the reviewer). Organisation
invitations, sign-in links and sign-up notices have their own tests (test_organisations, test_auth)."""

from __future__ import annotations

from models.core.outbox import OutboxMessage
from models.partners.models import PartnerInvitation
from models.review.models import Assignment
from server.auth.ratelimit import MAILS_TO_OTHERS
from tests.helpers import browser
from tests.review_helpers import agency, closed_world, person
from tests.web import post_form


async def _use_up(limits, kind: str, scope: str, identifier: int, leave: int = 0) -> None:
    """Count as many e-mails of `kind` as its limit allows (less `leave`), as earlier requests would have."""
    item = MAILS_TO_OTHERS[kind][0 if scope == "person" else 1]
    for _ in range(item.amount - leave):
        await limits.count(item, f"{kind}-{scope}", str(identifier))


async def test_reviewers_assigned_by_hand_are_limited_per_person_and_per_organisation(app, client, migrated, limits):
    world = await closed_world(client, migrated, reviewers=3, per_proposal=2)
    owner = world.owner
    spare = {}
    for name, proposal_id in world.proposals.items():
        taken = set(await Assignment.filter(proposal_id=proposal_id).values_list("reviewer_id", flat=True))
        spare[name] = next(r for r in world.reviewers if r.id not in taken)
    try:
        await _use_up(limits, "hand-assignment", "person", owner.id, leave=1)
        url = f"/api/v1/challenges/{world.challenge_id}/assignments"
        first = await client.post(url, headers=world.h[owner.id],
                                  json={"proposal_id": world.proposals["kou"], "reviewer_id": spare["kou"].id})
        assert first.status_code == 201, first.text
        mails = await OutboxMessage.filter(topic="mail").order_by("-id").limit(20)
        assert any(m.payload["to"] == spare["kou"].email and m.payload["template"] == "assignment" for m in mails)
        over = await client.post(url, headers=world.h[owner.id],
                                 json={"proposal_id": world.proposals["otsu"], "reviewer_id": spare["otsu"].id})
        assert over.status_code == 429 and "too many of these e-mails" in over.json()["detail"]
        assert not await Assignment.exists(proposal_id=world.proposals["otsu"], reviewer_id=spare["otsu"].id)

        # A colleague of the same agency is not limited by the owner's count, but by the organisation's.
        owners = await agency()
        colleague = await person("colleague", org=owners)
        await _use_up(limits, "hand-assignment", "organisation", owners.id)
        async with browser(app, colleague) as page:
            refused = await post_form(page, f"/challenges/{world.challenge_id}/assignments",
                                      {"proposal_id": str(world.proposals["otsu"]), "reviewer_id": str(spare["otsu"].id)},
                                      page=f"/challenges/{world.challenge_id}/assignments")
        assert refused.status_code == 429 and "本日このメールを送信できる上限" in refused.text
        assert not await Assignment.exists(proposal_id=world.proposals["otsu"], reviewer_id=spare["otsu"].id)
    finally:
        await limits.reset_all()  # the agency's count must not reach the other tests


async def test_partner_invitations_are_limited_per_person(app, client, cast, limits):
    agency = cast["users"]["agency"]
    need = await client.post("/api/v1/needs", headers=cast["agency"], json={
        "role": "data-scientist", "skills": [{"skill": "data-analysis", "essential": True}],
        "starts_on": "2027-01-01", "ends_on": "2027-03-31", "days_per_month": 8, "remote": True,
        "area": "131041", "languages": ["ja"]})
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    try:
        await _use_up(limits, "partner-invitation", "person", agency.id)
        over = await client.post(f"/api/v1/needs/{need_id}/invitations", json={"partner_id": 1}, headers=cast["agency"])
        assert over.status_code == 429 and "too many of these e-mails" in over.json()["detail"]
        async with browser(app, agency) as page:
            refused = await post_form(page, f"/needs/{need_id}/invitations", {"partner_id": "1"}, page=f"/needs/{need_id}")
        assert refused.status_code == 429 and "このメールの送信が短時間に多すぎます" in refused.text
        assert not await PartnerInvitation.exists(need_id=need_id)
    finally:
        await limits.reset_all()
