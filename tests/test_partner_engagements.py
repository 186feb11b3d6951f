"""Engagements: the limits a partner sets (engagements at once, days a month) are respected by the match list,
invitations and acceptances; an engagement ends with a short report within its cap; a follow-up survey is sent
to the agency some months later (by the worker, once) and answered by it only."""

from __future__ import annotations

from datetime import timedelta

from models.core.mail import TOPIC as MAIL_TOPIC
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from models.partners.models import Placement
from models.partners.placements import SURVEY_AFTER_DAYS, today
from models.partners.profiles import CONSENT_VERSION, SEARCH_TOPIC
from server import jobs
from tests.web import post_form, sign_in_as
from tests.workers import run_worker_once


async def drain(settings) -> None:
    """The outbox drained as `kyoso worker` does, search included (the partners' documents carry their load),
    until no partner's search update waits (a drain may stop short behind what earlier tests queued)."""
    for _ in range(5):
        await run_worker_once(settings, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)
        if not await OutboxMessage.exists(topic=SEARCH_TOPIC, processed_at=None):
            return


async def partner(client, people, operator, **profile) -> tuple[int, object, dict]:
    person = await people.make()
    h = await people.token(person)
    body = {"name": "稼働 上限", "profile": {"ja": "データ活用の専門家"}, "languages": ["ja"], "work_mode": "either",
            "skills": [{"skill": "open-data", "experience": "2019–2024 区のオープンデータ"}],
            "engagement_types": ["advisor"], "consent_version": CONSENT_VERSION, **profile}
    registered = await client.post("/api/v1/partners", json=body, headers=h)
    assert registered.status_code == 201, registered.text
    partner_id = registered.json()["id"]
    assert (await client.post(f"/api/v1/partners/{partner_id}/transitions", headers=operator,
                              json={"to": "approved", "reason": "確認済み"})).status_code == 200
    return partner_id, person, h


async def need(client, agency, partner_id: int | None = None, **values) -> int:
    body = {"role": "data-strategist", "skills": [{"skill": "open-data", "essential": True}], "days_per_month": 4,
            **values}
    if partner_id is not None:
        body["partner_id"] = partner_id  # a named partner: the match list holds them alone
    posted = await client.post("/api/v1/needs", json=body, headers=agency)
    assert posted.status_code == 201, posted.text
    return posted.json()["id"]


async def matched(client, agency, need_id: int) -> list[int]:
    found = await client.get(f"/api/v1/needs/{need_id}/matches", headers=agency)
    assert found.status_code == 200, found.text
    return [item["partner_id"] for item in found.json()["items"]]


async def test_a_partners_limits_hold_and_an_engagement_ends_with_a_report_then_a_survey(client, cast, people, migrated):
    agency, operator = cast["agency"], cast["operator"]
    partner_id, person, h_partner = await partner(client, people, operator, days_per_month=8, max_engagements=1)
    first = await need(client, agency, partner_id, cap_days=10, cap_hours=60)
    second = await need(client, agency, partner_id)
    invited = await client.post(f"/api/v1/needs/{second}/invitations", json={"partner_id": partner_id}, headers=agency)
    assert invited.status_code == 201, invited.text
    waiting = invited.json()["id"]

    # The first engagement: invited, accepted; the partner, who takes one at a time, is full.
    invitation = (await client.post(f"/api/v1/needs/{first}/invitations", json={"partner_id": partner_id},
                                    headers=agency)).json()["id"]
    accepted = await client.post(f"/api/v1/invitations/{invitation}/transitions", json={"to": "accepted"},
                                 headers=h_partner)
    assert accepted.status_code == 200, accepted.text
    placement = await Placement.get(invitation_id=invitation)
    assert (placement.days_per_month, placement.cap_days, placement.cap_hours) == (4, 10, 60)
    await drain(migrated)
    assert await matched(client, agency, second) == []  # the match list leaves a full partner out
    third = await need(client, agency, partner_id)
    refused = await client.post(f"/api/v1/needs/{third}/invitations", json={"partner_id": partner_id}, headers=agency)
    assert refused.status_code == 422 and "partner_id" in refused.text
    too_many = await client.post(f"/api/v1/invitations/{waiting}/transitions", json={"to": "accepted"},
                                 headers=h_partner)
    assert too_many.status_code == 409 and too_many.json()["allowed"] == ["declined"], too_many.text

    # The engagement ends with a short report, within its caps (days and hours both capped: both are said).
    url = f"/api/v1/placements/{placement.id}/transitions"
    over = await client.post(url, headers=agency, json={"to": "ended", "report": "公開完了", "days_worked": 11,
                                                        "hours_worked": 50})
    assert over.status_code == 422 and "days_worked" in over.text
    unsaid = await client.post(url, headers=agency, json={"to": "ended", "report": "公開完了", "days_worked": 9})
    assert unsaid.status_code == 422 and "hours_worked" in unsaid.text
    assert (await client.post(url, headers=agency, json={"to": "ended", "report": " ", "days_worked": 9,
                                                         "hours_worked": 50})).status_code == 422
    assert (await client.post(url, headers=cast["other_agency"], json={
        "to": "ended", "report": "他人", "days_worked": 1, "hours_worked": 1})).status_code == 404
    ended = await client.post(url, headers=agency, json={
        "to": "ended", "report": "12のデータセットを公開。職員が自ら更新できるようになった。", "days_worked": 9,
        "hours_worked": 50})
    assert ended.status_code == 200, ended.text
    out = ended.json()
    assert out["status"] == "ended" and out["days_worked"] == 9 and out["allowed_transitions"] == []
    assert out["survey_due_on"] == (today() + timedelta(days=SURVEY_AFTER_DAYS)).isoformat()
    assert await Notification.exists(user_id=person.id, kind="partner.ended")
    assert (await client.post(url, headers=h_partner, json={"to": "ended", "report": "再度", "days_worked": 1,
                                                            "hours_worked": 1})).status_code == 409
    seen = await client.get(f"/api/v1/placements/{placement.id}", headers=h_partner)
    assert seen.status_code == 200 and seen.json()["report"].startswith("12のデータセット")

    # With the engagement over, the partner has room again: matched, and the waiting invitation can be accepted.
    await drain(migrated)
    assert await matched(client, agency, second) == [partner_id]
    assert (await client.post(f"/api/v1/invitations/{waiting}/transitions", json={"to": "accepted"},
                              headers=h_partner)).status_code == 200

    # The survey is not open before it is due.
    survey = {"still_in_use": True, "knowhow_retained": 4, "would_engage_again": True, "comment": "職員2名が継続"}
    early = await client.put(f"/api/v1/placements/{placement.id}/survey", json=survey, headers=agency)
    assert early.status_code == 409, early.text

    # Once due, the worker sends it once, to the person who invited; only the agency answers it.
    await Placement.filter(id=placement.id).update(survey_due_on=today() - timedelta(days=1))
    await run_worker_once(migrated, job="send_partner_surveys")
    await run_worker_once(migrated, job="send_partner_surveys")
    mails = await OutboxMessage.filter(topic=MAIL_TOPIC, key=f"partner_placement:{placement.id}")
    assert [m.payload["to"] for m in mails] == [cast["users"]["agency"].email]
    assert await Notification.filter(user_id=cast["users"]["agency"].id, kind="partner.survey",
                                     payload={"placement": placement.id}).count() == 1
    assert (await client.put(f"/api/v1/placements/{placement.id}/survey", json=survey,
                             headers=h_partner)).status_code == 403
    assert (await client.put(f"/api/v1/placements/{placement.id}/survey", json={**survey, "knowhow_retained": 6},
                             headers=agency)).status_code == 422
    answered = await client.put(f"/api/v1/placements/{placement.id}/survey", json=survey, headers=agency)
    assert answered.status_code == 200 and answered.json()["survey"]["knowhow_retained"] == 4, answered.text
    assert (await client.get(f"/api/v1/placements/{placement.id}", headers=h_partner)).json()["survey"] is None
    assert (await client.get(f"/api/v1/placements/{placement.id}", headers=cast["company"])).status_code == 404

    # The page shows the report and the answers, in English too.
    await sign_in_as(client, cast["users"]["agency"])
    page = await client.get(f"/placements/{placement.id}", params={"lang": "en"})
    assert page.status_code == 200 and "12のデータセット" in page.text and "Follow-up survey" in page.text


async def test_the_days_a_month_limit_and_the_pages(client, cast, people, migrated):
    agency, operator = cast["agency"], cast["operator"]
    partner_id, person, h_partner = await partner(client, people, operator, days_per_month=6)
    other_id, _, _ = await partner(client, people, operator, days_per_month=6)
    first = await need(client, agency, partner_id, days_per_month=4)
    invitation = (await client.post(f"/api/v1/needs/{first}/invitations", json={"partner_id": partner_id},
                                    headers=agency)).json()["id"]
    await client.post(f"/api/v1/invitations/{invitation}/transitions", json={"to": "accepted"}, headers=h_partner)
    await drain(migrated)
    # 4 of 6 days are taken: with 2 days left the partner ranks below one with 6, for a need of 4 days a month.
    ranked = await matched(client, agency, await need(client, agency, days_per_month=4))
    assert ranked.index(other_id) < ranked.index(partner_id)
    second = await need(client, agency, partner_id, days_per_month=2)
    invitation_2 = (await client.post(f"/api/v1/needs/{second}/invitations", json={"partner_id": partner_id},
                                      headers=agency)).json()["id"]
    await client.post(f"/api/v1/invitations/{invitation_2}/transitions", json={"to": "accepted"}, headers=h_partner)
    await drain(migrated)
    # Now every day is taken: no need is offered to them, and no invitation is sent.
    full = await need(client, agency, partner_id, days_per_month=1)
    assert await matched(client, agency, full) == []
    refused = await client.post(f"/api/v1/needs/{full}/invitations", json={"partner_id": partner_id}, headers=agency)
    assert refused.status_code == 422

    # The partner ends the engagement from its page (no cap: no amounts needed); a bad form keeps what was typed.
    placement = await Placement.get(invitation_id=invitation)
    await sign_in_as(client, person)
    page = await client.get(f"/placements/{placement.id}")
    assert page.status_code == 200 and f"/placements/{placement.id}/transitions" in page.text
    empty = await post_form(client, f"/placements/{placement.id}/transitions", {"to": "ended", "report": "",
                                                                               "days_worked": "x"}, page="/partners/me")
    assert empty.status_code == 400
    done = await post_form(client, f"/placements/{placement.id}/transitions", {"to": "ended", "report": "引き継ぎ済み"},
                           page="/partners/me")
    assert done.status_code == 303, done.text
    assert (await Placement.get(id=placement.id)).ended_at is not None
    me = await client.get("/partners/me")
    assert f"/placements/{placement.id}" in me.text

    # The agency answers the survey through the page once it is due.
    await Placement.filter(id=placement.id).update(survey_due_on=today())
    client.cookies.clear()
    await sign_in_as(client, cast["users"]["agency"])
    answered = await post_form(client, f"/placements/{placement.id}/survey", {
        "still_in_use": "yes", "knowhow_retained": "3", "would_engage_again": "no", "comment": "一部のみ定着"},
        page="/needs")
    assert answered.status_code == 303, answered.text
    stored = await Placement.get(id=placement.id)
    assert stored.survey["knowhow_retained"] == 3 and stored.survey["would_engage_again"] is False
