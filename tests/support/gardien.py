"""The real service under a real gunicorn, for end-to-end tests (ours and the WordPress ones)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests

from .postgres import free_port
from .signing import body_bytes, signed_headers

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def fresh_secrets() -> dict[str, str]:
    """GARDIEN_* secret variables, newly generated."""
    sys.path.insert(0, str(ROOT))
    from webhook_app.config import new_secrets

    return {f"GARDIEN_{name}": value for name, value in new_secrets().items()}


@dataclass
class GardienService:
    """One service process: its URL, its data and the secret of site ``default``."""

    workdir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = field(default=None, repr=False)
    # The file-creation mask of the service's processes; -1 keeps the test's own.
    umask: int = -1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_secret(self) -> str:
        return self.env["GARDIEN_WEBHOOK_SECRET"]

    @property
    def database_path(self) -> Path:
        return self.workdir / "gardien.db"

    @property
    def log_path(self) -> Path:
        return self.workdir / "service.log"

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run ``flask --app webhook_app ARGS`` with this service's settings."""
        return subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "webhook_app", *args],
            env=self.env, cwd=ROOT, check=True, capture_output=True, text=True,
            umask=self.umask,
        )

    def start(
        self, workers: int = 2, gunicorn_args: tuple[str, ...] = (), healthy: bool = True,
        wrapper: tuple[str, ...] = (),
    ) -> GardienService:
        """Start gunicorn (deploy/gunicorn.conf.py) and wait until /healthz answers 200,
        or answers at all when the database is not meant to be ``healthy``. ``wrapper`` is
        a command gunicorn runs under (``strace … --``)."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    *wrapper,
                    str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                    "-b", f"127.0.0.1:{self.port}", "-w", str(workers), *gunicorn_args,
                ],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, umask=self.umask,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log_path}")
            try:
                status = requests.get(self.url + "/healthz", timeout=15).status_code
            except requests.RequestException:
                status = None  # not listening yet, or still importing the app
            if status == 200 or (status is not None and not healthy):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def stop(self) -> None:
        """Stop gunicorn and wait for the port to be free."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def signed(
        self, method: str, path: str, json_body: object = None, site: str | None = None,
        secret: str | None = None, msg_id: str | None = None, at: datetime | None = None,
    ) -> requests.Response:
        """Send a request signed like the plugin does (at ``at``, or now)."""
        body = b"" if json_body is None else body_bytes(json_body)
        headers = signed_headers(secret or self.webhook_secret, body, msg_id=msg_id, site=site,
                                 at=at)
        return requests.request(method, self.url + path, data=body, headers=headers, timeout=10)


def service_env(
    database_url: str | None, settings: dict[str, object] | None = None
) -> dict[str, str]:
    """The environment of a service: the test's own, new secrets, the database (None: the
    default, in the instance folder) and ``settings`` as ``GARDIEN_*`` variables."""
    env = {
        **os.environ,
        **fresh_secrets(),
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        **{f"GARDIEN_{name}": str(value) for name, value in (settings or {}).items()},
    }
    env.pop("GARDIEN_DATABASE_URL", None)
    if database_url is not None:
        env["GARDIEN_DATABASE_URL"] = database_url
    return env


def start_gardien(
    workdir: Path, port: int | None = None, workers: int = 2, database_url: str | None = None,
    settings: dict[str, object] | None = None, extra_env: dict[str, str] | None = None,
) -> GardienService:
    """Migrate a fresh database (SQLite under ``workdir`` unless ``database_url`` names an
    empty one) and serve it with gunicorn; ``settings`` become ``GARDIEN_*`` variables,
    ``extra_env`` is added as it is (a moved clock: :mod:`.service_clock`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = service_env(database_url or f"sqlite:///{workdir / 'gardien.db'}", settings)
    env.update(extra_env or {})
    service = GardienService(workdir=workdir, port=port or free_port(), env=env)
    service.flask("db", "upgrade")
    return service.start(workers=workers)
