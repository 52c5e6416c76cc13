"""The dashboard's messages pages with 1,000,000 messages stored, under gunicorn.

Messages are generated straight into SQLite (executemany in batches, one transaction),
not through the API: at schema 0009, then the upgrade to 0010 builds the list's indexes
(timed, as an operator would see it). Every message holds a real Fernet token made with
the app's data key, but filler rows share one token (one personal document encrypted
once) so generation takes seconds, not an hour; the detail page decrypts it like any
other. A manager signs in over HTTP (session cookie) and a Python client, one request at
a time, measures each page's latency next to two baselines served by the same gunicorn
in the same run: ``/healthz`` (no template) and the sign-in page (a template, no query).
The client shares the 2 cores with the server; its own cost (about 1 ms a request) is in
every number, the baselines' included.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from webhook_app import create_app, managers, sites
from webhook_app.crypto import email_index, encrypt
from webhook_app.dashboard.messages import cursor
from webhook_app.extensions import db

from .harness import BIN, ROOT, Server, free_port, gardien_env, print_table

MESSAGES = 1_000_000
BATCH = 50_000
REPEATS = 3
SAMPLES = 200  # timed requests per page and repeat
TARGET_P50_MS = 50
EMAIL = "gerante@clic-et-cetera.fr"
PASSWORD = "bench password, long enough"
START = datetime(2025, 12, 1, tzinfo=UTC)
STEP = timedelta(seconds=30)  # a million messages over about 347 days
STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLite stores a UTC time (naive)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'type="hidden" name="csrf_token" value="([^"]+)"')


def main() -> None:
    """Generate, upgrade, serve, sign in, measure; print one table."""
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-dashboard-"))
    database = work / "gardien.db"
    settings, env = gardien_env(database)  # migrated to the head
    app = create_app({**settings, "DATABASE_URL": f"sqlite:///{database}"})
    started = time.perf_counter()
    # The site and the manager through the current code, at the head; then back to 0009
    # for the raw rows.
    prepared = _prepare(app)
    _flask(env, "db", "downgrade", "0009")
    print(f"generating {MESSAGES:,} messages…", file=sys.stderr)
    generated = _generate(database, *prepared) + (time.perf_counter() - started)
    started = time.perf_counter()
    _flask(env, "db", "upgrade")
    upgrade_s = time.perf_counter() - started
    targets = _targets(app, database)

    server = Server("webhook_app:create_app()", free_port(), env).wait("/healthz")
    try:
        browser = _sign_in(server.url)
        pages = {
            "GET /healthz (baseline, no template)": lambda: "/healthz",
            "GET /login (baseline, a template)": lambda: "/login",
            "messages list, first page": lambda: "/messages",
            f"messages list, page at row {targets['deep_row']:,}":
                lambda: f"/messages?after={targets['deep']}",
            "messages list, one site": lambda: f"/messages?site={targets['shop']}",
            "messages list, held only": lambda: "/messages?held=1",
            "message detail (decrypted, audited)":
                lambda: f"/messages/{random.choice(targets['ids'])}",
            # Not a target of the issue, shown so its cost at this size is known.
            "overview (counts per category, 30 days ahead)": lambda: "/",
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
        for _ in range(REPEATS):
            for name, path in pages.items():
                results[name].append(_measure(browser, server.url, path))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)  # about 1.3 GB

    baseline = statistics.median(p50 for p50, _ in results["GET /login (baseline, a template)"])
    rows = []
    for name, runs in results.items():
        p50 = statistics.median(p50 for p50, _ in runs)
        p95 = statistics.median(p95 for _, p95 in runs)
        measured = name.startswith(("messages", "message "))
        rows.append([name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / baseline:.1f}",
                     f"< {TARGET_P50_MS}" if measured else "-"])
    rows.append([f"upgrade to 0010 (the indexes on {MESSAGES:,} rows)",
                 f"{upgrade_s:.0f} s", "", "", "-"])
    print_table(
        f"Dashboard on SQLite, gunicorn 2 workers, {MESSAGES:,} messages "
        f"(generated in {generated:.0f} s); median of {REPEATS} x {SAMPLES} sequential "
        "requests",
        ["measure", "p50 ms", "p95 ms", "x /login", "target p50 ms"],
        rows,
    )


def _flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "webhook_app", *args],
                   env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True)


def _prepare(app) -> tuple[str, str, list[str]]:
    """A second site and a manager; the one encrypted document, the hold reason and the
    visitors' blind indexes the rows share."""
    with app.app_context():
        sites.add("shop")
        managers.add(EMAIL, "bench")
        managers.redeem(managers.link_token(EMAIL, managers.INVITE), PASSWORD)
        db.session.commit()
        document = json.dumps({
            "name": "Visiteur", "email": "visiteur@example.org", "company": "Atelier",
            "message": "Bonjour, mon imprimante ne répond plus. " * 5, "ip": "203.0.113.7",
            "page": "https://example.fr/contact/", "fields": {"phone": "+33 6 12 34 56 78"},
        }, separators=(",", ":"))
        token = encrypt(document)
        reason = encrypt("menaces")
        indexes = [email_index(f"visitor{n}@example.org") for n in range(20_000)]
        db.engine.dispose()
    return token, reason, indexes


def _generate(database: Path, token: str, reason: str, indexes: list[str]) -> float:
    """A million messages over a year, on two sites (nine in ten on the first), one in
    ten thousand under legal hold, at schema 0009."""
    started = time.perf_counter()
    year = timedelta(days=365)
    five_years = timedelta(days=5 * 365)
    sql = ("INSERT INTO contact_messages (id, site_id, email_index, form, personal, consent, "
           "submitted_at, received_at, retention, expires_at, legal_hold_at, legal_hold_by, "
           "legal_hold_reason) VALUES (?,?,?,'contact',?,1,?,?,?,?,?,?,?)")

    def rows(first: int, last: int):
        for n in range(first, last):
            at = START + n * STEP
            stamp = at.strftime(STAMP)
            held = n % 10_000 == 0
            yield (str(uuid.uuid4()), 2 if n % 10 == 0 else 1, indexes[n % len(indexes)],
                   token, stamp, stamp, "legal_hold" if held else "contact",
                   ((at + five_years) if held else (at + year)).strftime(STAMP),
                   stamp if held else None, "bench" if held else None,
                   reason if held else None)

    connection = sqlite3.connect(database)
    with connection:
        for first in range(0, MESSAGES, BATCH):
            connection.executemany(sql, rows(first, min(first + BATCH, MESSAGES)))
    connection.close()
    return time.perf_counter() - started


def _targets(app, database: Path) -> dict:
    """What the measured pages ask for: a cursor deep in the list, message ids, a site."""
    connection = sqlite3.connect(database)
    deep_row = MESSAGES * 9 // 10
    received, message_id = connection.execute(
        "SELECT received_at, id FROM contact_messages ORDER BY received_at DESC, id DESC "
        "LIMIT 1 OFFSET ?", (deep_row - 1,)).fetchone()
    ids = [row[0] for row in connection.execute(
        "SELECT id FROM contact_messages WHERE rowid % 5000 = 0")]
    shop = connection.execute("SELECT id FROM sites WHERE slug = 'shop'").fetchone()[0]
    connection.close()
    at = datetime.strptime(received, STAMP).replace(tzinfo=UTC)
    with app.app_context():
        deep = cursor(at, message_id)
    return {"deep": deep, "deep_row": deep_row, "ids": ids, "shop": shop}


def _sign_in(url: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{url}/login", timeout=10).text
    found = CSRF.search(page)
    assert found, "the sign-in page has a CSRF token"
    answer = browser.post(f"{url}/login", data={
        "csrf_token": found.group(1) or found.group(2), "email": EMAIL, "password": PASSWORD,
    }, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, f"sign-in answered {answer.status_code}"
    return browser


def _measure(browser: requests.Session, url: str, path) -> tuple[float, float]:
    """p50 and p95 (ms) of SAMPLES sequential GETs, after a few unmeasured ones."""
    for _ in range(5):
        _get(browser, url + path())
    timings = []
    for _ in range(SAMPLES):
        target = url + path()
        started = time.perf_counter()
        _get(browser, target)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def _get(browser: requests.Session, target: str) -> None:
    answer = browser.get(target, allow_redirects=False, timeout=30)
    if answer.status_code != 200:
        raise RuntimeError(f"{target.split('?')[0]} answered {answer.status_code}")


if __name__ == "__main__":
    main()
