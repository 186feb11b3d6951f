"""Pilots: charts (the SVG's plotted values are the table's), the CSV import's report, milestones and their
reminders, residents' feedback page and its per-browser limit, visibility, progress and extension."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from models.core.notifications import Notification
from models.identity.accounts import Role
from models.identity.orgs import Organisation
from models.pilots import lifecycle, measurements, milestones
from models.pilots.measurements import progress_of
from models.pilots.models import Measurement, Milestone, MilestoneReminder, Pilot, PilotKpi
from models.policy import actor_for
from tests.helpers import browser
from tests.pilot_helpers import pilot_world

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
async def pw(people):
    agency = await Organisation.get(municipality_code="131130")  # Shibuya
    company = await Organisation.create(kind="company", status="approved", name_ja=f"実証 {secrets.token_hex(3)}",
                                        name_en="Jissho KK")
    owner = await people.make(org=agency, role=Role.MEMBER)
    member = await people.make(org=company)
    outsider = await people.make(org=await Organisation.create(kind="company", status="approved", name_ja="他社", name_en="Other"))
    ids = await pilot_world({}, agency, company)
    return {"owner": owner, "member": member, "outsider": outsider, **ids}


async def _form(client, url: str, data: dict, files: dict | None = None):
    await client.get("/login")
    return await client.post(url, data={"csrftoken": client.cookies.get("csrftoken", ""), **data}, files=files)


async def _verified(pilot_id: int, kpi_id: int, *values: tuple[int, float]) -> None:
    pilot = await Pilot.get(id=pilot_id)
    for days, value in values:
        await Measurement.create(kpi_id=kpi_id, value=value, measured_on=pilot.starts_on + timedelta(days=days),
                                 status="verified")


async def test_the_kpi_chart_plots_the_numbers_of_its_table(app, pw):
    await _verified(pw["pilot_id"], pw["kpi_id"], (1, 38.0), (4, 31.5), (8, 20.0))
    async with browser(app) as client:
        page = await client.get(f"/pilots/{pw['pilot_id']}")
        svg = await client.get(f"/pilots/{pw['pilot_id']}/kpis/{pw['kpi_id']}/chart.svg")
        csv_file = await client.get(f"/pilots/{pw['pilot_id']}/kpis/{pw['kpi_id']}/values.csv")
    assert page.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    table = [float(v) for v in re.findall(r'<td class="kpi-value">([^<]+)</td>', page.text)]
    assert table == [38.0, 31.5, 20.0]
    assert "30" not in table  # the unverified value is not public
    root = ET.fromstring(svg.text)
    assert root.find(f"{SVG}script") is None  # no JavaScript needed, none linked
    overlay = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("series serie-0")]
    plotted = [float(d.text) for g in overlay for d in g.iter(f"{SVG}desc") if d.get("class") == "value"]
    assert plotted == table
    # Baseline (40) and target (20) are drawn as flat lines; the point whose value is the target sits on it.
    lines = {}
    for serie in ("serie-1", "serie-2"):
        path = next(p for g in root.iter(f"{SVG}g") if serie in (g.get("class") or "") for p in g.iter(f"{SVG}path"))
        ys = {round(float(y), 3) for y in re.findall(r"[ML][\d.]+ ([\d.]+)", path.get("d"))}
        assert len(ys) == 1
        lines[serie] = ys.pop()
    dots = [c for g in overlay for c in g.iter(f"{SVG}circle")]
    assert round(float(dots[-1].get("cy")), 3) == lines["serie-2"]  # 20.0 on the target line
    assert lines["serie-1"] < round(float(dots[0].get("cy")), 3)  # 38 plotted below the baseline 40 (SVG y grows down)
    rows = csv_file.text.strip().splitlines()
    assert rows[0].startswith("kpi,measured_on,value") and [float(r.split(",")[2]) for r in rows[1:]] == table
    assert 'alt="' in page.text and "chart.svg" in page.text


async def test_a_csv_import_reports_each_refused_row(app, pw):
    pilot = await Pilot.get(id=pw["pilot_id"])
    day = pilot.starts_on
    text = "\n".join([
        "kpi,measured_on,value,numerator,denominator,source",
        f"wait,{day.isoformat()},35,,,窓口集計",
        f"nope,{day.isoformat()},35,,,",
        f"wait,{(day - timedelta(days=1)).isoformat()},35,,,",
        "wait,2099-01-01,35,,,",
        f"wait,{day.isoformat()},inf,,,",
        f"wait,{day.isoformat()},abc,,,",
        f"wait,{(day + timedelta(days=1)).isoformat()},\"1,234\",,,",
    ])
    actor = await actor_for(pw["member"])
    report = await measurements.import_csv(actor, pilot, text)
    assert report.recorded == 2
    assert [line for line, _ in report.refused] == [3, 4, 5, 6, 7]
    assert report.refused[0][1] == "No KPI has this key."
    async with browser(app, pw["member"]) as client:
        page = await _form(client, f"/pilots/{pw['pilot_id']}/measurements.csv", {},
                           files={"file": ("values.csv", text.encode(), "text/csv")})
        assert page.status_code == 200 and "3行目" in page.text and "このキーのKPIはありません。" in page.text
        broken = await _form(client, f"/pilots/{pw['pilot_id']}/measurements.csv", {},
                             files={"file": ("values.csv", b"\xff\xfe", "text/csv")})
        assert broken.status_code == 400


async def test_milestones_done_accepted_returned_and_reminded_once(app, pw, migrated):
    owner, company = await actor_for(pw["owner"]), await actor_for(pw["member"])
    pilot = await Pilot.get(id=pw["pilot_id"])
    milestone = await Milestone.get(id=pw["milestone_id"])
    with pytest.raises(Exception) as refused:
        await milestones.transition(company, milestone, pilot, "done")  # evidence needed
    assert refused.value.status == 422
    await milestones.transition(company, milestone, pilot, "done", note="要件定義書を提出")
    await milestones.transition(owner, milestone, pilot, "returned", note="非機能要件が不足")
    visitor = await actor_for(None)
    assert await milestones.milestones_of(visitor, pilot) == []  # returned: not public
    assert [m.id for m in await milestones.milestones_of(company, pilot)] == [milestone.id]
    await milestones.transition(company, milestone, pilot, "done", note="追記しました")
    await milestones.transition(owner, milestone, pilot, "accepted")
    assert (await Milestone.get(id=milestone.id)).status == "accepted"

    # Reminders, on the job's own day: one 3 days before, one once overdue, each once.
    due = await milestones.add_milestone(owner, pilot, "中間報告", lifecycle.today() + timedelta(days=2))

    async def moments() -> list[str]:
        return sorted(await MilestoneReminder.filter(milestone_id=due.id).values_list("moment", flat=True))

    await milestones.send_reminders()
    await milestones.send_reminders()  # never twice
    assert await moments() == ["before"]
    await Milestone.filter(id=due.id).update(due_on=lifecycle.today() - timedelta(days=1))
    await milestones.send_reminders()  # overdue: its own moment
    await milestones.send_reminders()
    assert await moments() == ["before", "overdue"]
    reminded = await Notification.filter(user_id=pw["member"].id, kind="milestone.reminder").values_list("payload", flat=True)
    assert sorted(p["moment"] for p in reminded if p["milestone"] == due.id) == ["before", "overdue"]


async def test_residents_answer_without_an_account_and_the_browser_limit_holds(app, pw):
    code = pw["pilot_code"]
    async with browser(app) as client:
        page = await client.get(f"/p/{code}")
        assert page.status_code == 200 and "kyoso_resident" in client.cookies
        assert "name=\"email\"" not in page.text
        statuses = [(await _form(client, f"/p/{code}", {"satisfaction": "5", "comment": "早くなった"})).status_code
                    for _ in range(4)]
        assert statuses == [303, 303, 303, 429]
        no_csrf = await client.post(f"/p/{code}", data={"satisfaction": "5"})
        assert no_csrf.status_code == 403
        qr = await client.get(f"/pilots/{pw['pilot_id']}/qr.svg")
        assert qr.status_code == 200 and ET.fromstring(qr.text).tag == f"{SVG}svg"
        bars = await client.get(f"/pilots/{pw['pilot_id']}/satisfaction.svg")
        values = [float(d.text) for d in ET.fromstring(bars.text).iter(f"{SVG}desc") if d.get("class") == "value"]
        assert values == [0, 0, 0, 1, 3]
        public = await client.get(f"/pilots/{pw['pilot_id']}")
        assert "早くなった" not in public.text and "行列のコメント" not in public.text  # hidden until published
    async with browser(app, pw["owner"]) as client:
        owned = await client.get(f"/pilots/{pw['pilot_id']}")
        assert "行列のコメント" in owned.text


async def test_visibility_of_a_planned_pilot_and_of_unverified_values(app, pw, client):
    await Pilot.filter(id=pw["pilot_id"]).update(status="planned")
    assert (await client.get(f"/api/v1/pilots/{pw['pilot_id']}")).status_code == 404
    async with browser(app, pw["outsider"]) as other:
        assert (await other.get(f"/pilots/{pw['pilot_id']}")).status_code == 404
    async with browser(app, pw["member"]) as mine:
        page = await mine.get(f"/pilots/{pw['pilot_id']}")
        assert page.status_code == 200
    listed = (await client.get("/api/v1/pilots")).json()["items"]
    assert pw["pilot_id"] not in [p["id"] for p in listed]
    await Pilot.filter(id=pw["pilot_id"]).update(status="running")
    async with browser(app, pw["outsider"]) as other:
        page = await other.get(f"/pilots/{pw['pilot_id']}")
        assert page.status_code == 200 and "All recorded values" not in page.text and "記録されたすべての値" not in page.text
    values = (await client.get(f"/api/v1/pilots/{pw['pilot_id']}/kpis/{pw['kpi_id']}/measurements")).json()["items"]
    assert values == []


def test_progress_works_for_lower_is_better():
    kpi = PilotKpi(baseline=40.0, target=20.0, direction="lower")
    assert progress_of(kpi, 30.0) == 0.5
    assert progress_of(kpi, 45.0) == -0.25
    rate = PilotKpi(baseline=7.0, target=71.0, direction="higher")
    assert progress_of(rate, 71.0) == 1.0
    assert progress_of(PilotKpi(baseline=None, target=20.0), 30.0) is None


async def test_extending_sets_a_new_end_date_and_runs_again(app, pw):
    owner = await actor_for(pw["owner"])
    pilot = await Pilot.get(id=pw["pilot_id"])
    await lifecycle.transition(owner, pilot, "under_evaluation", reason="")
    with pytest.raises(Exception) as refused:
        await lifecycle.transition(owner, pilot, "extended", reason="もう少し", ends_on=pilot.ends_on)
    assert refused.value.status == 422
    new_end = pilot.ends_on + timedelta(days=60)
    await lifecycle.transition(owner, pilot, "extended", reason="冬季も測定したい", ends_on=new_end)
    again = await Pilot.get(id=pilot.id)
    assert again.status == "running" and again.ends_on == new_end
    paused = await lifecycle.transition(owner, again, "paused", reason="システム更新")
    assert paused.status == "paused"
    assert lifecycle.allowed_transitions(owner, paused) == ["running", "stopped"]


async def test_owners_plan_a_pilot_from_the_challenge_page_and_it_is_listed(app, pw):
    from models.proposals.models import Proposal

    pilot = await Pilot.get(id=pw["pilot_id"]).prefetch_related("challenge")
    other = await Proposal.create(challenge_id=pilot.challenge_id, company_id=(await pw["outsider"].memberships.all())[0].organisation_id,
                                  status="selected", title="二つ目の実証案")
    async with browser(app, pw["owner"]) as client:
        page = await client.get(f"/challenges/{pilot.challenge_id}")
        assert page.status_code == 200 and "二つ目の実証案" in page.text and f"/pilots/{pilot.id}" in page.text
        started = await _form(client, "/pilots", {"proposal_id": str(other.id)})
        assert started.status_code == 303
        new = await Pilot.get(proposal_id=other.id)
        assert started.headers["location"] == f"/pilots/{new.id}"
        assert new.status == "planned" and new.ends_on > new.starts_on
        agency_page = await client.get(f"/agencies/{pilot.owner_id}")
        assert f"/pilots/{pilot.id}" in agency_page.text and f"/pilots/{new.id}" in agency_page.text
    async with browser(app) as visitor:
        agency_page = await visitor.get(f"/agencies/{pilot.owner_id}")
        assert f"/pilots/{pilot.id}" in agency_page.text and f"/pilots/{new.id}\"" not in agency_page.text  # planned
    async with browser(app, pw["member"]) as client:
        company_page = await client.get(f"/organisations/{pilot.company_id}")
        assert f"/pilots/{pilot.id}" in company_page.text


async def test_internal_notes_are_for_the_company_the_owners_and_operators(pw, client, people):
    owner, member = await people.token(pw["owner"]), await people.token(pw["member"])
    outsider = await people.token(pw["outsider"])
    url = f"/api/v1/pilots/{pw['pilot_id']}"
    saved = await client.patch(url, json={"internal_notes": "予算の再配分を検討中"}, headers=owner)
    assert saved.status_code == 200 and saved.json()["internal_notes"] == "予算の再配分を検討中"
    assert (await client.patch(url, json={"internal_notes": "x"}, headers=outsider)).status_code == 403
    assert (await client.get(url, headers=member)).json()["internal_notes"] == "予算の再配分を検討中"
    assert (await client.get(url, headers=outsider)).json()["internal_notes"] is None
    assert (await client.get(url)).json()["internal_notes"] is None


async def test_the_pilot_list_refuses_filters_that_cannot_match_with_a_422(client):
    for query in ("status=" + "0" * 32, "agency=99999999999", "status=running&company=0"):
        response = await client.get(f"/api/v1/pilots?{query}")
        assert response.status_code == 422, (query, response.status_code)


async def test_open_data_lists_public_pilots_with_their_verified_values_only(client, pw):
    from datetime import date

    from models.challenges.models import Challenge
    from models.proposals.models import Proposal

    pilot = await Pilot.get(id=pw["pilot_id"])
    day = pilot.starts_on + timedelta(days=2)
    await Measurement.create(kpi_id=pw["kpi_id"], value=25, measured_on=day, status="verified", source="窓口の記録")
    await Measurement.create(kpi_id=pw["kpi_id"], value=99, measured_on=day, status="rejected", reason="誤り")
    challenge = await Challenge.get(id=pilot.challenge_id)
    rival = await Organisation.create(kind="company", status="approved", name_ja=f"計画 {secrets.token_hex(3)}")
    other = await Proposal.create(challenge=challenge, company=rival, status="selected", title="計画中")
    planned = await Pilot.create(challenge=challenge, proposal=other, company=rival, owner_id=pilot.owner_id,
                                 agency_ids=[pilot.owner_id], starts_on=date(2027, 1, 1), ends_on=date(2027, 6, 30),
                                 short_code=f"q{other.id}")
    planned_kpi = await PilotKpi.create(pilot=planned, key="plan", name={"ja": "計画中のKPI"}, baseline=1, target=2)
    await Measurement.create(kpi=planned_kpi, value=1.5, measured_on=date(2027, 1, 2), status="verified")

    code = (await Organisation.get(id=pilot.owner_id)).municipality_code
    response = await client.get(f"/data/pilots-{code}.json")
    assert response.status_code == 200, response.text
    rows = [r for r in response.json()["rows"] if r["pilot_id"] in (pilot.id, planned.id)]
    assert [(r["pilot_id"], r["kpi"], r["value"], r["measured_on"], r["source"]) for r in rows] == [
        (pilot.id, "wait", 25.0, day.isoformat(), "窓口の記録")]  # not the unverified 30, the rejected 99, the planned pilot
    assert rows[0]["direction"] == "lower" and rows[0]["baseline"] == 40 and rows[0]["url"] == f"/pilots/{pilot.id}"
    csv = (await client.get("/data/pilots.csv")).content.decode("utf-8-sig")
    assert "窓口の記録" in csv and "計画中のKPI" not in csv and "誤り" not in csv


async def test_a_co_owner_lists_its_planned_pilot_and_another_agency_does_not(client, pw, people):
    pilot = await Pilot.get(id=pw["pilot_id"])
    co_owner = await Organisation.get(municipality_code="131016")  # Chiyoda takes part
    await Pilot.filter(id=pilot.id).update(status="planned", agency_ids=[pilot.owner_id, co_owner.id])
    partner = await people.token(await people.make(org=co_owner))
    stranger = await people.token(await people.make(org=await Organisation.get(municipality_code="131024")))
    listed = (await client.get("/api/v1/pilots", headers=partner)).json()["items"]
    assert pilot.id in [p["id"] for p in listed]
    assert (await client.get(f"/api/v1/pilots/{pilot.id}", headers=partner)).status_code == 200
    assert pilot.id not in [p["id"] for p in (await client.get("/api/v1/pilots", headers=stranger)).json()["items"]]
    assert (await client.get(f"/api/v1/pilots/{pilot.id}", headers=stranger)).status_code == 404


async def test_a_milestone_is_marked_done_with_an_evidence_file_seen_only_with_the_evidence(app, pw, client, people):
    from models.challenges.models import Attachment
    from tests.helpers import pdf

    mid, pid = pw["milestone_id"], pw["pilot_id"]
    async with browser(app, pw["member"]) as company:
        # Not a kind of file that can be attached: the page again with the message, nothing changed.
        refused = await _form(company, f"/milestones/{mid}/transitions?lang=en", {"to": "done", "note": "報告書"},
                              files={"file": ("run.exe", b"MZ\x00\x01\x02", "application/octet-stream")})
        assert refused.status_code == 400 and "This kind of file cannot be attached" in refused.text
        assert (await Milestone.get(id=mid)).status == "planned"
        done = await _form(company, f"/milestones/{mid}/transitions", {"to": "done", "note": "要件定義書を提出"},
                           files={"file": ("要件定義書.pdf", pdf(b"% evidence one\n"), "application/pdf")})
        assert done.status_code == 303
        milestone = await Milestone.get(id=mid)
        file = await Attachment.get(id=milestone.evidence_file_id)
        assert milestone.status == "done" and file.challenge_id is None and file.filename == "要件定義書.pdf"
        page = await company.get(f"/pilots/{pid}")
        assert f'href="/milestones/{mid}/evidence"' in page.text
        download = await company.get(f"/milestones/{mid}/evidence")
        assert download.status_code == 200 and download.content == pdf(b"% evidence one\n")
        assert download.headers["content-type"] == "application/pdf" and "private" in download.headers["cache-control"]
    async with browser(app, pw["owner"]) as owner:
        assert (await owner.get(f"/milestones/{mid}/evidence")).status_code == 200
    # Everyone else: no link, no file, not through the challenges' attachment route either.
    async with browser(app, pw["outsider"]) as other:
        assert f"/milestones/{mid}/evidence" not in (await other.get(f"/pilots/{pid}")).text
        assert (await other.get(f"/milestones/{mid}/evidence")).status_code == 404
        assert (await other.get(f"/attachments/{file.id}")).status_code == 404
    assert (await client.get(f"/milestones/{mid}/evidence")).status_code == 404
    public = (await client.get(f"/api/v1/pilots/{pid}/milestones")).json()["items"]
    assert [m["evidence_file_url"] for m in public if m["id"] == mid] == [None]

    # Returned, then done again through the API with another file: the new file is the evidence.
    await milestones.transition(await actor_for(pw["owner"]), milestone, await Pilot.get(id=pid), "returned", note="不足")
    api = f"/api/v1/milestones/{mid}/evidence"
    owner_headers = await people.token(pw["owner"])
    assert (await client.post(api, data={"note": "x"}, files={"file": ("a.pdf", pdf())}, headers=owner_headers)).status_code == 403
    company_headers = await people.token(pw["member"])
    no_file = await client.post(api, data={"note": "追記"}, headers=company_headers)
    assert no_file.status_code == 422
    sent = await client.post(api, data={"note": "追記しました"}, headers=company_headers,
                             files={"file": ("report.txt", "非機能要件を追記".encode(), "text/plain")})
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "done" and body["evidence"] == "追記しました"
    assert body["evidence_file_url"] == f"/milestones/{mid}/evidence"
    async with browser(app, pw["member"]) as company:
        assert (await company.get(f"/milestones/{mid}/evidence")).content == "非機能要件を追記".encode()
    again = await client.post(api, data={"note": "二度目"}, headers=company_headers, files={"file": ("a.pdf", pdf())})
    assert again.status_code == 409  # done already: not again until returned

    # A file of a few megabytes (over the limit of a plain form, under the attachments' 20 MB) goes through the page.
    await milestones.transition(await actor_for(pw["owner"]), await Milestone.get(id=mid), await Pilot.get(id=pid),
                                "returned", note="写真を")
    big = pdf(b"%" + b"x" * (3 * 1024 * 1024) + b"\n")
    async with browser(app, pw["member"]) as company:
        sent_big = await _form(company, f"/milestones/{mid}/transitions", {"to": "done", "note": "写真付き"},
                               files={"file": ("photos.pdf", big, "application/pdf")})
        assert sent_big.status_code == 303
        assert (await company.get(f"/milestones/{mid}/evidence")).content == big


async def test_the_pilots_feed_holds_public_pilots_with_verified_values_only(app, pw, client):
    agency = await Organisation.get(municipality_code="131130")
    other = await Organisation.create(kind="company", status="approved", name_ja="計画中社", name_en="Planned KK")
    planned = await pilot_world({}, agency, other)
    await Pilot.filter(id=planned["pilot_id"]).update(status="planned")
    await _verified(pw["pilot_id"], pw["kpi_id"], (2, 33.25))  # the world's unverified 30 stays out
    response = await client.get("/feeds/pilots.atom?lang=en")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    atom_ns = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(response.content)
    entries = {(e.findtext(f"{atom_ns}id") or "").rsplit("/pilots/", 1)[-1]: e for e in root.iter(f"{atom_ns}entry")}
    running = entries[str(pw["pilot_id"])]
    summary = running.findtext(f"{atom_ns}summary") or ""
    assert "33.25min" in summary and "30min" not in summary and "Status: Running" in summary
    assert str(planned["pilot_id"]) not in entries
    assert "/feeds/pilots.atom?lang=" in (await client.get("/pilots")).text


async def test_the_pilots_feed_does_not_grow_with_its_pilots(app, pw, client, queries):
    agency = await Organisation.get(municipality_code="131130")
    company = await Organisation.create(kind="company", status="approved", name_ja="件数社", name_en="Count KK")
    counts = []
    for more in (2, 4):  # 2 pilots, then 6
        for _ in range(more):
            made = await pilot_world({}, agency, company)
            await _verified(made["pilot_id"], made["kpi_id"], (1, 25.5))
        with queries() as log:
            response = await client.get("/feeds/pilots.atom?lang=en")
        assert response.status_code == 200
        counts.append(log.count)
    assert response.text.count(": 25.5min") >= 6  # each new pilot's verified value, read in the batch
    assert counts[0] == counts[1], str(log)
