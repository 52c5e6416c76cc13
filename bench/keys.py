"""``keys rotate-data`` over 1,000,000 messages: time and peak memory, next to the floor.

Messages are generated straight into SQLite under data key A (one token shared by the
filler rows: the rotation verifies and re-encrypts each row's token all the same), then
``flask keys rotate-data`` runs with ``GARDIEN_DATA_KEYS=B,A`` in a process of its own.
The floor is the required cryptography alone: ``MultiFernet.rotate`` of as many tokens
in a loop, nothing read or written. Memory is flat when the peak for 1,000,000 messages
is about the peak for 100,000.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from flask_migrate import upgrade

from webhook_app import create_app
from webhook_app.config import new_secrets
from webhook_app.crypto import email_index, encrypt

from .harness import BIN, insert_messages, print_table, run_measured

SIZES = (100_000, 1_000_000)
TARGET_S = 300


def main() -> None:
    """Print the key-rotation table."""
    rows = []
    for size in SIZES:
        seconds, peak_mb, floor_s = measure(size)
        rows.append([f"keys rotate-data, {size:,} messages", f"{seconds:.1f} s",
                     f"{floor_s:.1f} s", f"{seconds / floor_s:.1f}x", f"{peak_mb:.0f} MB"])
    print_table(
        f"Data key rotation on SQLite (target: 1,000,000 messages in < {TARGET_S} s, "
        "memory flat)",
        ["measure", "time", "floor (crypto only)", "time / floor", "peak memory"],
        rows,
    )


def measure(size: int) -> tuple[float, float, float]:
    """Rotate ``size`` generated messages; return seconds, peak MB and the floor's seconds."""
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-keys-"))
    settings = new_secrets()
    url = f"sqlite:///{work / 'gardien.db'}"
    app = create_app({**settings, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        token = encrypt('{"name": "x", "email": "x@example.org", "message": "x"}')
        index = email_index("x@example.org")
    print(f"generating {size:,} messages…", file=sys.stderr)
    insert_messages(work / "gardien.db", itertools.repeat((index, token), size),
                    datetime(2026, 1, 1))

    new_key = Fernet.generate_key().decode()
    env = {**os.environ, **{f"GARDIEN_{k}": v for k, v in settings.items()},
           "GARDIEN_DATABASE_URL": url,
           "GARDIEN_DATA_KEYS": f"{new_key},{settings['DATA_KEYS']}"}
    rotation = run_measured(
        [str(BIN / "flask"), "--app", "webhook_app", "keys", "rotate-data", "--chunk", "5000"],
        env, stderr=subprocess.DEVNULL,
    )
    if rotation.returncode != 0 or f"contact_messages {size}," not in rotation.output:
        raise RuntimeError(f"the rotation failed: {rotation.output}")

    rotating = MultiFernet([Fernet(new_key), Fernet(settings["DATA_KEYS"])])
    data = token.encode()
    floor_started = time.perf_counter()
    for _ in range(size):
        rotating.rotate(data)
    floor_s = time.perf_counter() - floor_started
    return rotation.seconds, rotation.peak_mb, floor_s


if __name__ == "__main__":
    main()
