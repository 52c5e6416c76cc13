"""Two WP-Cron runs at once (a system crontab starting `wp cron event run --due-now` while the
last run is still going, or wp-cron.php after a run outlasted WP_CRON_LOCK_TIMEOUT): every page
view and every message reaches the service once."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from datetime import UTC, datetime

import requests
from helpers import BROWSER_AGENT, submit, visitor_message
from wp_stack import PHP_DIR


def visits_today(gardien) -> int:
    today = datetime.now(UTC).date().isoformat()
    response = gardien.signed("GET", f"/v1/stats/summary?from={today}&to={today}")
    assert response.status_code == 200, response.text
    return response.json()["visits"]


def two_cron_runs_at_once(site, slow_delete_ms: int = 0) -> None:
    """Two PHP processes run the delivery event from the same instant."""
    payload = json.dumps({"start_at": time.time() + 1.5, "slow_delete_ms": slow_delete_ms})
    runs = [
        subprocess.Popen(
            ["php", str(PHP_DIR / "outbox-tools.php"), "cron-event"],
            env=site.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        run.stdin.write(payload)
        run.stdin.close()
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()


def test_two_cron_runs_at_once_count_each_page_view_once(site, gardien):
    site.cli("reset", {"stats_enabled": True})
    before = visits_today(gardien)
    agent = f"{BROWSER_AGENT} Gardien{uuid.uuid4().hex[:8]}"
    for number in range(6):
        response = requests.get(
            f"{site.url}/?s=page{number}", headers={"User-Agent": agent}, timeout=30
        )
        assert response.status_code == 200
    assert site.cli("outbox")["visits"] == 6

    two_cron_runs_at_once(site, slow_delete_ms=1500)
    site.cli("travel", {"seconds": 3600})
    site.cron()  # whatever the two runs left

    outbox = site.cli("outbox")
    assert outbox["rows"] == [] and outbox["visits"] == 0
    assert visits_today(gardien) - before == 6


def test_two_cron_runs_at_once_send_each_message_once(site, gardien, stored):
    before = stored.count()
    gardien.stop()
    for _ in range(5):
        assert submit(site, visitor_message()).status_code == 303
    gardien.start()
    site.cli("travel", {"seconds": 3600})

    two_cron_runs_at_once(site)

    rows = site.cli("outbox")["rows"]
    assert rows == [], rows
    assert stored.count() == before + 5
