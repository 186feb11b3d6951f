"""The open-data tests' world: public and private things side by side; every private one carries "SECRET"."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tortoise import timezone

from models.challenges.models import Challenge, Question
from models.core.audit import AuditEvent
from models.identity.orgs import Organisation
from models.proposals.models import Proposal, ProposalVersion
from models.review.models import Assignment, Review

SECRET = "SECRET"
counter = itertools.count(1)


async def _challenge(owner: Organisation, title: str, status: str, published_days_ago: int | None = 3) -> Challenge:
    published = timezone.now() - timedelta(days=published_days_ago) if published_days_ago is not None else None
    return await Challenge.create(owner=owner, status=status, title={"ja": title, "en": title + " (en)"},
                                  summary={"ja": "概要"}, published_at=published)


async def _proposal(challenge: Challenge, company: Organisation, status: str, working: str, submitted: str | None):
    proposal = await Proposal.create(challenge=challenge, company=company, status=status, title=working,
                                     submitted_at=timezone.now() if submitted else None, version=1 if submitted else 0)
    if submitted:
        await ProposalVersion.create(proposal=proposal, version=1, content={"title": submitted}, sha256="0" * 64)
    return proposal


async def make_open_world(people) -> dict:
    """An agency of its own with a published, a draft and a decided challenge, proposals, reviews, questions."""
    n = next(counter)
    while await Organisation.exists(municipality_code=f"19{n:04d}"):  # the fixture is also imported elsewhere
        n = next(counter)
    agency = await Organisation.create(kind="agency", status="approved", name_ja=f"公開町{n}", name_en=f"Open Town {n}",
                                       municipality_code=f"19{n:04d}", municipality_type="town")
    company = await Organisation.create(kind="company", status="approved", name_ja=f"採択株式会社{n}",
                                        name_en=f"Chosen KK {n}")
    loser = await Organisation.create(kind="company", status="approved", name_ja=f"不採択{SECRET}株式会社{n}")
    published = await _challenge(agency, f"公開課題OD{n}", "published")
    await _challenge(agency, f"下書き課題{SECRET}{n}", "draft", None)
    decided = await _challenge(agency, f"決定課題OD{n}", "decided", 10)
    await AuditEvent.create(action="challenge.decided", target_type="challenge", target_id=str(decided.id))
    chosen = await _proposal(decided, company, "selected", f"作業中{SECRET}{n}", f"採択提案OD{n}")
    other = await _proposal(decided, loser, "not_selected", f"不採択提案{SECRET}{n}", f"不採択提案{SECRET}{n}")
    await _proposal(published, loser, "draft", f"下書き提案{SECRET}{n}", None)
    reviewer = await people.make(reviewer=True)
    for proposal in (chosen, other):
        assignment = await Assignment.create(proposal=proposal, reviewer=reviewer, status="submitted")
        await Review.create(assignment=assignment, scores={"1": 5}, strengths=f"評価{SECRET}{n}", status="submitted",
                            total=4.25, submitted_at=timezone.now())
    await Question.create(challenge=published, body=f"公開質問OD{n}", answer=f"公開回答OD{n}", answered_at=timezone.now())
    await Question.create(challenge=published, body=f"未回答質問{SECRET}{n}")
    return {"agency": agency, "n": n, "code": agency.municipality_code, "published": published, "decided": decided,
            "reviewer": reviewer}
