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

    home = await client.get("/?lang=ja")
    assert "子育て支援申請を10分で完了できるようにしたい" in home.text
    assert "JST" in home.text
    home_en = await client.get("/?lang=en")
    assert "Childcare support applications completed within 10 minutes" in home_en.text
