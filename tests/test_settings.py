from __future__ import annotations

import pytest

from server.settings import ConfigError, load_settings
from tests.helpers import run_kyoso


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/kyoso"),
        ("REDIS_URL", "http://localhost:6379"),
        ("MEILI_URL", "localhost:7700"),
        ("KYOSO_ENV", "staging"),
        ("SMTP_URL", "mail.example.jp"),
        ("SECRET_KEY", "short"),
    ],
)
def test_a_wrong_value_names_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert variable in str(error.value)
    assert "\n" not in str(error.value)


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("KYOSO_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_dev_keeps_a_generated_secret_key_under_var(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("server.settings.VAR_DIR", tmp_path / "var")
    first = load_settings().secret_key
    assert first and len(first) >= 32
    assert load_settings().secret_key == first
    assert (tmp_path / "var" / "secret_key").read_text().strip() == first


def test_the_command_stops_with_one_clear_line(env):
    result = run_kyoso(dict(env, DATABASE_URL="mysql://root@localhost/kyoso"), "migrate")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr
