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
from tests.review_helpers import agency, closed_world, headers, open_challenge, person, scores_for
from tests.web import sign_in_as


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

    saved = await client.put(f"/api/v1/assignments/{assignment.id}/review", headers=w.h[assignment.reviewer_id],
                             json={"answers": {"advice": "小さく始めてください"}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["answers"] == {"advice": "小さく始めてください"}
    await reviewing.submit_review(actor, assignment, changes)
    feedback = await feedback_of(await Proposal.get(id=w.proposals["kou"]))
    assert feedback.feedback == ["小さく始めてください"]  # neither the strengths (owners only) nor a field not in the rubric


async def test_owners_change_the_proposal_review_form_before_the_review_starts_and_reviewers_answer_it(client, migrated):
    owner = await person("form-owner", org=await agency())
    operator = await person("form-operator", operator=True)
    h_owner, h_operator = await headers(owner), await headers(operator)
    challenge = await open_challenge(client, h_owner, h_operator)
    url = f"/api/v1/challenges/{challenge['id']}/rubric"
    shown = await client.get(url, headers=h_operator)
    assert shown.status_code == 200, shown.text
    assert [f["key"] for f in shown.json()["fields"]] == ["strengths", "weaknesses", "feedback", "confidence"]
    assert shown.json()["fields"][0]["label"]["en"] == "Strengths" and shown.json()["fields"][0]["label"]["ja"]
    assert sum(c["weight"] for c in shown.json()["criteria"]) == 100
    advice = {"key": "advice", "kind": "text", "label": {"ja": "助言", "en": "Advice"}, "required": True,
              "visible_to": ["owners", "company"]}
    confidence = {"key": "confidence", "kind": "scale", "label": {"ja": "確信度", "en": "Confidence"}, "required": True}
    assert (await client.put(url, json={"rubric": [advice]}, headers=h_operator)).status_code in (403, 404)
    bad = await client.put(url, json={"rubric": [advice, dict(advice)]}, headers=h_owner)
    assert bad.status_code == 422, bad.text
    wrong_weights = [{"key": str(c["key"]), "kind": "score", "label": c["label"], "weight": 1} for c in shown.json()["criteria"]]
    assert (await client.put(url, json={"rubric": [*wrong_weights, advice]}, headers=h_owner)).status_code == 422
    saved = await client.put(url, json={"rubric": [advice, confidence]}, headers=h_owner)
    assert saved.status_code == 200, saved.text
    assert [f["key"] for f in saved.json()["fields"]] == ["advice", "confidence"] and saved.json()["editable"]
    await sign_in_as(client, owner)
    page = await client.get(f"/challenges/{challenge['id']}/rubric")
    assert page.status_code == 200 and "advice" in page.text and 'name="rubric"' in page.text
