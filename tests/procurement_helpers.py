"""Helpers for the joint procurement tests: agencies with a member each, a company, a published solution."""

from __future__ import annotations

import secrets
from datetime import timedelta

from tortoise import timezone

from models.identity.accounts import Role
from models.identity.orgs import Organisation
from models.solutions.models import Solution
from tests.helpers import make_company


async def new_agency(name: str) -> Organisation:
    """A fresh agency, so that its totals start at zero whatever other tests did."""
    while True:
        code = f"9{secrets.randbelow(10**5):05d}"
        if not await Organisation.filter(municipality_code=code).exists():
            break
    return await Organisation.create(kind="agency", status="approved", municipality_code=code, municipality_type="city",
                                     name_ja=f"{name}市{code}", name_en=f"{name} City {code}")


async def procurement_world(people) -> dict:
    company = await make_company()
    agencies = [await new_agency(name) for name in ("Minato", "Kita", "Nishi")]
    users = [await people.make(org=agency, role=Role.MEMBER) for agency in agencies]
    solution = await Solution.create(company=company, owner=agencies[0], agency_ids=[agencies[0].id],
                                     status="published", published_at=timezone.now(),
                                     title={"ja": "窓口予約システム", "en": "Counter booking"},
                                     summary={"ja": "予約で待ち時間を減らす", "en": "Booking cuts waiting"})
    return {
        "company": company, "agencies": agencies, "users": users, "solution": solution,
        "company_user": await people.make(org=company), "operator": await people.make(operator=True),
        "closes_at": timezone.now() + timedelta(days=14),
    }


async def procurement_matrix_world(agency: Organisation, other_agency: Organisation, company: Organisation) -> dict:
    """The permission matrix's rounds: an open one the world agency leads and has joined (members see it),
    and a contracted one (public), both for a published solution of the world company."""
    from models.solutions.models import ProcurementRound, RoundMember

    solution = await Solution.create(company=company, owner=agency, agency_ids=[agency.id], status="published",
                                     published_at=timezone.now(), title={"ja": "行列のソリューション"})
    open_round = await ProcurementRound.create(lead=agency, solution=solution, item_ja="行列の調達", unit="licence",
                                               closes_at=timezone.now() + timedelta(days=30), company=company)
    await RoundMember.create(round=open_round, agency=agency, quantity=2, solo_estimate_yen=200)
    done = await ProcurementRound.create(lead=agency, solution=solution, item_ja="行列の契約済み調達", unit="seat",
                                         closes_at=timezone.now() - timedelta(days=1), status="contracted",
                                         contract_price_yen=300, company=company, closed_at=timezone.now(),
                                         contracted_at=timezone.now())
    await RoundMember.create(round=done, agency=agency, quantity=1, solo_estimate_yen=200, share_yen=100, saving_yen=100)
    await RoundMember.create(round=done, agency=other_agency, quantity=2, solo_estimate_yen=250, share_yen=200,
                             saving_yen=50)
    return {"procurement_solution_id": solution.id, "procurement_id": open_round.id,
            "procurement_contracted_id": done.id}
