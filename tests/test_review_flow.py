"""The review workflow end to end, through the API, against real PostgreSQL (or SQLite), Redis, an arq worker
and an SMTP server: closing, assignment without conflicts, scoring, reminders, ranking, decisions and the
one decision e-mail per company; and an assignment run killed mid-write that ends as an uninterrupted one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta

from arq import create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from tortoise import timezone

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge, Criterion
from models.core.notifications import Notification
from models.core.outbox import OutboxMessage
from models.identity.accounts import Membership, User
from models.identity.orgs import Category, Organisation
from models.policy import VISITOR
from models.proposals.models import Proposal
from models.review.models import Assignment, Conflict, PanelMember, ReminderSent, Review
from models.review.scoring import review_total
from server.routes.reviews import detail_context
from server.templating import environment
from tests.helpers import COMPLETE, REPO_ROOT
from tests.review_helpers import (
    RUN,
    agency,
    company,
    headers,
    open_challenge,
    pass_deadline,
    person,
    review,
    run_job,
    scores_for,
    submit,
)
from tests.workers import run_worker_once

# --- the whole flow ------------------------------------------------------------------------------


async def test_the_review_flow_from_closing_to_one_decision_mail_per_company(client, migrated, smtp):
    owner = await person("owner", org=await agency(), locale="en")
    operator = await person("operator", operator=True)
    kou, otsu, hei = await company(f"甲株式会社 {RUN}"), await company(f"乙合同会社 {RUN}"), await company(f"丙 {RUN}")
    kou_member = await person("kou", org=kou, domain=f"kou-{RUN}.co.jp", locale="en")
    otsu_member = await person("otsu", org=otsu, locale="ja")
    hei_member = await person("hei", org=hei)
    # r1 works where Kou's member works (same e-mail domain): a detected conflict with Kou.
    r1 = await person("r1", reviewer=True, domain=f"kou-{RUN}.co.jp", expertise=["窓口"])
    r2 = await person("r2", reviewer=True, expertise=["予約", "窓口"])
    r3 = await person("r3", reviewer=True, expertise=["administrative-procedures"])
    r4 = await person("r4", reviewer=True)
    reviewers = {r.id: r for r in (r1, r2, r3, r4)}
    h = {u.id: await headers(u) for u in (owner, operator, kou_member, otsu_member, hei_member, *reviewers.values())}

    challenge = await open_challenge(client, h[owner.id], h[operator.id])
    cid = challenge["id"]
    panel = await client.put(f"/api/v1/challenges/{cid}/panel", headers=h[owner.id],
                             json={"reviewers": sorted(reviewers), "reviews_per_proposal": 2, "max_per_reviewer": 2})
    assert panel.status_code == 200, panel.text
    assert [r["id"] for r in panel.json()["reviewers"]] == sorted(reviewers)
    assert (await client.get(f"/api/v1/challenges/{cid}/panel", headers=h[kou_member.id])).status_code == 403

    # r2 declares a conflict with Otsu (she advised them).
    declared = await client.post("/api/v1/conflicts", headers=h[r2.id],
                                 json={"kind": "advised", "organisation_id": otsu.id, "note": "2024年に助言"})
    assert declared.status_code == 201, declared.text

    kou_proposal = await submit(client, h[kou_member.id], cid, title="甲の予約システム")
    otsu_proposal = await submit(client, h[otsu_member.id], cid, title="乙の呼び出し通知")
    hei_draft = (await client.post(f"/api/v1/challenges/{cid}/proposals", json={**COMPLETE, "title": "丙の案"},
                                   headers=h[hei_member.id])).json()

    await pass_deadline(cid)
    late = await client.post(f"/api/v1/proposals/{hei_draft['id']}/transitions", json={"to": "submitted"},
                             headers=h[hei_member.id])
    assert late.status_code == 409 and late.json()["detail"].startswith("The deadline was")
    revised = await client.patch(f"/api/v1/proposals/{kou_proposal['id']}", json={"title": "遅れた改訂"},
                                 headers=h[kou_member.id])
    assert revised.status_code == 409
    assert (await Proposal.get(id=hei_draft["id"])).status == "draft"

    # The cron job, through a real worker: closes, moves the proposals under review, assigns.
    await run_job(migrated, "close_due_challenges")
    assert (await Challenge.get(id=cid)).status == "closed"
    assert {p.id: p.status for p in await Proposal.filter(challenge_id=cid)} == {
        kou_proposal["id"]: "under_review", otsu_proposal["id"]: "under_review", hei_draft["id"]: "draft"}
    pairs = set(await Assignment.filter(proposal__challenge_id=cid).values_list("proposal_id", "reviewer_id"))
    assert len(pairs) == 4
    assert (kou_proposal["id"], r1.id) not in pairs and (otsu_proposal["id"], r2.id) not in pairs
    assert sum(1 for p, _ in pairs if p == kou_proposal["id"]) == 2
    overview = (await client.get(f"/api/v1/challenges/{cid}/assignments", headers=h[owner.id])).json()
    assert overview["feasible"] and overview["pending"] == 0
    assert await Conflict.exists(reviewer_id=r1.id, organisation_id=kou.id, detected=True)

    await run_job(migrated, "close_due_challenges")  # again: nothing changes
    await run_job(migrated, "assign_reviewers", challenge_id=cid)
    await run_worker_once(migrated)
    assert set(await Assignment.filter(proposal__challenge_id=cid).values_list("proposal_id", "reviewer_id")) == pairs
    for reviewer_id in {r for _, r in pairs}:
        mails = smtp.messages_to(reviewers[reviewer_id].email)
        assert len(mails) == 1 and "/reviews" in mails[0].body  # one assignment mail, never repeated

    # Scoring: a reviewer sees the other reviews only after submitting; submitting needs the attestation.
    mine = {}
    for reviewer_id in reviewers:
        listed = (await client.get("/api/v1/assignments", headers=h[reviewer_id])).json()
        assert all(sorted(item) == ["challenge_id", "due_at", "id", "proposal_id", "status", "subject"] for item in listed["items"])
        mine[reviewer_id] = {item["proposal_id"]: item["id"] for item in listed["items"]}
        assert all(item["due_at"].endswith("+09:00") for item in listed["items"])
    first, second = sorted(r for p, r in pairs if p == kou_proposal["id"])
    first_assignment = mine[first][kou_proposal["id"]]
    early = await client.get(f"/api/v1/proposals/{kou_proposal['id']}/reviews", headers=h[first])
    assert early.status_code == 403
    scores = await scores_for(cid, 5, 4)
    draft = await client.put(f"/api/v1/assignments/{first_assignment}/review", headers=h[first],
                             json={"scores": {next(iter(scores)): 5}, "feedback": "段階的な導入を検討してください。"})
    assert draft.status_code == 200 and draft.json()["status"] == "draft" and draft.json()["total"] is None
    unattested = await client.post(f"/api/v1/assignments/{first_assignment}/transitions", json={"to": "submitted"},
                                   headers=h[first])
    assert unattested.status_code == 422
    assert {e["field"] for e in unattested.json()["errors"]} == {"scores", "confidence", "no_conflict"}
    await review(client, h[first], first_assignment, scores)
    stored = await Review.get(assignment_id=first_assignment)
    assert stored.status == "submitted" and stored.total == review_total(scores, {k: w for k, w in zip(scores, (60, 40))})
    locked = await client.put(f"/api/v1/assignments/{first_assignment}/review", json={"strengths": "x"}, headers=h[first])
    assert locked.status_code == 409
    after = await client.get(f"/api/v1/proposals/{kou_proposal['id']}/reviews", headers=h[first])
    assert after.status_code == 200 and [r["reviewer"] for r in after.json()["items"]] == [None]

    # Reminders: three days before the deadline, and after it (escalated to the owners); never twice.
    review_deadline = (await Challenge.get(id=cid)).review_deadline
    pending = [(reviewer_id, aid) for reviewer_id, by in mine.items() for aid in by.values() if aid != first_assignment]
    before = (review_deadline - timedelta(days=2)).isoformat()
    await run_job(migrated, "send_review_reminders", now=before)
    await run_job(migrated, "send_review_reminders", now=before)
    await run_worker_once(migrated)
    assert await ReminderSent.filter(assignment__proposal__challenge_id=cid).count() == len(pending)
    assert not await ReminderSent.exists(assignment_id=first_assignment)
    for reviewer_id in {reviewer_id for reviewer_id, _ in pending}:
        count = sum(1 for aid in mine[reviewer_id].values() if aid != first_assignment)
        reminders = await Notification.filter(user_id=reviewer_id, kind="review.reminder").values_list("payload", flat=True)
        assert sum(1 for p in reminders if p["challenge"] == cid) == count
        assert len(smtp.messages_to(reviewers[reviewer_id].email)) == 1 + count  # the assignment, then reminders
    overdue = (review_deadline + timedelta(hours=1)).isoformat()
    await run_job(migrated, "send_review_reminders", now=overdue)
    await run_job(migrated, "send_review_reminders", now=overdue)
    await run_worker_once(migrated)
    assert await ReminderSent.filter(assignment__proposal__challenge_id=cid, moment="overdue").count() == len(pending)
    escalations = [m for m in smtp.messages_to(owner.email) if m.subject.startswith("A review is overdue")]
    assert len(escalations) == len(pending)
    told = await Notification.filter(user_id=owner.id, kind="review.overdue").values_list("payload", flat=True)
    assert sorted(p["assignment"] for p in told if p["challenge"] == cid) == sorted(aid for _, aid in pending)

    # Everyone else scores; the ranking is computed; the owner decides and finalises.
    for index, (reviewer_id, aid) in enumerate(sorted(pending)):
        await review(client, h[reviewer_id], aid, await scores_for(cid, 3 + index % 3, 2 + index % 2),
                     feedback=f"フィードバック{index}")
    ranking = await client.get(f"/api/v1/challenges/{cid}/ranking", headers=h[owner.id])
    assert ranking.status_code == 200, ranking.text
    body = ranking.json()
    assert body["reviews_done"] == body["reviews_assigned"] == 4
    assert [row["proposal_id"] for row in body["items"]] == sorted(
        [kou_proposal["id"], otsu_proposal["id"]], key=lambda p: -next(r["total"] for r in body["items"] if r["proposal_id"] == p))
    assert set(body["items"][0]) >= {"proposal_id", "total", "mean", "median", "spread", "disagreement", "calibrated",
                                     "reviews_done", "reviews_assigned"}
    assert not body["finalisable"] and body["problem"]
    too_early = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "decided"}, headers=h[owner.id])
    assert too_early.status_code == 409
    assert (await client.get(f"/api/v1/challenges/{cid}/ranking", headers=h[kou_member.id])).status_code == 403

    async def decide(proposal_id: int, to: str, reason: str) -> None:
        response = await client.post(f"/api/v1/proposals/{proposal_id}/transitions", json={"to": to, "reason": reason},
                                     headers=h[owner.id])
        assert response.status_code == 200, response.text

    await decide(kou_proposal["id"], "shortlisted", "評価が高い")
    await decide(kou_proposal["id"], "selected", "総合評価1位")
    await decide(otsu_proposal["id"], "not_selected", "費用対効果で及ばず")
    assert (await client.get(f"/api/v1/challenges/{cid}/ranking", headers=h[owner.id])).json()["finalisable"]
    decided = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "decided"}, headers=h[owner.id])
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "decided"
    again = await client.post(f"/api/v1/challenges/{cid}/transitions", json={"to": "decided"}, headers=h[owner.id])
    assert again.status_code == 409

    await run_worker_once(migrated)
    await run_worker_once(migrated)  # a second run sends nothing more
    names = [u.name for u in reviewers.values()] + [u.email for u in reviewers.values()]
    for member, proposal, word in ((kou_member, kou_proposal, "Selected"), (otsu_member, otsu_proposal, "不採択")):
        [mail] = [m for m in smtp.messages_to(member.email) if "/feedback" in m.body]
        assert word in mail.body and str(proposal["id"]) in mail.body
        assert not any(name in mail.body for name in names)
        feedback = await client.get(f"/api/v1/proposals/{proposal['id']}/feedback", headers=h[member.id])
        assert feedback.status_code == 200
        assert not any(name in feedback.text for name in names) and "reviewer" not in feedback.text
        for criterion in feedback.json()["criteria"]:
            assert len(criterion["scores"]) == 2
            assert all(comment in mail.body for comment in criterion["comments"])
        assert all(text in mail.body for text in feedback.json()["feedback"])
        assert await Notification.exists(user_id=member.id, kind="proposal.decision")
    assert await OutboxMessage.filter(topic="mail", key__in=[f"decision:{kou_proposal['id']}",
                                                             f"decision:{otsu_proposal['id']}"]).count() == 2

    # The result is published on the challenge page: the selected proposal's title and company.
    context = await detail_context(VISITOR, await Challenge.get(id=cid))
    assert [r["title"] for r in context["review_results"]] == ["甲の予約システム"]
    html = environment.get_template("challenges/_results.html").render(
        challenge=await Challenge.get(id=cid), get_locale=lambda: "ja", **context)
    assert "甲の予約システム" in html and kou.name_ja in html and "乙の呼び出し通知" not in html


# --- a worker killed in the middle of the assignment --------------------------------------------

CRASHING_WORKER = """
import asyncio
from arq.connections import RedisSettings
from arq.worker import Worker
from tortoise.signals import post_save
from models.review.models import Assignment
from server import jobs
from server.settings import get_settings

@post_save(Assignment)
async def stop_here(sender, instance, created, using_db, update_fields):
    print("WRITING", flush=True)  # the first assignment row is written, not committed: now kill me
    await asyncio.sleep(3600)

async def main():  # the worker is made inside the running loop: it keeps the loop it was made in
    settings = get_settings()
    worker = Worker(functions=[jobs.assign_reviewers], redis_settings=RedisSettings.from_dsn(settings.redis_url),
                    burst=True, poll_delay=0, on_startup=jobs.startup, on_shutdown=jobs.shutdown,
                    ctx={"settings": settings}, handle_signals=False)
    await worker.main()

asyncio.run(main())
"""


async def _closed_copy(owner: User, companies: list[Organisation], reviewers: list[User]) -> Challenge:
    """A closed challenge with one proposal under review per company, the given panel, and no assignment."""
    category = await Category.get(slug="administrative-procedures")
    challenge = await Challenge.create(owner_id=(await Membership.get(user=owner)).organisation_id, created_by=owner,
                                       category=category, status="closed", title={"ja": "複製"}, tags=["窓口", "予約"],
                                       published_at=timezone.now() - timedelta(days=30),
                                       review_deadline=timezone.now() + timedelta(days=10), reviews_per_proposal=3,
                                       max_per_reviewer=4)
    await Criterion.create(challenge=challenge, position=0, name={"ja": "効果"}, weight=100, levels=[{"ja": "x"}] * 5)
    for organisation in companies:
        await Proposal.create(challenge=challenge, company=organisation, status="under_review", title=organisation.name_ja,
                              submitted_at=timezone.now(), version=1)
    for reviewer in reviewers:
        await PanelMember.create(challenge=challenge, reviewer=reviewer)
    return challenge


async def _pairs_by_position(challenge: Challenge) -> set[tuple[int, int]]:
    proposal_ids = await Proposal.filter(challenge_id=challenge.id).order_by("id").values_list("id", flat=True)
    position = {proposal_id: i for i, proposal_id in enumerate(proposal_ids)}
    rows = await Assignment.filter(proposal__challenge_id=challenge.id).values_list("proposal_id", "reviewer_id")
    return {(position[p], r) for p, r in rows}


async def test_a_worker_killed_mid_assignment_ends_in_the_same_assignments(app, migrated, env):
    owner = await person("crash-owner", org=await agency())
    companies = [await company(f"複製{i} {RUN}") for i in range(6)]
    reviewers = [await person(f"crash-r{i}", reviewer=True, expertise=["窓口"] if i % 2 else ["予約"]) for i in range(7)]
    await Conflict.create(reviewer=reviewers[0], organisation=companies[1], kind="employed_by")
    await Conflict.create(reviewer=reviewers[3], organisation=companies[4], kind="family")
    crashed = await _closed_copy(owner, companies, reviewers)
    clean = await _closed_copy(owner, companies, reviewers)

    redis_settings = RedisSettings.from_dsn(migrated.redis_url)
    pool = await create_pool(redis_settings)
    job = await pool.enqueue_job("assign_reviewers", challenge_id=crashed.id)
    process = subprocess.Popen([sys.executable, "-c", CRASHING_WORKER], cwd=REPO_ROOT, env=env | {"SMTP_URL": ""},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=120)
        assert line.strip() == "WRITING", f"the worker stopped before writing: {line!r}"
        os.kill(process.pid, signal.SIGKILL)
        await asyncio.to_thread(process.wait, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert not await Assignment.filter(proposal__challenge_id=crashed.id).exists()  # nothing half-written

    # Restarting: arq hands the job to a new worker once the dead one's claim on it expires.
    await pool.delete(in_progress_key_prefix + job.job_id)  # (the pool is a Redis client)
    await run_job(migrated, "assign_reviewers", challenge_id=clean.id)  # also runs the crashed job again
    await pool.aclose()

    crashed_pairs, clean_pairs = await _pairs_by_position(crashed), await _pairs_by_position(clean)
    assert crashed_pairs == clean_pairs
    assert len(clean_pairs) == 6 * 3
    assert (1, reviewers[0].id) not in clean_pairs and (4, reviewers[3].id) not in clean_pairs


async def test_closing_queues_the_reviews_start_with_it(app, migrated, client):
    """If the worker dies right after closing, the outbox still holds the start of the review."""
    owner = await person("closer", org=await agency())
    operator = await person("closer-op", operator=True)
    member = await person("closer-co", org=await company(f"閉鎖 {RUN}"))
    reviewer = await person("closer-r", reviewer=True)
    h_owner, h_member = await headers(owner), await headers(member)
    challenge = await open_challenge(client, h_owner, await headers(operator))
    await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h_owner,
                     json={"reviewers": [reviewer.id], "reviews_per_proposal": 1})
    proposal = await submit(client, h_member, challenge["id"])
    await pass_deadline(challenge["id"])
    assert challenge["id"] in await challenge_lifecycle.close_due()  # the job's first step only, then a "crash"
    assert challenge["id"] not in await challenge_lifecycle.close_due()
    assert (await Proposal.get(id=proposal["id"])).status == "submitted"
    await run_worker_once(migrated)  # the outbox drain finishes the work
    assert (await Proposal.get(id=proposal["id"])).status == "under_review"
    assert await Assignment.filter(proposal_id=proposal["id"], reviewer=reviewer).exists()
    assert await Notification.exists(user_id=member.id, kind="challenge.closed")


async def test_owners_close_early_only_after_the_deadline(client, migrated):
    owner = await person("early", org=await agency())
    operator = await person("early-op", operator=True)
    h_owner = await headers(owner)
    challenge = await open_challenge(client, h_owner, await headers(operator))
    url = f"/api/v1/challenges/{challenge['id']}/transitions"
    refused = await client.post(url, json={"to": "closed"}, headers=h_owner)
    assert refused.status_code == 409 and "closed" not in refused.json()["allowed"]
    await pass_deadline(challenge["id"])
    seen = (await client.get(f"/api/v1/challenges/{challenge['id']}", headers=h_owner)).json()
    assert seen["allowed_transitions"][0] == "closed"
    assert (await client.post(url, json={"to": "closed"}, headers=await headers(operator))).status_code == 409
    closed = await client.post(url, json={"to": "closed"}, headers=h_owner)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert await OutboxMessage.exists(topic="review", key=f"review:{challenge['id']}")
    assert datetime.fromisoformat(seen["proposals_deadline"]) <= timezone.now()
