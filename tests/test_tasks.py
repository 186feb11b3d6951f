"""The front door and "my tasks": what each kind of person is shown to do next, the home page's search,
challenges and figures, the language switch that keeps the page, and the feedback link on every page."""

from __future__ import annotations

import re
from datetime import timedelta

from tortoise import timezone

from models.challenges.models import Challenge
from models.identity.accounts import Role
from models.insights.figures import compute_snapshots
from server.i18n import TOKYO
from tests.helpers import _draft, _publish, browser, make_company
from tests.pilot_helpers import pilot_world
from tests.review_helpers import closed_world
from tests.web import csrf_token, post_form


def _task_titles(html: str, role: str) -> str:
    """The text of one role's section of the tasks page."""
    found = re.search(rf'<section aria-labelledby="tasks-{role}".*?</section>', html, re.S)
    assert found, f"no {role} section"
    return found.group(0)


async def test_login_lands_on_the_tasks_page(client, people):
    user = await people.make()
    response = await post_form(client, "/login", {"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 303
    assert response.headers["location"] == "/tasks"


async def test_a_visitor_is_asked_to_log_in(client):
    response = await client.get("/tasks")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]


async def test_agency_operator_and_company_see_what_waits_for_them(app, client, cast):
    users = cast["users"]
    draft = await _draft(client, cast, title={"ja": "タスク用の下書き課題", "en": "A draft for the tasks page"})
    async with browser(app, users["agency"]) as agency:
        page = (await agency.get("/tasks")).text
    section = _task_titles(page, "agency")
    assert "タスク用の下書き課題" in section and f'href="/challenges/{draft["id"]}#manage-heading"' in section
    assert "下書きです。仕上げて、承認を申請してください。" in section

    sent = await client.post(f"/api/v1/challenges/{draft['id']}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    assert sent.status_code == 200
    async with browser(app, users["operator"]) as operator:
        page = (await operator.get("/tasks")).text
    section = _task_titles(page, "operator")
    assert "公開前の課題が承認を待っています。" in section and "タスク用の下書き課題" in section

    published = await _draft(client, cast, title={"ja": "質問の来る課題", "en": "A challenge with questions"})
    await _publish(client, cast, published["id"])
    asked = await client.post(f"/api/v1/challenges/{published['id']}/questions", json={"body": "予算に保守費は含みますか"},
                              headers=cast["company"])
    assert asked.status_code == 201, asked.text
    async with browser(app, users["agency"]) as agency:
        section = _task_titles((await agency.get("/tasks")).text, "agency")
    assert "企業からの質問が回答を待っています。" in section
    assert f'href="/challenges/{published["id"]}#questions"' in section

    answered = await client.post(f"/api/v1/questions/{asked.json()['id']}/answer", json={"answer": "含みます"},
                                 headers=cast["agency"])
    assert answered.status_code == 200, answered.text
    proposal = await client.post(f"/api/v1/challenges/{published['id']}/proposals", json={"title": "下書きの提案"},
                                 headers=cast["company"])
    assert proposal.status_code == 201, proposal.text
    async with browser(app, users["company"]) as company:
        section = _task_titles((await company.get("/tasks")).text, "company")
    assert "あなたの質問に自治体が回答しました。" in section
    assert f'href="/proposals/{proposal.json()["id"]}/edit"' in section and "提案締切" in section
    async with browser(app, users["agency"]) as agency:
        section = _task_titles((await agency.get("/tasks")).text, "agency")
    assert f'href="/challenges/{published["id"]}#questions"' not in section


async def test_a_pending_company_is_told_it_waits_for_approval(app, people):
    member = await people.make(org=await make_company(status="pending"), role=Role.ADMIN)
    async with browser(app, member) as client:
        page = (await client.get("/tasks")).text
        home = (await client.get("/")).text
    assert "あなたの会社は承認待ちです。" in page and "通常3営業日以内" in page
    assert "運営事務局の承認を待っています" in home


async def test_reviewers_see_assignments_and_owners_the_ranking_to_finalise(app, client, migrated):
    world = await closed_world(client, migrated)
    # Other tests leave closed challenges of the same agency; the list shows the nearest review deadlines first
    # (20 of them), so this one is made the most overdue.
    await Challenge.filter(id=world.challenge_id).update(review_deadline=timezone.now() - timedelta(days=3650))
    assignment = (await world.assignments("kou"))[0]
    reviewer = next(r for r in world.reviewers if r.id == assignment.reviewer_id)
    async with browser(app, reviewer) as browser_client:
        section = _task_titles((await browser_client.get("/tasks")).text, "reviewer")
    assert f'href="/reviews/{assignment.id}"' in section and "割り当てられた提案を審査してください。" in section
    async with browser(app, world.owner) as owner:
        section = _task_titles((await owner.get("/tasks")).text, "agency")
        closed_page = (await owner.get(f"/challenges/{world.challenge_id}")).text
    assert f'href="/challenges/{world.challenge_id}/ranking"' in section
    assert "この課題の管理" not in closed_page  # nothing to edit or move on a closed challenge: no empty heading
    assert f"/challenges/{world.challenge_id}/ranking" in closed_page  # the review's pages are still linked


async def test_owners_see_measurements_to_verify(app, people, cast):
    from models.identity.orgs import Organisation

    agency = await Organisation.get(municipality_code="131041")
    company = await make_company()
    ids = await pilot_world({}, agency, company)
    async with browser(app, cast["users"]["agency"]) as client:
        section = _task_titles((await client.get("/tasks")).text, "agency")
        pilot_page = (await client.get(f"/pilots/{ids['pilot_id']}")).text
    assert f'href="/pilots/{ids["pilot_id"]}"' in section and "実証に確認待ちの測定値があります。" in section
    assert "<details open>" in pilot_page  # the values to verify are shown, not folded away


async def test_the_home_page_is_a_front_door(app, client, cast):
    soon = {key: (timezone.now() + timedelta(hours=hours)).astimezone(TOKYO).isoformat()
            for key, hours in (("questions_deadline", 1), ("proposals_deadline", 2))}  # closes before any other
    challenge = await _draft(client, cast, title={"ja": "玄関に並ぶ課題", "en": "A challenge at the front door"}, **soon)
    await _publish(client, cast, challenge["id"])
    await compute_snapshots()
    page = (await client.get("/")).text
    assert 'role="search"' in page and 'name="q"' in page and re.search(r'action="[^"]*/challenges"', page)
    closing = re.search(r'id="closing-heading".*?</section>', page, re.S).group(0)
    assert f'href="/challenges/{challenge["id"]}"' in closing
    figures = re.search(r'id="figures-heading".*?</section>', page, re.S).group(0)
    assert "公開された課題" in figures and "受け付けた提案" in figures
    assert "会社を登録する" in page and "ログインして課題を書く" in page  # what to do next, per visitor
    async with browser(app, cast["users"]["agency"]) as agency:
        signed_in = (await agency.get("/")).text
    assert re.search(r'href="[^"]*/tasks"', signed_in) and "会社を登録する" not in signed_in


async def test_the_language_switch_keeps_the_page_and_its_query(client):
    page = (await client.get("/challenges?q=%E5%AD%90%E8%82%B2%E3%81%A6&sort=deadline&page=2")).text
    link = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">', page).group(1).replace("&amp;", "&")
    assert link.startswith("/challenges?") and "q=%E5%AD%90%E8%82%B2%E3%81%A6" in link
    assert "sort=deadline" in link and "page=2" in link and link.endswith("lang=en")
    assert (await client.get(link)).status_code == 200


async def test_the_language_switch_after_a_post_never_leads_to_a_405(app, client, cast):
    challenge = await _draft(client, cast, title={"ja": "質問の失敗", "en": "A failed question"})
    await _publish(client, cast, challenge["id"])
    async with browser(app, cast["users"]["company"]) as company:
        await company.get(f"/challenges/{challenge['id']}")
        token = await csrf_token(company, f"/challenges/{challenge['id']}")
        failed = await company.post(f"/challenges/{challenge['id']}/questions", data={"csrftoken": token, "body": ""},
                                    headers={"referer": f"http://testserver/challenges/{challenge['id']}?from=search"})
        assert 400 <= failed.status_code < 500 and "<html" in failed.text
        link = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">', failed.text).group(1).replace("&amp;", "&")
        assert link == f"/challenges/{challenge['id']}?from=search&lang=en"
        assert (await company.get(link)).status_code == 200
        elsewhere = await company.post(f"/challenges/{challenge['id']}/questions", data={"csrftoken": token, "body": ""},
                                       headers={"referer": f"http://testserver/challenges/{challenge['id']}/questions"})
        link = re.search(r'<a href="([^"]+)" lang="ja" hreflang="ja">', elsewhere.text).group(1)  # now in English
        assert link == "/?lang=ja"  # the form's page only takes POST: home, not a 405


async def test_every_page_offers_a_way_to_report_a_problem(client):
    page = (await client.get("/challenges")).text
    assert "このページは役に立ちましたか" in page
    assert 'href="/about/contact?page=%2Fchallenges"' in page
    contact = (await client.get("/about/contact?page=%2Fchallenges")).text
    assert "<code>/challenges</code>" in contact and "mailto:" in contact
    hostile = (await client.get("/about/contact?page=https://evil.example")).text
    assert "<code>https://evil.example" not in hostile and "mailto:" in hostile
