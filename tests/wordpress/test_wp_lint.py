"""php -l, phpcs (PSR-12, wp-plugin/phpcs.xml) and the plugin directory's WordPress Coding
Standards sniffs (wp-plugin/.phpcs-wp.xml, `make lint-wp`) over the plugin."""

from __future__ import annotations

import json
import re
import subprocess

from wp_stack import PHP_DIR, PLUGIN_DIR, ROOT


def php_files():
    plugin = [
        path
        for path in PLUGIN_DIR.rglob("*.php")
        if "vendor" not in path.relative_to(PLUGIN_DIR).parts
    ]
    return sorted(plugin) + sorted(PHP_DIR.rglob("*.php"))


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


# What `make lint-wp` runs, in its order: wp-plugin's Composer tools, else the shared copy.
PHPCS_WP = [PLUGIN_DIR / "vendor" / "bin" / "phpcs", ROOT.parent / "shared/tools/phpcs-wp/phpcs"]
REVIEW_SNIFFS = [
    "WordPress.Security.EscapeOutput",
    "WordPress.Security.NonceVerification",
    "WordPress.Security.ValidatedSanitizedInput",
    "WordPress.DB.PreparedSQL",
    "WordPress.WP.I18n",
]


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_the_review_ruleset_runs_the_plugin_directory_sniffs():
    phpcs = next((path for path in PHPCS_WP if path.exists()), None)
    assert phpcs is not None, "no phpcs with the WordPress Coding Standards: " + str(PHPCS_WP)
    explained = subprocess.run(
        [str(phpcs), "-e", "--standard=" + str(PLUGIN_DIR / ".phpcs-wp.xml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = sorted(re.findall(r"^\s+(WordPress\.\w+\.\w+)\s*$", explained, re.MULTILINE))
    assert listed == sorted(REVIEW_SNIFFS), explained


def test_make_lint_runs_the_review_sniffs_and_the_plugin_is_clean():
    result = make("lint-wp")
    assert "--standard=wp-plugin/.phpcs-wp.xml wp-plugin" in result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_lint_fails_loudly_without_the_wordpress_standards(tmp_path):
    result = make("lint-wp", f"PHPCS_WP={tmp_path / 'vendor/bin/phpcs'}")
    assert result.returncode != 0
    assert "no phpcs with the WordPress Coding Standards" in result.stderr
    assert "composer install" in result.stderr


def test_composer_declares_the_dev_tools_only():
    composer = json.loads((PLUGIN_DIR / "composer.json").read_text())
    assert "require" not in composer, "the plugin itself needs no Composer package"
    assert set(composer["require-dev"]) >= {
        "squizlabs/php_codesniffer",
        "wp-coding-standards/wpcs",
    }
    assert any(".phpcs-wp.xml" in command for command in composer["scripts"]["lint"])
    assert "/wp-plugin/vendor/" in (ROOT / ".gitignore").read_text().splitlines()
