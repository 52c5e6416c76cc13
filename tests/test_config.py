"""Configuration order and the refusal to start without secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from webhook_app import create_app
from webhook_app.config import ConfigError, new_secrets, write_instance_config


def clear_gardien_env(monkeypatch) -> None:
    for name in list(os.environ):
        if name.startswith("GARDIEN_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "WEBHOOK_SECRET", "DATA_KEYS", "INDEX_KEY"])
def test_refuses_to_start_without_a_secret(monkeypatch, tmp_path, missing):
    clear_gardien_env(monkeypatch)
    settings = {k: v for k, v in new_secrets().items() if k != missing}
    with pytest.raises(ConfigError) as caught:
        create_app({**settings, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert f"GARDIEN_{missing}" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_SECRET", "not-a-secret"),
        ("WEBHOOK_SECRET", "whsec_c2hvcnQ="),
        ("DATA_KEYS", "not-a-fernet-key"),
        ("INDEX_KEY", "short"),
    ],
)
def test_refuses_malformed_secrets_without_echoing_them(monkeypatch, name, value):
    clear_gardien_env(monkeypatch)
    with pytest.raises(ConfigError) as caught:
        create_app({**new_secrets(), name: value})
    assert value not in str(caught.value)


def test_cli_refusal_is_a_clear_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GARDIEN_")}
    env["GARDIEN_DATABASE_URL"] = f"sqlite:///{tmp_path}/x.db"
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webhook_app", "sites", "list"],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "missing secret settings" in result.stderr
    assert "GARDIEN_WEBHOOK_SECRET" in result.stderr


def test_environment_overrides_instance_file_and_test_config_overrides_both(
    monkeypatch, tmp_path
):
    clear_gardien_env(monkeypatch)
    instance_secrets = write_instance_config(tmp_path / "instance")
    assert write_instance_config(tmp_path / "instance") is None, "never overwritten"
    mode = stat.S_IMODE((tmp_path / "instance" / "config.toml").stat().st_mode)
    assert mode == 0o600
    monkeypatch.setattr(
        "flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance")
    )
    app = create_app()
    assert app.config["WEBHOOK_SECRET"] == instance_secrets["WEBHOOK_SECRET"]
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'gardien.db'}"

    from_env = new_secrets()["WEBHOOK_SECRET"]
    monkeypatch.setenv("GARDIEN_WEBHOOK_SECRET", from_env)
    monkeypatch.setenv("GARDIEN_RATE_LIMIT", "10/second")
    assert create_app().config["WEBHOOK_SECRET"] == from_env
    assert create_app().config["RATE_LIMIT"] == "10/second"

    from_test = new_secrets()["WEBHOOK_SECRET"]
    assert create_app({"WEBHOOK_SECRET": from_test}).config["WEBHOOK_SECRET"] == from_test


def test_numeric_looking_secret_stays_a_string(monkeypatch):
    clear_gardien_env(monkeypatch)
    for name, value in new_secrets().items():
        monkeypatch.setenv(f"GARDIEN_{name}", value)
    monkeypatch.setenv("GARDIEN_INDEX_KEY", "1" * 40)
    assert create_app().config["INDEX_KEY"] == "1" * 40


def test_numeric_settings_from_the_environment(monkeypatch):
    clear_gardien_env(monkeypatch)
    monkeypatch.setenv("GARDIEN_SIGNATURE_TOLERANCE_SECONDS", "600")
    assert create_app(new_secrets()).config["SIGNATURE_TOLERANCE_SECONDS"] == 600
    monkeypatch.setenv("GARDIEN_SITE_CACHE_SECONDS", "ten")
    with pytest.raises(ConfigError, match="GARDIEN_SITE_CACHE_SECONDS"):
        create_app(new_secrets())


@pytest.mark.parametrize("name", ["DB_TIMEOUT_SECONDS", "CLI_DB_TIMEOUT_SECONDS"])
@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_database_waits_are_whole_positive_seconds(monkeypatch, name, value):
    clear_gardien_env(monkeypatch)
    monkeypatch.setenv(f"GARDIEN_{name}", value)
    with pytest.raises(ConfigError, match=f"GARDIEN_{name}"):
        create_app(new_secrets())
