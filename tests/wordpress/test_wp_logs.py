"""The plugin writes no PHP notice, and never a visitor's address, e-mail or message, to the log."""

from __future__ import annotations

import re

from helpers import submit, visitor_message
from wp_stack import PLUGIN_DIR


def test_debug_log_has_no_plugin_notices_and_no_personal_data(site, gardien):
    fields = visitor_message()
    submit(site, fields)  # delivered
    gardien.stop()
    submit(site, fields)  # kept in the outbox, attempt failed
    site.cron()

    log = site.debug_log.read_text() if site.debug_log.exists() else ""
    plugin_lines = [
        line for line in log.splitlines() if "/plugins/gardien/" in line or str(PLUGIN_DIR) in line
    ]
    assert plugin_lines == []
    assert fields["gardien_email"] not in log
    assert "imprimante" not in log
    assert not re.search(r"\b203\.0\.113\.\d+\b", log)
