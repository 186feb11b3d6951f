"""Partners on review panels: an owner puts an approved partner who offers to review on a challenge's panel; the
assignment prefers the partner where their skills match, and never gives them a proposal of a company they
declared as an employer or client (by name, as typed on their profile)."""

from __future__ import annotations

import pytest

from models.core.audit import AuditEvent
from models.partners.profiles import CONSENT_VERSION
from models.review.common import REVIEWER_LEFT, REVIEWER_STOPPED
from models.review.models import Assignment, Review
from tests.review_helpers import (
    RUN,
    agency,
    company,
    headers,
    open_challenge,
    pass_deadline,
    person,
    review,
    run_job,
    scores_for,
    submit,
)
from tests.web import sign_in_as

REASON_JA = {REVIEWER_LEFT: "審査員が Kyoso パートナーではなくなりました。",
             REVIEWER_STOPPED: "審査員（Kyoso パートナー）が審査を引き受けなくなりました。"}


def partner_body(name: str, *, reviewer: bool, affiliation: str) -> dict:
    return {
        "name": name, "profile": {"ja": f"{name}のプロフィール"},
        "skills": [{"skill": "open-data", "experience": "2019–2024 区のオープンデータ公開"},
                   {"skill": "data-analysis", "experience": "2020 EBPM支援"}],
        "languages": ["ja"], "days_per_month": 4, "work_mode": "remote",
        "engagement_types": ["reviewer", "advisor"] if reviewer else ["advisor"],
        "affiliations": [{"name": affiliation, "kind": "employer"}], "consent_version": CONSENT_VERSION,
    }


async def approved_partner(client, operator_headers: dict, body: dict) -> tuple[int, object, dict]:
    user = await person("partner")
    h = await headers(user)
    registered = await client.post("/api/v1/partners", json=body, headers=h)
    assert registered.status_code == 201, registered.text
    partner_id = registered.json()["id"]
    approved = await client.post(f"/api/v1/partners/{partner_id}/transitions", headers=operator_headers,
                                 json={"to": "approved", "reason": "経歴を確認"})
    assert approved.status_code == 200, approved.text
    return partner_id, user, h


async def test_a_partner_on_a_panel_is_assigned_by_expertise_and_never_to_an_affiliated_company(client, migrated):
    owner, operator = await person("owner", org=await agency()), await person("operator", operator=True)
    h_owner, h_operator = await headers(owner), await headers(operator)
    former_employer = await company(f"Sample Data株式会社 {RUN}")
    other = await company(f"乙データ {RUN}")
    kou, otsu = await person("kou", org=former_employer), await person("otsu", org=other)
    reviewers = [await person(f"plain{i}", reviewer=True, expertise=["窓口"]) for i in range(2)]
    # The partner typed the former employer's name in full-width capitals: the same organisation.
    partner_id, partner_user, h_partner = await approved_partner(
        client, h_operator, partner_body("外部 審査", reviewer=True, affiliation=f"ＳＡＭＰＬＥ ＤＡＴＡ株式会社 {RUN}"))
    advisor_id, _, _ = await approved_partner(
        client, h_operator, partner_body("助言 のみ", reviewer=False, affiliation="無関係株式会社"))

    challenge = await open_challenge(client, h_owner, h_operator, tags=["open-data", "オープンデータ"])
    panel = await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                             json={"reviewers": [r.id for r in reviewers], "reviews_per_proposal": 1})
    assert panel.status_code == 200, panel.text

    # Only partners who offer to review can be put on a panel; only owners put them there.
    refused = await client.post(f"/api/v1/challenges/{challenge['id']}/panel/partners", headers=h_owner,
                                json={"partner_id": advisor_id})
    assert refused.status_code == 422 and "partner_id" in refused.text
    not_owner = await client.post(f"/api/v1/challenges/{challenge['id']}/panel/partners",
                                  headers=await headers(kou), json={"partner_id": partner_id})
    assert not_owner.status_code in (403, 404)
    added = await client.post(f"/api/v1/challenges/{challenge['id']}/panel/partners", headers=h_owner,
                              json={"partner_id": partner_id})
    assert added.status_code == 200, added.text
    on_panel = {r["id"]: r for r in added.json()["reviewers"]}
    assert on_panel[partner_user.id]["partner_id"] == partner_id
    again = await client.post(f"/api/v1/challenges/{challenge['id']}/panel/partners", headers=h_owner,
                              json={"partner_id": partner_id})
    assert again.status_code == 422

    # The panel page marks the partner among the pool, with their skills.
    await sign_in_as(client, owner)
    page = await client.get(f"/challenges/{challenge['id']}/panel")
    assert page.status_code == 200
    assert f'value="{partner_user.id}" checked' in page.text and "オープンデータ" in page.text
    client.cookies.clear()

    kou_proposal = await submit(client, await headers(kou), challenge["id"], title="甲の提案")
    otsu_proposal = await submit(client, await headers(otsu), challenge["id"], title="乙の提案")
    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")

    assigned = {(a.proposal_id, a.reviewer_id) for a in await Assignment.filter(
        proposal_id__in=[kou_proposal["id"], otsu_proposal["id"]]).exclude(status="recused")}
    # By expertise: of three panel members with no review yet, the partner whose skills match the challenge's tags
    # gets the proposal they may review ...
    assert (otsu_proposal["id"], partner_user.id) in assigned
    # ... and never the one from the company they declared as an employer.
    assert (kou_proposal["id"], partner_user.id) not in assigned
    assert len([pair for pair in assigned if pair[0] == kou_proposal["id"]]) == 1

    # Not by hand either; and the partner sees only their own assignment, as any reviewer does.
    by_hand = await client.post(f"/api/v1/challenges/{challenge['id']}/assignments", headers=h_owner,
                                json={"proposal_id": kou_proposal["id"], "reviewer_id": partner_user.id})
    assert by_hand.status_code == 422 and "conflict" in by_hand.text.lower()
    mine = await client.get("/api/v1/assignments", headers=h_partner)
    assert [item["proposal_id"] for item in mine.json()["items"]] == [otsu_proposal["id"]]
    # A partner on a panel declares their own conflicts, as reviewers do.
    declared = await client.post("/api/v1/conflicts", headers=h_partner,
                                 json={"kind": "advised", "organisation_id": other.id})
    assert declared.status_code == 201, declared.text


async def test_a_partner_who_withdraws_leaves_the_pool(client, migrated):
    owner, operator = await person("owner", org=await agency()), await person("operator", operator=True)
    h_owner, h_operator = await headers(owner), await headers(operator)
    partner_id, partner_user, h_partner = await approved_partner(
        client, h_operator, partner_body("撤回 審査", reviewer=True, affiliation="無関係株式会社"))
    challenge = await open_challenge(client, h_owner, h_operator)
    assert (await client.post(f"/api/v1/challenges/{challenge['id']}/panel/partners", headers=h_owner,
                              json={"partner_id": partner_id})).status_code == 200
    withdrawn = await client.post(f"/api/v1/partners/{partner_id}/transitions", headers=h_partner,
                                  json={"to": "withdrawn"})
    assert withdrawn.status_code == 200, withdrawn.text
    # No longer in the pool: the panel cannot be saved with them, and they are not offered on the page.
    kept = await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                            json={"reviewers": [partner_user.id], "reviews_per_proposal": 1})
    assert kept.status_code == 422
    await sign_in_as(client, owner)
    page = await client.get(f"/challenges/{challenge['id']}/panel")
    assert page.status_code == 200 and f'value="{partner_user.id}"' not in page.text


@pytest.mark.parametrize("leaving", ["withdrawn", "suspended", "stops_reviewing"])
async def test_a_partner_who_leaves_hands_back_their_open_reviews_and_keeps_the_submitted_one(
        client, migrated, leaving):
    owner, operator = await person("owner", org=await agency()), await person("operator", operator=True)
    h_owner, h_operator = await headers(owner), await headers(operator)
    partner_id, partner_user, h_partner = await approved_partner(
        client, h_operator, partner_body("離脱 審査", reviewer=True, affiliation="無関係株式会社"))
    challenge = await open_challenge(client, h_owner, h_operator)
    # The partner alone on the panel: they are given every proposal.
    assert (await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner, json={
        "reviewers": [partner_user.id], "reviews_per_proposal": 1})).status_code == 200
    proposals = []
    for i in range(3):
        member = await person(f"company{i}", org=await company(f"離脱テスト{i} {RUN}"))
        proposals.append((await submit(client, await headers(member), challenge["id"], title=f"提案{i}"))["id"])
    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")
    done, *open_ = await Assignment.filter(reviewer_id=partner_user.id).order_by("proposal_id")
    assert [a.proposal_id for a in (done, *open_)] == proposals
    await review(client, h_partner, done.id, await scores_for(challenge["id"], 4, 4, 4, 4, 4))
    others = [await person(f"plain{i}", reviewer=True) for i in range(2)]
    assert (await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner, json={
        "reviewers": [partner_user.id, *(r.id for r in others)], "reviews_per_proposal": 1})).status_code == 200

    if leaving == "withdrawn":
        left = await client.post(f"/api/v1/partners/{partner_id}/transitions", headers=h_partner,
                                 json={"to": "withdrawn"})
    elif leaving == "stops_reviewing":  # still a partner, but no longer offering to review
        left = await client.patch(f"/api/v1/partners/{partner_id}", headers=h_partner,
                                  json={"engagement_types": ["advisor"]})
    else:
        left = await client.post(f"/api/v1/partners/{partner_id}/transitions", headers=h_operator,
                                 json={"to": "suspended", "reason": "連絡が取れない"})
    assert left.status_code == 200, left.text
    reason = REVIEWER_STOPPED if leaving == "stops_reviewing" else REVIEWER_LEFT
    await run_job(migrated, "drain_outbox")

    # Gone from the partner's tasks; the submitted review stays, theirs.
    await sign_in_as(client, partner_user)
    tasks = (await client.get("/tasks")).text
    client.cookies.clear()
    assert all(f'href="/reviews/{a.id}"' not in tasks for a in (done, *open_))
    await done.refresh_from_db()
    assert done.status == "submitted" and (await Review.get(assignment_id=done.id)).total is not None
    # Each open proposal has a replacement reviewer from the panel.
    for assignment in open_:
        await assignment.refresh_from_db()
        assert assignment.status == "recused" and assignment.recusal_reason == reason
        reviewers = await Assignment.filter(proposal_id=assignment.proposal_id, status="assigned").values_list(
            "reviewer_id", flat=True)
        assert len(reviewers) == 1 and reviewers[0] in {r.id for r in others}
    # The owners see why the reviewer left, on the assignments page and in the audit log.
    await sign_in_as(client, owner)
    page = (await client.get(f"/challenges/{challenge['id']}/assignments")).text
    assert page.count(REASON_JA[reason]) == 2
    events = await AuditEvent.filter(action="assignment.recused", target_id__in=[str(a.id) for a in open_])
    assert [event.after["reason"] for event in events] == [reason] * 2


async def test_a_partner_who_leaves_a_pilots_evaluation_panel_is_replaced_from_the_panel(app, client, migrated):
    """The same hand-back for a pilot's evaluation round (not a challenge's proposals): the partner's open review
    of the pilot is recused with the reason, and another member of the round's panel takes the place."""
    from datetime import timedelta
    from urllib.parse import urlencode

    from models.identity.orgs import Organisation
    from models.pilots import lifecycle
    from models.pilots.models import Pilot
    from models.review import rounds
    from models.review.models import ReviewRound
    from tests.helpers import browser
    from tests.pilot_helpers import pilot_world

    owning = await Organisation.get(municipality_code="131130")  # Shibuya
    ids = await pilot_world({}, owning, await company(f"実証離脱 {RUN}"))
    owner, operator = await person("pilot-owner", org=owning), await person("operator", operator=True)
    partner_id, partner_user, h_partner = await approved_partner(
        client, await headers(operator), partner_body("実証 審査", reviewer=True, affiliation="無関係株式会社"))
    others = [await person(f"pilot-plain{i}", reviewer=True) for i in range(2)]
    pid = ids["pilot_id"]
    async with browser(app, owner) as pages:
        await pages.get("/login")
        panel = [("reviewers", str(u.id)) for u in (partner_user, *others)] + [("reviews_per_subject", "2")]
        body = urlencode([("csrftoken", pages.cookies.get("csrftoken", "")), *panel])
        saved = await pages.post(f"/pilots/{pid}/panel", content=body,
                                 headers={"content-type": "application/x-www-form-urlencoded"})
        assert saved.status_code == 303, saved.text
    await Pilot.filter(id=pid).update(ends_on=lifecycle.today() - timedelta(days=1))  # the pilot ends: the round starts
    assert pid in await lifecycle.end_due()
    row = await ReviewRound.get(subject_kind="pilot", scope_id=pid)
    await rounds.run_round(row.id)
    assigned = set(await Assignment.filter(round_id=row.id, status="assigned").values_list("reviewer_id", flat=True))
    assert len(assigned) == 2 and partner_user.id in assigned, "the partner was given the pilot"
    (standby,) = {u.id for u in others} - assigned

    left = await client.post(f"/api/v1/partners/{partner_id}/transitions", headers=h_partner, json={"to": "withdrawn"})
    assert left.status_code == 200, left.text
    await run_job(migrated, "drain_outbox")

    theirs = await Assignment.get(round_id=row.id, reviewer_id=partner_user.id)
    assert theirs.status == "recused" and theirs.recusal_reason == REVIEWER_LEFT
    now = set(await Assignment.filter(round_id=row.id, status="assigned").values_list("reviewer_id", flat=True))
    assert now == (assigned - {partner_user.id}) | {standby}  # two reviews of the pilot again, by the panel
