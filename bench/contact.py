"""Signed ``POST /v1/contact`` through gunicorn (2 workers, SQLite) against bare Flask.

:mod:`bench.floor` does only the work the contract requires (signature, validation,
encryption, two inserts and a commit) with nothing around it: the gap between it and bare
Flask is what no implementation with these parts can close. The service and the floor
each run twice: committing durably (``synchronous=FULL``, the log synced before the
answer, as the service ships) and without the sync (``NORMAL``, :mod:`bench.undurable`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from webhook_app.config import new_secrets

from .harness import (
    Run,
    Server,
    free_port,
    gardien_env,
    median_run,
    print_table,
    signed_requests,
    wrk,
)

REPEATS = 3
SECONDS = 8
REQUESTS_PER_RUN = 60_000  # more than a run can send, so no webhook-id repeats
TARGET_RATIO = 0.35
TARGET_TO_FLOOR = 0.85  # the issue's: what the required parts allow on this machine


def submission(number: int) -> bytes:
    """A realistic contact-form body (about 400 bytes)."""
    return json.dumps({
        "form": "contact",
        "submitted_at": "2026-11-26T07:00:00Z",
        "name": f"Visiteur {number}",
        "email": f"visiteur.{number}@example.fr",
        "company": "Atelier Martin",
        "message": "Bonjour, mon imprimante ne répond plus depuis la mise à jour. " * 3,
        "ip": f"203.0.113.{number % 250}",
        "page": "https://example.fr/contact/",
        "consent": True,
        "fields": {"phone": "+33 6 12 34 56 78"},
    }, ensure_ascii=False).encode()


# Each server: its gunicorn app, its database, extra environment, its wrk path, the row.
SERVERS = {
    "contact": ("webhook_app:create_app()", "/v1/contact", {},
                "signed POST /v1/contact (durable: FULL)"),
    "contact_normal": ("bench.undurable:create_app()", "/v1/contact", {},
                       "signed POST /v1/contact, NORMAL (no sync)"),
    "floor": ("bench.floor:create_app()", "/v1/contact", {"FLOOR_SYNCHRONOUS": "FULL"},
              "floor: required parts only, FULL"),
    "floor_normal": ("bench.floor:create_app()", "/v1/contact", {"FLOOR_SYNCHRONOUS": "NORMAL"},
                     "floor: required parts only, NORMAL"),
    "bare": ("bench.hello:create_app()", "/hello", {}, "bare Flask POST /hello"),
}
# Which floor each endpoint is measured against: the one committing the same way.
FLOOR_OF = {"contact": "floor", "contact_normal": "floor_normal"}


def main() -> dict[str, Run]:
    """Measure every server REPEATS times, interleaved; print and return the medians.

    The service as shipped syncs the write-ahead log before each ``201``
    (``webhook_app/durability.py``); the same service without that sync, and the floor with
    and without it, run beside it so the sync's cost is read from one run.
    """
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-"))
    settings = new_secrets()
    servers: dict[str, Server] = {}
    try:
        for name, (app, _, extra, _) in SERVERS.items():
            _, env = gardien_env(work / f"{name}.db", settings)
            probe = "/healthz" if app.startswith(("webhook_app", "bench.undurable")) else "/"
            servers[name] = Server(app, free_port(), {**env, **extra}).wait(probe)
        runs: dict[str, list[Run]] = {name: [] for name in SERVERS}
        bodies = [submission(number).decode() for number in range(1000)]
        for _ in range(REPEATS):
            for name, (_, path, _, _) in SERVERS.items():
                lines = signed_requests(work / f"{name}.tsv", path, settings["WEBHOOK_SECRET"],
                                        bodies, REQUESTS_PER_RUN)
                runs[name].append(wrk(servers[name].url, lines, SECONDS))
    finally:
        for server in servers.values():
            server.stop()
    medians = {name: median_run(runs[name]) for name in SERVERS}
    bare = medians["bare"]
    rows = []
    for name in ("bare", "floor_normal", "floor", "contact_normal", "contact"):
        run = medians[name]
        ratio = f"{run.rate / bare.rate:.2f}"
        if name == "contact":
            ratio += f" (target >= {TARGET_RATIO})"
        floor = FLOOR_OF.get(name)
        to_floor = f"{run.rate / medians[floor].rate:.2f}" if floor else ""
        if name == "contact":
            to_floor += f" (target >= {TARGET_TO_FLOOR})"
        rows.append([SERVERS[name][3], f"{run.rate:,.0f}", f"{run.p50_ms:.2f}",
                     f"{run.p99_ms:.2f}", ratio, to_floor, str(run.non2xx)])
    print_table(
        f"HTTP intake: gunicorn -w 2 (sync), SQLite, wrk -t1 -c8 {SECONDS}s, "
        f"median of {REPEATS} (wrk shares the 2 cores)",
        ["endpoint", "req/s", "p50 ms", "p99 ms", "ratio to bare", "to its floor", "non-2xx"],
        rows,
    )
    return medians
