"""A refusal names what the person may do instead (a 409's `allowed`), and reads in their language."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone

from models.core.errors import N_, DomainError, InvalidTransition, NotAllowed
from server.i18n import TOKYO, using_locale
from server.problems import page_message


def _at(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).astimezone(TOKYO).isoformat()


def _challenge() -> dict:
    levels = [{"ja": f"{n}点", "en": f"{n} points"} for n in range(1, 6)]
    return {
        "title": {"ja": "拒否の理由を示す課題", "en": "A challenge that names its next states"},
        "summary": {"ja": "概要", "en": "Summary"},
        "problem": {"ja": "課題", "en": "Problem"},
        "category": "administrative-procedures",
        "languages": ["ja"],
        "questions_deadline": _at(10),
        "proposals_deadline": _at(20),
        "review_deadline": _at(30),
        "criteria": [{"name": {"ja": "効果", "en": "Impact"}, "weight": 100, "levels": levels}],
    }


async def _in_review(client, cast) -> int:
    draft = await client.post("/api/v1/challenges", json=_challenge(), headers=cast["agency"])
    assert draft.status_code == 201, draft.text
    challenge_id = draft.json()["id"]
    sent = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "in_review"}, headers=cast["agency"])
    assert sent.status_code == 200, sent.text
    return challenge_id


async def test_a_challenge_in_review_names_what_its_owner_and_an_operator_may_do(client, cast):
    challenge_id = await _in_review(client, cast)
    edited = await client.patch(f"/api/v1/challenges/{challenge_id}", json={"pilot_months": 4}, headers=cast["agency"])
    assert edited.status_code == 409 and edited.json()["allowed"] == ["cancelled"]
    owner = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "closed"}, headers=cast["agency"])
    assert owner.status_code == 409 and owner.json()["allowed"] == ["cancelled"]
    operator = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "closed"}, headers=cast["operator"])
    assert operator.status_code == 409 and operator.json()["allowed"] == ["published", "scheduled", "changes_requested"]


async def test_a_second_proposal_names_what_the_company_may_do_with_its_first(client, cast):
    challenge_id = await _in_review(client, cast)
    published = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "published"}, headers=cast["operator"])
    assert published.status_code == 200, published.text
    url = f"/api/v1/challenges/{challenge_id}/proposals"
    first = await client.post(url, json={"title": "最初の提案"}, headers=cast["company"])
    assert first.status_code == 201, first.text
    second = await client.post(url, json={"title": "二つ目"}, headers=cast["company"])
    assert second.status_code == 409
    assert second.json()["proposal_id"] == first.json()["id"]
    assert second.json()["allowed"] == ["submitted", "withdrawn"]


def test_pages_show_a_message_id_translated_and_anything_else_as_a_general_message():
    with using_locale("ja"):
        named = page_message(InvalidTransition(N_("This change of state is not possible now."), allowed=[]))
        assert named and named != "This change of state is not possible now."
        # An explanation for API clients is not a message id, even when it starts with a capital letter.
        assert page_message(NotAllowed("Only owners, says the log")) == page_message(NotAllowed(""))
    with using_locale("en"):
        assert page_message(DomainError(N_("The deadline for questions has passed."))) == "The deadline for questions has passed."
        assert page_message(InvalidTransition("no message id", allowed=[])) == "This cannot be done in the current state."
