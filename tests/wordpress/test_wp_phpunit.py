"""The plugin's phpunit suite (wp-plugin/tests), run inside the provisioned WordPress."""

from __future__ import annotations

import re
import subprocess

from wp_stack import PLUGIN_DIR


def test_phpunit_suite_passes(wordpress):
    result = subprocess.run(
        ["phpunit", "-c", str(PLUGIN_DIR / "phpunit.xml")],
        env=wordpress.env(WP_LOAD=str(wordpress.path / "wp-load.php")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = re.search(r"^OK \((\d+) tests?, (\d+) assertions?\)$", output, re.MULTILINE)
    assert summary, f"no phpunit success summary in:\n{output}"
    tests, assertions = map(int, summary.groups())
    assert tests >= 40 and assertions >= 100, output
