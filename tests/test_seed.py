from __future__ import annotations

from models.challenges.models import Challenge
from models.identity.accounts import User
from models.identity.orgs import Organisation
from models.seed.demo import DEMO_PEOPLE
from tests.helpers import run_kyoso


async def _counts() -> tuple[int, int, int]:
    return (await Organisation.all().count(), await User.all().count(), await Challenge.all().count())


async def test_seed_demo_prints_logins_and_running_it_twice_changes_nothing(client, env):
    first = run_kyoso(env, "seed-demo")
    assert first.returncode == 0, first.stderr
    for email, *_ in DEMO_PEOPLE:
        assert email in first.stdout
    after_first = await _counts()
    second = run_kyoso(env, "seed-demo")
    assert second.returncode == 0, second.stderr
    assert await _counts() == after_first

    # Its first challenge is public in both languages (the home page's short lists hold other tests' newer ones).
    demo = next(c for c in await Challenge.all() if c.title.get("ja") == "子育て支援申請を10分で完了できるようにしたい")
    page = await client.get(f"/challenges/{demo.id}?lang=ja")
    assert "子育て支援申請を10分で完了できるようにしたい" in page.text
    assert "JST" in (await client.get("/?lang=ja")).text
    page_en = await client.get(f"/challenges/{demo.id}?lang=en")
    assert "Childcare support applications completed within 10 minutes" in page_en.text


async def test_the_demo_world_shows_every_part_working(client, env):
    from models.pilots.models import Feedback, Measurement, Pilot
    from models.proposals.models import Proposal
    from models.review.models import Review
    from models.seed.world import CHALLENGES

    seeded = run_kyoso(env, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    titles = {spec[3][0]: spec[2] for spec in CHALLENGES}
    found = {c.title.get("ja"): c for c in await Challenge.all() if c.title.get("ja") in titles}
    assert len(found) == len(CHALLENGES) >= 27  # with the first three: about thirty
    assert {c.status for c in found.values()} == {"draft", "in_review", "changes_requested", "scheduled", "published",
                                                  "closed", "decided", "cancelled"}
    assert len({c.owner_id for c in found.values()}) >= 12  # Tokyo and a dozen municipalities
    decided = [c.id for c in found.values() if c.status == "decided"]
    assert await Proposal.filter(challenge_id__in=decided, status="selected").count() == len(decided)
    assert await Review.filter(assignment__proposal__challenge_id__in=decided, status="submitted").exists()
    running = await Pilot.get(short_code="demo1")
    assert await Measurement.filter(kpi__pilot_id=running.id, status="verified").count() >= 3
    assert await Feedback.filter(pilot_id=running.id, published=True).exists()
    assert (await client.get(f"/pilots/{running.id}")).status_code == 200
    home = (await client.get("/?lang=en")).text
    assert "Kyoso in figures" in home and "Closing soon" in home


async def test_the_demo_world_shows_a_solution_its_adoptions_and_a_joint_procurement(client, env):
    from models.solutions.models import Adoption, ProcurementRound, RoundMember, Solution

    for _ in range(2):  # idempotent: the second run adds nothing
        seeded = run_kyoso(env, "seed-demo")
        assert seeded.returncode == 0, seeded.stderr
    solution = await Solution.get(pilot__short_code="demo2")
    assert solution.status == "published" and solution.results  # born from the adopted pilot, with its results
    assert await Adoption.filter(solution_id=solution.id).count() == 2
    round_ = await ProcurementRound.get(solution_id=solution.id)
    members = await RoundMember.filter(round_id=round_.id).order_by("id")
    assert round_.status == "contracted" and len(members) == 3
    assert sum(m.share_yen or 0 for m in members) == round_.contract_price_yen  # to the yen
    saving = sum(m.solo_estimate_yen for m in members) - (round_.contract_price_yen or 0)
    assert saving > 0 and sum(m.saving_yen or 0 for m in members) == saving
    api = (await client.get(f"/api/v1/solutions/{solution.id}")).json()
    assert api["adopted_count"] == 2 and api["savings_yen"] == saving
    page = (await client.get(f"/solutions/{solution.id}?lang=ja")).text
    assert f"{saving:,}円" in page and f'href="/procurements/{round_.id}"' in page
    assert f"/procurements/{round_.id}" in (await client.get("/procurements")).text
    shibuya = (await client.get("/agencies/131130/savings?lang=ja")).text  # Shibuya is a member (other tests may add)
    saved = (await client.get("/api/v1/agencies/131130/savings")).json()["saving_yen"]
    assert f'<strong id="saving">{saved:,}円</strong>' in shibuya and f"/procurements/{round_.id}" in shibuya
