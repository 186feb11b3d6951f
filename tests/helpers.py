"""Helpers shared by several test modules (no test module imports another): paths and the `kyoso` command,
challenges and proposals made through the API, organisations, browsers, attachments, the permission world."""

from __future__ import annotations

import hashlib
import io
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx2
from tortoise import timezone

from models.challenges.attachments import MAX_BYTES
from models.challenges.models import Attachment, Challenge
from models.core.identifiers import corporate_number_check_digit
from models.identity.accounts import User
from models.identity.orgs import Organisation
from models.identity.sessions import open_session
from models.policy import actor_for
from models.proposals import lifecycle as proposal_lifecycle
from models.proposals.lifecycle import ProposalChanges
from models.review.models import Assignment, Review
from server.i18n import TOKYO
from server.storage import FileStore

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_kyoso(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO_ROOT,
        timeout=120,
    )


# --- challenges and proposals through the API ---------------------------------------------------


def _at(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).astimezone(TOKYO).isoformat()


def complete_challenge(**overrides) -> dict:
    levels = [{"ja": f"{n}点", "en": f"{n} points"} for n in range(1, 6)]
    body = {
        "title": {"ja": "窓口の待ち時間を短くしたい", "en": "Shorter waiting times at the counter"},
        "summary": {"ja": "**繁忙期**の待ち時間が長い。", "en": "Long waits in busy months."},
        "problem": {"ja": "予約ができない。", "en": "No reservations."},
        "outcome": {"ja": "待ち時間を半分に。", "en": "Halve the wait."},
        "category": "administrative-procedures",
        "tags": ["窓口", "予約"],
        "languages": ["ja", "en"],
        "budget_min_yen": 1_000_000,
        "budget_max_yen": 3_000_000,
        "pilot_months": 3,
        "questions_deadline": _at(10),
        "proposals_deadline": _at(20),
        "review_deadline": _at(30),
        "criteria": [
            {"name": {"ja": "効果", "en": "Impact"}, "weight": 60, "levels": levels},
            {"name": {"ja": "費用", "en": "Cost"}, "weight": 40, "levels": levels},
        ],
        "kpis": [{"name": {"ja": "平均待ち時間", "en": "Average wait"}, "unit": "min", "baseline": 40, "target": 20}],
    }
    body.update(overrides)
    return body


async def _draft(client, cast, **overrides) -> dict:
    response = await client.post("/api/v1/challenges", json=complete_challenge(**overrides), headers=cast["agency"])
    assert response.status_code == 201, response.text
    return response.json()


async def _publish(client, cast, challenge_id: int) -> dict:
    assert (await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "in_review"}, headers=cast["agency"])).status_code == 200
    response = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "published"}, headers=cast["operator"])
    assert response.status_code == 200, response.text
    return response.json()


COMPLETE = {
    "title": "予約システムで待ち時間を半分に",
    "summary": "オンライン予約と呼び出し通知を導入します。",
    "approach": "既存の窓口システムと連携し、3か月で導入します。",
    "cost_yen": 2_400_000,
    "schedule": "1か月目: 設計、2か月目: 導入、3か月目: 評価",
    "team": "PM 1名、エンジニア 2名",
    "track_record": "他区で2件の導入実績",
    "kpis": [{"kpi": 0, "value": 18}],
}


# --- organisations and browsers ------------------------------------------------------------------


async def make_company(status: str = "approved") -> Organisation:
    base = f"{secrets.randbelow(10**12):012d}"
    suffix = secrets.token_hex(3)
    return await Organisation.create(
        kind="company",
        status=status,
        corporate_number=f"{corporate_number_check_digit(base)}{base}",
        name_ja=f"テスト株式会社{suffix}",
        name_en=f"Test Corp {suffix}",
    )


async def english(user: User) -> User:
    user.locale = "en"
    await user.save(update_fields=["locale"])
    return user


@asynccontextmanager
async def browser(app, user: User | None = None) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
        if user is not None:
            client.cookies.set("kyoso_session", await open_session(user))
        yield client


# --- the permission matrix's world (tests/test_permissions.py) ------------------------------------


def pdf(extra: bytes = b"") -> bytes:
    return b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + extra + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


async def stored_attachment(challenge_id: int, attachments_dir: Path | None) -> Attachment:
    """A PDF attached to a challenge, its bytes in the store under `attachments_dir` when one is given
    (the permission matrix's world)."""
    content = pdf(b"% the permission matrix\n")
    digest = hashlib.sha256(content).hexdigest()
    if attachments_dir is not None:
        store = FileStore(attachments_dir)
        store.keep(store.spool(io.BytesIO(content), limit=MAX_BYTES))
    return await Attachment.create(challenge_id=challenge_id, filename="matrix.pdf", content_type="application/pdf",
                                   size=len(content), sha256=digest)


async def permission_world(members: dict[str, User], challenge: Challenge) -> dict[str, object]:
    """The world company's submitted proposal to the world's published challenge, which the world's
    reviewer is assigned to review: the id the matrix's proposal routes use."""
    company = await actor_for(members["company"])
    challenge = await Challenge.get(id=challenge.id)  # as published by the world (a direct update)
    proposal = await proposal_lifecycle.create_proposal(company, challenge, ProposalChanges(values={
        "title": "行列の提案", "summary": "s", "approach": "a", "cost_yen": 1, "schedule": "s", "team": "t"}))
    await proposal_lifecycle.submit(company, proposal)
    assignment = await Assignment.create(proposal=proposal, reviewer=members["reviewer"])
    await Review.create(assignment=assignment)  # a draft, for the routes that read it
    return {"proposal_id": proposal.id}
