"""Kyoso Partners: registration with consent, vetting, needs and matching, invitations and placements,
privacy (who sees a partner, through pages, API and search), erasure, and the search contract that the
database and Meilisearch both keep."""

from __future__ import annotations

import secrets
from datetime import date

import pytest

from models.core.audit import AuditEvent
from models.core.mail import TOPIC as MAIL_TOPIC
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from models.identity.accounts import User
from models.identity.orgs import Organisation
from models.partners import figures, invitations, needs, profiles
from models.partners.matching import NeedSpec, rank
from models.partners.models import PartnerInvitation, PartnerProfile, PartnerSkill, Placement
from models.partners.profiles import CONSENT_VERSION, ProfileInput, SkillClaim
from models.policy import actor_for
from search.partners import (
    DatabasePartnerBackend,
    MeiliPartnerBackend,
    PartnerQuery,
    open_partner_backend,
    partner_document,
    sync_partner,
)
from server import jobs
from tests.web import post_form, sign_in_as
from tests.workers import run_worker_once

CHIYODA = "131016"


def registration(name: str, skills: dict[str, str], **extra) -> dict:
    body = {
        "name": name,
        "profile": {"ja": f"{name}のプロフィール", "en": f"Profile of {name}"},
        "skills": [{"skill": slug, "experience": line} for slug, line in skills.items()],
        "tags": ["自治体DX"], "years_experience": 10, "public_sector_years": 3,
        "languages": ["ja", "en"], "days_per_month": 8, "work_mode": "either", "areas": [CHIYODA],
        "engagement_types": ["advisor", "reviewer"],
        "affiliations": [{"name": "株式会社サンプル", "kind": "employer"}],
        "consent_version": CONSENT_VERSION,
    }
    return {**body, **extra}


async def drain(settings) -> None:
    """A burst worker that syncs the search indexes and runs the erasure, as `kyoso worker` does."""
    await run_worker_once(settings, on_startup=jobs.start_search, on_shutdown=jobs.stop_search)


async def meili_document(settings, partner_id: int) -> dict | None:
    backend = MeiliPartnerBackend(settings.meili_url, settings.meili_master_key)
    try:
        return await backend.get_document(partner_id)
    finally:
        await backend.close()


async def test_partners_register_get_vetted_matched_invited_and_placed(client, cast, people, migrated):
    operator = cast["operator"]
    agency_user = cast["users"]["agency"]
    persons = [await people.make() for _ in range(3)]
    tokens = [await people.token(person) for person in persons]
    before = await figures.partner_figures()

    # Three partners register, each with their own account; the best fit has every skill the need asks for.
    bodies = [
        registration("最適 花子", {"data-analysis": "2019–2024 渋谷区でEBPM支援", "machine-learning": "需要予測モデル",
                                  "open-data": "オープンデータ公開"}, days_per_month=10),
        registration("次点 太郎", {"data-analysis": "2020 民間で分析"}, days_per_month=4, work_mode="remote"),
        registration("撤回 次郎", {"data-analysis": "2021 分析", "machine-learning": "画像認識"}),
    ]
    ids = []
    for token, body in zip(tokens, bodies):
        response = await client.post("/api/v1/partners", json=body, headers=token)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
        ids.append(response.json()["id"])
    best, second, leaver = ids
    stored = await PartnerProfile.get(id=best)
    assert stored.consent_version == CONSENT_VERSION and stored.consented_at is not None

    # Two are approved by an operator, with a reason (while pending, a partner cannot even be seen by agencies);
    # the third is approved too, so that its withdrawal below has something to take out of the search index.
    for partner_id in (best, second):
        refused = await client.post(f"/api/v1/partners/{partner_id}/transitions", json={"to": "approved"},
                                    headers=cast["agency"])
        assert refused.status_code == 404  # a pending partner is not even visible to agencies
        response = await client.post(f"/api/v1/partners/{partner_id}/transitions",
                                     json={"to": "approved", "reason": "経歴確認済み"}, headers=operator)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"
    await client.post(f"/api/v1/partners/{leaver}/transitions", json={"to": "approved", "reason": "確認済み"},
                      headers=operator)

    # The third withdraws consent: hidden at once, then its personal data erased by the job.
    response = await client.post(f"/api/v1/partners/{leaver}/transitions", json={"to": "withdrawn"}, headers=tokens[2])
    assert response.status_code == 200, response.text
    assert (await client.get(f"/api/v1/partners/{leaver}", headers=cast["agency"])).status_code == 404
    await drain(migrated)
    gone = await PartnerProfile.get(id=leaver)
    assert gone.erased_at is not None and gone.user_id is None
    assert gone.name == "" and gone.profile == {} and gone.affiliations == [] and gone.search_text == ""
    assert not await PartnerSkill.filter(partner_id=leaver).exists()
    assert await meili_document(migrated, leaver) is None
    assert await meili_document(migrated, best) is not None
    erased = await AuditEvent.get(action="partner.erased", target_id=str(leaver))
    assert "撤回" not in str(erased.before) + str(erased.after)
    assert not [e for e in await AuditEvent.filter(target_type="partnerprofile", target_id=str(leaver))
                if "撤回" in f"{e.before}{e.after}"]

    # An agency posts a need; the match list ranks the best fit first, with its reasons.
    need = await client.post("/api/v1/needs", headers=cast["agency"], json={
        "role": "data-scientist", "skills": [{"skill": "data-analysis", "essential": True},
                                             {"skill": "machine-learning", "essential": True},
                                             {"skill": "open-data", "essential": False}],
        "starts_on": "2027-01-01", "ends_on": "2027-03-31", "days_per_month": 8, "remote": False,
        "area": "131041", "languages": ["ja"]})
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    matches = await client.get(f"/api/v1/needs/{need_id}/matches", headers=cast["agency"])
    assert matches.status_code == 200, matches.text
    items = matches.json()["items"]
    ours = [item["partner_id"] for item in items if item["partner_id"] in ids]
    assert ours == [best, second]  # the withdrawn one is gone
    assert items[0]["score"] == max(item["score"] for item in items)
    top = next(item for item in items if item["partner_id"] == best)
    assert top["reasons"][0] == {"factor": "essential_skills", "points": 51.4,
                                 "matched": ["data-analysis", "machine-learning"], "missing": []}
    assert (await client.get(f"/api/v1/needs/{need_id}/matches", headers=cast["other_agency"])).status_code == 404

    # Reading the match list writes nothing; the agency shortlists by an explicit action (the funnel's 2nd step).
    assert (await figures.partner_figures())["funnel"]["shortlisted"] == before["funnel"]["shortlisted"]
    assert not await AuditEvent.exists(action="partner_need.shortlisted", target_id=str(need_id))
    shortlisted = await client.put(f"/api/v1/needs/{need_id}/shortlist", json={"partner_ids": [best, second]},
                                   headers=cast["agency"])
    assert shortlisted.status_code == 200 and shortlisted.json()["partner_ids"] == [best, second], shortlisted.text
    assert (await client.put(f"/api/v1/needs/{need_id}/shortlist", json={"partner_ids": [leaver]},
                             headers=cast["agency"])).status_code == 422  # withdrawn: not findable
    assert (await client.put(f"/api/v1/needs/{need_id}/shortlist", json={"partner_ids": [best]},
                             headers=cast["other_agency"])).status_code == 404

    # Before an accepted invitation, the agency does not see the partner's e-mail address.
    profile = (await client.get(f"/api/v1/partners/{best}", headers=cast["agency"])).json()
    assert profile["email"] is None and profile["name"] == "最適 花子"

    # The agency invites; the partner is told (app and mail) and accepts; the placement counts.
    invited = await client.post(f"/api/v1/needs/{need_id}/invitations", json={"partner_id": best},
                                headers=cast["agency"])
    assert invited.status_code == 201, invited.text
    invitation_id = invited.json()["id"]
    assert await Notification.exists(user_id=persons[0].id, kind="partner.invited")
    mail = await OutboxMessage.filter(topic=MAIL_TOPIC, key=f"partner_invitation:{invitation_id}").first()
    assert mail is not None and mail.payload["to"] == persons[0].email
    again = await client.post(f"/api/v1/needs/{need_id}/invitations", json={"partner_id": best}, headers=cast["agency"])
    assert again.status_code == 422
    wrong = await client.post(f"/api/v1/invitations/{invitation_id}/transitions", json={"to": "accepted"},
                              headers=tokens[1])
    assert wrong.status_code == 404
    accepted = await client.post(f"/api/v1/invitations/{invitation_id}/transitions", json={"to": "accepted"},
                                 headers=tokens[0])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    twice = await client.post(f"/api/v1/invitations/{invitation_id}/transitions", json={"to": "declined"},
                              headers=tokens[0])
    assert twice.status_code == 409
    assert await Notification.exists(user_id=agency_user.id, kind="partner.accepted")
    placement = await Placement.get(invitation_id=invitation_id)
    assert (placement.role, placement.starts_on, placement.ends_on) == ("data-scientist", date(2027, 1, 1),
                                                                        date(2027, 3, 31))
    for headers in (cast["agency"], tokens[0], operator):
        listed = (await client.get("/api/v1/placements", headers=headers)).json()["items"]
        assert placement.id in [p["id"] for p in listed]
    assert placement.id not in [p["id"] for p in (await client.get("/api/v1/placements", headers=cast["company"])).json()["items"]]
    assert (await client.get(f"/api/v1/partners/{best}", headers=cast["agency"])).json()["email"] == persons[0].email
    assert (await client.get(f"/api/v1/partners/{best}", headers=cast["other_agency"])).json()["email"] is None

    after = await figures.partner_figures()
    assert after["registered"] - before["registered"] == 2  # the withdrawn one no longer counts
    assert after["approved"] - before["approved"] == 2
    assert after["placed"] - before["placed"] == 1
    assert after["funnel"]["placed"] - before["funnel"]["placed"] == 1
    assert after["funnel"]["shortlisted"] - before["funnel"]["shortlisted"] == 1
    assert after["by_skill"]["data-analysis"] - before["by_skill"].get("data-analysis", 0) == 2

    # A company and a visitor find no partner: not through the API, search, or pages.
    for headers in (cast["company"], {}):
        listed = await client.get("/api/v1/partners", params={"q": "最適"}, headers=headers)
        assert listed.status_code in (200, 401)
        assert listed.status_code == 401 or listed.json()["items"] == []
        assert (await client.get(f"/api/v1/partners/{best}", headers=headers)).status_code == 404
    agency_list = (await client.get("/api/v1/partners", params={"q": "最適"}, headers=cast["agency"])).json()
    assert best in [item["id"] for item in agency_list["items"]]
    company_user = cast["users"]["company"]
    await sign_in_as(client, company_user)
    page = await client.get("/partners", params={"q": "最適"})
    assert page.status_code == 200 and "最適 花子" not in page.text
    assert (await client.get(f"/partners/{best}")).status_code == 404
    client.cookies.clear()
    visitor = await client.get(f"/partners/{best}")
    assert visitor.status_code == 404 and "最適 花子" not in visitor.text
    assert (await client.get("/partners")).status_code == 303


async def test_a_public_profile_shows_only_the_chosen_fields(client, cast, people):
    person = await people.make()
    token = await people.token(person)
    body = registration("公開 さくら", {"service-design": "2022 港区で窓口改善"}, public_profile=True,
                        public_fields=["skills", "years_experience"])
    partner_id = (await client.post("/api/v1/partners", json=body, headers=token)).json()["id"]
    hidden = await client.get(f"/api/v1/partners/{partner_id}")
    assert hidden.status_code == 404  # not approved yet: nobody but the partner and operators
    await client.post(f"/api/v1/partners/{partner_id}/transitions", json={"to": "approved", "reason": "ok"},
                      headers=cast["operator"])
    shown = (await client.get(f"/api/v1/partners/{partner_id}")).json()
    assert shown["name"] == "公開 さくら" and shown["years_experience"] == 10
    assert shown["skills"] == [{"skill": "service-design", "experience": "2022 港区で窓口改善"}]
    assert shown["profile"] is None and shown["affiliations"] is None and shown["email"] is None
    assert shown["days_per_month"] is None and shown["status"] is None
    listed = await client.get("/api/v1/partners", params={"q": "公開"}, headers=cast["company"])
    assert listed.json()["items"] == []  # still never listed to companies


async def test_vetting_needs_a_reason_and_names_the_allowed_moves(client, cast, people):
    token = await people.token(await people.make())
    partner_id = (await client.post("/api/v1/partners", json=registration("審査 一郎", {"cloud": "2023 移行"}),
                                    headers=token)).json()["id"]
    no_reason = await client.post(f"/api/v1/partners/{partner_id}/transitions", json={"to": "approved"},
                                  headers=cast["operator"])
    assert no_reason.status_code == 422
    wrong = await client.post(f"/api/v1/partners/{partner_id}/transitions", json={"to": "suspended", "reason": "x"},
                              headers=cast["operator"])
    assert wrong.status_code == 409 and wrong.json()["allowed"] == ["approved"]
    for to in ("approved", "suspended", "approved"):
        moved = await client.post(f"/api/v1/partners/{partner_id}/transitions", json={"to": to, "reason": "理由"},
                                  headers=cast["operator"])
        assert moved.json()["status"] == to
    event = await AuditEvent.filter(action="partner.suspended", target_id=str(partner_id)).first()
    assert event is not None and event.after == {"status": "suspended", "reason": "理由"}
    mine = await client.get(f"/api/v1/partners/{partner_id}", headers=token)
    assert mine.json()["allowed_transitions"] == ["withdrawn"]


async def test_registration_refuses_unbacked_skills_and_missing_consent(client, people):
    token = await people.token(await people.make())
    body = registration("検証 二郎", {"data-analysis": ""})
    response = await client.post("/api/v1/partners", json=body, headers=token)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "skills",
                                          "message": "Back each skill with a line of experience: where, when, what."}]
    for wrong in ({"consent_version": "old"}, {"skills": [{"skill": "not-a-skill", "experience": "x"}]},
                  {"areas": ["271004"]}):
        assert (await client.post("/api/v1/partners", json={**registration("検証", {"cloud": "x"}), **wrong},
                                  headers=token)).status_code == 422


async def test_the_pages_register_edit_vet_post_invite_and_answer_in_both_languages(client, cast, people, migrated):
    person = await people.make()
    await sign_in_as(client, person)
    form = await client.get("/partners/register", params={"lang": "en"})
    assert form.status_code == 200 and "Purpose of use" in form.text and "Data analysis" in form.text
    missing = await post_form(client, "/partners/register", {"name": "頁 三郎", "profile_ja": "自己紹介",
                                                            "experience_data-analysis": "2020 分析"})
    assert missing.status_code == 400  # no consent given
    done = await post_form(client, "/partners/register", {
        "name": "頁 三郎", "profile_ja": "自己紹介", "experience_data-analysis": "2020 分析", "days_per_month": "6",
        "work_mode": "either", "available": "on", "languages": "ja", "consent": "on",
        "consent_version": CONSENT_VERSION})
    assert done.status_code == 303 and done.headers["location"] == "/partners/me"
    partner = await PartnerProfile.get(user_id=person.id)
    mine = await client.get("/partners/me", params={"lang": "ja"})
    assert mine.status_code == 200 and "審査待ち" in mine.text
    edited = await post_form(client, "/partners/me", {"name": "頁 三郎", "profile_en": "About me",
                                                      "experience_data-analysis": "2020 分析",
                                                      "experience_open-data": "2024 公開", "days_per_month": "9",
                                                      "work_mode": "remote", "available": "on"})
    assert edited.status_code == 303
    assert set(await PartnerSkill.filter(partner_id=partner.id).values_list("skill", flat=True)) == {
        "data-analysis", "open-data"}

    await sign_in_as(client, cast["users"]["operator"])
    assert "頁 三郎" in (await client.get("/partners/vetting")).text
    vetted = await post_form(client, f"/partners/{partner.id}/transitions", {"to": "approved", "reason": "確認"})
    assert vetted.status_code == 303
    await drain(migrated)  # the worker indexes the approved partner

    await sign_in_as(client, cast["users"]["agency"])
    needs_page = await client.get("/needs", params={"lang": "en"})
    assert needs_page.status_code == 200 and "Post a need" in needs_page.text
    posted = await post_form(client, "/needs", {"role": "data-scientist", "skills": ["open-data"],
                                                "essential": ["open-data"], "days_per_month": "4",
                                                "work_mode": "remote"})
    assert posted.status_code == 303, posted.text
    need_url = posted.headers["location"]
    need_page = await client.get(need_url, params={"lang": "en"})
    assert need_page.status_code == 200 and "Match list" in need_page.text and f'id="match-{partner.id}"' in need_page.text
    invited = await post_form(client, f"{need_url}/invitations", {"partner_id": str(partner.id)})
    assert invited.status_code == 303

    await sign_in_as(client, person)
    told = await client.get("/notifications", params={"lang": "en"})
    assert "An agency invites you through Kyoso Partners." in told.text and 'href="/partners/me"' in told.text
    page = await client.get("/partners/me", params={"lang": "en"})
    assert "Accept" in page.text
    invitation_id = int(page.text.split('id="invitation-')[1].split('"')[0])
    answered = await post_form(client, f"/partners/invitations/{invitation_id}/transitions", {"to": "accepted"})
    assert answered.status_code == 303
    assert "Placements" in (await client.get("/partners/me", params={"lang": "en"})).text
    assert await Placement.exists(partner_id=partner.id)

    await sign_in_as(client, cast["users"]["agency"])
    agency_page = await client.get("/needs", params={"lang": "ja"})
    assert "頁 三郎" in agency_page.text, agency_page.text
    assert "件の配置" in agency_page.text
    assert person.email in (await client.get(f"/partners/{partner.id}")).text

    await sign_in_as(client, person)
    withdrawn = await post_form(client, "/partners/me/withdraw")
    assert withdrawn.status_code == 303
    assert (await PartnerProfile.get(id=partner.id)).consent_withdrawn_at is not None


# --- the search contract: the database and Meilisearch answer alike --------------------------------


CORPUS = {
    # name: (skills, days per month, work mode, areas, languages, available)
    "all": (["data-analysis", "machine-learning", "open-data"], 10, "either", [CHIYODA], ["ja", "en"], True),
    "two": (["data-analysis", "machine-learning"], 10, "remote", [], ["ja"], True),
    "asset": (["open-data"], 20, "on_site", [CHIYODA], ["ja"], True),
    "part": (["data-analysis"], 2, "on_site", ["132012"], ["en"], True),
    "busy": (["data-analysis", "machine-learning", "open-data"], 10, "either", [], ["ja"], False),
    "other": (["cloud"], 10, "either", [], ["ja"], True),
}


@pytest.fixture(scope="module")
async def partner_corpus(app):
    marker = f"pc{secrets.token_hex(4)}"
    ids = {}
    for name, (skills, days, mode, areas, languages, available) in CORPUS.items():
        partner = await PartnerProfile.create(
            status="approved", name=f"{marker} {name}", profile={"en": f"{name} expert"}, tags=[marker],
            languages=languages, days_per_month=days, work_mode=mode, areas=areas, available=available,
            consent_version=CONSENT_VERSION, search_text=f"{marker} {name} expert".lower(),
        )
        await PartnerSkill.bulk_create([PartnerSkill(partner_id=partner.id, skill=s, experience="x") for s in skills])
        ids[name] = partner.id
    pending = await PartnerProfile.create(status="pending", name=f"{marker} pending", tags=[marker],
                                          search_text=f"{marker} pending", available=True)
    await PartnerSkill.create(partner_id=pending.id, skill="data-analysis", experience="x")
    ids["pending"] = pending.id
    yield marker, ids
    await PartnerProfile.filter(id__in=list(ids.values())).delete()


@pytest.fixture(scope="module", params=["database", "meilisearch"])
async def partner_backend(request, partner_corpus, meili):
    if request.param == "database":
        yield DatabasePartnerBackend()
        return
    backend = MeiliPartnerBackend(meili.url, meili.master_key, index=f"partners_{secrets.token_hex(4)}")
    await backend.prepare(wait=True)
    for partner_id in partner_corpus[1].values():  # what the outbox consumer does for each change
        await sync_partner(backend, partner_id)
    yield backend
    await backend.client.index(backend.index_uid).delete()
    await backend.close()


def _names(ids: dict[str, int], hits) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id.get(hit["id"] if isinstance(hit, dict) else hit, "stranger") for hit in hits]


async def test_contract_the_match_list_ranks_alike(partner_backend, partner_corpus):
    _, ids = partner_corpus
    need = NeedSpec(essential=("data-analysis", "machine-learning"), assets=("open-data",), days_per_month=8,
                    work_mode="on_site", area=CHIYODA, languages=("ja",))
    result = await partner_backend.search(PartnerQuery(skills=need.skills, available=True,
                                                       ids=tuple(ids.values()), per_page=1000))
    ranked = rank(need, result.hits)
    assert _names(ids, [m.partner_id for m in ranked]) == ["all", "two", "asset", "part"]
    assert ranked[0].score == 100.0


async def test_contract_words_skills_availability_and_facets(partner_backend, partner_corpus):
    marker, ids = partner_corpus
    result = await partner_backend.search(PartnerQuery(q=marker, per_page=50))
    assert sorted(_names(ids, result.hits)) == sorted(set(CORPUS))  # never the pending one
    assert result.total == len(CORPUS)
    assert result.facets["skills"]["data-analysis"] == 4 and result.facets["skills"]["cloud"] == 1
    chosen = await partner_backend.search(PartnerQuery(q=marker, skills=("open-data",), available=True))
    assert sorted(_names(ids, chosen.hits)) == ["all", "asset"]
    assert chosen.facets["skills"]["cloud"] == 1  # a facet's counts ignore its own filter
    words = await partner_backend.search(PartnerQuery(q=f"{marker} asset"))
    assert _names(ids, words.hits) == ["asset"]
    paged = await partner_backend.search(PartnerQuery(q=marker, per_page=2, page=2))
    assert len(paged.hits) == 2 and paged.total == len(CORPUS)
    assert await partner_backend.search(PartnerQuery(q=f"{marker} nobody")) is not None


async def test_a_withdrawn_partner_leaves_the_index_through_the_outbox(partner_corpus, meili):
    _, ids = partner_corpus
    backend = MeiliPartnerBackend(meili.url, meili.master_key, index=f"partners_{secrets.token_hex(4)}")
    await backend.prepare(wait=True)
    await sync_partner(backend, ids["other"])
    assert await backend.get_document(ids["other"]) is not None
    await PartnerProfile.filter(id=ids["other"]).update(status="suspended")
    await sync_partner(backend, ids["other"])
    assert await backend.get_document(ids["other"]) is None
    await backend.client.index(backend.index_uid).delete()
    await backend.close()


def test_the_document_holds_what_matching_needs():
    partner = PartnerProfile(id=7, name="n", profile={"ja": "j"}, tags=["t"], languages=["ja"], days_per_month=3,
                             work_mode="remote", areas=[], engagement_types=["advisor"], available=True)
    document = partner_document(partner, ["open-data"])
    assert document["skills"] == ["open-data"] and "オープンデータ" in document["skill_names"]
    assert set(document) >= {"id", "skills", "days_per_month", "work_mode", "areas", "languages", "available"}


async def test_without_meilisearch_the_database_answers(app, partner_corpus):
    backend = open_partner_backend(None, None)
    assert isinstance(backend, DatabasePartnerBackend)


async def test_the_domain_refuses_editing_someone_elses_profile(people, cast):
    owner = await actor_for(await people.make())
    partner = await profiles.register(owner, ProfileInput(name="本人", profile={"ja": "x"},
                                                         skills=[SkillClaim("cloud", "2020")]),
                                      consent_version=CONSENT_VERSION)
    stranger = await actor_for(await people.make())
    with pytest.raises(Exception) as refused:
        await profiles.update(stranger, partner, ProfileInput(name="他人", present={"name"}))
    assert refused.value.__class__.__name__ == "NotAllowed"
    assert (await User.get(id=owner.user.id)).email  # the account itself stays
    assert await Organisation.exists(municipality_code=CHIYODA)


def test_the_invitation_and_answer_mails_in_both_languages():
    from server import mail

    context = {"agency_name": "千代田区", "role": "データ分析・AI", "invitation_id": 5, "message": "ご相談です"}
    japanese = mail.render("partner_invitation", "ja", context, base_url="http://testserver")
    assert japanese.subject == "千代田区からパートナーとしての依頼：データ分析・AI"
    assert "http://testserver/partners/me#invitation-5" in japanese.body and "ご相談です" in japanese.body
    english = mail.render("partner_invitation", "en", {**context, "agency_name": "Chiyoda City", "role": "Data scientist"},
                          base_url="http://testserver")
    assert english.subject == "Chiyoda City invites you as a partner: Data scientist"
    answer = {"answer": "accepted", "role": "Data scientist", "need_id": 3, "partner_id": 4}
    assert mail.render("partner_answer", "en", answer, base_url="http://testserver").subject == \
        "A partner accepted your invitation: Data scientist"
    declined = mail.render("partner_answer", "ja", {**answer, "answer": "declined", "role": "データ分析・AI"},
                           base_url="http://testserver")
    assert declined.subject == "パートナーが依頼を辞退しました：データ分析・AI"
    assert "http://testserver/needs/3" in declined.body


async def test_rebuilding_the_partner_index_holds_the_findable_partners(partner_corpus, meili):
    from search.partners import rebuild_partner_index

    _, ids = partner_corpus
    backend = MeiliPartnerBackend(meili.url, meili.master_key, index=f"partners_{secrets.token_hex(4)}")
    try:
        count = await rebuild_partner_index(backend)
        assert count == await PartnerProfile.filter(status="approved", consent_withdrawn_at__isnull=True).count()
        assert await backend.get_document(ids["all"]) is not None
        assert await backend.get_document(ids["pending"]) is None
    finally:
        await backend.client.index(backend.index_uid).delete()
        await backend.close()


async def test_erasure_blanks_the_partners_address_in_invitation_mails(people, cast):
    person = await people.make()
    partner_actor = await actor_for(person)
    partner = await profiles.register(partner_actor, ProfileInput(
        name="消去 四郎", profile={"ja": "x"}, skills=[SkillClaim("privacy", "2021 個人情報保護")]),
        consent_version=CONSENT_VERSION)
    await profiles.transition(await actor_for(cast["users"]["operator"]), partner, "approved", "ok")
    agency = await actor_for(cast["users"]["agency"])
    need = await needs.post_need(agency, needs.NeedInput(role="security-manager", skills=[("privacy", True)]))
    invitation = await invitations.invite(agency, need, partner.id)
    key = f"partner_invitation:{invitation.id}"
    assert [m.payload["to"] for m in await OutboxMessage.filter(key=key)] == [person.email]

    await profiles.withdraw_consent(partner_actor, await PartnerProfile.get(id=partner.id))
    assert await profiles.erase_personal_data(partner.id) is True
    assert await profiles.erase_personal_data(partner.id) is False  # a second delivery does nothing
    (mail_row,) = await OutboxMessage.filter(key=key)
    assert person.email not in str(mail_row.payload) and mail_row.processed_at is not None
    assert "消去" not in str(await PartnerInvitation.filter(partner_id=partner.id).values())
