"""The partners' aggregates in open data and insights: counts that match `partner_figures()`, never a person."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from models.identity.orgs import Organisation
from models.insights.figures import PARTNER_SERIES, compute_snapshots
from models.partners import invitations, needs, placements, profiles
from models.partners.figures import GOAL, partner_figures
from models.partners.models import Placement
from models.partners.profiles import CONSENT_VERSION, ProfileInput, SkillClaim
from models.policy import actor_for

VALUE = re.compile(r'<desc class="value">([^<]*)</desc>')
MARK = "PFIGPERSON"  # in every partner's name: no file, catalogue entry or figure may hold it


@pytest.fixture
async def partner_world(cast, people):
    """Three partners registered through the domain: one pending, one approved, one approved and placed; the
    engagement ended with its report (days and hours worked) and the agency answered the follow-up survey."""
    operator = await actor_for(cast["users"]["operator"])
    agency = await actor_for(cast["users"]["agency"])
    persons = [await people.make() for _ in range(3)]
    partners = []
    for index, person in enumerate(persons):
        partners.append(await profiles.register(
            await actor_for(person),
            ProfileInput(name=f"{MARK} {index}", profile={"ja": f"{MARK}の経歴"}, days_per_month=4,
                         skills=[SkillClaim("data-analysis", "2020 分析"), SkillClaim("open-data", "2021 公開")]),
            consent_version=CONSENT_VERSION))
    for partner in partners[1:]:
        await profiles.transition(operator, partner, "approved", "経歴確認済み")
    need = await needs.post_need(agency, needs.NeedInput(role="data-scientist", skills=[("data-analysis", True)]))
    await needs.set_shortlist(agency, need, [partner.id for partner in partners[1:]])
    invitation = await invitations.invite(agency, need, partners[2].id)
    invitation = await invitations.get_invitation(await actor_for(persons[2]), invitation.id)
    await invitations.answer(await actor_for(persons[2]), invitation, "accepted")
    placement = await placements.get_placement(agency, (await Placement.get(invitation_id=invitation.id)).id)
    await placements.end(agency, placement, "ended", f"{MARK}が12のデータセットを公開した。", 9, 63)
    later = placements.today() + timedelta(days=placements.SURVEY_AFTER_DAYS)
    await placements.answer_survey(agency, placement, still_in_use=True, knowhow_retained=4, would_engage_again=True,
                                   comment=f"{MARK}の引き継ぎは十分", on=later)
    return {"persons": persons, "partners": partners, "agency": cast["users"]["agency"]}


def _counts(rows: list[dict]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for row in rows:
        out.setdefault(row["figure"], {})[row["key"]] = float(row["value"])
    return out


async def test_the_partners_dataset_holds_the_counts_and_no_person(client, partner_world):
    await compute_snapshots()
    figures = await partner_figures()
    assert figures["placed"] >= 1 and figures["funnel"]["placed"] >= 1  # the world is in the counts
    document = (await client.get("/data/partners.json")).json()
    counts = _counts(document["rows"])
    assert set(counts) <= set(PARTNER_SERIES)
    assert counts["partners"] == {key: float(figures[key])
                                  for key in ("registered", "approved", "placed", "placements", "goal")}
    assert counts["partners"]["goal"] == GOAL
    assert counts["partner_engagements"] == {key: float(n) for key, n in figures["engagements"].items()}
    survey = figures["survey"]
    assert counts["partner_survey"] == {
        **{key: float(survey[key]) for key in ("answered", "would_engage_again", "still_in_use", "knowhow_kept")},
        **{f"{key}_percent": float(round(100 * survey[key] / survey["answered"]))
           for key in ("would_engage_again", "still_in_use", "knowhow_kept")}}
    assert counts["partner_knowhow"] == {f"rated_{rating}": float(n) for rating, n in survey["knowhow_retained"].items()}
    assert counts["partner_funnel"] == {key: float(n) for key, n in figures["funnel"].items()}
    assert counts["partners_per_skill"] == {key: float(n) for key, n in figures["by_skill"].items()}
    assert counts["placements_per_municipality"] == {key: float(n)
                                                     for key, n in figures["placements_by_municipality"].items()}
    assert document["license"]["id"] == "CC-BY-4.0"
    names = [column["name"] for column in document["columns"]]
    assert names == ["figure", "key", "label_ja", "label_en", "value", "computed_at"]
    assert all(column["description_ja"] and column["description_en"] for column in document["columns"])
    table = await client.get("/data/partners.csv")
    assert table.status_code == 200 and table.content.startswith(b"\xef\xbb\xbf")
    assert _counts(list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))) == counts

    persons = partner_world["persons"]
    texts = [table.text, (await client.get("/data/partners.json")).text, (await client.get("/data/figures.json")).text,
             (await client.get("/data/figures.csv")).text, (await client.get("/api/v1/insights")).text,
             (await client.get("/insights")).text]
    for text in texts:
        assert MARK not in text and not any(person.email in text for person in persons)
    for partner in partner_world["partners"]:  # no partner id either: no row is keyed by one
        assert str(partner.id) not in [row["key"] for row in document["rows"]]


async def test_the_partners_dataset_is_in_the_catalogue_and_the_ckan_api(client, partner_world):
    await compute_snapshots()
    assert "partners" in (await client.get("/api/3/action/package_list")).json()["result"]
    package = (await client.get("/api/3/action/package_show?id=partners")).json()["result"]
    urls = [resource["url"] for resource in package["resources"]]
    assert any(url.endswith("/data/partners.csv") for url in urls)
    assert any(url.endswith("/data/partners.json") for url in urls)
    catalogue, page = "", 1
    while (response := await client.get(f"/data/catalog.jsonld?page={page}")).status_code == 200:  # every page
        catalogue, page = catalogue + response.text, page + 1
    assert "/data/partners.csv" in catalogue and MARK not in catalogue
    assert not [name for name in (await client.get("/api/3/action/package_list")).json()["result"]
                if name.startswith("partners-")]  # platform-wide only


def _chart_values(page: str, name: str) -> list[float]:
    section = page.split(f'id="chart-{name}"', 1)[1].split("</section>", 1)[0]
    return [float(value) for value in VALUE.findall(section.split("</svg>", 1)[0])]


async def test_the_partner_charts_hold_the_numbers_the_api_gives(client, partner_world):
    await compute_snapshots()
    body = (await client.get("/api/v1/insights")).json()
    figures = await partner_figures()
    assert {item["key"]: item["value"] for item in body["partners"]} == {
        key: figures[key] for key in ("registered", "approved", "placed", "placements", "goal")}
    assert [item["key"] for item in body["partner_funnel"]] == ["needs", "shortlisted", "invited", "placed"]
    for lang, title in (("en", "against the goal of 1,000"), ("ja", "目標（1,000人）")):
        page = (await client.get(f"/insights?lang={lang}")).text
        assert title in page
        for name in PARTNER_SERIES:
            assert body[name], name
            assert _chart_values(page, name) == [item["value"] for item in body[name]], name
            assert f'href="/insights/{name}.csv"' in page
            numbers = await client.get(f"/insights/{name}.csv")
            rows = list(csv.DictReader(io.StringIO(numbers.content.decode("utf-8-sig"))))
            assert [float(row["value"]) for row in rows] == [item["value"] for item in body[name]]
    agency = await Organisation.get(municipality_code="131041")
    scoped = (await client.get(f"/api/v1/agencies/{agency.municipality_code}/insights")).json()
    assert all(scoped[name] == [] for name in PARTNER_SERIES)  # the partners' figures are the platform's


async def test_ended_engagements_and_survey_answers_are_counted_and_a_comment_never_shown(client, partner_world):
    before = await partner_figures()
    assert before["engagements"]["ended"] >= 1 and before["engagements"]["days_worked"] >= 9
    assert before["engagements"]["hours_worked"] >= 63 and before["survey"]["answered"] >= 1
    # One more engagement ends (6 days, no hours reported) and its agency would not engage again, know-how rated 2.
    agency = await actor_for(partner_world["agency"])
    partner = partner_world["partners"][1]
    need = await needs.post_need(agency, needs.NeedInput(role="data-scientist", skills=[("data-analysis", True)]))
    invitation = await invitations.invite(agency, need, partner.id)
    person = await actor_for(partner_world["persons"][1])
    await invitations.answer(person, await invitations.get_invitation(person, invitation.id), "accepted")
    placement = await placements.get_placement(agency, (await Placement.get(invitation_id=invitation.id)).id)
    await placements.end(person, placement, "ended", "引き継ぎ資料を作成した。", 6)
    later = placements.today() + timedelta(days=placements.SURVEY_AFTER_DAYS)
    await placements.answer_survey(agency, placement, still_in_use=False, knowhow_retained=2, would_engage_again=False,
                                   on=later)
    after = await partner_figures()
    assert after["engagements"] == {"ended": before["engagements"]["ended"] + 1,
                                    "days_worked": before["engagements"]["days_worked"] + 6,
                                    "hours_worked": before["engagements"]["hours_worked"]}
    assert after["survey"]["answered"] == before["survey"]["answered"] + 1
    assert after["survey"]["would_engage_again"] == before["survey"]["would_engage_again"]
    assert after["survey"]["knowhow_kept"] == before["survey"]["knowhow_kept"]
    assert after["survey"]["knowhow_retained"][2] == before["survey"]["knowhow_retained"][2] + 1

    await compute_snapshots()
    body = (await client.get("/api/v1/insights")).json()
    survey = {item["key"]: item["value"] for item in body["partner_survey"]}
    assert survey["answered"] == after["survey"]["answered"]
    assert survey["would_engage_again_percent"] == round(100 * after["survey"]["would_engage_again"]
                                                         / after["survey"]["answered"])
    assert {item["key"]: item["value"] for item in body["partner_engagements"]} == after["engagements"]
    for lang, title in (("en", "Partner engagements ended, with the days and hours worked"),
                        ("ja", "パートナーの業務の終了件数と稼働日数・時間"),
                        ("en", "Follow-up survey: know-how kept, rated from 1 to 5")):
        page = (await client.get(f"/insights?lang={lang}")).text
        assert title in page and MARK not in page and "引き継ぎ資料" not in page
    for path in ("/api/v1/insights", "/data/partners.csv", "/data/partners.json", "/insights/partner_survey.csv"):
        text = (await client.get(path)).text
        assert MARK not in text and "引き継ぎ" not in text  # neither a report nor a survey comment
