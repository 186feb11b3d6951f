"""Questions and answers: companies ask privately until the deadline, owners answer publicly, and who asked
never shows anywhere public (pages or API)."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from models.challenges.models import Challenge, Follow, Question
from models.core.audit import AuditEvent
from models.core.notifications import Notification
from models.proposals.models import Proposal
from tests.helpers import _draft, _publish, browser, english, make_company
from tests.web import post_form

SECRET_QUESTION = "既存の予約システムのベンダー名を教えてください"
ANSWER = "現在は紙の整理券のみで、予約システムはありません。"


async def _ask(client, cast, challenge_id: int, body: str = SECRET_QUESTION, who: str = "company"):
    return await client.post(f"/api/v1/challenges/{challenge_id}/questions", json={"body": body}, headers=cast[who])


async def _published(client, cast) -> dict:
    draft = await _draft(client, cast)
    return await _publish(client, cast, draft["id"])


def _identities(cast) -> list[str]:
    """Every way the asker could be named."""
    user = cast["users"]["company"]
    return [user.name, user.email, "課題株式会社", "Kadai KK"]


async def test_a_question_is_private_until_answered_and_then_public_without_the_asker(app, client, cast, people):
    challenge = await _published(client, cast)
    cid = challenge["id"]
    other_company = await make_company()
    other_headers = await people.token(await people.make(org=other_company))

    asked = await _ask(client, cast, cid)
    assert asked.status_code == 201, asked.text
    question = asked.json()
    assert question["status"] == "unanswered" and question["asked_by_you"] and question["asker"] is None
    assert question["asked_at"].endswith("+09:00")

    # Until it is answered: invisible to visitors, other companies and other agencies ...
    for headers in ({}, other_headers, cast["other_agency"]):
        listing = await client.get(f"/api/v1/challenges/{cid}/questions", headers=headers)
        assert listing.status_code == 200
        assert listing.json() == {"items": [], "total": 0, "page": 1, "per_page": 50}
    async with browser(app) as visitor:
        assert SECRET_QUESTION not in (await visitor.get(f"/challenges/{cid}")).text
    async with browser(app, cast["users"]["other_agency"]) as other:
        assert SECRET_QUESTION not in (await other.get(f"/challenges/{cid}")).text
    # ... visible to the asking company (without naming it to itself), the owners and operators (who see who asked).
    mine = (await client.get(f"/api/v1/challenges/{cid}/questions", headers=cast["company"])).json()
    assert [q["id"] for q in mine["items"]] == [question["id"]] and mine["items"][0]["asker"] is None
    for who in ("agency", "operator"):
        items = (await client.get(f"/api/v1/challenges/{cid}/questions", headers=cast[who])).json()["items"]
        assert items[0]["body"] == SECRET_QUESTION
        assert items[0]["asker"]["organisation"]["name"]["ja"] == "課題株式会社"
    async with browser(app, cast["users"]["agency"]) as owner:
        page = (await owner.get(f"/challenges/{cid}")).text
        assert SECRET_QUESTION in page and "課題株式会社" in page and f"/questions/{question['id']}/answer" in page
    assert await Notification.exists(user=cast["users"]["agency"], kind="question.asked")

    answered = await client.post(f"/api/v1/questions/{question['id']}/answer", json={"answer": ANSWER}, headers=cast["agency"])
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered" and answered.json()["answer"] == ANSWER

    # Now public for everyone alike, and still nobody outside learns who asked.
    for headers in ({}, other_headers):
        listing = await client.get(f"/api/v1/challenges/{cid}/questions", headers=headers)
        assert listing.json()["total"] == 1
        item = listing.json()["items"][0]
        assert item["body"] == SECRET_QUESTION and item["answer"] == ANSWER
        assert item["asker"] is None and item["asked_by_you"] is False
        assert not any(name in listing.text for name in _identities(cast))
    assert (await client.get(f"/api/v1/challenges/{cid}")).status_code == 200
    for user in (None, await people.make(org=other_company)):
        async with browser(app, user) as reader:
            page = (await reader.get(f"/challenges/{cid}")).text
            assert SECRET_QUESTION in page and ANSWER in page
            assert not any(name in page for name in _identities(cast))
    actions = set(await AuditEvent.filter(target_type="question", target_id=str(question["id"])).values_list("action", flat=True))
    assert actions == {"question.asked", "question.answered"}


async def test_everyone_involved_is_told_of_an_answer_once(client, cast, people):
    challenge = await _published(client, cast)
    cid = challenge["id"]
    proposer_company = await make_company()
    proposer = await people.make(org=proposer_company)
    await Proposal.create(challenge_id=cid, company=proposer_company, created_by=proposer)
    follower = await people.make()
    await Follow.create(user=follower, challenge_id=cid)
    bystander = await people.make(org=await make_company())
    question = (await _ask(client, cast, cid)).json()

    await client.post(f"/api/v1/questions/{question['id']}/answer", json={"answer": ANSWER}, headers=cast["agency"])
    told = {n.user_id for n in await Notification.filter(kind="question.answered") if n.payload.get("question") == question["id"]}
    assert told == {proposer.id, follower.id, cast["users"]["company"].id}
    assert bystander.id not in told and cast["users"]["agency"].id not in told  # the answerer is not told
    again = await client.post(f"/api/v1/questions/{question['id']}/answer", json={"answer": "二度目"}, headers=cast["agency"])
    assert again.status_code == 409
    assert (await Question.get(id=question["id"])).answer == ANSWER


async def test_questions_close_at_the_questions_deadline(app, client, cast):
    challenge = await _published(client, cast)
    cid = challenge["id"]
    await Challenge.filter(id=cid).update(questions_deadline=timezone.now() - timedelta(minutes=1))
    late = await _ask(client, cast, cid)
    assert late.status_code == 409
    assert late.json()["detail"] == "The deadline for questions has passed."
    await english(cast["users"]["company"])
    async with browser(app, cast["users"]["company"]) as company:
        page = (await company.get(f"/challenges/{cid}")).text
        assert "The deadline for questions has passed." in page and 'name="question_body"' not in page
        refused = await post_form(company, f"/challenges/{cid}/questions", {"question_body": "Is it too late?"}, page=f"/challenges/{cid}")
        assert refused.status_code == 409 and "The deadline for questions has passed." in refused.text
    assert not await Question.exists(challenge_id=cid)


async def test_who_may_ask_and_answer(client, cast):
    draft = await _draft(client, cast)
    assert (await _ask(client, cast, draft["id"])).status_code == 404  # a draft is not there for companies
    challenge = await _published(client, cast)
    cid = challenge["id"]
    assert (await client.post(f"/api/v1/challenges/{cid}/questions", json={"body": "?"})).status_code == 401
    for who in ("agency", "other_agency", "operator"):
        assert (await _ask(client, cast, cid, who=who)).status_code == 403
    assert (await _ask(client, cast, cid, body="   ")).status_code == 422
    question = (await _ask(client, cast, cid)).json()
    answer = {"answer": ANSWER}
    assert (await client.post(f"/api/v1/questions/{question['id']}/answer", json=answer, headers=cast["company"])).status_code == 403
    for who in ("other_agency",):  # cannot even see an unanswered question
        assert (await client.post(f"/api/v1/questions/{question['id']}/answer", json=answer, headers=cast[who])).status_code == 404
    assert (await client.post(f"/api/v1/questions/{question['id']}/answer", json={"answer": ""}, headers=cast["agency"])).status_code == 422
    assert (await client.post("/api/v1/questions/999999/answer", json=answer, headers=cast["agency"])).status_code == 404


async def test_asking_and_answering_through_the_pages(app, client, cast):
    challenge = await _published(client, cast)
    cid = challenge["id"]
    async with browser(app, cast["users"]["company"]) as company:
        page = await company.get(f"/challenges/{cid}")
        assert f'action="/challenges/{cid}/questions"' in page.text
        empty = await post_form(company, f"/challenges/{cid}/questions", {"question_body": "  "}, page=f"/challenges/{cid}")
        assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
        asked = await post_form(company, f"/challenges/{cid}/questions", {"question_body": SECRET_QUESTION}, page=f"/challenges/{cid}")
        assert asked.status_code == 303 and asked.headers["location"] == f"/challenges/{cid}"
        assert SECRET_QUESTION in (await company.get(f"/challenges/{cid}")).text
    question = await Question.get(challenge_id=cid)
    assert question.asker_organisation_id is not None
    async with browser(app, cast["users"]["agency"]) as owner:
        field = f"answer_{question.id}"
        url = f"/challenges/{cid}/questions/{question.id}/answer"
        blank = await post_form(owner, url, {field: ""}, page=f"/challenges/{cid}")
        assert blank.status_code == 400
        done = await post_form(owner, url, {field: ANSWER}, page=f"/challenges/{cid}")
        assert done.status_code == 303 and done.headers["location"] == f"/challenges/{cid}"
    async with browser(app) as visitor:
        page = (await visitor.get(f"/challenges/{cid}")).text
        assert ANSWER in page and SECRET_QUESTION in page
        assert not any(name in page for name in _identities(cast))
