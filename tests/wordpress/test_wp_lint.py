"""php -l and phpcs (PSR-12, wp-plugin/phpcs.xml) over every PHP file of the plugin."""

from __future__ import annotations

import subprocess

from wp_stack import PHP_DIR, PLUGIN_DIR


def php_files():
    return sorted(PLUGIN_DIR.rglob("*.php")) + sorted(PHP_DIR.rglob("*.php"))


def test_every_php_file_parses(wp_tools):
    files = php_files()
    assert len(files) > 20
    broken = []
    for path in files:
        result = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            broken.append(result.stdout + result.stderr)
    assert broken == []


def test_phpcs_psr12_is_clean(wp_tools):
    result = subprocess.run(
        [
            "phpcs",
            "--standard=" + str(PLUGIN_DIR / "phpcs.xml"),
            "--report=full",
            "--no-colors",
            str(PLUGIN_DIR),
        ],
        capture_output=True,
        text=True,
        cwd=PLUGIN_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr
