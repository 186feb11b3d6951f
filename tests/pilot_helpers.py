"""Helpers for the pilot tests: a decided challenge with a selected proposal, through the API."""

from __future__ import annotations

from tests.review_helpers import closed_world, review, scores_for

COMPLETION = {"name": {"ja": "10分以内の完了率", "en": "Completed within 10 minutes"}, "unit": "%", "baseline": 7, "target": 71}


async def decided_world(client, migrated):
    """closed_world, every review in, Kou's proposal selected, Otsu's not, the challenge decided."""
    w = await closed_world(client, migrated)
    for name in ("kou", "otsu"):
        for assignment in await w.assignments(name):
            await review(client, w.h[assignment.reviewer_id], assignment.id, await scores_for(w.challenge_id, 4, 4))
    owner = w.h[w.owner.id]
    for proposal, moves in (("kou", ("shortlisted", "selected")), ("otsu", ("not_selected",))):
        for to in moves:
            moved = await client.post(f"/api/v1/proposals/{w.proposals[proposal]}/transitions",
                                      json={"to": to, "reason": "評価による"}, headers=owner)
            assert moved.status_code == 200, moved.text
    decided = await client.post(f"/api/v1/challenges/{w.challenge_id}/transitions", json={"to": "decided"}, headers=owner)
    assert decided.status_code == 200, decided.text
    return w


async def pilot_world(members: dict, agency, company, attachments_dir=None) -> dict[str, object]:
    """A running pilot of the world company's selected proposal to a decided challenge of the world agency,
    with a KPI, an unverified value, a planned milestone (with an evidence file, its bytes stored when a store
    is given) and a hidden comment: the matrix's pilot ids."""
    from datetime import timedelta

    from tortoise import timezone

    from models.challenges.models import Challenge
    from models.pilots.lifecycle import today
    from models.pilots.models import Feedback, Measurement, Milestone, Pilot, PilotKpi
    from models.proposals.models import Proposal

    # Published before it was decided, as every decided challenge is (the figures sort by publication).
    challenge = await Challenge.create(owner=agency, title={"ja": "行列の実証"}, status="decided",
                                       published_at=timezone.now() - timedelta(days=60))
    proposal = await Proposal.create(challenge=challenge, company=company, status="selected", title="行列の実証案")
    start = today() - timedelta(days=10)
    pilot = await Pilot.create(challenge=challenge, proposal=proposal, company=company, owner=agency,
                               agency_ids=[agency.id], status="running", starts_on=start,
                               ends_on=start + timedelta(days=90), short_code=f"m{proposal.id}")
    kpi = await PilotKpi.create(pilot=pilot, key="wait", name={"ja": "待ち時間"}, unit="min", baseline=40, target=20,
                                direction="lower")
    measurement = await Measurement.create(kpi=kpi, value=30, measured_on=start)
    # Due well after today: the tests' reminder runs (on today) leave the world's milestones alone.
    milestone = await Milestone.create(pilot=pilot, title="要件定義", due_on=start + timedelta(days=60),
                                       evidence_file=await evidence_file(attachments_dir))
    comment = await Feedback.create(pilot=pilot, satisfaction=4, comment="行列のコメント")
    return {"pilot_id": pilot.id, "kpi_id": kpi.id, "measurement_id": measurement.id, "milestone_id": milestone.id,
            "feedback_id": comment.id, "pilot_code": pilot.short_code, "pilot_proposal_id": proposal.id,
            "pilot_due_on": (start + timedelta(days=70)).isoformat()}


async def drain_backlog(settings, topics=("mail", "review", "notify", "search")) -> None:
    """Run the real worker's drain (search included) until nothing is due: a drain takes the oldest 200
    messages, and what earlier tests queued without draining would otherwise keep later messages waiting."""
    from tortoise import timezone

    from models.core.outbox import OutboxMessage
    from server import jobs
    from tests.workers import run_worker_once

    async def startup(ctx: dict) -> None:
        jobs.register_consumers(ctx["settings"])
        await jobs.start_search(ctx)

    for _ in range(30):
        if not await OutboxMessage.filter(processed_at=None, available_at__lte=timezone.now(),
                                          topic__in=list(topics)).exists():
            return
        await run_worker_once(settings, on_startup=startup, on_shutdown=jobs.stop_search)


async def evidence_file(attachments_dir=None, content: bytes = b"%PDF-1.4\n% evidence\n%%EOF\n"):
    """An attachment row for a milestone's evidence (no challenge, no proposal), its bytes stored when a
    store is given."""
    import hashlib
    import io

    from models.challenges.attachments import MAX_BYTES
    from models.challenges.models import Attachment
    from server.storage import FileStore

    if attachments_dir is not None:
        store = FileStore(attachments_dir)
        store.keep(store.spool(io.BytesIO(content), limit=MAX_BYTES))
    return await Attachment.create(filename="evidence.pdf", content_type="application/pdf", size=len(content),
                                   sha256=hashlib.sha256(content).hexdigest())
