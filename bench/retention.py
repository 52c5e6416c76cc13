"""Export of one address among 1,000,000 messages; purge of 1,000,000 expired messages.

Rows are generated straight into SQLite (executemany, one transaction), not through the
API. Filler rows share one valid Fernet token: export and purge never decrypt them.
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade

from webhook_app import clock, create_app, privacy, retention
from webhook_app.config import new_secrets
from webhook_app.crypto import email_index, encrypt
from webhook_app.extensions import db

from .harness import BIN, insert_messages, print_table, run_measured

MESSAGES = 1_000_000
TARGET = "jeanne.martin@example.fr"
EXPORT_TARGET_MS = 20
PURGE_TARGET_S = 60
MEMORY_TARGET_MB = 200


def main() -> None:
    """Print the retention table (median of 3 for the export)."""
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-retention-"))
    settings = new_secrets()
    url = f"sqlite:///{work / 'gardien.db'}"
    app = create_app({**settings, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
    print(f"generating {MESSAGES:,} messages…", file=sys.stderr)
    generated = generate(work / "gardien.db", app)

    with app.app_context():
        privacy.export_page(1, TARGET, 1, actor="bench")  # warm the caches once
        runs = []
        for _ in range(3):
            timings = []
            for _ in range(20):
                started = time.perf_counter()
                page = privacy.export_page(1, TARGET, 1, actor="bench")
                timings.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            runs.append(statistics.median(timings))
        assert len(page["data"]) == 5, "the export must find the target's messages"
        db.engine.dispose()
    export_ms = statistics.median(runs)

    env = {**os.environ, **{f"GARDIEN_{k}": v for k, v in settings.items()},
           "GARDIEN_DATABASE_URL": url}
    later = clock.format_rfc3339(datetime(2027, 1, 2, tzinfo=UTC))
    purge = run_measured(
        [str(BIN / "flask"), "--app", "webhook_app", "purge", "--now", later],
        env,
    )
    if purge.returncode != 0:
        raise RuntimeError("the purge command failed")
    purge_s, peak_mb, output = purge.seconds, purge.peak_mb, purge.output
    purged = int(next(line.split()[1] for line in output.splitlines()
                      if line.split()[:1] == ["contact"]))

    print_table(
        f"Retention on SQLite ({MESSAGES:,} messages, generated in {generated:.0f} s)",
        ["measure", "value", "target"],
        [
            ["export of one address (page 1), median of 3x20", f"{export_ms:.2f} ms",
             f"< {EXPORT_TARGET_MS} ms"],
            [f"purge of {purged:,} expired messages (chunks of {retention.CHUNK:,}, the "
             "default)", f"{purge_s:.1f} s",
             f"< {PURGE_TARGET_S} s"],
            ["purge peak memory (max RSS of the flask process)", f"{peak_mb:.0f} MB",
             f"< {MEMORY_TARGET_MB} MB"],
        ],
    )


def generate(path: Path, app) -> float:
    """A million filler messages of 200,000 visitors received over 2025, and the
    target's five."""
    started = time.perf_counter()
    with app.app_context():
        filler = encrypt('{"name": "x", "email": "x@example.org", "message": "x"}')
        target = [encrypt(f'{{"name": "J", "email": "{TARGET}", "message": "n{n}"}}')
                  for n in range(5)]
        indexes = [email_index(f"visitor{n % 200_000}@example.org") for n in range(200_000)]
        target_index = email_index(TARGET)
    rows = itertools.chain(
        ((indexes[n % len(indexes)], filler) for n in range(MESSAGES)),
        ((target_index, token) for token in target),
    )
    # Received over 2025 as a site receives them, not all at one instant: with one
    # timestamp for all, every index that orders by time would order them by their random
    # ids instead, and the purge would work through each of them in random order.
    insert_messages(path, rows, datetime(2025, 1, 1), timedelta(days=365) / MESSAGES)
    return time.perf_counter() - started
