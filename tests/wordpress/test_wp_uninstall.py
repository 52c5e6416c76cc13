"""Deleting the plugin from WordPress removes its tables, options, transients and cron event."""

from __future__ import annotations

import json

from wp_stack import PHP_DIR


def test_uninstall_removes_everything_it_made(wordpress):
    # A second site in its own database, so the suite's site keeps its plugin.
    database = "wordpress_uninstall"
    wordpress.database.sql(f"CREATE DATABASE {database} CHARACTER SET utf8mb4")
    env = wordpress.env(GARDIEN_TEST_DB=database)
    wordpress.php(PHP_DIR / "install.php", env=env)
    result = wordpress.php(PHP_DIR / "uninstall-check.php", env=env)
    report = json.loads(result.stdout.strip().splitlines()[-1])

    before = report["before"]
    assert sorted(before["tables"]) == ["wp_gardien_outbox", "wp_gardien_visits"]
    assert {
        "gardien_settings",
        "gardien_db_version",
        "gardien_last_error",
        "gardien_policy_cache",
        "_transient_gardien_policy_retry_fr",
    } <= set(before["options"])
    assert before["cron"] is True

    assert report["after"] == {"tables": [], "options": [], "cron": False}
