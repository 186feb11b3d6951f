"""A review round over another kind of subject than proposals, through the domain functions only: the proof
that the pilots' evaluation (issue 11) plugs in by registering a kind and a default rubric, with no review
code copied. The kind here is test-only: its subjects live in memory, each the work of a company."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise import timezone

from models.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from models.core.outbox import OutboxMessage
from models.identity.accounts import User
from models.policy import actor_for
from models.review import reminders, reviewing, rounds
from models.review.models import Assignment, Conflict, ReminderSent, ReviewRound
from models.review.rubric import PILOT_RUBRIC
from models.review.subjects import Subject, SubjectKind, kind_of, register
from tests.review_helpers import RUN, agency, company, headers, open_challenge, person

TRIAL = "trial"
STORE: dict[int, Subject] = {}  # the test kind's subjects, by id; a round's scope is the challenge here


async def _under_review(row, using_db=None):
    return [s for s in STORE.values() if s.id // 1000 == row.scope_id]


async def _load(ids, using_db=None):
    return {i: STORE[i] for i in ids if i in STORE}


async def _open(row, using_db=None):
    return row.started_at is not None


register(SubjectKind(TRIAL, under_review=_under_review, load=_load, open=_open, rubric=PILOT_RUBRIC))


async def test_a_round_over_a_registered_kind_runs_panel_conflicts_assignment_reviews_reminders_and_ranking(client):
    owner = await person("trial-owner", org=await agency())
    operator = await person("trial-operator", operator=True)
    challenge = await open_challenge(client, await headers(owner), await headers(operator))
    alpha, beta, rival = [await company(f"試行{name} {RUN}") for name in "ABC"]
    insider = await person("trial-insider", org=alpha, reviewer=True)  # works for alpha: conflicted with its subject
    outsiders = [await person(f"trial-r{i}", reviewer=True, expertise=["窓口"]) for i in range(3)]
    scope = challenge["id"]
    first, second = scope * 1000 + 1, scope * 1000 + 2
    STORE[first] = Subject(TRIAL, first, alpha.id, "窓口予約の試行")
    STORE[second] = Subject(TRIAL, second, beta.id, "オンライン申請の試行", declared_conflicts=frozenset({rival.id}))
    await User.filter(id=outsiders[2].id).update(affiliations=[rival.id])  # beta declared a conflict with rival

    row = await rounds.round_of(challenge["id"], TRIAL, scope_id=scope, due_at=timezone.now() + timedelta(days=7))
    owner_actor = await actor_for(owner)
    with pytest.raises(NotAllowed):
        await rounds.set_round_panel(await actor_for(insider), row, [insider.id], 2, None)
    panel = await rounds.set_round_panel(owner_actor, row, [insider.id, *(r.id for r in outsiders)], 2, 2)
    assert [u.id for u in panel] == sorted([insider.id, *(r.id for r in outsiders)])
    assert await rounds.run_round(row.id) is None  # not started: nothing assigned

    result = await rounds.start_round(row)
    assert result is not None and result.feasible, result
    assignments = await Assignment.filter(round_id=row.id).order_by("subject_id", "reviewer_id")
    pairs = {(a.subject_id, a.reviewer_id) for a in assignments}
    assert len(pairs) == 4 and {a.subject_kind for a in assignments} == {TRIAL}
    assert all(a.proposal_id is None and a.due_at == row.due_at for a in assignments)
    assert (first, insider.id) not in pairs and (second, outsiders[2].id) not in pairs
    assert await Conflict.exists(reviewer_id=insider.id, organisation_id=alpha.id, detected=True)
    assert await rounds.run_round(row.id) is not None and await Assignment.filter(round_id=row.id).count() == 4

    rubric = await rounds.rubric_of_round(row)
    assert rubric.weights() == {"kpi_achievement": 40, "satisfaction": 20, "cost": 20, "reusability": 20}
    scores = {first: (5, 4, 3, 4), second: (2, 2, 3, 3)}
    submitted = [a for a in assignments if a.reviewer_id != outsiders[0].id]  # outsiders[0] is late
    for assignment in submitted:
        actor = await actor_for(await assignment.reviewer)
        assert await reviewing.allowed_transitions(actor, assignment) == ["submitted", "recused"]
        with pytest.raises(ValidationFailed) as refused:
            await reviewing.submit_review(actor, assignment, reviewing.ReviewChanges(
                scores=dict(zip(rubric.weights(), scores[assignment.subject_id])), no_conflict=True))
        assert set(refused.value.errors) == {"confidence"}
        await reviewing.submit_review(actor, assignment, reviewing.ReviewChanges(
            scores=dict(zip(rubric.weights(), scores[assignment.subject_id])), confidence=4, no_conflict=True,
            feedback="横展開の手順書を", strengths="内部メモ"))
        with pytest.raises(InvalidTransition):  # submitted: locked
            await reviewing.save_review(actor, assignment, reviewing.ReviewChanges(strengths="後から"))

    late = [a for a in assignments if a.reviewer_id == outsiders[0].id]
    assert late and {a.status for a in await Assignment.filter(id__in=[a.id for a in late])} == {"assigned"}
    sent = await reminders.send_reminders(now=row.due_at + timedelta(hours=1))
    assert sent >= len(late)  # other tests' assignments share the database
    assert await ReminderSent.filter(assignment_id__in=[a.id for a in late], moment="overdue").count() == len(late)

    ranked = await rounds.round_ranking(row)
    by_subject = {r.proposal_id: r for r in ranked.rows}
    assert [r.proposal_id for r in ranked.rows] == [first, second]
    assert by_subject[first].reviews_done >= 1 and by_subject[first].total == pytest.approx(40 + 15 + 10 + 15)
    assert ranked.subjects[second].title == "オンライン申請の試行"
    hidden = await rounds.round_ranking(row, reader=insider)
    assert [r.proposal_id for r in hidden.rows] == [second] and hidden.hidden == 1

    feedback = await rounds.subject_feedback(row, first)
    assert [c.weight for c in feedback.criteria] == [40, 20, 20, 20]
    assert feedback.criteria[0].name == {"ja": "KPIの達成度", "en": "KPI achievement"}
    assert set(feedback.feedback) == {"横展開の手順書を"}  # the panel's notes are not the company's

    # A conflict declared now withdraws the reviewer from the subjects of that company and asks for a new run.
    victim = late[0]
    company_of_subject = alpha if victim.subject_id == first else beta
    await reviewing.declare_conflict(await actor_for(outsiders[0]), kind="family", organisation_id=company_of_subject.id)
    assert (await Assignment.get(id=victim.id)).status == "recused"
    assert await OutboxMessage.exists(key=f"review-round:{row.id}")

async def test_a_rounds_rubric_is_checked_and_fixed_once_it_starts(client):
    owner = await person("rubric-owner", org=await agency())
    operator = await person("rubric-operator", operator=True)
    challenge = await open_challenge(client, await headers(owner), await headers(operator))
    row = await rounds.round_of(challenge["id"], TRIAL, scope_id=challenge["id"])
    owner_actor = await actor_for(owner)
    written = [c.as_data() for c in PILOT_RUBRIC[:4]] + [
        {"key": "advice", "kind": "text", "label": {"ja": "助言", "en": "Advice"}, "required": True,
         "visible_to": ["owners", "company"]}]
    for c in written[:4]:
        c["label"] = c["label"] if isinstance(c["label"], dict) else {"ja": "x", "en": "x"}
    saved = await rounds.set_rubric(owner_actor, row, written)
    assert [f.key for f in saved.fields] == ["advice"] and sum(saved.weights().values()) == 100
    assert (await rounds.rubric_of_round(await ReviewRound.get(id=row.id))) == saved
    with pytest.raises(ValidationFailed):  # weights must add up to 100
        await rounds.set_rubric(owner_actor, row, [dict(written[0], weight=50), written[4]])
    with pytest.raises(ValidationFailed):  # a label in both languages
        await rounds.set_rubric(owner_actor, row, written[:4] + [dict(written[4], label={"ja": "助言"})])
    with pytest.raises(NotAllowed):
        await rounds.set_rubric(await actor_for(await person("rubric-stranger")), row, written)
    await rounds.start_round(row)
    with pytest.raises(InvalidTransition):
        await rounds.set_rubric(owner_actor, await ReviewRound.get(id=row.id), written)
    assert kind_of(TRIAL).kind == TRIAL
