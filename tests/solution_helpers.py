"""Helpers for the solution tests: an adopted pilot, its published solution, adopting agencies.

The world is built with the domain functions (the same ones the routes call), so that the joint procurement
tests can continue from it: `SolutionWorld.agencies` are three approved agencies other than the pilot's, each
with a member (`actors`), ready to adopt or to join a round.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from models.identity.accounts import Role
from models.identity.orgs import Organisation
from models.policy import Actor, actor_for

# Three wards other than Shibuya (the pilot's agency in pilot_world), seeded with their municipality codes.
ADOPTER_CODES = ("131041", "131121", "131083")  # Shinjuku, Setagaya, Koto


@dataclass
class SolutionWorld:
    agency: Organisation  # the agency that ran the pilot
    company: Organisation
    owner: Actor
    company_member: Actor
    operator: Actor
    pilot_id: int
    solution_id: int = 0
    agencies: list[Organisation] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    users: dict[str, object] = field(default_factory=dict)


async def adopted_pilot_world(people) -> SolutionWorld:
    """A pilot of Shibuya's, with verified values and residents' answers, moved to adopted by its owner."""
    from models.pilots import lifecycle
    from models.pilots.models import Feedback, Measurement, Pilot, PilotKpi
    from tests.pilot_helpers import pilot_world

    agency = await Organisation.get(municipality_code="131130")
    company = await Organisation.create(kind="company", status="approved", name_ja=f"解決 {secrets.token_hex(3)}",
                                        name_en="Kaiketsu KK")
    owner_user = await people.make(org=agency, role=Role.MEMBER)
    company_user = await people.make(org=company)
    operator_user = await people.make(operator=True)
    ids = await pilot_world({}, agency, company)
    pilot = await Pilot.get(id=ids["pilot_id"])
    kpi = await PilotKpi.get(id=ids["kpi_id"])
    await Measurement.create(kpi=kpi, value=35, measured_on=pilot.starts_on + timedelta(days=2), status="verified")
    await Measurement.create(kpi=kpi, value=22, measured_on=pilot.starts_on + timedelta(days=8), status="verified")
    for level in (5, 2, 4):  # with pilot_world's 4: three of four positive
        await Feedback.create(pilot=pilot, satisfaction=level)
    owner = await actor_for(owner_user)
    await lifecycle.transition(owner, pilot, "under_evaluation")
    await lifecycle.transition(owner, await Pilot.get(id=pilot.id), "adopted", reason="目標を達成したため")
    agencies = [await Organisation.get(municipality_code=code) for code in ADOPTER_CODES]
    users = {"owner": owner_user, "company": company_user, "operator": operator_user}
    actors = []
    for number, org in enumerate(agencies):
        user = await people.make(org=org, role=Role.ADMIN)
        users[f"adopter{number}"] = user
        actors.append(await actor_for(user))
    return SolutionWorld(agency=agency, company=company, owner=owner, company_member=await actor_for(company_user),
                         operator=await actor_for(operator_user), pilot_id=pilot.id, agencies=agencies, actors=actors,
                         users=users)


async def drain_adopted() -> int:
    """Run the outbox consumer that drafts solutions from adopted pilots, as the worker does."""
    from models.core import outbox
    from models.solutions import catalogue

    return await outbox.drain({catalogue.TOPIC: catalogue.consume_pilot_adopted})


async def published_solution_world(people) -> SolutionWorld:
    """adopted_pilot_world, its solution drafted through the outbox, sent to review and published."""
    from models.solutions import catalogue
    from models.solutions.models import Solution

    w = await adopted_pilot_world(people)
    await drain_adopted()
    solution = await Solution.get(pilot_id=w.pilot_id)
    await catalogue.update_solution(w.owner, solution, {
        "title": {"ja": "窓口予約システム", "en": "Counter booking system"},
        "summary": {"ja": "窓口の待ち時間を半分に", "en": "Halved the waiting time at the counter"},
        "initial_cost_yen": 1_200_000, "yearly_cost_yen": 480_000, "spec_shareable": True,
        "contact": "dx@city.shibuya.example.jp",
    })
    await catalogue.transition(w.owner, solution, "in_review")
    await catalogue.transition(w.operator, solution, "published")
    w.solution_id = solution.id
    return w


async def solution_world(agency: Organisation, company: Organisation, other_agency: Organisation) -> dict[str, object]:
    """The permission matrix's solution: published, the agency's, the company's, with a correction the company
    proposed and an adoption other_agency stated (considering)."""
    from tortoise import timezone

    from models.solutions.models import Adoption, Solution, SolutionCorrection

    solution = await Solution.create(company=company, owner=agency, agency_ids=[agency.id], status="published",
                                     title={"ja": "行列の解決策", "en": "Matrix solution"}, summary={"ja": "行列"},
                                     published_at=timezone.now())
    correction = await SolutionCorrection.create(solution=solution, changes={"contact": {"before": "", "after": "行列"}})
    adoption = await Adoption.create(solution=solution, agency=other_agency, municipality_code=other_agency.municipality_code)
    return {"solution_id": solution.id, "correction_id": correction.id, "adoption_id": adoption.id}
