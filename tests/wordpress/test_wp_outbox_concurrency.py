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


def test_a_lock_left_by_a_run_that_died_only_delays_the_next_run(site):
    """The lock row holds its expiry: a live one makes a second run skip the flush, an expired
    one (its process was killed) is taken over."""
    site.cli("reset", {"stats_enabled": True})
    site.cli("add-visits", {"count": 3})
    lock = "gardien_lock_visits"
    options = "wordpress.wp_options"
    try:
        site.database.sql(
            f"INSERT INTO {options} (option_name, option_value, autoload) "
            f"VALUES ('{lock}', CONCAT(UNIX_TIMESTAMP() + 300, ':other'), 'no')"
        )
        assert site.cli("flush-visits")["batches"] == 0
        assert site.cli("outbox")["visits"] == 3, "another run holds the lock"

        site.database.sql(
            f"UPDATE {options} SET option_value = CONCAT(UNIX_TIMESTAMP() - 1, ':other') "
            f"WHERE option_name = '{lock}'"
        )
        assert site.cli("flush-visits")["batches"] == 1
        assert site.cli("outbox")["visits"] == 0
        assert (
            site.database.sql(
                f"SELECT COUNT(*) FROM {options} WHERE option_name = '{lock}'"
            ).strip()
            == "0"
        ), "released after the run"
    finally:
        site.database.sql(f"DELETE FROM {options} WHERE option_name = '{lock}'")
