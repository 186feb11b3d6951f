"""Conflicts of interest: declared by reviewers, detected from the data, and always a hard exclusion."""

from __future__ import annotations

from tortoise import timezone

from models.challenges.models import Challenge
from models.core.audit import AuditEvent
from models.core.outbox import OutboxMessage
from models.identity.accounts import Membership
from models.policy import actor_for
from models.proposals.models import Proposal
from models.review import conflicts, reviewing
from models.review.models import Assignment, Conflict
from tests.helpers import make_company
from tests.review_helpers import (
    RUN,
    agency,
    company,
    headers,
    open_challenge,
    pass_deadline,
    person,
    run_job,
    submit,
)
from tests.web import post_form, sign_in_as


def test_free_mail_domains_say_nothing_about_an_employer():
    for domain in ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "softbank.ne.jp", "i.softbank.jp",
                   "outlook.com", "icloud.com"):
        assert conflicts.is_free_mail(domain), domain
    assert not conflicts.is_free_mail("machitech.co.jp")
    assert conflicts.email_domain("Someone@Example.CO.JP") == "example.co.jp"


async def test_every_kind_of_detected_conflict(app):
    kou = await company(f"検出甲 {RUN}")
    partner = await company(f"検出協力 {RUN}")
    await person("kou-staff", org=kou, domain=f"kensyutsu-{RUN}.co.jp")
    proposal = await Proposal.create(challenge=await _any_challenge(), company=kou, title="検出",
                                     declared_conflicts=[partner.id])
    member = await person("member", org=kou, reviewer=True)  # a member of the company
    affiliated = await person("affiliated", reviewer=True)
    await affiliated.__class__.filter(id=affiliated.id).update(affiliations=[kou.id])
    affiliated = await affiliated.__class__.get(id=affiliated.id)
    colleague = await person("colleague", reviewer=True, domain=f"kensyutsu-{RUN}.co.jp")  # same e-mail domain
    partner_staff = await person("partner", org=partner, reviewer=True)  # the company declared a conflict with them
    free_mail = await person("free", reviewer=True, domain="gmail.com")
    stranger = await person("stranger", reviewer=True, domain=f"other-{RUN}.co.jp")

    found = await conflicts.detect([member, affiliated, colleague, partner_staff, free_mail, stranger], [proposal])
    reasons = {(f.user_id, f.reason.value) for f in found}
    assert (member.id, "same_organisation") in reasons
    assert (affiliated.id, "affiliation") in reasons
    assert (colleague.id, "email_domain") in reasons
    assert (partner_staff.id, "declared_by_company") in reasons
    assert not any(user_id in (free_mail.id, stranger.id) for user_id, _ in reasons)
    # A domain the members of several organisations use (a provider's, a shared office's) says nothing either.
    await person("elsewhere", org=partner, domain=f"kensyutsu-{RUN}.co.jp")
    assert (colleague.id, proposal.id) not in {(f.user_id, f.proposal_id) for f in await conflicts.detect([colleague], [proposal])}

    # Storing them is idempotent; a company-wide conflict is stored against the company.
    assert await conflicts.record_detected(found) == len(found)
    assert await conflicts.record_detected(found) == 0
    assert await Conflict.exists(reviewer_id=member.id, organisation_id=kou.id, detected=True)
    assert await Conflict.exists(reviewer_id=partner_staff.id, proposal_id=proposal.id, detected=True)
    assert await conflicts.is_conflicted(member, proposal) and not await conflicts.is_conflicted(stranger, proposal)


async def _any_challenge() -> Challenge:
    owner = await person("owner", org=await agency())
    return await Challenge.create(owner_id=(await Membership.get(user=owner)).organisation_id, status="published",
                                  title={"ja": "検出用"}, published_at=timezone.now())


async def test_declaring_a_conflict(client, app):
    reviewer = await person("declarer", reviewer=True)
    kou = await company(f"申告甲 {RUN}")
    h = await headers(reviewer)
    bad_kind = await client.post("/api/v1/conflicts", json={"kind": "rival", "organisation_id": kou.id}, headers=h)
    assert bad_kind.status_code == 422
    unknown = await client.post("/api/v1/conflicts", json={"kind": "other", "organisation_id": 999_999_999}, headers=h)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "organisation_id"
    assert not await Conflict.filter(reviewer=reviewer).exists()

    declared = await client.post("/api/v1/conflicts", json={"kind": "family", "organisation_id": kou.id, "note": "兄が役員"},
                                 headers=h)
    assert declared.status_code == 201
    assert declared.json()["organisation"]["id"] == kou.id and declared.json()["kind"] == "family"
    again = await client.post("/api/v1/conflicts", json={"kind": "family", "organisation_id": kou.id}, headers=h)
    assert again.json()["id"] == declared.json()["id"]  # declaring twice changes nothing
    listed = (await client.get("/api/v1/conflicts", headers=h)).json()
    assert [c["id"] for c in listed["items"]] == [declared.json()["id"]]
    assert await AuditEvent.exists(action="conflict.declared", target_id=str(declared.json()["id"]))

    member = await person("company-member", org=kou)
    refused = await client.post("/api/v1/conflicts", json={"kind": "other", "organisation_id": kou.id},
                                headers=await headers(member))
    assert refused.status_code == 403
    assert (await client.get("/api/v1/conflicts", headers=await headers(member))).json()["items"] == []


async def test_conflicted_reviewers_are_never_assigned_even_by_hand(client, migrated):
    owner = await person("conflict-owner", org=await agency())
    operator = await person("conflict-op", operator=True)
    kou = await company(f"除外甲 {RUN}")
    kou_member = await person("kou", org=kou)
    conflicted = await person("conflicted", reviewer=True, expertise=["窓口", "予約", "administrative-procedures"])
    others = [await person(f"other{i}", reviewer=True) for i in range(2)]
    h_owner = await headers(owner)
    challenge = await open_challenge(client, h_owner, await headers(operator))
    await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                     json={"reviewers": [conflicted.id] + [o.id for o in others], "reviews_per_proposal": 3})
    await client.post("/api/v1/conflicts", json={"kind": "employed_by", "organisation_id": kou.id},
                      headers=await headers(conflicted))
    proposal = await submit(client, await headers(kou_member), challenge["id"])

    # Before closing, the assignment page already says what cannot be filled, and why.
    preview = (await client.get(f"/api/v1/challenges/{challenge['id']}/assignments", headers=h_owner)).json()
    assert not preview["feasible"]
    assert preview["shortfalls"] == [{"proposal_id": proposal["id"], "missing": 1, "eligible": 2, "limited_by": "eligibility"}]

    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")
    assigned = set(await Assignment.filter(proposal_id=proposal["id"]).values_list("reviewer_id", flat=True))
    assert assigned == {o.id for o in others}
    overview = (await client.get(f"/api/v1/challenges/{challenge['id']}/assignments", headers=h_owner)).json()
    assert overview["shortfalls"][0]["missing"] == 1 and overview["pending"] == 0

    by_hand = await client.post(f"/api/v1/challenges/{challenge['id']}/assignments", headers=h_owner,
                                json={"proposal_id": proposal["id"], "reviewer_id": conflicted.id})
    assert by_hand.status_code == 422 and by_hand.json()["errors"][0]["field"] == "reviewer_id"
    assert not await Assignment.filter(proposal_id=proposal["id"], reviewer=conflicted).exists()


async def test_declaring_a_conflict_after_assignment_recuses_and_reassigns(client, migrated):
    owner = await person("late-owner", org=await agency())
    operator = await person("late-op", operator=True)
    kou = await company(f"後申告 {RUN}")
    kou_member = await person("kou", org=kou)
    reviewers = [await person(f"late{i}", reviewer=True) for i in range(3)]
    h_owner = await headers(owner)
    challenge = await open_challenge(client, h_owner, await headers(operator))
    await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                     json={"reviewers": [r.id for r in reviewers], "reviews_per_proposal": 2})
    proposal = await submit(client, await headers(kou_member), challenge["id"])
    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")
    first = await Assignment.filter(proposal_id=proposal["id"]).order_by("reviewer_id").first()
    declarer = next(r for r in reviewers if r.id == first.reviewer_id)

    await reviewing.declare_conflict(await actor_for(declarer), kind="financial_interest", organisation_id=kou.id)
    await first.refresh_from_db()
    assert first.status == "recused" and first.recusal_reason == reviewing.CONFLICT_DECLARED
    assert await OutboxMessage.exists(topic="review", key=f"review:{challenge['id']}", processed_at=None)
    await run_job(migrated, "drain_outbox")
    active = set(await Assignment.filter(proposal_id=proposal["id"]).exclude(status="recused").values_list(
        "reviewer_id", flat=True))
    assert len(active) == 2 and declarer.id not in active
    # The declarer no longer sees the proposal.
    assert (await client.get(f"/api/v1/proposals/{proposal['id']}", headers=await headers(declarer))).status_code == 404


async def test_only_an_approved_organisation_can_be_named_and_a_pending_one_stays_unknown(client, app):
    reviewer = await person("prober", reviewer=True)
    pending = await make_company("pending")
    h = await headers(reviewer)
    unknown = await client.post("/api/v1/conflicts", json={"kind": "other", "organisation_id": 999_999_999}, headers=h)
    named = await client.post("/api/v1/conflicts", json={"kind": "other", "organisation_id": pending.id}, headers=h)
    assert named.status_code == unknown.status_code == 422
    assert named.json()["errors"] == unknown.json()["errors"]  # the same answer as for no organisation at all
    assert pending.name_ja not in named.text and pending.corporate_number not in named.text
    assert not await Conflict.filter(reviewer=reviewer).exists()

    # Through the page, by its corporate number: refused the same way, without its name.
    await sign_in_as(client, reviewer)
    page = await post_form(client, "/reviews/conflicts", {"kind": "other", "organisation": pending.corporate_number},
                           page="/reviews")
    assert page.status_code == 400 and pending.name_ja not in page.text
    assert not await Conflict.filter(reviewer=reviewer).exists()


async def test_declaring_a_conflict_does_not_show_which_assignment_it_took_away(client, migrated):
    owner = await person("blind-owner", org=await agency())
    operator = await person("blind-op", operator=True)
    kou, otsu = await company(f"盲検甲 {RUN}"), await company(f"盲検乙 {RUN}")
    reviewer = await person("blind", reviewer=True)
    others = [await person(f"blind{i}", reviewer=True) for i in range(2)]
    h_owner = await headers(owner)
    challenge = await open_challenge(client, h_owner, await headers(operator))
    await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                     json={"reviewers": [reviewer.id] + [o.id for o in others], "reviews_per_proposal": 3})
    first = await submit(client, await headers(await person("kou", org=kou)), challenge["id"], title="盲検の提案その一")
    second = await submit(client, await headers(await person("otsu", org=otsu)), challenge["id"], title="盲検の提案その二")
    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")
    h = await headers(reviewer)
    mine = {a["id"]: a for a in (await client.get("/api/v1/assignments", headers=h)).json()["items"]}
    assert len(mine) == 2
    taken = await Assignment.get(proposal_id=first["id"], reviewer=reviewer)
    kept = await Assignment.get(proposal_id=second["id"], reviewer=reviewer)

    declared = await client.post("/api/v1/conflicts", json={"kind": "family", "organisation_id": kou.id}, headers=h)
    assert declared.status_code == 201
    assert "recused" not in declared.text and not {"assignments", "recused"} & set(declared.json())
    await taken.refresh_from_db()
    assert taken.status == "recused"  # the conflict is a hard exclusion…

    # …but for the reviewer the assignment is gone like one they never had: no status, no reason, no title.
    listed = (await client.get("/api/v1/assignments", headers=h)).json()
    assert [a["id"] for a in listed["items"]] == [kept.id] and listed["total"] == 1
    assert (await client.get("/api/v1/assignments", params={"status": "recused"}, headers=h)).json()["items"] == []
    assert (await client.get(f"/api/v1/assignments/{taken.id}/review", headers=h)).status_code == 404
    refused = await client.post(f"/api/v1/assignments/{taken.id}/transitions", json={"to": "submitted"}, headers=h)
    assert refused.status_code == 404
    await sign_in_as(client, reviewer)
    inbox = await client.get("/reviews")
    assert "盲検の提案その二" in inbox.text and "盲検の提案その一" not in inbox.text
    assert "利益相反が申告されました" not in inbox.text and "辞退" not in inbox.text
    # The owners still see the recusal and why, on their assignments page.
    await sign_in_as(client, owner)
    assert "利益相反が申告されました" in (await client.get(f"/challenges/{challenge['id']}/assignments")).text


async def test_the_assignment_page_says_every_proposal_has_reviewers_only_when_it_is_so(client, migrated):
    owner = await person("cover-owner", org=await agency())
    operator = await person("cover-op", operator=True)
    panel = [await person(f"cover{i}", reviewer=True) for i in range(2)]
    h_owner = await headers(owner)
    challenge = await open_challenge(client, h_owner, await headers(operator))
    await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                     json={"reviewers": [r.id for r in panel], "reviews_per_proposal": 2})
    await submit(client, await headers(await person("cover-member", org=await company(f"被覆 {RUN}"))), challenge["id"])
    await sign_in_as(client, owner)
    url = f"/challenges/{challenge['id']}/assignments"
    before = (await client.get(url)).text  # open: nobody is assigned yet
    assert "審査員はまだ割り当てられていません。" in before
    assert "すべての提案に必要な数の審査員が割り当てられています。" not in before
    assert "これまでに提出された提案は、すべて今の審査員で審査できます。" in before
    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")
    after = (await client.get(url)).text
    assert "すべての提案に必要な数の審査員が割り当てられています。" in after
