"""Joint challenges: "we have this problem too", inviting co-owners and accepting, and the agency page."""

from __future__ import annotations

from models.challenges.models import CoOwner, Interest
from models.core.audit import AuditEvent
from models.core.notifications import Notification
from models.identity.orgs import Organisation
from tests.helpers import _draft, _publish, browser, english, make_company
from tests.web import post_form

NOTE = "本区でも繁忙期の窓口混雑が課題です"


async def _ids() -> dict[str, int]:
    return {
        "owner": (await Organisation.get(municipality_code="131041")).id,  # Shinjuku, the cast's agency
        "other": (await Organisation.get(municipality_code="131059")).id,  # Bunkyo, the cast's other agency
    }


async def test_agencies_say_they_have_the_problem_too_publicly(client, cast):
    draft = await _draft(client, cast)
    url = f"/api/v1/challenges/{draft['id']}/interest"
    assert (await client.post(url, json={"note": NOTE}, headers=cast["other_agency"])).status_code == 404  # a draft
    await _publish(client, cast, draft["id"])

    assert (await client.post(url, json={})).status_code == 401
    assert (await client.post(url, json={}, headers=cast["company"])).status_code == 403
    assert (await client.post(url, json={}, headers=cast["agency"])).status_code == 403  # it owns the challenge
    registered = await client.post(url, json={"note": NOTE}, headers=cast["other_agency"])
    assert registered.status_code == 200, registered.text
    assert registered.json()["organisation"]["name"]["ja"] == "文京区" and registered.json()["note"] == NOTE
    again = await client.post(url, json={"note": "更新"}, headers=cast["other_agency"])  # one per agency
    assert again.status_code == 200 and await Interest.filter(challenge_id=draft["id"]).count() == 1

    public = await client.get(url)
    assert public.status_code == 200
    body = public.json()
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 50
    assert body["items"][0]["organisation"]["name"]["ja"] == "文京区"
    assert body["items"][0]["note"] == "更新"
    page = (await client.get(f"/challenges/{draft['id']}")).text
    assert "文京区" in page and "更新" in page
    assert await Notification.exists(user=cast["users"]["agency"], kind="interest.registered")
    actions = await AuditEvent.filter(target_type="challenge", target_id=str(draft["id"])).values_list("action", flat=True)
    assert {"challenge.interest_registered", "challenge.interest_updated"} <= set(actions)


async def test_an_invited_agency_accepts_and_then_acts_as_an_owner(client, cast, people):
    ids = await _ids()
    draft = await _draft(client, cast)
    cid = draft["id"]
    invite = f"/api/v1/challenges/{cid}/co-owners"
    accept = f"/api/v1/challenges/{cid}/co-owners/accept"

    assert (await client.post(invite, json={"organisation_id": ids["other"]}, headers=cast["company"])).status_code == 404
    assert (await client.post(invite, json={"organisation_id": ids["other"]}, headers=cast["other_agency"])).status_code == 404
    company = await make_company()
    for wrong in (company.id, ids["owner"], 999999):
        response = await client.post(invite, json={"organisation_id": wrong}, headers=cast["agency"])
        assert response.status_code == 422, (wrong, response.text)
    assert (await client.post(accept, headers=cast["other_agency"])).status_code == 404  # not invited yet

    invited = await client.post(invite, json={"organisation_id": ids["other"]}, headers=cast["agency"])
    assert invited.status_code == 201, invited.text
    assert invited.json()["status"] == "invited" and invited.json()["accepted_at"] is None
    assert (await client.post(invite, json={"organisation_id": ids["other"]}, headers=cast["agency"])).status_code == 422
    # Invited is not yet an owner: the draft stays hidden, and nothing can be changed.
    assert (await client.get(f"/api/v1/challenges/{cid}", headers=cast["other_agency"])).status_code == 404
    assert await Notification.exists(user=cast["users"]["other_agency"], kind="co_owner.invited")
    for who in ("agency", "company"):
        assert (await client.post(accept, headers=cast[who])).status_code == 404

    accepted = await client.post(accept, headers=cast["other_agency"])
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (await client.post(accept, headers=cast["other_agency"])).status_code == 200  # again: no change
    seen = await client.get(f"/api/v1/challenges/{cid}", headers=cast["other_agency"])
    assert seen.status_code == 200 and [c["name"]["ja"] for c in seen.json()["co_owners"]] == ["文京区"]
    assert await Notification.exists(user=cast["users"]["agency"], kind="co_owner.accepted")

    # A co-owner answers questions like the owner does.
    await _publish(client, cast, cid)
    question = await client.post(f"/api/v1/challenges/{cid}/questions", json={"body": "共同実施の範囲は？"}, headers=cast["company"])
    listing = (await client.get(f"/api/v1/challenges/{cid}/questions", headers=cast["other_agency"])).json()
    assert listing["total"] == 1 and listing["items"][0]["asker"] is not None
    answered = await client.post(f"/api/v1/questions/{question.json()['id']}/answer", json={"answer": "両区の窓口です。"},
                                 headers=cast["other_agency"])
    assert answered.status_code == 200
    # ... and may not say "we have this problem too" about its own challenge.
    assert (await client.post(f"/api/v1/challenges/{cid}/interest", json={}, headers=cast["other_agency"])).status_code == 403
    actions = await AuditEvent.filter(target_type="challenge", target_id=str(cid)).values_list("action", flat=True)
    assert {"challenge.co_owner_invited", "challenge.co_owner_accepted"} <= set(actions)


async def test_interest_becomes_co_ownership_through_the_pages(app, client, cast):
    ids = await _ids()
    draft = await _draft(client, cast)
    cid = draft["id"]
    await _publish(client, cast, cid)
    async with browser(app, cast["users"]["other_agency"]) as other:
        page = (await other.get(f"/challenges/{cid}")).text
        assert f'action="/challenges/{cid}/interest"' in page
        too_long = await post_form(other, f"/challenges/{cid}/interest", {"interest_note": "x" * 2001}, page=f"/challenges/{cid}")
        assert too_long.status_code == 400 and 'aria-invalid="true"' in too_long.text
        assert ">" + "x" * 2001 + "</textarea>" in too_long.text  # what was typed is shown again
        done = await post_form(other, f"/challenges/{cid}/interest", {"interest_note": NOTE}, page=f"/challenges/{cid}")
        assert done.status_code == 303 and done.headers["location"] == f"/challenges/{cid}"
    async with browser(app, cast["users"]["agency"]) as owner:
        page = (await owner.get(f"/challenges/{cid}")).text
        assert NOTE in page and f'name="co_owner" value="{ids["other"]}"' in page  # invite the interested agency
        empty = await post_form(owner, f"/challenges/{cid}/co-owners", {"co_owner": ""}, page=f"/challenges/{cid}")
        assert empty.status_code == 400
        invited = await post_form(owner, f"/challenges/{cid}/co-owners", {"co_owner": str(ids["other"])}, page=f"/challenges/{cid}")
        assert invited.status_code == 303
    assert await CoOwner.exists(challenge_id=cid, organisation_id=ids["other"], accepted_at=None)
    await english(cast["users"]["other_agency"])
    async with browser(app, cast["users"]["other_agency"]) as other:
        page = (await other.get(f"/challenges/{cid}")).text
        assert f'action="/challenges/{cid}/co-owners/accept"' in page
        accepted = await post_form(other, f"/challenges/{cid}/co-owners/accept", page=f"/challenges/{cid}")
        assert accepted.status_code == 303
        page = (await other.get(f"/challenges/{cid}")).text
        assert "Co-owners" in page and f'action="/challenges/{cid}/co-owners/accept"' not in page


async def test_an_invitation_to_a_draft_is_accepted_from_the_notifications_page(app, client, cast):
    ids = await _ids()
    draft = await _draft(client, cast)
    cid = draft["id"]
    await client.post(f"/api/v1/challenges/{cid}/co-owners", json={"organisation_id": ids["other"]}, headers=cast["agency"])
    await english(cast["users"]["other_agency"])
    async with browser(app, cast["users"]["other_agency"]) as other:
        assert (await other.get(f"/challenges/{cid}")).status_code == 404
        page = (await other.get("/notifications")).text
        assert "is invited to co-own" in page and f'action="/challenges/{cid}/co-owners/accept"' in page
        accepted = await post_form(other, f"/challenges/{cid}/co-owners/accept", page="/notifications")
        assert accepted.status_code == 303 and accepted.headers["location"] == f"/challenges/{cid}"
        assert (await other.get(f"/challenges/{cid}")).status_code == 200


async def test_the_agency_page_lists_public_challenges_co_ownership_and_interest(app, client, cast):
    ids = await _ids()
    published = await _draft(client, cast, title={"ja": "公開済みの課題", "en": "A published challenge"})
    await _publish(client, cast, published["id"])
    hidden = await _draft(client, cast, title={"ja": "下書きの課題", "en": "A draft"})
    joint = await _draft(client, cast, title={"ja": "共同の課題", "en": "A joint challenge"})
    await client.post(f"/api/v1/challenges/{joint['id']}/co-owners", json={"organisation_id": ids["other"]}, headers=cast["agency"])
    await client.post(f"/api/v1/challenges/{joint['id']}/co-owners/accept", headers=cast["other_agency"])
    await _publish(client, cast, joint["id"])
    await client.post(f"/api/v1/challenges/{published['id']}/interest", json={}, headers=cast["other_agency"])

    owner_page = await client.get(f"/agencies/{ids['owner']}")
    assert owner_page.status_code == 200
    assert "新宿区" in owner_page.text and "131041" in owner_page.text
    assert "公開済みの課題" in owner_page.text and "共同の課題" in owner_page.text
    assert hidden["title"]["ja"] not in owner_page.text
    other_page = (await client.get(f"/agencies/{ids['other']}")).text
    assert "文京区" in other_page and "共同の課題" in other_page  # co-owned
    interests = await Interest.filter(organisation_id=ids["other"]).count()
    async with browser(app) as visitor:
        english_page = (await visitor.get(f"/agencies/{ids['other']}?lang=en")).text
        assert "Challenges it co-owns" in english_page and "Special ward" in english_page
        assert f"said of {interests} challenge" in english_page
    company = await make_company()
    assert (await client.get(f"/agencies/{company.id}")).status_code == 404
    assert (await client.get("/agencies/999999")).status_code == 404

