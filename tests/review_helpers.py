"""Helpers for the review tests (test_review_flow, test_reviews, test_conflicts): people, organisations and
challenges made through the API, proposals submitted, reviews written, jobs run by a real arq worker."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from tortoise import timezone

from models.challenges.models import Challenge, Criterion
from models.identity.accounts import Role, User, create_api_token
from models.identity.orgs import Organisation
from models.identity.people import create_person
from models.review.models import Assignment
from server import jobs
from tests.helpers import COMPLETE, complete_challenge

RUN = secrets.token_hex(3)  # keeps this run's organisations and addresses apart from other runs'


async def person(label: str, *, org: Organisation | None = None, domain: str = "", reviewer: bool = False,
                 operator: bool = False, role: Role = Role.MEMBER, expertise: list[str] | None = None,
                 locale: str = "ja") -> User:
    user = await create_person(email=f"{label}-{secrets.token_hex(3)}@{domain or f'mail-{RUN}.example.jp'}",
                               name=f"{label.title()} {secrets.token_hex(2)}", password="correct horse battery",
                               organisation=org, role=role, reviewer=reviewer, operator=operator)
    await User.filter(id=user.id).update(expertise=expertise or [], locale=locale)
    return await User.get(id=user.id)


async def headers(user: User) -> dict[str, str]:
    return {"Authorization": "Bearer " + (await create_api_token(user))[1]}


async def company(name: str) -> Organisation:
    return await Organisation.create(kind="company", status="approved", name_ja=name, name_en=name)


async def agency() -> Organisation:
    return await Organisation.get(municipality_code="131083")  # Koto City


async def open_challenge(client, owner: dict, operator: dict, **overrides) -> dict:
    response = await client.post("/api/v1/challenges", json=complete_challenge(**overrides), headers=owner)
    assert response.status_code == 201, response.text
    challenge_id = response.json()["id"]
    assert (await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "in_review"},
                              headers=owner)).status_code == 200
    published = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "published"},
                                  headers=operator)
    assert published.status_code == 200, published.text
    return published.json()


async def submit(client, company_headers: dict, challenge_id: int, **fields) -> dict:
    created = await client.post(f"/api/v1/challenges/{challenge_id}/proposals", json={**COMPLETE, **fields},
                                headers=company_headers)
    assert created.status_code == 201, created.text
    submitted = await client.post(f"/api/v1/proposals/{created.json()['id']}/transitions", json={"to": "submitted"},
                                  headers=company_headers)
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


async def pass_deadline(challenge_id: int) -> None:
    await Challenge.filter(id=challenge_id).update(proposals_deadline=timezone.now() - timedelta(seconds=1))


async def _register_consumers(ctx: dict) -> None:
    jobs.register_consumers(ctx["settings"])


async def run_job(settings, name: str, **kwargs) -> None:
    """Queue one job and run a real arq worker (burst mode) until the queue is empty."""
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    pool = await create_pool(redis_settings)
    try:
        # The job, then a drain of what it wrote: a drain queued earlier (a request's wake-up) may run beside
        # the job in the same burst and look before the job commits.
        for job in (name, "drain_outbox"):
            await pool.enqueue_job(job, **(kwargs if job == name else {}))
            worker = Worker(functions=[jobs.drain_outbox, jobs.close_due_challenges, jobs.assign_reviewers,
                                       jobs.send_review_reminders], redis_settings=redis_settings, burst=True,
                            poll_delay=0, on_startup=_register_consumers, ctx={"settings": settings})
            try:
                await worker.main()
                assert worker.jobs_failed == 0
            finally:
                await worker.close()
    finally:
        await pool.aclose()


async def scores_for(challenge_id: int, *values: int) -> dict[str, int]:
    criteria = await Criterion.filter(challenge_id=challenge_id).order_by("position", "id")
    return {str(c.id): v for c, v in zip(criteria, values)}


async def review(client, reviewer_headers: dict, assignment_id: int, scores: dict[str, int], **fields) -> None:
    body = {"scores": scores, "comments": {key: f"所見{key}" for key in scores}, "strengths": "実績が豊富",
            "weaknesses": "費用が高い", "feedback": "段階的な導入を検討してください。", "confidence": 4,
            "no_conflict": True} | fields
    saved = await client.put(f"/api/v1/assignments/{assignment_id}/review", json=body, headers=reviewer_headers)
    assert saved.status_code == 200, saved.text
    submitted = await client.post(f"/api/v1/assignments/{assignment_id}/transitions", json={"to": "submitted"},
                                  headers=reviewer_headers)
    assert submitted.status_code == 200, submitted.text


@dataclass
class World:
    challenge_id: int
    owner: object
    operator: object
    kou_member: object
    otsu_member: object
    reviewers: list
    proposals: dict  # "kou"/"otsu" -> proposal id
    h: dict  # user id -> API headers

    def assignments(self, proposal: str):
        return Assignment.filter(proposal_id=self.proposals[proposal]).exclude(status="recused").order_by("reviewer_id")


async def closed_world(client, migrated, *, reviewers: int = 3, per_proposal: int = 2, blind: bool = False) -> World:
    """A closed challenge whose two proposals (Kou's and Otsu's) are under review, each assigned to reviewers."""
    owner = await person("owner", org=await agency())
    operator = await person("operator", operator=True)
    kou_member = await person("kou", org=await company(f"甲 {RUN}"))
    otsu_member = await person("otsu", org=await company(f"乙 {RUN}"))
    panel = [await person(f"reviewer{i}", reviewer=True) for i in range(reviewers)]
    h = {u.id: await headers(u) for u in (owner, operator, kou_member, otsu_member, *panel)}
    challenge = await open_challenge(client, h[owner.id], h[operator.id], blind_review=blind)
    await client.put(f"/api/v1/challenges/{challenge['id']}/panel", headers=h[owner.id],
                     json={"reviewers": [r.id for r in panel], "reviews_per_proposal": per_proposal})
    kou = await submit(client, h[kou_member.id], challenge["id"], title="甲の提案")
    otsu = await submit(client, h[otsu_member.id], challenge["id"], title="乙の提案")
    await pass_deadline(challenge["id"])
    await run_job(migrated, "close_due_challenges")
    return World(challenge["id"], owner, operator, kou_member, otsu_member, panel,
                 {"kou": kou["id"], "otsu": otsu["id"]}, h)
