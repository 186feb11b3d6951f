"""What a solution's page and API show, fetched in one place, as the policy allows for this actor."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Sum

from models.policy import Actor
from models.policy.procurement import may_open_round
from models.policy.solutions import sees_internals, solution_actions
from models.solutions import adoptions, catalogue, procurement
from models.solutions.adoptions import UsedBy
from models.solutions.models import ProcurementRound, RoundMember, RoundStatus, Solution, SolutionCorrection


async def savings_of(solution_ids: list[int]) -> dict[int, int]:
    """Each solution's recorded saving in yen: the sum over its contracted rounds' members (the procurement
    rounds compute the members' savings when the contract is recorded)."""
    savings: dict[int, int] = dict.fromkeys(solution_ids, 0)
    rows = await (RoundMember.filter(round__solution_id__in=solution_ids, round__status=RoundStatus.CONTRACTED.value)
                  .annotate(total=Sum("saving_yen")).group_by("round__solution_id")
                  .values_list("round__solution_id", "total"))
    for solution_id, total in rows:
        savings[int(solution_id)] = int(total or 0)
    return savings


@dataclass
class SolutionView:
    solution: Solution
    used_by: UsedBy
    savings_yen: int
    corrections: list[SolutionCorrection]
    allowed: list[str]
    actions: set[str]
    internals: bool
    rounds: list[ProcurementRound]  # its joint procurement rounds this actor sees
    may_open_round: bool


async def solution_view(actor: Actor, solution: Solution) -> SolutionView:
    return SolutionView(
        solution=solution, used_by=await adoptions.used_by(solution),
        savings_yen=(await savings_of([solution.id]))[solution.id],
        corrections=await catalogue.corrections_of(actor, solution),
        allowed=catalogue.allowed_transitions(actor, solution), actions=solution_actions(actor, solution),
        internals=sees_internals(actor, solution),
        rounds=await procurement.list_rounds(actor, solution=solution.id, limit=50),
        may_open_round=solution.status == "published" and may_open_round(actor),
    )
