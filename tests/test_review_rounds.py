"""Review rounds: the review form's fields are the round's rubric, as data, each with who may read it."""

from __future__ import annotations

import pytest

from models.core.errors import ValidationFailed
from models.policy import actor_for
from models.proposals.models import Proposal
from models.review import reviewing
from models.review.closing import feedback_of, rubric_of
from models.review.models import Assignment, ReviewRound
from models.review.rubric import COMPANY, PROPOSAL_FIELDS, visible_to
from tests.review_helpers import closed_world, scores_for


async def test_a_round_without_a_rubric_of_its_own_uses_the_proposal_review_form(client, migrated):
    w = await closed_world(client, migrated, reviewers=2, per_proposal=1)
    assert await rubric_of(w.challenge_id) == PROPOSAL_FIELDS
    assert [f.key for f in visible_to(PROPOSAL_FIELDS, COMPANY)] == ["feedback"]
    [assignment] = await w.assignments("kou")
    listed = await client.get("/api/v1/assignments", headers=w.h[assignment.reviewer_id])
    [item] = [i for i in listed.json()["items"] if i["id"] == assignment.id]
    assert item["subject"] == {"kind": "proposal", "id": w.proposals["kou"]}


async def test_a_round_with_its_own_rubric_requires_its_fields_and_tells_the_company_what_it_may_read(client, migrated):
    w = await closed_world(client, migrated, reviewers=2, per_proposal=1)
    await ReviewRound.filter(challenge_id=w.challenge_id, subject_kind="proposal").update(rubric=[
        {"key": "confidence", "kind": "scale", "label": "Confidence", "visible_to": ["owners", "reviewers"],
         "required": True},
        {"key": "strengths", "kind": "text", "label": "Strengths", "visible_to": ["owners"]},
        {"key": "advice", "kind": "text", "label": "Advice", "visible_to": ["owners", "company"], "required": True},
    ])
    [assignment] = await w.assignments("kou")
    assignment = await Assignment.get(id=assignment.id).prefetch_related("proposal")
    actor = await actor_for(next(r for r in w.reviewers if r.id == assignment.reviewer_id))
    changes = reviewing.ReviewChanges(scores=await scores_for(w.challenge_id, 4, 3), confidence=4, no_conflict=True,
                                      strengths="丁寧な設計", feedback="使われない欄")
    with pytest.raises(ValidationFailed) as refused:
        await reviewing.submit_review(actor, assignment, changes)
    assert set(refused.value.errors) == {"advice"}
    with pytest.raises(ValidationFailed) as unknown:
        await reviewing.save_review(actor, assignment, reviewing.ReviewChanges(answers={"elsewhere": "x"}))
    assert set(unknown.value.errors) == {"answers"}

    changes.answers = {"advice": "小さく始めてください"}
    await reviewing.submit_review(actor, assignment, changes)
    feedback = await feedback_of(await Proposal.get(id=w.proposals["kou"]))
    assert feedback.feedback == ["小さく始めてください"]  # neither the strengths (owners only) nor a field not in the rubric
