"""Input that cannot be right gets a clear 4xx, never a 500 (classes found by schemathesis): ids beyond the
database's integer range or in other digits, control characters, null where a value is needed, dates the
service cannot mean, and query parameters named in the errors."""

from __future__ import annotations

import pytest

from models.challenges.models import Challenge
from models.identity.accounts import User
from models.proposals.models import Proposal
from models.review.models import Conflict
from server.ids import MAX_ID, id_or_none
from tests.helpers import _draft, browser
from tests.review_helpers import closed_world, open_challenge
from tests.web import post_form

PROBLEM = "application/problem+json"
TOO_BIG = str(MAX_ID + 1)


def _fields(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("path", [
    f"/api/v1/challenges/{TOO_BIG}", f"/api/v1/proposals/{10**20}", f"/api/v1/assignments/{TOO_BIG}/review",
    "/api/v1/challenges/１２", "/api/v1/challenges/٣", f"/challenges/{TOO_BIG}", f"/proposals/{10**19}",
    f"/api/v1/organisations/{TOO_BIG}", "/api/v1/organisations/１", "/api/v1/organisations/%00",
])
async def test_an_id_that_cannot_exist_in_a_path_is_a_404(client, cast, path):
    response = await client.get(path, headers=cast["operator"] if path.startswith("/api/") else {})
    assert response.status_code == 404, response.text


def test_an_id_typed_in_a_form_is_ascii_digits_in_range():
    assert [id_or_none(text) for text in ("7", str(MAX_ID), TOO_BIG, "0", "１", "٣", "-1", "", " 7", "7.0")] == [
        7, MAX_ID, None, None, None, None, None, None, None, None]


async def test_the_largest_id_is_an_ordinary_404(client, cast):
    response = await client.get(f"/api/v1/challenges/{MAX_ID}", headers=cast["operator"])
    assert response.status_code == 404


@pytest.mark.parametrize(("url", "field"), [
    (f"/api/v1/proposals?challenge_id={TOO_BIG}", "query.challenge_id"),
    (f"/api/v1/assignments?challenge_id={TOO_BIG}", "query.challenge_id"),
    (f"/api/v1/challenges?agency={TOO_BIG}", "query.agency.0"),
    ("/api/v1/proposals?challenge_id=１", "query.challenge_id"),
    ("/api/v1/proposals?page=10000000000", "query.page"),
    ("/api/v1/proposals?per_page=0", "query.per_page"),
    ("/api/v1/challenges?deadline_after=0001-01-01", "query.deadline_after"),
    ("/api/v1/challenges?deadline_before=9999-12-31", "query.deadline_before"),
    ("/api/v1/challenges?q=a%00b", "query.q"),
])
async def test_a_bad_query_parameter_is_a_422_naming_it(client, cast, url, field):
    response = await client.get(url, headers=cast["company"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] != "The request body is not valid."
    assert field in _fields(response)


async def test_an_id_beyond_the_range_in_a_body_is_a_422(client, cast):
    response = await client.post("/api/v1/follows", json={"challenge_id": MAX_ID + 1}, headers=cast["company"])
    assert response.status_code == 422, response.text
    assert "challenge_id" in _fields(response)


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85"])
async def test_control_characters_in_text_are_refused(client, cast, text):
    before = await Challenge.all().count()
    response = await client.post("/api/v1/challenges", json={"title": {"ja": "題名", "en": text}}, headers=cast["agency"])
    assert response.status_code == 422, response.text
    assert "title.en" in _fields(response)
    nested = await client.post("/api/v1/challenges", headers=cast["agency"],
                               json={"title": {"ja": "題名"}, "kpis": [{"name": {"ja": text}}]})
    assert nested.status_code == 422 and "kpis.0.name.ja" in _fields(nested)
    assert await Challenge.all().count() == before


async def test_tab_and_new_lines_are_text(client, cast):
    response = await client.post("/api/v1/challenges", headers=cast["agency"],
                                 json={"title": {"ja": "題名"}, "summary": {"ja": "一行目\r\n二行目\tタブ"}})
    assert response.status_code == 201, response.text
    assert response.json()["summary"]["ja"] == "一行目\r\n二行目\tタブ"


async def test_a_control_character_in_a_form_is_refused(app, cast):
    async with browser(app, cast["users"]["company"]) as page:
        response = await post_form(page, "/account/profile", {"name": "名前\x00", "locale": "ja"}, page="/account")
    assert response.status_code == 422, response.text
    assert (await User.get(id=cast["users"]["company"].id)).name != "名前\x00"


async def test_bidirectional_controls_are_dropped_from_titles_and_names(client, cast):
    response = await client.post("/api/v1/challenges", headers=cast["agency"],
                                 json={"title": {"ja": "題名\u202eevil\u202c", "en": "\u2066Title\u2069"},
                                       "summary": {"ja": "本文\u202e"}})
    assert response.status_code == 201, response.text
    challenge = response.json()
    assert challenge["title"] == {"ja": "題名evil", "en": "Title"}
    assert challenge["summary"] == {"ja": "本文\u202e"}  # only titles and names are cleaned


@pytest.mark.parametrize("body", [
    {"summary": None}, {"title": None}, {"kpis": None}, {"declared_conflicts": None}, {"team": None},
])
async def test_null_for_a_field_that_cannot_be_empty_is_a_422(client, cast, body):
    challenge = await open_challenge(client, cast["agency"], cast["operator"])
    created = await client.post(f"/api/v1/challenges/{challenge['id']}/proposals", json={"title": "提案"},
                                headers=cast["company"])
    assert created.status_code == 201, created.text
    response = await client.patch(f"/api/v1/proposals/{created.json()['id']}", json=body, headers=cast["company"])
    assert response.status_code == 422, response.text
    assert set(body) <= _fields(response)
    assert (await Proposal.get(id=created.json()["id"])).title == "提案"


@pytest.mark.parametrize("body", [{"blind_review": None}, {"tags": None}, {"criteria": None}])
async def test_null_for_a_challenge_field_that_cannot_be_empty_is_a_422(client, cast, body):
    draft = await _draft(client, cast)
    response = await client.patch(f"/api/v1/challenges/{draft['id']}", json=body, headers=cast["agency"])
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-12:00"])
async def test_a_date_the_service_cannot_mean_is_a_422(client, cast, moment):
    draft = await _draft(client, cast)
    response = await client.patch(f"/api/v1/challenges/{draft['id']}", json={"proposals_deadline": moment},
                                  headers=cast["agency"])
    assert response.status_code == 422, response.text
    assert "proposals_deadline" in _fields(response)
    transition = await client.post(f"/api/v1/challenges/{draft['id']}/transitions",
                                   json={"to": "in_review", "publish_at": moment}, headers=cast["agency"])
    assert transition.status_code == 422, transition.text


async def test_a_review_not_yet_saved_is_a_404(client, migrated):
    world = await closed_world(client, migrated, reviewers=1, per_proposal=1)
    assignment = await world.assignments("kou").first()
    reviewer = world.h[assignment.reviewer_id]
    response = await client.get(f"/api/v1/assignments/{assignment.id}/review", headers=reviewer)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    saved = await client.put(f"/api/v1/assignments/{assignment.id}/review", json={"strengths": "明快"}, headers=reviewer)
    assert saved.status_code == 200, saved.text
    assert (await client.get(f"/api/v1/assignments/{assignment.id}/review", headers=reviewer)).json()["strengths"] == "明快"


async def test_submitting_works_with_the_documented_example(client, cast):
    """The request bodies' examples are real: a company's proposal from the document's example is accepted."""
    from server.schemas.proposals import NewProposalIn

    challenge = await open_challenge(client, cast["agency"], cast["operator"])
    example = NewProposalIn.model_json_schema()["examples"][0]
    response = await client.post(f"/api/v1/challenges/{challenge['id']}/proposals", json=example,
                                 headers=cast["company"])
    assert response.status_code == 201, response.text


async def test_every_page_form_is_read_through_the_one_checking_parser(app, cast):
    # Each of these handlers used to read `request.form()` itself, past the control-character check.
    agency = cast["users"]["agency"]
    cases = [
        ("/reviews/conflicts", {"kind": "other", "organisation": "131041", "note": "メモ\x00"}, "/reviews"),
        ("/challenges/new", {"title_ja": "題名\x00", "summary_ja": "概要"}, "/challenges/new"),
        ("/follows", {"q": "検索\x1b[31m"}, "/challenges"),
    ]
    challenges_before = await Challenge.all().count()
    async with browser(app, agency) as page:
        for url, data, form_page in cases:
            response = await post_form(page, url, data, page=form_page)
            assert response.status_code == 422, (url, response.status_code)
            assert "制御文字" in response.text, url  # the person is told what was wrong, in their language
    assert await Challenge.all().count() == challenges_before
    assert not await Conflict.filter(reviewer_id=agency.id, note__contains="メモ").exists()


def test_no_page_handler_reads_a_form_past_the_parser():
    from pathlib import Path

    routes = Path(__file__).resolve().parent.parent / "server" / "routes"
    # The upload reads its multipart body itself (capped, streamed to disk); the CKAN action API answers CKAN's way.
    allowed = {"attachments.py", "opendata.py"}
    offenders = [path.name for path in routes.glob("*.py") if ".form(" in path.read_text() and path.name not in allowed]
    assert offenders == [], "read forms with server.forms.checked_form (or read_form / parse_form)"
