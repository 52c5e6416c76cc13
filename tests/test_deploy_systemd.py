"""deploy/'s systemd units, checked by systemd's own tools offline (``systemd-analyze
verify`` and ``security``), and what they hand the service: secrets as credentials, the
SQLite database in the state folder."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from support.gardien import ROOT, VENV_BIN, GardienService, fresh_secrets
from support.postgres import free_port

from webhook_app import config, systemd

DEPLOY = ROOT / "deploy"
UNITS = (
    "gardien.service",
    "gardien-purge.service",
    "gardien-purge.timer",
    "gardien-failure@.service",
    "gardien-backup.service",
    "gardien-backup.timer",
)
SANDBOXED = ("gardien.service", "gardien-purge.service", "gardien-backup.service")
# systemd-analyze security's scale, 0 (safe) to 10 (exposed): the issue asks 2.5 at most.
MOST_EXPOSURE = 2.5
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def analyze(*args: str) -> subprocess.CompletedProcess:
    assert SYSTEMD_ANALYZE, "systemd-analyze is missing: apt-get install systemd"
    return subprocess.run([SYSTEMD_ANALYZE, *args], capture_output=True, text=True, check=False)


def installed(root: Path, edit=lambda name, text: text) -> Path:
    """The units as installed under ``root`` (/opt/gardien rewritten into it), with the
    programs they run present; ``edit`` may change a unit's text. Returns the units' folder."""
    units = root / "units"
    units.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("/opt/gardien", str(root / "opt/gardien"))
        (units / name).write_text(edit(name, text))
    for program in (".venv/bin/flask", ".venv/bin/gunicorn", "deploy/notify-failure"):
        path = root / "opt/gardien" / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return units


def verify(units: Path) -> subprocess.CompletedProcess:
    return analyze("verify", "--man=no", *(str(units / name) for name in UNITS))


def test_systemd_verify_passes_on_every_unit(tmp_path):
    result = verify(installed(tmp_path))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize(
    "mistake",
    [
        ("ProtectSystem=strict", "ProtectSytem=strict"),
        ("Type=notify", "Type=notfy"),
        (".venv/bin/gunicorn -c", ".venv/bin/gunicron -c"),
    ],
)
def test_systemd_verify_sees_a_mistake(tmp_path, mistake):
    """The check above can fail: a misspelt setting, unit or program is reported."""
    units = installed(tmp_path, lambda name, text: text.replace(*mistake))
    result = verify(units)
    assert result.returncode != 0 or result.stdout + result.stderr


def exposure(unit: Path) -> float:
    result = analyze(
        "security", "--offline=true", f"--threshold={MOST_EXPOSURE * 10:.0f}", str(unit)
    )
    found = re.search(
        rf"Overall exposure level for {re.escape(unit.name)}: (\d+\.\d)", result.stdout
    )
    assert found, result.stdout + result.stderr
    level = float(found[1])
    assert (result.returncode == 0) == (level <= MOST_EXPOSURE), result.stderr
    return level


@pytest.mark.parametrize("name", SANDBOXED)
def test_systemd_rates_the_sandbox_safe(name):
    assert exposure(DEPLOY / name) <= MOST_EXPOSURE


def test_the_rating_is_not_always_safe(tmp_path):
    """Without its sandbox the service rates as exposed (8.5 before this one)."""
    text = (DEPLOY / "gardien.service").read_text()
    bare = tmp_path / "gardien.service"
    bare.write_text(text.split("# Sandbox")[0] + "\n[Install]\nWantedBy=multi-user.target\n")
    assert exposure(bare) > 5


def settings(name: str) -> dict[str, list[str]]:
    """A unit's settings, each with every value given (comments left out)."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.parametrize("name", SANDBOXED)
def test_the_units_run_as_gardien_with_state_and_credentials(name):
    unit = settings(name)
    assert unit["User"] == unit["Group"] == ["gardien"]
    assert unit["StateDirectory"] == ["gardien"]
    # The backup also loads restic's password and rclone's settings, each a credential too.
    assert unit["LoadCredential"][0] == "gardien:/etc/gardien/credentials"
    assert all(c.startswith(f"{c.split(':')[0]}:/etc/gardien/") for c in unit["LoadCredential"])
    assert unit["OnFailure"] == ["gardien-failure@%n.service"]
    assert not any("SECRET" in value or "KEY" in value for value in unit.get("Environment", []))


def test_the_failure_report_reaches_the_journal_and_the_hook(tmp_path):
    hook = tmp_path / "on-failure"
    hook.write_text(f'#!/bin/sh\necho "$1" > {tmp_path / "told"}\n')
    hook.chmod(0o755)
    result = subprocess.run(
        [str(DEPLOY / "notify-failure"), "gardien-purge.service"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GARDIEN_FAILURE_HOOK": str(hook)},
    )
    assert result.stdout.startswith("<2>Gardien: gardien-purge.service failed")
    assert (tmp_path / "told").read_text() == "gardien-purge.service\n"


def credentials_folder(path: Path, secrets: dict[str, str]) -> Path:
    """Files as systemd lays them out from /etc/gardien/credentials/ (``gardien_`` + name)."""
    path.mkdir(mode=0o700)
    for name, value in secrets.items():
        (path / f"gardien_{name.removeprefix('GARDIEN_').lower()}").write_text(value + "\n")
    return path


def loaded(monkeypatch, tmp_path, **environ: str) -> dict:
    for name in list(os.environ):
        if name.startswith("GARDIEN_") or name in ("CREDENTIALS_DIRECTORY", "STATE_DIRECTORY"):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = Flask("webhook_app", instance_path=str(tmp_path / "instance"))
    config.load(app, None)
    return app.config


def test_credentials_give_the_secrets_and_the_state_folder_the_database(monkeypatch, tmp_path):
    secrets = fresh_secrets()
    folder = credentials_folder(tmp_path / "credentials", secrets)
    settings = loaded(
        monkeypatch,
        tmp_path,
        CREDENTIALS_DIRECTORY=str(folder),
        STATE_DIRECTORY=str(tmp_path / "state"),
    )
    assert {f"GARDIEN_{name}": settings[name] for name in config.SECRET_SETTINGS} == secrets
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'state' / 'gardien.db'}"


def test_environment_variables_still_win_and_the_default_is_unchanged(monkeypatch, tmp_path):
    secrets, other = fresh_secrets(), fresh_secrets()
    folder = credentials_folder(tmp_path / "credentials", secrets)
    (folder / "gardien_database_url").write_text("sqlite:////srv/elsewhere.db")
    settings = loaded(
        monkeypatch,
        tmp_path,
        CREDENTIALS_DIRECTORY=str(folder),
        STATE_DIRECTORY=str(tmp_path / "state"),
        GARDIEN_DATA_KEYS=other["GARDIEN_DATA_KEYS"],
    )
    assert settings["DATA_KEYS"] == other["GARDIEN_DATA_KEYS"]
    assert settings["DATABASE_URL"] == "sqlite:////srv/elsewhere.db"
    outside = loaded(monkeypatch, tmp_path, **other)
    assert outside["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'gardien.db'}"
    assert systemd.credentials({}) == {} and systemd.state_database_url({}) is None


@pytest.mark.e2e
def test_the_service_runs_on_credentials_alone(tmp_path):
    """gunicorn started as systemd starts it: secrets in files, none in the environment."""
    secrets = fresh_secrets()
    env = {name: value for name, value in os.environ.items() if not name.startswith("GARDIEN_")}
    env.update(
        PYTHONPATH=str(ROOT),  # this checkout, whatever the .venv was installed from
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        CREDENTIALS_DIRECTORY=str(credentials_folder(tmp_path / "credentials", secrets)),
        STATE_DIRECTORY=str(tmp_path / "state"),
    )
    (tmp_path / "state").mkdir(mode=0o700)
    service = GardienService(workdir=tmp_path, port=free_port(), env=env)
    service.flask("db", "upgrade")
    service.start(workers=1)
    try:
        contact = {"name": "Jeanne Martin", "email": "jeanne@example.fr", "message": "Bonjour"}
        answer = service.signed(
            "POST", "/v1/contact", contact, secret=secrets["GARDIEN_WEBHOOK_SECRET"]
        )
        assert answer.status_code == 201, answer.text
        environ = Path(f"/proc/{service.process.pid}/environ").read_bytes()
        assert not any(value.encode() in environ for value in secrets.values())
    finally:
        service.stop()
    assert (tmp_path / "state" / "gardien.db").stat().st_size > 0


def test_commands_run_with_the_service_s_user_credentials_and_state():
    """deploy/gardien-cli's transient unit gets what gardien.service has."""
    given = dict(
        line.split("=", 1)
        for line in re.findall(r"--property=(\S+)", (DEPLOY / "gardien-cli").read_text())
    )
    unit = settings("gardien.service")
    for name in (
        "User",
        "Group",
        "WorkingDirectory",
        "StateDirectory",
        "LoadCredential",
        "EnvironmentFile",
        "UMask",
    ):
        assert [given[name]] == unit[name], name
    assert "/opt/gardien/.venv/bin/flask --app webhook_app" in unit["ExecStartPre"][0]


def test_systemd_waits_for_a_graceful_stop():
    """On stop, gunicorn's workers get graceful_timeout to finish; systemd waits longer."""
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert int(settings("gardien.service")["TimeoutStopSec"][0]) > gunicorn["graceful_timeout"]
