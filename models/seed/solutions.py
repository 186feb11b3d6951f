"""The demo's reuse story: the solution born from the demo's adopted pilot (demo2), published; two agencies
that adopted it; and one contracted joint procurement round with its shares and savings. Added once.

The solution is drafted the way the worker drafts it (catalogue.draft_adopted); the round's shares come from
procurement.apportion, so the demo's figures add up to the yen like real ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models.core.audit import AuditEvent
from models.identity.orgs import Organisation
from models.pilots.models import Pilot, PilotStatus
from models.solutions import catalogue, procurement
from models.solutions.models import (
    Adoption,
    AdoptionStatus,
    EstimateSource,
    ProcurementRound,
    RoundMember,
    RoundStatus,
    SolutionStatus,
)

PILOT = "demo2"
ADOPTERS = (  # municipality code, status, residents covered; Shibuya and Tokyo have demo logins
    ("131130", AdoptionStatus.LIVE, 243_000),
    ("130001", AdoptionStatus.CONTRACTED, 120_000),
)
# lead first (the pilot's agency), then the adopters: quantity, solo estimate (yen), where it came from
MEMBERS = ((12, 3_600_000, EstimateSource.LAST_CONTRACT), (8, 2_500_000, EstimateSource.QUOTE),
           (5, 1_650_000, EstimateSource.ESTIMATE))
CONTRACT_YEN = 6_400_003  # over 25 licences: shares are not whole yen, apportion keeps every yen


async def seed_solutions(now: datetime) -> bool:
    """Add the demo's published solution, adoptions and contracted round once; False when already there."""
    pilot = await Pilot.get_or_none(short_code=PILOT, status=PilotStatus.ADOPTED.value)
    if pilot is None:
        return False
    solution = await catalogue.draft_adopted(pilot.id)
    if solution is None or solution.status != SolutionStatus.DRAFT.value:
        return False
    owner = await Organisation.get(id=solution.owner_id)
    adopters = [(await Organisation.get(municipality_code=code), status, scale) for code, status, scale in ADOPTERS]
    async with in_transaction() as connection:
        solution.title = {"ja": solution.title.get("ja", ""), "en": solution.title.get("en", "")}
        solution.summary = {
            "ja": solution.summary.get("ja") or "落ち葉を堆肥にして公園と学校で使う仕組み。",
            "en": solution.summary.get("en") or "Park leaves turned into compost used by parks and schools.",
        }
        solution.initial_cost_yen, solution.yearly_cost_yen = 1_800_000, 540_000
        solution.spec_shareable, solution.contact = True, f"dx@{owner.municipality_code}.demo.kyoso.jp"
        solution.status, solution.published_at = SolutionStatus.PUBLISHED.value, now - timedelta(days=60)
        await solution.save(using_db=connection)
        await AuditEvent.create(action="solution.published", target_type="solution", target_id=str(solution.id),
                                after={"status": solution.status}, using_db=connection)
        for agency, status, scale in adopters:
            await Adoption.create(solution=solution, agency=agency, municipality_code=agency.municipality_code,
                                  status=status.value, scale=scale, starts_on=(now - timedelta(days=30)).date(),
                                  initial_cost_yen=1_500_000, yearly_cost_yen=480_000,
                                  last_confirmed_at=now if status == AdoptionStatus.LIVE else None, using_db=connection)
        round_ = await ProcurementRound.create(
            lead=owner, solution=solution, item_ja="落ち葉堆肥化システムの利用ライセンス",
            item_en="Leaf composting system licences", unit="licence", closes_at=now - timedelta(days=20),
            status=RoundStatus.CONTRACTED.value, closed_at=now - timedelta(days=20), contract_price_yen=CONTRACT_YEN,
            company_id=solution.company_id, contracted_at=now - timedelta(days=10), using_db=connection)
        agencies = [owner, *(agency for agency, _status, _scale in adopters)]
        shares = procurement.apportion(CONTRACT_YEN, [quantity for quantity, _yen, _source in MEMBERS])
        for agency, (quantity, estimate, source), share in zip(agencies, MEMBERS, shares, strict=True):
            await RoundMember.create(round=round_, agency=agency, quantity=quantity, solo_estimate_yen=estimate,
                                     estimate_source=source.value, share_yen=share, saving_yen=estimate - share,
                                     using_db=connection)
        await AuditEvent.create(action="procurement.contracted", target_type="procurementround",
                                target_id=str(round_.id), after={"contract_price_yen": CONTRACT_YEN}, using_db=connection)
        await catalogue.search_message(solution.id, using_db=connection)
    return True
