"""A pilot end to end through the API, against real PostgreSQL (or SQLite), Redis, an arq worker and SMTP:
started from the selected proposal of a decided challenge, KPIs measured and verified (one rejected),
residents' feedback with its abuse limit, the owners choosing the evaluation's panel and weights, the end date
passing (the cron job moves it to evaluation and starts its evaluation round; the worker assigns the panel),
reviewers scoring it with the owners' rubric,
the ranking per criterion, the owners' decision, and exactly one decision e-mail to the company, with the
reviewers' scores and feedback per criterion."""

from __future__ import annotations

from datetime import timedelta

from models.core.outbox import OutboxMessage
from models.pilots.lifecycle import today
from models.pilots.models import Pilot
from models.review.models import Assignment, ReviewRound
from tests.pilot_helpers import COMPLETION, decided_world, drain_backlog
from tests.review_helpers import review
from tests.workers import run_worker_once


async def test_a_pilot_from_decision_to_adoption(client, migrated, smtp):
    await drain_backlog(migrated)
    w = await decided_world(client, migrated)
    owner, company = w.h[w.owner.id], w.h[w.kou_member.id]
    otsu = w.h[w.otsu_member.id]
    start = today() - timedelta(days=20)

    refused = await client.post("/api/v1/pilots", json={"proposal_id": w.proposals["otsu"]}, headers=owner)
    assert refused.status_code == 409  # not selected
    not_owner = await client.post("/api/v1/pilots", json={"proposal_id": w.proposals["kou"]}, headers=company)
    assert not_owner.status_code == 403
    created = await client.post("/api/v1/pilots", headers=owner, json={
        "proposal_id": w.proposals["kou"], "starts_on": start.isoformat(), "ends_on": (today() + timedelta(days=5)).isoformat()})
    assert created.status_code == 201, created.text
    pilot = created.json()
    pid = pilot["id"]
    assert pilot["status"] == "planned" and pilot["feedback_url"].startswith("/p/")
    assert [k["name"]["en"] for k in pilot["kpis"]] == ["Average wait"]  # copied from the challenge
    assert pilot["kpis"][0]["direction"] == "lower"
    again = await client.post("/api/v1/pilots", json={"proposal_id": w.proposals["kou"]}, headers=owner)
    assert again.status_code == 409  # one pilot per proposal
    assert (await client.get(f"/api/v1/pilots/{pid}")).status_code == 404  # planned: not public yet

    # Owners correct the KPIs while planned: the challenge's, plus the completion rate.
    wait = {k: pilot["kpis"][0][k] for k in ("key", "name", "unit", "baseline", "target", "direction")}
    kpis = await client.put(f"/api/v1/pilots/{pid}/kpis", headers=owner, json={"kpis": [
        wait, {**COMPLETION, "key": "completion", "direction": "higher", "is_rate": True}]})
    assert kpis.status_code == 200, kpis.text
    completion = next(k for k in kpis.json()["items"] if k["key"] == "completion")

    # Values cannot be recorded before the pilot runs; then it runs, and is public.
    early = await client.post(f"/api/v1/pilots/{pid}/kpis/{completion['id']}/measurements", headers=company,
                              json={"numerator": 1, "denominator": 10, "measured_on": start.isoformat()})
    assert early.status_code == 409
    running = await client.post(f"/api/v1/pilots/{pid}/transitions", json={"to": "running"}, headers=owner)
    assert running.status_code == 200 and running.json()["status"] == "running"
    too_late = await client.put(f"/api/v1/pilots/{pid}/kpis", headers=owner, json={"kpis": [wait]})
    assert too_late.status_code == 409 and "allowed" in too_late.json()
    assert (await client.get(f"/api/v1/pilots/{pid}")).status_code == 200

    # Measurements: bad input is a clear 4xx; a rate as two counts; one rejected; only verified ones count.
    url = f"/api/v1/pilots/{pid}/kpis/{completion['id']}/measurements"
    for bad in ({"value": 10, "measured_on": start.isoformat()},  # a rate needs its counts
                {"numerator": 11, "denominator": 10, "measured_on": start.isoformat()},
                {"numerator": 1, "denominator": 10, "measured_on": (today() + timedelta(days=1)).isoformat()},
                {"numerator": 1, "denominator": 10, "measured_on": (start - timedelta(days=1)).isoformat()},
                {"numerator": 1, "denominator": 10, "measured_on": "2026-02-30"}):
        response = await client.post(url, json=bad, headers=company)
        assert response.status_code == 422, (bad, response.text)
    nan = await client.post(url, content=b'{"numerator": NaN, "denominator": 10, "measured_on": "2026-01-01"}',
                            headers={**company, "content-type": "application/json"})
    assert nan.status_code == 400
    recorded = []
    for days, (numerator, denominator) in ((15, (300, 2000)), (10, (900, 2000)), (5, (1420, 2000))):
        response = await client.post(url, headers=company, json={
            "numerator": numerator, "denominator": denominator,
            "measured_on": (today() - timedelta(days=days)).isoformat(), "source": "予約システムのログ"})
        assert response.status_code == 201, response.text
        recorded.append(response.json())
    assert recorded[-1]["value"] == 71.0
    company_cannot = await client.post(f"/api/v1/measurements/{recorded[0]['id']}/transitions", json={"to": "verified"},
                                       headers=company)
    assert company_cannot.status_code == 403
    no_reason = await client.post(f"/api/v1/measurements/{recorded[1]['id']}/transitions", json={"to": "rejected"},
                                  headers=owner)
    assert no_reason.status_code == 422
    for measurement, to in ((recorded[0], "verified"), (recorded[1], "rejected"), (recorded[2], "verified")):
        decided = await client.post(f"/api/v1/measurements/{measurement['id']}/transitions", headers=owner,
                                    json={"to": to, "reason": "集計期間の誤り" if to == "rejected" else ""})
        assert decided.status_code == 200, decided.text
    public = (await client.get(url)).json()["items"]
    assert [m["value"] for m in public] == [15.0, 71.0]
    assert len((await client.get(url, headers=company)).json()["items"]) == 3
    assert len((await client.get(url, headers=otsu)).json()["items"]) == 2  # another company sees what the public sees
    shown = (await client.get(f"/api/v1/pilots/{pid}")).json()
    kpi = next(k for k in shown["kpis"] if k["key"] == "completion")
    assert kpi["latest"] == 71.0 and kpi["progress"] == 1.0 and kpi["on_track"] is True
    assert shown["internal_notes"] is None

    # Residents' feedback: no account; a burst over the limit from one address gets 429.
    feedback = f"/api/v1/pilots/{pid}/feedback"
    levels = [5] * 10 + [4] * 5 + [2] * 5 + [5, 5]
    answers = [await client.post(feedback, json={"satisfaction": level, "comment": "便利になった" if i == 0 else ""})
               for i, level in enumerate(levels)]
    assert [a.status_code for a in answers] == [201] * 20 + [429, 429]
    assert answers[-1].headers["content-type"] == "application/problem+json"
    assert (await client.post(feedback, json={"satisfaction": 6})).status_code == 422
    satisfaction = (await client.get(f"/api/v1/pilots/{pid}")).json()["satisfaction"]
    assert satisfaction["responses"] == 20 and satisfaction["per_level"] == {"1": 0, "2": 5, "3": 0, "4": 5, "5": 10}
    assert satisfaction["positive_share"] == 0.75
    assert (await client.get(f"/api/v1/pilots/{pid}/comments")).json()["items"] == []  # hidden until published
    [comment] = (await client.get(f"/api/v1/pilots/{pid}/comments", headers=owner)).json()["items"]
    assert (await client.patch(f"/api/v1/pilots/{pid}/comments/{comment['id']}", json={"published": True},
                               headers=owner)).status_code == 200
    assert [c["comment"] for c in (await client.get(f"/api/v1/pilots/{pid}/comments")).json()["items"]] == ["便利になった"]

    # Before the end, the owners choose the evaluation's panel and adjust its form; the company cannot.
    evaluation = await client.get(f"/api/v1/pilots/{pid}/evaluation", headers=owner)
    assert evaluation.status_code == 200, evaluation.text
    rubric = evaluation.json()["rubric"]
    assert {c["key"]: c["weight"] for c in rubric["criteria"]} == {
        "kpi_achievement": 40, "satisfaction": 20, "cost": 20, "reusability": 20}
    assert rubric["editable"] is True and evaluation.json()["started"] is False
    assert (await client.get(f"/api/v1/pilots/{pid}/evaluation", headers=company)).status_code == 403
    panel_body = {"reviewers": [r.id for r in w.reviewers[:2]], "reviews_per_subject": 2}
    assert (await client.put(f"/api/v1/pilots/{pid}/panel", json=panel_body, headers=company)).status_code == 403
    panel = await client.put(f"/api/v1/pilots/{pid}/panel", json=panel_body, headers=owner)
    assert panel.status_code == 200, panel.text
    assert [r["id"] for r in panel.json()["reviewers"]] == sorted(r.id for r in w.reviewers[:2])
    weights = {"kpi_achievement": 50, "satisfaction": 20, "cost": 20, "reusability": 10}
    form = [{"key": c["key"], "kind": "score", "label": c["label"], "weight": weights[c["key"]]}
            for c in rubric["criteria"]] + [
        {"key": f["key"], "kind": f["kind"], "label": f["label"], "required": f["required"],
         "visible_to": f["visible_to"]} for f in rubric["fields"]]
    changed = await client.put(f"/api/v1/pilots/{pid}/rubric", json={"rubric": form}, headers=owner)
    assert changed.status_code == 200, changed.text
    assert {c["key"]: c["weight"] for c in changed.json()["rubric"]["criteria"]} == weights
    early_feedback = await client.get(f"/api/v1/pilots/{pid}/evaluation/feedback", headers=company)
    assert early_feedback.status_code == 409  # nothing to tell before the owners decide

    # The end date passes: the cron job, through a real worker, moves it to evaluation (once) and starts its
    # round; the worker's drain assigns the panel (min-cost flow, conflicts checked) and mails the reviewers.
    await Pilot.filter(id=pid).update(ends_on=today() - timedelta(days=1))
    await run_worker_once(migrated, job="end_due_pilots")
    await run_worker_once(migrated, job="end_due_pilots")
    assert (await Pilot.get(id=pid)).status == "under_evaluation"
    [row] = await ReviewRound.filter(subject_kind="pilot", scope_id=pid)
    assert row.started_at is not None and row.due_at is not None
    await run_worker_once(migrated)
    assignments = await Assignment.filter(round_id=row.id).order_by("reviewer_id")
    assert [(a.subject_kind, a.subject_id, a.reviewer_id) for a in assignments] == [
        ("pilot", pid, r.id) for r in sorted(w.reviewers[:2], key=lambda r: r.id)]
    for reviewer in w.reviewers[:2]:  # each told of the assignment by one e-mail, sent
        [mail] = await OutboxMessage.filter(topic="mail", key=f"review-round:{row.id}:{reviewer.id}")
        assert mail.processed_at is not None
    late = await client.put(f"/api/v1/pilots/{pid}/rubric", json={"rubric": form}, headers=owner)
    assert late.status_code == 409  # the form is fixed once the round starts

    # The reviewers score it with the owners' form; the owners read the scores per criterion.
    mine = await client.get("/api/v1/assignments", headers=w.h[w.reviewers[0].id])
    assert [i["subject"] for i in mine.json()["items"] if i["subject"]["kind"] == "pilot"] == [{"kind": "pilot", "id": pid}]
    given = {w.reviewers[0].id: (5, 4, 3, 4), w.reviewers[1].id: (4, 4, 3, 2)}
    for assignment in assignments:
        scores = dict(zip(weights, given[assignment.reviewer_id], strict=True))
        await review(client, w.h[assignment.reviewer_id], assignment.id, scores,
                     feedback="他の自治体にも展開できる")
    ranking = await client.get(f"/api/v1/pilots/{pid}/ranking", headers=owner)
    assert ranking.status_code == 200, ranking.text
    assert ranking.json()["reviews_done"] == 2 and ranking.json()["reviews_assigned"] == 2
    assert {c["key"]: c["mean"] for c in ranking.json()["criteria"]} == {
        "kpi_achievement": 4.5, "satisfaction": 4.0, "cost": 3.0, "reusability": 3.0}
    # totals: (5·50+4·20+3·20+4·10)/5 → 86 and (4·50+4·20+3·20+2·10)/5 → 72 on 0-100 after the 1-5 scaling
    assert ranking.json()["total"] is not None
    assert (await client.get(f"/api/v1/pilots/{pid}/ranking", headers=company)).status_code == 403

    # The owners decide, with a reason; the company gets exactly one decision e-mail, with the evaluation.
    unreasoned = await client.post(f"/api/v1/pilots/{pid}/transitions", json={"to": "adopted"}, headers=owner)
    assert unreasoned.status_code == 422
    wrong = await client.post(f"/api/v1/pilots/{pid}/transitions", json={"to": "paused", "reason": "x"}, headers=owner)
    assert wrong.status_code == 409 and set(wrong.json()["allowed"]) == {"adopted", "extended", "stopped"}
    adopted = await client.post(f"/api/v1/pilots/{pid}/transitions", headers=owner,
                                json={"to": "adopted", "reason": "完了率が目標に達した"})
    assert adopted.status_code == 200 and adopted.json()["status"] == "adopted"
    await run_worker_once(migrated)
    await run_worker_once(migrated)
    decisions = [m for m in smtp.messages_to(w.kou_member.email) if "/pilots/" in m.body]
    assert len(decisions) == 1 and "完了率が目標に達した" in decisions[0].body
    assert "他の自治体にも展開できる" in decisions[0].body and "4.5" in decisions[0].body
    told = await client.get(f"/api/v1/pilots/{pid}/evaluation/feedback", headers=company)
    assert told.status_code == 200, told.text
    assert [c["mean"] for c in told.json()["criteria"]] == [4.5, 4.0, 3.0, 3.0]
    assert told.json()["feedback"] == ["他の自治体にも展開できる"] * 2
    assert all(w.reviewers[0].name not in str(c) for c in told.json()["criteria"])
    assert (await client.get(f"/api/v1/pilots/{pid}/evaluation/feedback", headers=otsu)).status_code == 403
    survey = await client.put(f"/api/v1/pilots/{pid}/survey", headers=company,
                              json={"satisfaction": 4, "answers": {"communication": 5}, "comment": "連絡が早かった"})
    assert survey.status_code == 200, survey.text
