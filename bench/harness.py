"""Pieces shared by the benchmarks: gunicorn servers, wrk runs, medians, the table."""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from standardwebhooks.webhooks import Webhook

from webhook_app.config import new_secrets

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRK_SCRIPT = Path(__file__).with_name("replay.lua")
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


@dataclass
class Run:
    """One wrk run: requests per second and latency percentiles (ms)."""

    rate: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    requests: int = 0  # answers wrk counted


class Server:
    """A gunicorn process (2 sync workers, deploy/gunicorn.conf.py) on a loopback port."""

    def __init__(self, app: str, port: int, env: dict[str, str], workers: int = 2):
        self.url = f"http://127.0.0.1:{port}"
        self.app = app
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "-b", f"127.0.0.1:{port}",
             "-w", str(workers), app],
            env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def wait(self, probe: str) -> Server:
        """Wait until ``probe`` answers (any status); a minute, for a loaded host."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"benchmark server exited at start: run gunicorn -c "
                                   f"deploy/gunicorn.conf.py '{self.app}' to see why")
            try:
                requests.get(self.url + probe, timeout=10)
                return self
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()  # never leave a server behind
        raise RuntimeError("benchmark server did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)


def wrk(url: str, lines_file: Path, seconds: int = 8, connections: int = 8) -> Run:
    """Run wrk (1 thread) replaying the pre-signed requests in ``lines_file``."""
    return wrk_at_once([(url, lines_file)], seconds, connections)[0]


def wrk_at_once(
    targets: list[tuple[str, Path]], seconds: int = 8, connections: int = 8
) -> list[Run]:
    """One wrk process (1 thread, ``connections`` each) per ``(url, lines_file)``, all
    running at the same time; their runs, in order."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `make bench` installs Debian's wrk as root")
    processes = [
        subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(WRK_SCRIPT), url,
             "--", str(lines_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for url, lines_file in targets
    ]
    runs = []
    for process in processes:
        stdout, stderr = process.communicate()
        if process.returncode:
            raise RuntimeError(f"wrk failed ({process.returncode}): {stderr}")
        line = next(row for row in stdout.splitlines() if row.startswith("RESULT "))
        data = json.loads(line.removeprefix("RESULT "))
        runs.append(Run(
            rate=data["requests"] / data["seconds"],
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            non2xx=data["non2xx"],
            requests=data["requests"],
        ))
    return runs


def gardien_env(
    database: Path | str, settings: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """GARDIEN_* variables for a migrated ``database`` (a SQLite file, or a URL), no rate
    limit; fresh secrets unless ``settings`` are given."""
    settings = settings or new_secrets()
    env = {f"GARDIEN_{key}": value for key, value in settings.items()}
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    env["GARDIEN_DATABASE_URL"] = url
    env["GARDIEN_RATE_LIMIT"] = ""
    subprocess.run(
        [str(BIN / "flask"), "--app", "webhook_app", "db", "upgrade"],
        env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True,
    )
    return settings, env


def signed_requests(target: Path, path: str, secret: str, bodies: list[str], count: int) -> Path:
    """Write ``count`` requests for replay.lua, cycling ``bodies``: fresh ids, signed now."""
    webhook = Webhook(secret)
    now = datetime.now(UTC)
    stamp = str(int(now.timestamp()))
    with target.open("w", encoding="utf-8") as out:
        for number in range(count):
            body = bodies[number % len(bodies)]
            msg_id = uuid.uuid4().hex
            out.write(f"{path}\t{msg_id}\t{stamp}\t{webhook.sign(msg_id, now, body)}\t{body}\n")
    return target


def median_run(runs: list[Run]) -> Run:
    """The run with the median rate (its own latencies go with it)."""
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def median(values: list[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MESSAGE_BATCH = 50_000
# How SQLAlchemy stores a DATETIME on SQLite.
STORED_TIME = "%Y-%m-%d %H:%M:%S.%f"


def insert_messages(path: Path, rows, first: datetime, step: timedelta = timedelta(0)) -> None:
    """Lay down contact messages straight into the SQLite file at ``path`` (raw sqlite3
    executemany, batches in one transaction: the quickest honest way to a million rows).

    ``rows`` yields ``(email_index, encrypted document)`` pairs. Message ``n`` is received
    at ``first + n * step`` and expires a year later (the contact policy); times are stored
    as the service stores them.
    """
    import sqlite3
    from itertools import islice

    sql = ("INSERT INTO contact_messages (id, site_id, email_index, form, personal, consent, "
           "submitted_at, received_at, retention, expires_at) VALUES (?,1,?,'contact',?,1,?,?,"
           "'contact',?)")
    year = timedelta(days=365)

    def stamped(batch, start: int):
        for number, (index, token) in enumerate(batch, start):
            received = first + number * step
            stamp = received.strftime(STORED_TIME)
            yield (str(uuid.uuid4()), index, token, stamp, stamp,
                   (received + year).strftime(STORED_TIME))

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    rows = iter(rows)
    done = 0
    with connection:
        while batch := list(islice(rows, MESSAGE_BATCH)):
            connection.executemany(sql, stamped(batch, done))
            done += len(batch)
    connection.close()


# Runs a command and writes its peak memory (ru_maxrss, KiB) to the file named first.
_PEAK_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Measured:
    """A finished command: exit code, standard output, wall seconds, peak memory (MB)."""

    returncode: int
    output: str
    seconds: float
    peak_mb: float


def run_measured(command: list[str], env: dict[str, str], **options) -> Measured:
    """Run ``command`` and measure its own peak memory.

    Not with ``wait4`` on a child of this process: a child starts as a copy of this
    process (hundreds of MB once a benchmark has generated its rows) and Linux keeps that
    high-water mark across ``exec``, so every command would seem to need at least what this
    process holds. A small launcher forks the command instead and reports its peak.
    """
    with tempfile.NamedTemporaryFile(prefix="gardien-peak-") as peak:
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, "-c", _PEAK_LAUNCHER, peak.name, *command],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False, **options,
        )
        seconds = time.perf_counter() - started
        peak_kib = int(Path(peak.name).read_text() or 0)
    return Measured(process.returncode, process.stdout, seconds, peak_kib / 1024)
