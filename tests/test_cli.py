from __future__ import annotations

import pytest

from tests.helpers import run_kyoso

CONTRACT_COMMANDS = ["serve", "worker", "migrate", "seed-demo", "reindex", "create-user", "create-token", "run"]


@pytest.mark.parametrize("command", CONTRACT_COMMANDS)
def test_every_command_explains_itself(env, command):
    result = run_kyoso(env, command, "--help")
    assert result.returncode == 0
    assert f"kyoso {command}" in result.stdout


def test_create_user_help_names_its_options(env):
    text = run_kyoso(env, "create-user", "--help").stdout
    for option in ("--email", "--name", "--org", "--role", "--reviewer", "--operator", "--org-name"):
        assert option in text
