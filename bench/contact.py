"""Signed ``POST /v1/contact`` through gunicorn (2 workers, SQLite) against bare Flask.

A third server, :mod:`bench.floor`, does only the work the contract requires (signature,
validation, encryption, two inserts and a commit) with nothing around it: the gap between
it and bare Flask is what no implementation with these parts can close.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

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


def main() -> dict[str, Run]:
    """Measure the three servers REPEATS times, interleaved; print and return the medians."""
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-"))
    settings, env = gardien_env(work / "gardien.db")
    _, floor_env = gardien_env(work / "floor.db", settings)
    gardien = Server("webhook_app:create_app()", free_port(), env).wait("/healthz")
    floor = Server("bench.floor:create_app()", free_port(), floor_env).wait("/")
    bare = Server("bench.hello:create_app()", free_port(), {}).wait("/")
    runs: dict[str, list[Run]] = {"contact": [], "floor": [], "bare": []}
    bodies = [submission(number).decode() for number in range(1000)]
    try:
        for _ in range(REPEATS):
            lines = signed_requests(work / "contact.tsv", "/v1/contact",
                                    settings["WEBHOOK_SECRET"], bodies, REQUESTS_PER_RUN)
            runs["contact"].append(wrk(gardien.url, lines, SECONDS))
            lines = signed_requests(work / "floor.tsv", "/v1/contact",
                                    settings["WEBHOOK_SECRET"], bodies, REQUESTS_PER_RUN)
            runs["floor"].append(wrk(floor.url, lines, SECONDS))
            lines = signed_requests(work / "hello.tsv", "/hello", settings["WEBHOOK_SECRET"],
                                    bodies, REQUESTS_PER_RUN)
            runs["bare"].append(wrk(bare.url, lines, SECONDS))
    finally:
        for server in (gardien, floor, bare):
            server.stop()
    contact, floor_run, bare_run = (median_run(runs[name]) for name in ("contact", "floor", "bare"))
    ratio = contact.rate / bare_run.rate
    rows = [
        ["bare Flask POST /hello", f"{bare_run.rate:,.0f}", f"{bare_run.p50_ms:.2f}",
         f"{bare_run.p99_ms:.2f}", "1.00", str(bare_run.non2xx)],
        ["floor: required parts only", f"{floor_run.rate:,.0f}", f"{floor_run.p50_ms:.2f}",
         f"{floor_run.p99_ms:.2f}", f"{floor_run.rate / bare_run.rate:.2f}",
         str(floor_run.non2xx)],
        ["signed POST /v1/contact", f"{contact.rate:,.0f}", f"{contact.p50_ms:.2f}",
         f"{contact.p99_ms:.2f}", f"{ratio:.2f} (target >= {TARGET_RATIO})",
         str(contact.non2xx)],
    ]
    print_table(
        f"HTTP intake: gunicorn -w 2 (sync), SQLite, wrk -t1 -c8 {SECONDS}s, "
        f"median of {REPEATS} (wrk shares the 2 cores)",
        ["endpoint", "req/s", "p50 ms", "p99 ms", "ratio to bare", "non-2xx"],
        rows,
    )
    return {"contact": contact, "floor": floor_run, "bare": bare_run}
