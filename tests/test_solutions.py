"""Solutions: an adopted pilot becomes a published case study, agencies state their own adoptions, the
catalogue counts who uses it; corrections, withdrawal, the yearly re-confirmation. Runs on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise import timezone

from models.core.audit import AuditEvent
from models.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from models.core.notifications import Notification
from models.pilots.models import Pilot
from models.policy import VISITOR
from models.solutions import adoptions, catalogue
from models.solutions.adoptions import AdoptionInput
from models.solutions.catalogue import CorrectionInput
from models.solutions.models import Adoption, Solution
from models.solutions.views import solution_view
from tests.solution_helpers import adopted_pilot_world, drain_adopted, published_solution_world


async def test_done_when_an_adopted_pilot_is_published_and_three_agencies_adopt_it_one_drops(migrated, people):
    w = await adopted_pilot_world(people)
    assert not await Solution.filter(pilot_id=w.pilot_id).exists()  # drafted by the outbox consumer, not inline
    assert await drain_adopted() >= 1
    solution = await Solution.get(pilot_id=w.pilot_id)
    assert solution.status == "draft" and solution.company_id == w.company.id and solution.owner_id == w.agency.id
    # The measured results: the KPI's baseline and latest verified value (not the unverified 30), residents' share.
    assert [(r["baseline"], r["latest"], r["unit"]) for r in solution.results] == [(40, 22, "min")]
    assert solution.positive_share == 0.75 and solution.feedback_count == 4
    assert await drain_adopted() == 0 and await Solution.filter(pilot_id=w.pilot_id).count() == 1  # once only

    # A draft is nobody's business but its owners', the company's and operators'.
    assert solution.id not in [s.id for s in await catalogue.list_solutions(VISITOR)]
    with pytest.raises(InvalidTransition):
        await adoptions.adopt(w.actors[0], solution, AdoptionInput())  # not published yet
    await catalogue.update_solution(w.owner, solution, {"title": {"ja": "窓口予約", "en": "Counter booking"},
                                                        "summary": {"ja": "待ち時間半減", "en": "Half the wait"}})
    await catalogue.transition(w.owner, solution, "in_review")
    with pytest.raises(InvalidTransition):
        await catalogue.transition(w.owner, solution, "published")  # only an operator approves
    await catalogue.transition(w.operator, solution, "published")
    assert solution.id in [s.id for s in await catalogue.list_solutions(VISITOR)]

    statuses = {}
    for number, actor in enumerate(w.actors):
        adoption = await adoptions.adopt(actor, solution, AdoptionInput(status="considering", scale=50_000 + number))
        assert adoption.municipality_code == w.agencies[number].municipality_code  # keyed by the agency's code
        statuses[number] = adoption
    live = await adoptions.transition(w.actors[0], statuses[0], solution, "contracted")
    live = await adoptions.transition(w.actors[0], live, solution, "live")
    await adoptions.transition(w.actors[1], statuses[1], solution, "live", given=AdoptionInput(starts_on="2027-04-01"))
    with pytest.raises(ValidationFailed):
        await adoptions.transition(w.actors[2], statuses[2], solution, "dropped")  # a reason is needed
    await adoptions.transition(w.actors[2], statuses[2], solution, "dropped", reason="予算が付かなかった")

    view = await solution_view(VISITOR, await catalogue.get_solution(VISITOR, solution.id))
    assert view.used_by.adopted_count == 2
    assert view.used_by.count == 3  # Shibuya, which ran the pilot, and the two live adopters
    names = {a.agency.name_en: a.status for a in view.used_by.adopters}
    assert names == {"Shinjuku City": "live", "Setagaya City": "live", "Koto City": "dropped"}
    assert [o.name_en for o in view.used_by.original] == ["Shibuya City"]
    assert view.savings_yen == 0  # no contracted round yet (the joint procurement tests go on from here)

    # The company and the original agency heard of each adoption; everything is in the audit log.
    for who in ("company", "owner"):
        heard = await Notification.filter(user_id=w.users[who].id, kind__startswith="adoption.").count()  # type: ignore[attr-defined]
        assert heard == 3 + 4  # three stated; contracted, live, live, dropped
    actions = set(await AuditEvent.filter(target_type="adoption", target_id__in=[str(a.id) for a in statuses.values()])
                  .values_list("action", flat=True))
    assert {"adoption.stated", "adoption.contracted", "adoption.live", "adoption.dropped"} <= actions
    assert await AuditEvent.filter(action="solution.published", target_id=str(solution.id)).exists()


async def test_only_the_adopting_agency_states_and_changes_its_adoption(migrated, people):
    w = await published_solution_world(people)
    solution = await Solution.get(id=w.solution_id)
    with pytest.raises(NotAllowed):  # the agency that ran the pilot does not "adopt" its own
        await adoptions.adopt(w.owner, solution, AdoptionInput())
    with pytest.raises(NotAllowed):  # nor does the vendor write the list
        await adoptions.adopt(w.company_member, solution, AdoptionInput())
    adoption = await adoptions.adopt(w.actors[0], solution, AdoptionInput(status="live", scale=1000))
    with pytest.raises(InvalidTransition):
        await adoptions.adopt(w.actors[0], solution, AdoptionInput())  # once per agency
    with pytest.raises(NotAllowed):
        await adoptions.transition(w.actors[1], adoption, solution, "dropped", reason="x")
    with pytest.raises(NotAllowed):
        await adoptions.transition(w.company_member, adoption, solution, "dropped", reason="x")
    with pytest.raises(ValidationFailed):
        await adoptions.adopt(w.actors[1], solution, AdoptionInput(status="live", scale=-3))
    with pytest.raises(ValidationFailed):
        await adoptions.adopt(w.actors[1], solution, AdoptionInput(status="dropped"))


async def test_live_adoptions_not_reconfirmed_for_a_year_are_marked_stale_not_deleted(migrated, people):
    w = await published_solution_world(people)
    solution = await Solution.get(id=w.solution_id)
    adoption = await adoptions.adopt(w.actors[0], solution, AdoptionInput(status="live"))
    await Adoption.filter(id=adoption.id).update(last_confirmed_at=timezone.now() - timedelta(days=400))
    assert adoption.id in await adoptions.mark_stale()
    assert adoption.id not in await adoptions.mark_stale()  # idempotent
    adoption = await Adoption.get(id=adoption.id)
    assert adoption.stale and adoption.status == "live"
    view = await solution_view(VISITOR, solution)
    assert view.used_by.adopted_count == 1 and view.used_by.using[0].stale  # still listed, marked
    assert adoption.id in [a.id for a in await adoptions.adoptions_to_confirm(w.operator)]
    assert await adoptions.adoptions_to_confirm(w.actors[0]) == []  # operators' work
    with pytest.raises(NotAllowed):
        await adoptions.transition(w.actors[0], adoption, solution, "confirmed")
    await adoptions.transition(w.operator, adoption, solution, "confirmed")
    assert not (await Adoption.get(id=adoption.id)).stale
    assert adoption.id not in [a.id for a in await adoptions.adoptions_to_confirm(w.operator)]
    assert await AuditEvent.filter(action="adoption.stale", target_id=str(adoption.id)).exists()


async def test_the_company_proposes_corrections_and_the_owners_decide(migrated, people):
    w = await published_solution_world(people)
    solution = await Solution.get(id=w.solution_id)
    with pytest.raises(NotAllowed):
        await catalogue.propose_correction(w.actors[0], solution, CorrectionInput({"yearly_cost_yen": 1}))
    with pytest.raises(InvalidTransition):  # published: edits go through corrections
        await catalogue.update_solution(w.owner, solution, {"contact": "x"})
    correction = await catalogue.propose_correction(w.company_member, solution,
                                                    CorrectionInput({"yearly_cost_yen": 360_000}, "値下げしました"))
    with pytest.raises(ValidationFailed):
        await catalogue.propose_correction(w.company_member, solution, CorrectionInput({"yearly_cost_yen": -1}))
    with pytest.raises(NotAllowed):
        await catalogue.decide_correction(w.company_member, correction, solution, "accepted")
    await catalogue.decide_correction(w.owner, correction, solution, "accepted")
    assert (await Solution.get(id=solution.id)).yearly_cost_yen == 360_000
    with pytest.raises(InvalidTransition):
        await catalogue.decide_correction(w.owner, correction, solution, "rejected", "no")


async def test_a_withdrawn_solution_needs_a_reason_and_leaves_the_catalogue(migrated, people):
    w = await published_solution_world(people)
    solution = await Solution.get(id=w.solution_id)
    with pytest.raises(ValidationFailed):
        await catalogue.transition(w.owner, solution, "withdrawn")
    await catalogue.transition(w.owner, solution, "withdrawn", reason="提供終了")
    assert solution.id not in [s.id for s in await catalogue.list_solutions(VISITOR)]
    assert (await catalogue.get_solution(VISITOR, solution.id)).status_reason == "提供終了"  # its page stays, marked


async def test_the_owners_may_draft_the_solution_themselves_only_from_an_adopted_pilot(migrated, people):
    w = await adopted_pilot_world(people)
    with pytest.raises(NotAllowed):
        await catalogue.draft_from_pilot(w.company_member, w.pilot_id)
    solution, new = await catalogue.draft_from_pilot(w.owner, w.pilot_id)
    again, new_again = await catalogue.draft_from_pilot(w.owner, w.pilot_id)
    assert new and not new_again and again.id == solution.id
    await drain_adopted()  # the consumer then finds it drafted
    assert await Solution.filter(pilot_id=w.pilot_id).count() == 1
    await Pilot.filter(id=w.pilot_id).update(status="stopped")
    with pytest.raises(InvalidTransition):
        await catalogue.draft_from_pilot(w.owner, w.pilot_id)  # (a stopped pilot would not, had it none yet)
