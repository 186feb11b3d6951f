"""A pilot's evaluation round on the pages: the owners choose the panel and the weights (until the round
starts), the reviewers score the pilot on the review form (as for proposals), the owners read the scores per
criterion, and the company reads the feedback once the owners have decided, never before."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from models.identity.accounts import Role
from models.identity.orgs import Organisation
from models.pilots import lifecycle
from models.pilots.lifecycle import today
from models.pilots.models import Pilot
from models.review import reminders, rounds
from models.review.models import Assignment, ReminderSent, ReviewRound
from tests.helpers import browser
from tests.pilot_helpers import pilot_world


@pytest.fixture
async def ew(people):
    agency = await Organisation.get(municipality_code="131130")  # Shibuya
    company = await Organisation.create(kind="company", status="approved", name_ja=f"評価 {secrets.token_hex(3)}",
                                        name_en="Hyoka KK")
    ids = await pilot_world({}, agency, company)
    return {"owner": await people.make(org=agency, role=Role.MEMBER), "member": await people.make(org=company),
            "insider": await people.make(org=company, reviewer=True),  # works for the company: never assigned
            "reviewers": [await people.make(reviewer=True) for _ in range(2)],
            "operator": await people.make(operator=True), **ids}


async def _post(client, url: str, data: dict | list):
    await client.get("/login")
    items = list(data.items()) if isinstance(data, dict) else list(data)
    body = urlencode([("csrftoken", client.cookies.get("csrftoken", "")), *items])  # repeated names kept
    return await client.post(url, content=body, headers={"content-type": "application/x-www-form-urlencoded"})


async def _end(pilot_id: int) -> ReviewRound:
    """The end date passes and the job moves the pilot to evaluation; the round's assignment runs (the worker's
    part, run here directly: the flow test runs it through a real worker)."""
    await Pilot.filter(id=pilot_id).update(ends_on=today() - timedelta(days=1))
    assert pilot_id in await lifecycle.end_due()
    row = await ReviewRound.get(subject_kind="pilot", scope_id=pilot_id)
    await rounds.run_round(row.id)
    await row.refresh_from_db()
    return row


async def test_owners_set_the_panel_and_weights_reviewers_score_and_the_company_reads_the_feedback(app, ew):
    pid = ew["pilot_id"]
    panel = [ew["insider"], *ew["reviewers"]]
    async with browser(app, ew["owner"]) as owner:
        page = await owner.get(f"/pilots/{pid}")
        assert f"/pilots/{pid}/evaluation" in page.text
        page = await owner.get(f"/pilots/{pid}/evaluation")
        assert page.status_code == 200 and 'name="weight-kpi_achievement"' in page.text
        bad = await _post(owner, f"/pilots/{pid}/panel", [("reviews_per_subject", "0")])
        assert bad.status_code == 400
        saved = await _post(owner, f"/pilots/{pid}/panel",
                            [*(("reviewers", str(u.id)) for u in panel), ("reviews_per_subject", "2")])
        assert saved.status_code == 303, saved.text
        weights = {"kpi_achievement": "40", "satisfaction": "30", "cost": "20", "reusability": "20"}  # 110
        refused = await _post(owner, f"/pilots/{pid}/rubric", {f"weight-{k}": v for k, v in weights.items()})
        assert refused.status_code == 400 and 'role="alert"' in refused.text
        weights["reusability"] = "10"
        assert (await _post(owner, f"/pilots/{pid}/rubric", {f"weight-{k}": v for k, v in weights.items()})).status_code == 303
        page = await owner.get(f"/pilots/{pid}/evaluation")
        assert all(f'id="reviewer-{u.id}" name="reviewers" value="{u.id}" checked' in page.text for u in panel)
        assert "banner--success" in page.text and "審査票を保存しました。" in page.text  # a banner, not ?saved=rubric

    row = await _end(pid)
    assignments = await Assignment.filter(round_id=row.id).order_by("reviewer_id")
    assert sorted(a.reviewer_id for a in assignments) == sorted(u.id for u in ew["reviewers"])  # not the insider

    async with browser(app, ew["owner"]) as owner:
        assert (await _post(owner, f"/pilots/{pid}/rubric", {"weight-cost": "20"})).status_code == 409
        assert 'name="weight-kpi_achievement"' not in (await owner.get(f"/pilots/{pid}/evaluation")).text
    async with browser(app, ew["member"]) as company:
        early = await company.get(f"/pilots/{pid}/evaluation/feedback")
        assert early.status_code == 409 and "<table>" not in early.text
        assert (await company.get(f"/pilots/{pid}/evaluation")).status_code == 403

    # The round's reminders: past its due date each reviewer is reminded once, whatever the job's runs.
    late = row.due_at + timedelta(hours=1)
    await reminders.send_reminders(late)
    await reminders.send_reminders(late)  # other tests' assignments may be reminded too: count only ours
    assert await ReminderSent.filter(assignment_id__in=[a.id for a in assignments], moment="overdue").count() == 2

    given = {ew["reviewers"][0].id: ("5", "4", "3", "4"), ew["reviewers"][1].id: ("4", "4", "3", "2")}
    for assignment in assignments:
        reviewer = next(u for u in ew["reviewers"] if u.id == assignment.reviewer_id)
        async with browser(app, reviewer) as client:
            form = await client.get(f"/reviews/{assignment.id}")
            assert form.status_code == 200, form.text
            assert f'href="/pilots/{pid}"' in form.text
            assert len(re.findall(r'name="score-kpi_achievement"', form.text)) == 5
            assert "KPIの達成度" in form.text or "KPI achievement" in form.text
            data = {f"score-{k}": v for k, v in zip(weights, given[reviewer.id], strict=True)}
            data |= {"comment-cost": "費用は妥当", "strengths": "住民に好評", "feedback": "他の自治体にも勧めたい",
                     "confidence": "4", "no_conflict": "yes", "action": "submit", "confirm": "1"}
            submitted = await _post(client, f"/reviews/{assignment.id}", data)
            assert submitted.status_code == 303, submitted.text
    async with browser(app, ew["reviewers"][0]) as client:  # once in, a reviewer reads the other review
        assert "住民に好評" in (await client.get(f"/reviews/{assignments[0].id}")).text

    async with browser(app, ew["owner"]) as owner:
        page = await owner.get(f"/pilots/{pid}/evaluation")
        assert "4.5" in page.text and "5, 4" in page.text  # KPI achievement: mean and scores
        decided = await _post(owner, f"/pilots/{pid}/transitions", {"to": "adopted", "reason": "目標を達成"})
        assert decided.status_code == 303
    async with browser(app, ew["member"]) as company:
        assert f"/pilots/{pid}/evaluation/feedback" in (await company.get(f"/pilots/{pid}")).text
        told = await company.get(f"/pilots/{pid}/evaluation/feedback")
        assert told.status_code == 200 and "費用は妥当" in told.text and "他の自治体にも勧めたい" in told.text
        assert "住民に好評" not in told.text  # written for the panel, not the company
        assert all(u.name not in told.text for u in ew["reviewers"])


async def test_a_pilot_stopped_before_its_evaluation_has_an_empty_feedback_for_its_company(client, ew, people):
    pid = ew["pilot_id"]
    company = await people.token(ew["member"])
    assert (await client.get(f"/api/v1/pilots/{pid}/evaluation/feedback", headers=company)).status_code == 409
    stopped = await client.post(f"/api/v1/pilots/{pid}/transitions", headers=await people.token(ew["owner"]),
                                json={"to": "stopped", "reason": "予算の都合"})
    assert stopped.status_code == 200, stopped.text
    told = await client.get(f"/api/v1/pilots/{pid}/evaluation/feedback", headers=company)
    assert told.status_code == 200, told.text
    assert told.json()["total"] is None and told.json()["feedback"] == [] and told.json()["reason"] == "予算の都合"
    assert all(c["scores"] == [] for c in told.json()["criteria"])
