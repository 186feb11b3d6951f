"""The challenge lifecycle through the API and the pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise import timezone

from models.challenges.lifecycle import publish_due
from models.challenges.models import Amendment, Challenge, Question
from models.core.audit import AuditEvent
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from server.i18n import TOKYO
from tests.helpers import _at, _draft, _publish, complete_challenge
from tests.web import post_form, sign_in_as


async def test_an_agency_drafts_and_an_operator_publishes(client, cast):
    title = {"ja": "公開までの流れを確かめる課題", "en": "A challenge that walks the publication path"}
    draft = await _draft(client, cast, title=title)
    assert draft["status"] == "draft"
    assert draft["owner"]["name"]["ja"] == "新宿区"
    assert [c["weight"] for c in draft["criteria"]] == [60, 40]
    assert draft["proposals_deadline"].endswith("+09:00")
    assert draft["allowed_transitions"] == ["in_review", "cancelled"]

    # Nobody outside the agency sees a draft: not visitors, not another agency, not companies.
    for headers in ({}, cast["other_agency"], cast["company"]):
        assert (await client.get(f"/api/v1/challenges/{draft['id']}", headers=headers)).status_code == 404
    assert (await client.get(f"/challenges/{draft['id']}")).status_code == 404
    assert draft["title"]["ja"] not in (await client.get("/")).text

    published = await _publish(client, cast, draft["id"])
    assert published["status"] == "published" and published["published_at"]
    public = await client.get(f"/api/v1/challenges/{draft['id']}")
    assert public.status_code == 200 and public.json()["status"] == "published"
    page = await client.get(f"/challenges/{draft['id']}")
    assert title["ja"] in page.text and "<strong>繁忙期</strong>" in page.text
    assert "40 分" in page.text and "20 分" in page.text and " min<" not in page.text  # the KPI's unit, translated
    english = await client.get(f"/challenges/{draft['id']}", headers={"Accept-Language": "en"})
    assert "40 min" in english.text
    assert title["ja"] in (await client.get("/")).text
    actions = await AuditEvent.filter(target_type="challenge", target_id=str(draft["id"])).values_list("action", flat=True)
    assert {"challenge.created", "challenge.in_review", "challenge.published"} <= set(actions)
    assert await OutboxMessage.filter(topic="search", key=f"challenge:{draft['id']}").count() >= 2


async def test_who_may_draft(client, cast):
    assert (await client.post("/api/v1/challenges", json=complete_challenge())).status_code == 401
    refused = await client.post("/api/v1/challenges", json=complete_challenge(), headers=cast["company"])
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_bad_input_is_a_422_problem_and_nothing_is_written(client, cast):
    before = await Challenge.all().count()
    cases = [
        complete_challenge(criteria=[{"name": {"ja": "効果"}, "weight": 50, "levels": [{"ja": "x"}] * 5}]),  # weights != 100
        complete_challenge(budget_min_yen=5, budget_max_yen=1),
        complete_challenge(questions_deadline=_at(25)),  # after the proposals deadline
        complete_challenge(category="no-such-category"),
        complete_challenge(title={}),
        complete_challenge(pilot_months="many"),
        {"title": {"fr": "Bonjour"}},
    ]
    for body in cases:
        response = await client.post("/api/v1/challenges", json=body, headers=cast["agency"])
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"]
    assert (await client.post("/api/v1/challenges", content=b"{not json", headers=cast["agency"])).status_code == 400
    assert await Challenge.all().count() == before


async def test_an_incomplete_draft_cannot_be_submitted(client, cast):
    draft = (await client.post("/api/v1/challenges", json={"title": {"ja": "未完成"}}, headers=cast["agency"])).json()
    response = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"summary", "problem", "category", "proposals_deadline", "criteria"} <= fields


async def test_an_illegal_transition_names_the_allowed_states(client, cast):
    draft = await _draft(client, cast)
    response = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "published"}, headers=cast["agency"])
    assert response.status_code == 409
    assert response.json()["allowed"] == ["in_review", "cancelled"]
    await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    # The owner cannot approve their own challenge; only an operator can.
    own = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "published"}, headers=cast["agency"])
    assert own.status_code == 409 and own.json()["allowed"] == ["cancelled"]
    other = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "cancelled", "reason": "x"}, headers=cast["other_agency"])
    assert other.status_code == 404


async def test_an_operator_sends_a_challenge_back_with_a_message(client, cast):
    draft = await _draft(client, cast)
    await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    silent = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "changes_requested"}, headers=cast["operator"])
    assert silent.status_code == 422
    back = await client.post(
        f"/api/v1/challenges/{draft['id']}/transitions",
        json={"to": "changes_requested", "reason": "予算の根拠を追記してください"}, headers=cast["operator"],
    )
    assert back.json()["status"] == "changes_requested"
    assert back.json()["status_message"] == "予算の根拠を追記してください"
    edited = await client.patch(f"/api/v1/challenges/{draft['id']}", json={"budget_max_yen": 4_000_000}, headers=cast["agency"])
    assert edited.status_code == 200 and edited.json()["budget_max_yen"] == 4_000_000


async def test_a_published_challenge_changes_only_by_a_recorded_amendment(client, cast):
    draft = await _draft(client, cast)
    await _publish(client, cast, draft["id"])
    company_user = cast["users"]["company"]
    await Question.create(challenge_id=draft["id"], asker=company_user, body="予約システムの既存ベンダーは？")

    title = await client.patch(f"/api/v1/challenges/{draft['id']}", json={"title": {"ja": "別の題"}}, headers=cast["agency"])
    assert title.status_code == 409
    no_reason = await client.patch(f"/api/v1/challenges/{draft['id']}", json={"proposals_deadline": _at(25)}, headers=cast["agency"])
    assert no_reason.status_code == 422
    amended = await client.patch(
        f"/api/v1/challenges/{draft['id']}",
        json={"proposals_deadline": _at(25), "reason": "質問が多いため延長します"}, headers=cast["agency"],
    )
    assert amended.status_code == 200, amended.text
    assert datetime.fromisoformat(amended.json()["proposals_deadline"]) > datetime.fromisoformat(draft["proposals_deadline"])
    amendment = await Amendment.get(challenge_id=draft["id"])
    assert amendment.reason == "質問が多いため延長します"
    assert await Notification.exists(user=company_user, kind="challenge.amended")
    assert "質問が多いため延長します" in (await client.get(f"/challenges/{draft['id']}")).text


async def test_cancelling_shows_the_reason_publicly_only_if_it_was_published(client, cast):
    unpublished = await _draft(client, cast)
    response = await client.post(f"/api/v1/challenges/{unpublished['id']}/transitions", json={"to": "cancelled", "reason": "重複"}, headers=cast["agency"])
    assert response.json()["status"] == "cancelled"
    assert (await client.get(f"/api/v1/challenges/{unpublished['id']}")).status_code == 404

    published = await _draft(client, cast)
    await _publish(client, cast, published["id"])
    await client.post(f"/api/v1/challenges/{published['id']}/transitions", json={"to": "cancelled", "reason": "予算が確保できなくなりました"}, headers=cast["agency"])
    page = await client.get(f"/challenges/{published['id']}")
    assert page.status_code == 200 and "予算が確保できなくなりました" in page.text


async def test_scheduled_publication_happens_when_its_time_comes(client, cast):
    draft = await _draft(client, cast, publish_at=_at(2))
    await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    approved = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "published"}, headers=cast["operator"])
    assert approved.json()["status"] == "scheduled"
    assert (await client.get(f"/api/v1/challenges/{draft['id']}")).status_code == 404
    assert await publish_due() == []
    assert draft["id"] in await publish_due(timezone.now() + timedelta(days=3))
    assert (await client.get(f"/api/v1/challenges/{draft['id']}")).json()["status"] == "published"
    assert await publish_due(timezone.now() + timedelta(days=3)) == []  # running it again changes nothing


async def test_drafting_through_the_pages(client, cast):
    await sign_in_as(client, cast["users"]["agency"])
    assert (await client.get("/challenges/new")).status_code == 200
    form = {
        "title_ja": "図書館の利用者を増やしたい", "summary_ja": "若者の利用が少ない。", "problem_ja": "認知が低い。",
        "outcome_ja": "利用者2倍。", "category": "education", "languages": "ja",
        "proposals_deadline": (timezone.now() + timedelta(days=20)).astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
        "criterion-0-name_ja": "効果", "criterion-0-weight": "70",
        "criterion-0-levels_ja": "1\n2\n3\n4\n5",
        "criterion-1-name_ja": "費用", "criterion-1-weight": "20",
        "criterion-1-levels_ja": "1\n2\n3\n4\n5",
    }
    wrong = await post_form(client, "/challenges/new", form, page="/challenges/new")
    assert wrong.status_code == 400
    assert "100" in wrong.text  # the weights message
    assert 'value="図書館の利用者を増やしたい"' in wrong.text  # what was typed is kept
    form["criterion-1-weight"] = "30"
    created = await post_form(client, "/challenges/new", form, page="/challenges/new")
    assert created.status_code == 303
    challenge = await Challenge.get(id=int(created.headers["location"].rsplit("/", 1)[1]))
    assert challenge.title == {"ja": "図書館の利用者を増やしたい"} and challenge.status == "draft"
    assert challenge.proposals_deadline.astimezone(TOKYO).hour == datetime.fromisoformat(form["proposals_deadline"]).hour
    mine = await client.get("/challenges/mine")
    assert "図書館の利用者を増やしたい" in mine.text
    edit = await client.get(f"/challenges/{challenge.id}/edit")
    assert 'value="70"' in edit.text


async def test_api_clients_learn_the_category_slugs(client):
    response = await client.get("/api/v1/categories")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"]) and body["page"] == 1
    assert {"slug": "childcare", "name": {"ja": "子育て", "en": "Childcare"}} in body["items"]
    assert [item["slug"] for item in body["items"]][:1] == [
        (await client.get("/api/v1/categories", params={"per_page": 1})).json()["items"][0]["slug"]]
    assert "/api/v1/categories" in (await client.get("/api/v1/openapi.json")).json()["paths"]


# --- how many statements the hot pages and calls make ---------------------------------------------


async def _public_challenges(cast, tag: str, count: int) -> list[Challenge]:
    from models.identity.orgs import Category, Organisation

    owner = await Organisation.get(municipality_code="131041")
    category = await Category.get(slug="childcare")
    now = timezone.now()
    return [await Challenge.create(owner=owner, category=category, status="published", title={"ja": f"件数 {tag} {i}"},
                                   tags=[tag], published_at=now, proposals_deadline=now + timedelta(days=20))
            for i in range(count)]


async def _count(queries, call) -> tuple[int, str]:
    with queries() as log:
        response = await call()
    assert response.status_code == 200, response.text
    return log.count, str(log)


async def test_the_challenge_list_and_search_make_as_many_statements_for_many_challenges_as_for_few(
        app, client, cast, queries, monkeypatch):
    import uuid

    from search.database import DatabaseBackend

    monkeypatch.setattr(app.state.services, "search", DatabaseBackend())  # the default backend reads the rows
    tag = f"count-{uuid.uuid4().hex[:8]}"
    await _public_challenges(cast, tag, 2)
    calls = {  # name -> (call, at most this many statements)
        # the facets' counts, one page of challenges with their owners and categories
        "page": (lambda: client.get("/challenges", params={"tag": tag}), 3),
        "api": (lambda: client.get("/api/v1/challenges", params={"tag": tag}), 3),
        # and 4 to know who calls: the token, its use, the person, their memberships with their organisations
        "api, signed in": (lambda: client.get("/api/v1/challenges", params={"tag": tag}, headers=cast["agency"]), 7),
    }
    for call, _ in calls.values():
        await call()  # the facets' category and agency names are cached for a minute
    few = {name: await _count(queries, call) for name, (call, _) in calls.items()}
    await _public_challenges(cast, tag, 8)
    for name, (call, most) in calls.items():
        count, log = await _count(queries, call)
        assert count == few[name][0], f"{name}: {few[name][1]}\n---\n{log}"
        assert count <= most, f"{name}: {log}"


async def test_the_challenge_page_makes_as_many_statements_for_many_related_rows_as_for_few(
        client, cast, queries):
    from models.challenges.models import Interest
    from models.identity.orgs import Organisation

    draft = await _draft(client, cast)
    await _publish(client, cast, draft["id"])
    company = cast["users"]["company"]
    agencies = await Organisation.filter(kind="agency").exclude(municipality_code="131041").limit(5)

    async def more(count: int) -> None:
        """More of what the page lists: answered questions, interested agencies, similar challenges."""
        for _ in range(count):
            await Question.create(challenge_id=draft["id"], asker=company, body="質問", answer="回答",
                                  answered_at=timezone.now())
            await Interest.create(challenge_id=draft["id"], organisation=agencies.pop())
            similar = await client.post("/api/v1/challenges", json=complete_challenge(), headers=cast["other_agency"])
            path = f"/api/v1/challenges/{similar.json()['id']}/transitions"
            await client.post(path, json={"to": "in_review"}, headers=cast["other_agency"])
            await client.post(path, json={"to": "published"}, headers=cast["operator"])

    url, api_url = f"/challenges/{draft['id']}", f"/api/v1/challenges/{draft['id']}"

    async def counts() -> dict[str, tuple[int, str]]:
        found = {"visitor page": await _count(queries, lambda: client.get(url)),
                 "visitor api": await _count(queries, lambda: client.get(api_url))}
        await sign_in_as(client, cast["users"]["agency"])
        found["owner page"] = await _count(queries, lambda: client.get(url))
        client.cookies.clear()
        return found

    await more(1)
    few = await counts()
    await more(3)
    many = await counts()
    for name, (count, log) in many.items():
        assert count == few[name][0], f"{name}: {few[name][1]}\n---\n{log}"
    # the challenge with its owner and category, co-owners, amendments, criteria, KPIs, questions, interests and
    # their agencies, attachments, similar challenges (two pools, then their owners and categories), solutions
    assert many["visitor page"][0] <= 14, many["visitor page"][1]
    assert many["visitor api"][0] <= 4, many["visitor api"][1]
    assert many["owner page"][0] <= 21, many["owner page"][1]  # + the session, memberships, and the owner's panels


async def test_the_language_notice_appears_only_above_text_in_the_other_language(client, cast):
    # Declared Japanese only, but the English summary and title were written: an English reader sees them, unwarned.
    both = await _draft(client, cast, languages=["ja"],
                        title={"ja": "英語も書かれた課題", "en": "A challenge also written in English"})
    await _publish(client, cast, both["id"])
    english = await client.get(f"/challenges/{both['id']}", headers={"Accept-Language": "en"})
    assert "A challenge also written in English" in english.text
    assert "written in Japanese only" not in english.text
    # Only Japanese was written: the English reader is told, above the Japanese text.
    japanese = await _draft(client, cast, languages=["ja"], title={"ja": "日本語だけの課題"},
                            summary={"ja": "日本語の概要です。"})
    await _publish(client, cast, japanese["id"])
    page = await client.get(f"/challenges/{japanese['id']}", headers={"Accept-Language": "en"})
    assert "This challenge is written in Japanese only." in page.text and "日本語の概要です。" in page.text
