"""Files the service creates are private (0600, folders 0700) whatever the umask: the
instance folder and file, the SQLite database and its -wal and -shm files."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.gardien import ROOT, GardienService, service_env
from support.postgres import free_port

from webhook_app.files import private_database

pytestmark = pytest.mark.e2e

PERMISSIVE = 0o022


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of ``folder`` and of everything under it, by relative name."""
    return {
        str(path.relative_to(folder.parent)): stat.S_IMODE(path.stat().st_mode)
        for path in [folder, *folder.rglob("*")]
    }


def test_the_service_keeps_its_files_private_under_a_permissive_umask(tmp_path):
    instance = tmp_path / "state" / "instance"
    env = {**service_env(database_url=None), "GARDIEN_INSTANCE_PATH": str(instance)}
    service = GardienService(workdir=tmp_path, port=free_port(), env=env, umask=PERMISSIVE)
    # As `make run` does, without its own `umask 077`: instance file, migration, gunicorn.
    subprocess.run(
        [sys.executable, "-m", "webhook_app.instance"], env=env, cwd=ROOT, check=True,
        capture_output=True, umask=PERMISSIVE,
    )
    service.flask("db", "upgrade")
    service.start()
    try:
        response = service.signed(
            "POST", "/v1/contact", {"name": "Ana", "email": "ana@example.fr", "message": "m"}
        )
        assert response.status_code == 201, response.text
        seen = modes(instance)  # while the service runs: SQLite removes -wal and -shm after
    finally:
        service.stop()
    assert {"instance/config.toml", "instance/gardien.db", "instance/gardien.db-wal",
            "instance/gardien.db-shm"} <= set(seen), seen
    assert seen == {name: 0o700 if name == "instance" else 0o600 for name in seen}


def test_a_database_outside_the_instance_folder_needs_its_folder(tmp_path):
    """Only the instance folder is created: a missing folder elsewhere is a mistake to
    report (the API answers 503), not a new empty database to start."""
    private_database(tmp_path / "missing" / "gardien.db", tmp_path / "instance")
    assert not (tmp_path / "missing").exists()
    assert not (tmp_path / "instance").exists()
