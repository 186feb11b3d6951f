"""Feeds: new challenges as Atom, deadlines as iCalendar; and the iCalendar writer itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from models.challenges.models import Challenge
from models.identity.orgs import Organisation
from server import ical
from server.atom import Entry, Feed, render
from tests.helpers import _draft, _publish, complete_challenge
from tests.web import sign_in_as

A = "{http://www.w3.org/2005/Atom}"


def _unique_tag() -> str:
    return f"feed-{uuid.uuid4().hex[:10]}"


async def _titled(client, cast, tag: str, name: str, **overrides) -> dict:
    return await _draft(
        client, cast, title={"ja": f"{name}の課題", "en": f"Challenge {name}"}, tags=[tag], **overrides
    )


async def _transition(client, cast, challenge_id: int, to: str, role: str = "agency", **body) -> None:
    response = await client.post(
        f"/api/v1/challenges/{challenge_id}/transitions", json={"to": to, **body}, headers=cast[role]
    )
    assert response.status_code == 200, response.text


async def _atom(client, query: str) -> ET.Element:
    response = await client.get(f"/feeds/challenges.atom?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.content)


def _entry_titles(feed: ET.Element) -> list[str]:
    return [entry.findtext(f"{A}title") for entry in feed.findall(f"{A}entry")]


# --- Atom ------------------------------------------------------------------------------------


async def test_the_atom_feed_lists_public_challenges_and_never_unpublished_ones(client, cast):
    tag = _unique_tag()
    published = await _titled(client, cast, tag, "Published")
    await _publish(client, cast, published["id"])
    draft = await _titled(client, cast, tag, "Draft")
    in_review = await _titled(client, cast, tag, "InReview")
    await _transition(client, cast, in_review["id"], "in_review")
    scheduled = await _titled(client, cast, tag, "Scheduled", publish_at=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    await _transition(client, cast, scheduled["id"], "in_review")
    await _transition(client, cast, scheduled["id"], "published", role="operator")  # becomes scheduled
    withdrawn = await _titled(client, cast, tag, "Withdrawn")
    await _transition(client, cast, withdrawn["id"], "cancelled", reason="重複")
    cancelled_late = await _titled(client, cast, tag, "CancelledLate")
    await _publish(client, cast, cancelled_late["id"])
    await _transition(client, cast, cancelled_late["id"], "cancelled", reason="予算なし")

    feed = await _atom(client, f"tag={tag}&lang=en")
    assert feed.tag == f"{A}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert _entry_titles(feed) == ["[Cancelled] Challenge CancelledLate", "Challenge Published"]
    unfiltered = (await client.get("/feeds/challenges.atom")).text
    for hidden in (draft, in_review, scheduled, withdrawn):
        assert f"/challenges/{hidden['id']}<" not in unfiltered
    assert f"/challenges/{cancelled_late['id']}<" in unfiltered

    self_link = feed.find(f"{A}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == f"http://testserver/feeds/challenges.atom?tag={tag}&lang=en"
    assert feed.findtext(f"{A}id") == self_link.get("href")
    assert feed.find(f"{A}link[@rel='alternate']").get("href") == f"http://testserver/challenges?tag={tag}"
    assert datetime.fromisoformat(feed.findtext(f"{A}updated").replace("Z", "+00:00"))

    entry = feed.findall(f"{A}entry")[1]
    assert entry.findtext(f"{A}id") == f"http://testserver/challenges/{published['id']}"
    assert entry.find(f"{A}link").get("href") == f"http://testserver/challenges/{published['id']}"
    assert entry.findtext(f"{A}author/{A}name") == "Shinjuku City"
    assert entry.findtext(f"{A}summary") == "Long waits in busy months."
    assert entry.find(f"{A}category").get("term") == "administrative-procedures"
    assert entry.find(f"{A}category").get("label") == "Administrative procedures"
    published_at = datetime.fromisoformat(entry.findtext(f"{A}published").replace("Z", "+00:00"))
    row = await Challenge.get(id=published["id"])
    assert published_at == row.published_at.replace(microsecond=0)
    assert entry.findtext(f"{A}updated").endswith("Z")

    japanese = await _atom(client, f"tag={tag}&lang=ja")
    assert "Publishedの課題" in _entry_titles(japanese)
    assert japanese.findtext(f"{A}entry/{A}author/{A}name") == "新宿区"


async def test_the_atom_feed_is_filtered_like_the_list(client, cast):
    tag = _unique_tag()
    ward_doc = await _titled(client, cast, tag, "Ward", category="administrative-procedures")
    await _publish(client, cast, ward_doc["id"])
    school = await _titled(client, cast, tag, "School", category="education")
    await _publish(client, cast, school["id"])
    other = await client.post(
        "/api/v1/challenges",
        json=complete_challenge(title={"en": "Challenge Bunkyo"}, tags=[tag, "extra"]),
        headers=cast["other_agency"],
    )
    assert other.status_code == 201
    await client.post(f"/api/v1/challenges/{other.json()['id']}/transitions", json={"to": "in_review"}, headers=cast["other_agency"])
    await _transition(client, cast, other.json()["id"], "published", role="operator")

    shinjuku = await Organisation.get(municipality_code="131041")
    bunkyo = await Organisation.get(municipality_code="131059")
    assert set(_entry_titles(await _atom(client, f"tag={tag}&lang=en"))) == {
        "Challenge Ward", "Challenge School", "Challenge Bunkyo"}
    assert _entry_titles(await _atom(client, f"tag={tag}&category=education&lang=en")) == ["Challenge School"]
    assert set(_entry_titles(await _atom(client, f"tag={tag}&agency={bunkyo.id}&lang=en"))) == {"Challenge Bunkyo"}
    assert set(_entry_titles(await _atom(client, f"tag={tag}&agency={shinjuku.id}&agency={bunkyo.id}&lang=en"))) == {
        "Challenge Ward", "Challenge School", "Challenge Bunkyo"}
    assert len(_entry_titles(await _atom(client, f"tag={tag}&municipality_type=ward&lang=en"))) == 3
    assert _entry_titles(await _atom(client, f"tag={tag}&municipality_type=village&lang=en")) == []
    assert _entry_titles(await _atom(client, f"tag={tag}&tag=EXTRA&lang=en")) == ["Challenge Bunkyo"]
    assert (await client.get("/feeds/challenges.atom?municipality_type=planet")).status_code == 422
    assert (await client.get("/feeds/challenges.atom?agency=abc")).status_code == 422


async def test_the_atom_feed_holds_at_most_fifty_entries_newest_first(client, cast):
    feed = await _atom(client, "lang=en")
    entries = feed.findall(f"{A}entry")
    assert len(entries) <= 50
    moments = [entry.findtext(f"{A}published") for entry in entries]
    assert moments == sorted(moments, reverse=True)


def test_atom_text_is_escaped_and_cleaned():
    now = datetime(2026, 4, 1, tzinfo=UTC)
    tricky = 'a <script>alert("x")</script> & b \x0b\x00'
    document = render(Feed(id="urn:x", title=tricky, updated=now, self_url="http://h/f?a=1&b=2", entries=[
        Entry(id="urn:e", title=tricky, updated=now, link="http://h/c?x=<y>", author="A & B", summary="]]> <b>")
    ]))
    assert b"<script>" not in document
    parsed = ET.fromstring(document)
    assert parsed.findtext(f"{A}title") == 'a <script>alert("x")</script> & b '
    assert parsed.find(f"{A}link").get("href") == "http://h/f?a=1&b=2"
    assert parsed.findtext(f"{A}entry/{A}summary") == "]]> <b>"
    assert parsed.findtext(f"{A}entry/{A}author/{A}name") == "A & B"
    assert parsed.findtext(f"{A}updated") == "2026-04-01T00:00:00Z"


# --- iCalendar -------------------------------------------------------------------------------


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def _events(text: str) -> list[dict[str, str]]:
    events, current = [], None
    for line in _unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None and line:
            name, _, value = line.partition(":")
            current[name.split(";")[0]] = value
    return events


def _check_calendar_text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # only CRLF line endings
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line
    assert "CALSCALE:GREGORIAN" in text and "X-WR-TIMEZONE:Asia/Tokyo" in text
    return text


async def test_the_deadlines_calendar_has_public_upcoming_deadlines_only(client, cast):
    tag = _unique_tag()
    published = await _titled(client, cast, tag, "Open, soon; really")
    await _publish(client, cast, published["id"])
    draft = await _titled(client, cast, tag, "Secret")
    response = await client.get(f"/feeds/deadlines.ics?tag={tag}&lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    text = _check_calendar_text(response.content)
    assert "Secret" not in text and f"challenge-{draft['id']}-" not in text
    events = _events(text)
    assert [event["UID"] for event in events] == [
        f"challenge-{published['id']}-{kind}@testserver" for kind in ("questions", "proposals", "review")
    ]
    row = await Challenge.get(id=published["id"])
    proposals = events[1]
    assert proposals["DTSTART"] == row.proposals_deadline.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert proposals["SUMMARY"] == "Proposals deadline: Challenge Open\\, soon\\; really"
    assert proposals["URL"] == f"http://testserver/challenges/{published['id']}"
    assert proposals["DTSTAMP"].endswith("Z") and proposals["STATUS"] == "CONFIRMED"
    assert "DESCRIPTION" in proposals and "\\n" in proposals["DESCRIPTION"]

    japanese = _events((await client.get(f"/feeds/deadlines.ics?tag={tag}&lang=ja")).text)
    assert "Open, soon; reallyの課題".replace(",", "\\,").replace(";", "\\;") in japanese[0]["SUMMARY"]

    # A deadline already passed leaves the calendar of upcoming deadlines.
    await Challenge.filter(id=published["id"]).update(questions_deadline=datetime.now(UTC) - timedelta(days=1))
    kinds = [e["UID"].split("-")[2].split("@")[0] for e in _events((await client.get(f"/feeds/deadlines.ics?tag={tag}")).text)]
    assert kinds == ["proposals", "review"]


async def test_one_challenges_calendar_follows_who_may_see_it(client, cast):
    tag = _unique_tag()
    draft = await _titled(client, cast, tag, "Private")
    path = f"/challenges/{draft['id']}/deadlines.ics"
    assert (await client.get(path)).status_code == 404
    for role in ("other_agency", "company"):
        await sign_in_as(client, cast["users"][role])
        assert (await client.get(path)).status_code == 404
    await sign_in_as(client, cast["users"]["agency"])
    own = await client.get(path + "?lang=en")
    assert own.status_code == 200 and "Proposals deadline: Challenge Private" in own.text
    assert "X-WR-CALNAME:Deadlines: Challenge Private" in own.text
    client.cookies.clear()

    await _publish(client, cast, draft["id"])
    public = await client.get(path + "?lang=en")
    assert public.status_code == 200 and len(_events(public.text)) == 3
    page = await client.get(f"/challenges/{draft['id']}?lang=en")
    assert f'href="/challenges/{draft["id"]}/deadlines.ics?lang=en"' in page.text
    assert 'href="/feeds/challenges.atom?category=administrative-procedures&amp;lang=en"' in page.text

    await _transition(client, cast, draft["id"], "cancelled", reason="中止")
    cancelled = _events((await client.get(path + "?lang=en")).text)
    assert {event["STATUS"] for event in cancelled} == {"CANCELLED"}
    assert cancelled[0]["SUMMARY"] == "Questions deadline: [Cancelled] Challenge Private"


def test_ical_text_is_escaped():
    assert ical.escape_text("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    assert ical.escape_text("tab\there\x07bell") == "tab\there" + "bell"


def test_ical_lines_are_folded_at_75_octets_without_splitting_characters():
    ascii_line = "SUMMARY:" + "x" * 200
    folded = ical.fold(ascii_line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert len(parts[0]) == 75 and all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == ascii_line

    japanese = "SUMMARY:" + "申請を十分以内に完了できる割合" * 10
    folded = ical.fold(japanese)
    for part in folded.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
        part.encode("utf-8").decode("utf-8")  # whole characters only
    assert folded.replace("\r\n ", "") == japanese
    assert ical.fold("SHORT:line") == "SHORT:line"


def test_ical_times_are_utc_and_need_a_zone():
    tokyo = timezone(timedelta(hours=9))
    assert ical.utc(datetime(2026, 4, 1, 0, 30, tzinfo=tokyo)) == "20260331T153000Z"
    with pytest.raises(ValueError):
        ical.utc(datetime(2026, 4, 1))


def test_a_calendar_has_crlf_lines_and_its_events():
    moment = datetime(2026, 4, 1, tzinfo=UTC)
    text = ical.calendar(
        [ical.Event(uid="u-1@h", start=moment, stamp=moment, summary="締切, 提案", url="http://h/c/1", cancelled=True,
                    categories=["子育て, 福祉"])],
        prodid="-//Kyoso//Test//EN", name="Test",
    )
    assert text.split("\r\n")[:4] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kyoso//Test//EN", "CALSCALE:GREGORIAN"]
    event = _events(text)[0]
    assert event == {
        "UID": "u-1@h", "DTSTAMP": "20260401T000000Z", "LAST-MODIFIED": "20260401T000000Z",
        "DTSTART": "20260401T000000Z", "SUMMARY": "締切\\, 提案", "TRANSP": "TRANSPARENT", "STATUS": "CANCELLED",
        "URL": "http://h/c/1", "CATEGORIES": "子育て\\, 福祉",
    }
