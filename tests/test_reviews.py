"""Reviews: confidentiality, recusal and reassignment, reopening, adjusting by hand, bad input, the pages and mails."""

from __future__ import annotations

from models.challenges.models import Challenge
from models.core.audit import AuditEvent
from models.core.notifications import Notification
from models.review.models import Assignment, Conflict, Review
from server import mail
from tests.review_helpers import (
    RUN,
    closed_world,
    review,
    run_job,
    scores_for,
)
from tests.web import post_form, sign_in_as


async def test_who_sees_the_reviews(client, migrated):
    w = await closed_world(client, migrated)
    first, second = await w.assignments("kou")
    reviews_url = f"/api/v1/proposals/{w.proposals['kou']}/reviews"

    # Before submitting their own, a reviewer sees no other review.
    assert (await client.get(reviews_url, headers=w.h[first.reviewer_id])).status_code == 403
    await review(client, w.h[first.reviewer_id], first.id, await scores_for(w.challenge_id, 4, 3))
    assert (await client.get(reviews_url, headers=w.h[second.reviewer_id])).status_code == 403
    await review(client, w.h[second.reviewer_id], second.id, await scores_for(w.challenge_id, 2, 5))
    seen = (await client.get(reviews_url, headers=w.h[second.reviewer_id])).json()
    assert seen["total"] == 2 and all(item["reviewer"] is None for item in seen["items"])

    # The owners and operators see them, with who wrote them.
    for user in (w.owner, w.operator):
        named = (await client.get(reviews_url, headers=w.h[user.id])).json()
        assert {item["reviewer"]["id"] for item in named["items"]} == {first.reviewer_id, second.reviewer_id}

    # Companies never: not their reviews, not assignments, not reviewers.
    for member in (w.kou_member, w.otsu_member):
        assert (await client.get(reviews_url, headers=w.h[member.id])).status_code in (403, 404)
        assert (await client.get("/api/v1/assignments", headers=w.h[member.id])).json()["items"] == []
        assert (await client.get(f"/api/v1/challenges/{w.challenge_id}/assignments", headers=w.h[member.id])).status_code == 403
        assert (await client.get(f"/api/v1/assignments/{first.id}/review", headers=w.h[member.id])).status_code == 404
        proposal = await client.get(f"/api/v1/proposals/{w.proposals['kou']}", headers=w.h[w.kou_member.id])
        assert not any(r.name in proposal.text or r.email in proposal.text for r in w.reviewers)
    await sign_in_as(client, w.kou_member)
    assert (await client.get(f"/proposals/{w.proposals['kou']}/reviews")).status_code in (403, 404)
    assert (await client.get(f"/challenges/{w.challenge_id}/assignments")).status_code == 403

    # An owner or an operator with a conflict of interest with the company sees neither its reviews nor its rank.
    kou_id = (await w.assignments("kou").first().prefetch_related("proposal")).proposal.company_id
    for user in (w.owner, w.operator):
        await Conflict.create(reviewer=user, organisation_id=kou_id, kind="family")
        assert (await client.get(reviews_url, headers=w.h[user.id])).status_code == 403
        ranking = (await client.get(f"/api/v1/challenges/{w.challenge_id}/ranking", headers=w.h[user.id])).json()
        assert ranking["hidden"] == 1 and [r["proposal_id"] for r in ranking["items"]] == [w.proposals["otsu"]]
    # A reviewer who declares a conflict afterwards loses sight of them too.
    await Conflict.create(reviewer_id=second.reviewer_id, organisation_id=kou_id, kind="other")
    assert (await client.get(reviews_url, headers=w.h[second.reviewer_id])).status_code in (403, 404)


async def test_a_blind_review_hides_the_company_from_reviewers(client, migrated):
    w = await closed_world(client, migrated, blind=True)
    assignment = await w.assignments("kou").first()
    reviewer = next(r for r in w.reviewers if r.id == assignment.reviewer_id)
    await sign_in_as(client, reviewer)
    page = await client.get(f"/reviews/{assignment.id}")
    assert page.status_code == 200 and "甲の提案" in page.text and f"甲 {RUN}" not in page.text
    inbox = await client.get("/reviews")
    assert "甲の提案" in inbox.text and f"甲 {RUN}" not in inbox.text


async def test_recusal_is_filled_by_a_reassignment(client, migrated):
    w = await closed_world(client, migrated, reviewers=3, per_proposal=2)
    leaving = await w.assignments("kou").first()
    url = f"/api/v1/assignments/{leaving.id}/transitions"
    assert (await client.post(url, json={"to": "recused"}, headers=w.h[leaving.reviewer_id])).status_code == 422
    assert (await client.post(url, json={"to": "recused", "reason": "x"}, headers=w.h[w.owner.id])).status_code == 409
    other = next(r for r in w.reviewers if r.id != leaving.reviewer_id)
    assert (await client.post(url, json={"to": "recused", "reason": "x"}, headers=w.h[other.id])).status_code == 404
    recused = await client.post(url, json={"to": "recused", "reason": "以前に同社と共同研究をしていた"},
                                headers=w.h[leaving.reviewer_id])
    assert recused.status_code == 200 and recused.json()["status"] == "recused"
    assert await Notification.exists(user_id=w.owner.id, kind="review.recused")

    await run_job(migrated, "drain_outbox")  # the reassignment job queued with the recusal
    active = [a.reviewer_id for a in await w.assignments("kou")]
    assert len(active) == 2 and leaving.reviewer_id not in active
    await run_job(migrated, "drain_outbox")
    assert len(await w.assignments("kou")) == 2  # running it again changes nothing
    assert (await client.put(f"/api/v1/assignments/{leaving.id}/review", json={"strengths": "x"},
                             headers=w.h[leaving.reviewer_id])).status_code == 409


async def test_owners_reopen_a_review_and_adjust_assignments(client, migrated):
    w = await closed_world(client, migrated, reviewers=3, per_proposal=1)
    assignment = await w.assignments("kou").first()
    reviewer_h = w.h[assignment.reviewer_id]
    await review(client, reviewer_h, assignment.id, await scores_for(w.challenge_id, 5, 5))
    url = f"/api/v1/assignments/{assignment.id}/transitions"
    assert (await client.post(url, json={"to": "assigned"}, headers=w.h[w.owner.id])).status_code == 422
    assert (await client.post(url, json={"to": "assigned", "reason": "x"}, headers=reviewer_h)).status_code == 409
    assert (await client.delete(f"/api/v1/assignments/{assignment.id}", headers=w.h[w.owner.id])).status_code == 409
    reopened = await client.post(url, json={"to": "assigned", "reason": "費用の評価を見直してください"}, headers=w.h[w.owner.id])
    assert reopened.status_code == 200 and reopened.json()["status"] == "assigned"
    stored = await Review.get(assignment_id=assignment.id)
    assert stored.status == "draft" and stored.total is None and stored.scores  # the scores are kept to edit
    assert await AuditEvent.exists(action="review.reopened", target_id=str(stored.id))
    assert await Notification.exists(user_id=assignment.reviewer_id, kind="review.reopened")
    await review(client, reviewer_h, assignment.id, await scores_for(w.challenge_id, 4, 5))
    assert (await Review.get(assignment_id=assignment.id)).total == 85.0

    # Adding by hand (the reviewer must not have a conflict; not twice), taking off before submission.
    taken = set(await Assignment.filter(proposal_id=w.proposals["kou"]).values_list("reviewer_id", flat=True))
    free = next(r for r in w.reviewers if r.id not in taken)
    add_url = f"/api/v1/challenges/{w.challenge_id}/assignments"
    added = await client.post(add_url, json={"proposal_id": w.proposals["kou"], "reviewer_id": free.id}, headers=w.h[w.owner.id])
    assert added.status_code == 201, added.text
    twice = await client.post(add_url, json={"proposal_id": w.proposals["kou"], "reviewer_id": free.id}, headers=w.h[w.owner.id])
    assert twice.status_code == 422
    assert (await client.post(add_url, json={"proposal_id": w.proposals["kou"], "reviewer_id": w.kou_member.id},
                              headers=w.h[w.owner.id])).status_code == 422  # not in the reviewer pool
    assert (await client.post(add_url, json={"proposal_id": w.proposals["kou"], "reviewer_id": free.id},
                              headers=w.h[w.operator.id])).status_code == 403
    removed = await client.delete(f"/api/v1/assignments/{added.json()['id']}", headers=w.h[w.owner.id])
    assert removed.status_code == 200 and removed.json()["status"] == "recused"
    assert await AuditEvent.exists(action="assignment.removed", target_id=str(added.json()["id"]))


async def test_bad_review_input_is_refused_and_nothing_is_written(client, migrated):
    w = await closed_world(client, migrated)
    assignment = await w.assignments("kou").first()
    h = w.h[assignment.reviewer_id]
    url = f"/api/v1/assignments/{assignment.id}/review"
    criterion = next(iter(await scores_for(w.challenge_id, 1)))
    for body in ({"scores": {criterion: 7}}, {"scores": {criterion: 0}}, {"scores": {criterion: True}},
                 {"scores": {"999999": 3}}, {"comments": {"999999": "x"}}, {"confidence": 9}, {"unknown": 1},
                 {"scores": {criterion: "five"}}):
        response = await client.put(url, json=body, headers=h)
        assert response.status_code == 422, (body, response.text)
    assert (await client.put(url, content=b"{", headers=h)).status_code == 400
    assert not await Review.exists(assignment_id=assignment.id)
    bad_to = await client.post(f"/api/v1/assignments/{assignment.id}/transitions", json={"to": "approved"}, headers=h)
    assert bad_to.status_code == 409 and set(bad_to.json()["allowed"]) == {"submitted", "recused"}
    panel_url = f"/api/v1/challenges/{w.challenge_id}/panel"
    for body in ({"reviewers": [w.kou_member.id]}, {"reviewers": [], "reviews_per_proposal": 0},
                 {"reviewers": [], "max_per_reviewer": 0}, {"reviewers": "all"}):
        assert (await client.put(panel_url, json=body, headers=w.h[w.owner.id])).status_code == 422, body
    assert len((await client.get(panel_url, headers=w.h[w.owner.id])).json()["reviewers"]) == len(w.reviewers)


async def test_the_pages_take_a_reviewer_and_an_owner_through_the_review(client, migrated):
    w = await closed_world(client, migrated, reviewers=2, per_proposal=2)
    assignment = await w.assignments("kou").first()
    reviewer = next(r for r in w.reviewers if r.id == assignment.reviewer_id)
    scores = await scores_for(w.challenge_id, 5, 3)
    first, second = list(scores)
    await sign_in_as(client, reviewer)
    inbox = await client.get("/reviews")
    assert inbox.status_code == 200 and f"/reviews/{assignment.id}" in inbox.text
    assert '<a href="/reviews">担当する審査</a>' in inbox.text and "審査結果" not in inbox.text  # the menu names the task
    page_url = f"/reviews/{assignment.id}"
    form_page = await client.get(page_url)
    assert form_page.status_code == 200 and "review.js" in form_page.text and "<script>" not in form_page.text

    wrong = await post_form(client, page_url, {f"score-{first}": "9", f"comment-{first}": "とても良い", "action": "save"}, page=page_url)
    assert wrong.status_code == 400 and "とても良い" in wrong.text
    saved = await post_form(client, page_url, {f"score-{first}": "5", f"comment-{first}": "とても良い", "action": "save"}, page=page_url)
    assert saved.status_code == 303
    partial = await client.get(saved.headers["location"])
    assert "60.0" in partial.text  # the running total, computed on save: 60 × (5 − 1) / 4
    assert saved.headers["location"] == page_url and "banner--success" in partial.text  # a banner, not ?saved=1
    unattested = await post_form(client, page_url, {f"score-{first}": "5", f"score-{second}": "3", "confidence": "4",
                                                    "action": "submit", "confirm": "1"}, page=page_url)
    assert unattested.status_code == 400 and 'value="4" selected' in unattested.text  # what was typed is kept
    draft = await Review.get(assignment_id=assignment.id)
    assert draft.status == "draft" and draft.confidence is None  # a refused submission writes nothing
    complete = {f"score-{first}": "5", f"score-{second}": "3", "confidence": "4", "no_conflict": "yes",
                "feedback": "良い提案です", "action": "submit"}
    asked = await post_form(client, page_url, complete, page=page_url)  # first a page of its own: it cannot be changed after
    assert asked.status_code == 200 and "この審査を提出しますか？" in asked.text and "提出後は審査を変更できません" in asked.text
    assert 'name="confirm" value="1"' in asked.text and 'value="良い提案です"' in asked.text
    assert (await Review.get(assignment_id=assignment.id)).status == "draft"  # saved, not submitted
    back = await client.get(page_url)  # going back keeps what was typed
    assert "良い提案です" in back.text
    submitted = await post_form(client, page_url, complete | {"confirm": "1"}, page=page_url)
    assert submitted.status_code == 303
    assert (await Review.get(assignment_id=assignment.id)).total == 80.0
    locked = await client.get(page_url)
    assert "80.0" in locked.text and 'name="action"' not in locked.text

    # The owner's pages: the panel, the assignments, the ranking (refusing to finalise), a decision.
    await sign_in_as(client, w.owner)
    for path in (f"/challenges/{w.challenge_id}/panel", f"/challenges/{w.challenge_id}/assignments",
                 f"/challenges/{w.challenge_id}/ranking", f"/proposals/{w.proposals['kou']}/reviews"):
        response = await client.get(path)
        assert response.status_code == 200, path
    assert reviewer.name in (await client.get(f"/proposals/{w.proposals['kou']}/reviews")).text
    ranking_page = (await client.get(f"/challenges/{w.challenge_id}/ranking")).text
    assert "補正後の点数：審査員ごとの甘さ・辛さの癖を取り除いた点数です。" in ranking_page  # "Calibrated" explained
    assert "審査員ごとの評価" in ranking_page and "提出済みの審査" in ranking_page  # one term per meaning
    assert "審査結果" not in ranking_page
    panel_url = f"/challenges/{w.challenge_id}/panel"
    bad_panel = await post_form(client, panel_url, {"reviewers": [str(r.id) for r in w.reviewers],
                                                    "reviews_per_proposal": "zero"}, page=panel_url)
    assert bad_panel.status_code == 400
    ranking_url = f"/challenges/{w.challenge_id}/ranking"
    refused = await post_form(client, f"/challenges/{w.challenge_id}/finalise", {}, page=ranking_url)
    assert refused.status_code == 409 and (await Challenge.get(id=w.challenge_id)).status == "closed"
    no_reason = await post_form(client, f"/challenges/{w.challenge_id}/decisions",
                                {"proposal_id": str(w.proposals["kou"]), "to": "shortlisted"}, page=ranking_url)
    assert no_reason.status_code == 400
    decided = await post_form(client, f"/challenges/{w.challenge_id}/decisions",
                              {"proposal_id": str(w.proposals["kou"]), "to": "shortlisted", "reason": "有望"}, page=ranking_url)
    assert decided.status_code == 303
    reopen = await post_form(client, f"/assignments/{assignment.id}/transitions", {"to": "assigned", "reason": "再確認"},
                             page=f"/challenges/{w.challenge_id}/assignments")
    assert reopen.status_code == 303 and (await Review.get(assignment_id=assignment.id)).status == "draft"


async def test_the_assignment_page_says_why_the_assignment_is_incomplete(client, migrated):
    w = await closed_world(client, migrated, reviewers=1, per_proposal=2)
    await sign_in_as(client, w.owner)
    page = await client.get(f"/challenges/{w.challenge_id}/assignments?lang=en")
    assert "“甲の提案” lacks 1 reviewer: besides those assigned, 0 panel members can review it" in page.text
    assert "甲の提案" in page.text


def test_the_review_mails_render_in_both_languages():
    context = {"challenge_title": "窓口", "challenge_id": 3, "count": 2, "due_at": "2026-03-31T15:30:00+00:00"}
    for locale, when in (("en", "1 Apr 2026, 00:30 JST"), ("ja", "2026年4月1日 0:30 JST")):
        assigned = mail.render("assignment", locale, context, base_url="http://testserver")
        assert when in assigned.body and "http://testserver/reviews" in assigned.body
        reminder = mail.render("reminder", locale, {"challenge_title": "窓口", "proposal_title": "甲の提案",
                                                    "assignment_id": 7, "moment": "overdue", "due_at": context["due_at"]},
                               base_url="http://testserver")
        assert "甲の提案" in reminder.subject and "/reviews/7" in reminder.body
    decision = mail.render("decision", "en", {
        "challenge_title": "Waits", "challenge_id": 3, "proposal_title": "Kou", "proposal_id": 9, "company_name": "Kou KK",
        "decision": "not_selected", "reason": "Too costly", "total": "62.5", "criteria_count": 1,
        "criterion_names": {"0": "Impact"}, "criterion_means": {"0": "3.5"}, "criterion_scores": {"0": "3, 4"},
        "criterion_comments": {"0": "- clear plan"}, "feedback_count": 1, "feedback_texts": {"0": "Try a pilot."}},
        base_url="http://testserver")
    assert decision.subject == "Decision on your proposal: Waits"
    for text in ("Not selected", "Too costly", "Impact: average 3.5 (3, 4)", "- clear plan", "- Try a pilot.",
                 "http://testserver/proposals/9/feedback"):
        assert text in decision.body, text


async def test_a_refused_assignment_change_names_what_that_person_may_do(client, migrated):
    w = await closed_world(client, migrated, reviewers=2, per_proposal=1)
    assignment = await w.assignments("kou").first()
    reviewer_h = w.h[assignment.reviewer_id]
    url = f"/api/v1/assignments/{assignment.id}/transitions"
    too_soon = await client.post(url, json={"to": "assigned", "reason": "x"}, headers=reviewer_h)
    assert too_soon.status_code == 409 and too_soon.json()["allowed"] == ["submitted", "recused"]
    await review(client, reviewer_h, assignment.id, await scores_for(w.challenge_id, 4, 4))
    taken_away = await client.delete(f"/api/v1/assignments/{assignment.id}", headers=w.h[w.owner.id])
    assert taken_away.status_code == 409 and taken_away.json()["allowed"] == ["assigned"]  # the owner may reopen it
    edited = await client.put(f"/api/v1/assignments/{assignment.id}/review", json={"strengths": "x"}, headers=reviewer_h)
    assert edited.status_code == 409 and edited.json()["allowed"] == []  # only an owner reopens a submitted review
