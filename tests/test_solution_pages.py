"""Solutions' pages in Japanese and English: the catalogue finds a published solution (never a draft), a
solution's page says who uses it, an agency adopts it through the form (bad input is a message, not a 500),
the agency's adoptions page lists it, the challenge page offers it with "adopt instead", and the Atom feed and
the open dataset carry published solutions only."""

from __future__ import annotations

import csv
import io

from models.challenges.models import Challenge
from models.solutions import adoptions, catalogue
from models.solutions.adoptions import AdoptionInput
from models.solutions.models import Solution
from tests.helpers import browser
from tests.pilot_helpers import drain_backlog
from tests.solution_helpers import published_solution_world

TOPICS = ("solution_search", "pilot_adopted")


async def _form(client, url: str, data: dict):
    await client.get("/login")
    return await client.post(url, data={"csrftoken": client.cookies.get("csrftoken", ""), **data})


async def test_the_catalogue_and_a_solution_page_in_both_languages(app, people, settings):
    w = await published_solution_world(people)
    solution = await Solution.get(id=w.solution_id)
    await adoptions.adopt(w.actors[0], solution, AdoptionInput(status="live", scale=12_000))
    draft, _ = await catalogue.draft_from_pilot(w.owner, w.pilot_id)  # the same one: one per pilot
    assert draft.id == solution.id
    await drain_backlog(settings, TOPICS)
    async with browser(app) as client:
        ja = await client.get("/solutions?q=窓口予約&lang=ja")
        en = await client.get("/solutions?q=Counter+booking&lang=en")
        page_ja = await client.get(f"/solutions/{solution.id}?lang=ja")
        page_en = await client.get(f"/solutions/{solution.id}?lang=en")
        bad = await client.get("/solutions?per_page=100000&lang=en")
    assert ja.status_code == 200 and f'href="/solutions/{solution.id}"' in ja.text and "解決策カタログ" in ja.text
    assert en.status_code == 200 and f'href="/solutions/{solution.id}"' in en.text and "Counter booking system" in en.text
    assert "2団体で利用中" in page_ja.text and "新宿区" in page_ja.text and "渋谷区" in page_ja.text
    assert "Used by 2 municipalities" in page_en.text and "Shinjuku City" in page_en.text
    assert "¥480,000" in page_en.text and "40" in page_en.text and "22" in page_en.text  # cost, baseline → latest
    assert bad.status_code == 422


async def test_an_agency_adopts_through_the_form_and_sees_it_on_its_page(app, people, settings):
    w = await published_solution_world(people)
    adopter = w.users["adopter1"]
    async with browser(app, adopter) as client:  # type: ignore[arg-type]
        form = await client.get(f"/solutions/{w.solution_id}/adopt?lang=en")
        assert form.status_code == 200 and "Record our adoption" in form.text
        wrong = await _form(client, f"/solutions/{w.solution_id}/adoptions", {"status": "live", "scale": "-5", "yearly_cost_yen": "abc"})
        assert wrong.status_code == 400 and "whole number of yen" in wrong.text
        done = await _form(client, f"/solutions/{w.solution_id}/adoptions", {"status": "contracted", "scale": "30000",
                                                                             "yearly_cost_yen": "450,000", "starts_on": "2027-04-01"})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/solutions/{w.solution_id}"  # a banner, not ?notice=
        shown = await client.get(done.headers["location"])
        assert 'class="banner banner--success"' in shown.text
        assert "The company and the agencies that ran the pilot have been told." in shown.text
        again = await _form(client, f"/solutions/{w.solution_id}/adoptions", {"status": "live"})
        assert again.status_code == 409 and "already stated" in again.text
    async with browser(app) as client:
        agency = await client.get("/agencies/131121/adoptions?lang=en")
        missing = await client.get("/agencies/999999/adoptions?lang=en")
    assert agency.status_code == 200 and "Counter booking system" in agency.text and "Contracted" in agency.text
    assert missing.status_code == 404
    from tortoise import timezone

    from models.solutions.models import Adoption

    await Adoption.filter(solution_id=w.solution_id, agency_id=w.agencies[1].id).update(
        status="live", last_confirmed_at=timezone.now().replace(year=2020), stale=True)
    async with browser(app, w.users["operator"]) as client:  # type: ignore[arg-type]
        console = await client.get("/solutions?lang=en")
    assert "Adoptions to re-confirm this year" in console.text and "Setagaya City" in console.text


async def test_a_similar_challenge_shows_the_solution_with_adopt_instead(app, people):
    w = await published_solution_world(people)
    solution = await Solution.get(id=w.solution_id).prefetch_related("challenge")
    other = await Challenge.create(owner=w.agencies[2], title={"ja": "窓口の待ち時間を減らしたい", "en": "Shorter waits at the counter"},
                                   category_id=solution.challenge.category_id, status="published", tags=["窓口"])
    from tortoise import timezone

    await Challenge.filter(id=other.id).update(published_at=timezone.now())
    async with browser(app) as client:
        page = await client.get(f"/challenges/{other.id}?lang=en")
    assert "Adopted solutions to a similar problem" in page.text
    assert f'href="/solutions/{w.solution_id}/adopt"' in page.text and "Adopt instead" in page.text


async def test_the_feed_and_the_dataset_carry_published_solutions_only(app, people):
    w = await published_solution_world(people)
    from tests.solution_helpers import adopted_pilot_world

    other = await adopted_pilot_world(people)
    draft, _ = await catalogue.draft_from_pilot(other.owner, other.pilot_id)
    await catalogue.update_solution(other.owner, draft, {"title": {"ja": "下書きの解決策", "en": "A draft solution"}})
    async with browser(app) as client:
        feed = await client.get("/feeds/solutions.atom?lang=en")
        data = await client.get("/data/solutions.csv")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert f"/solutions/{w.solution_id}" in feed.text and "A draft solution" not in feed.text
    assert data.status_code == 200, data.text
    rows = list(csv.DictReader(io.StringIO(data.text.lstrip("\ufeff"))))
    ours = [r for r in rows if r["solution_id"] == str(w.solution_id)]
    assert ours and ours[0]["title_en"] == "Counter booking system" and ours[0]["yearly_cost_yen"] == "480000"
    assert ours[0]["municipality_codes"] == "131130" and ours[0]["spec_shareable"] == "true"
    assert str(draft.id) not in [r["solution_id"] for r in rows]
