"""`make dist`: the installable zip holds only the shipped plugin, and installs and works in a fresh
WordPress (unpacked into wp-content/plugins, activated, its contact form sent to the service)."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
import requests
from helpers import submit, visitor_message
from wp_stack import PHP_DIR, PLUGIN_DIR, ROOT, WORDPRESS_SOURCE, PrivateMariaDB, PrivateWordPress

# The first statement of every shipped PHP file, after its comments and namespace line.
GUARD = re.compile(
    r"\A<\?php\s+(?:(?:/\*.*?\*/|//[^\n]*)\s*)*"
    r"(?:namespace\s+[\w\\]+;\s*(?:(?:/\*.*?\*/|//[^\n]*)\s*)*)?"
    r"defined\(\s*'ABSPATH'\s*\)\s*\|\|\s*exit;",
    re.DOTALL,
)
DEVELOPMENT_FILES = {
    ".distignore",
    ".phpcs-wp.xml",
    "phpcs.xml",
    "phpunit.xml",
    "composer.json",
    "composer.lock",
}


def header(name: str) -> str:
    found = re.search(
        rf"^\s*\*\s*{name}:\s*(\S+)\s*$", (PLUGIN_DIR / "gardien.php").read_text(), re.MULTILINE
    )
    assert found, f"no {name} in the plugin header"
    return found[1]


@pytest.fixture(scope="module")
def plugin_zip() -> Path:
    """Built with `make dist`, exactly as a release is."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "dist"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    path = ROOT / "dist" / f"gardien-{header('Version')}.zip"
    assert result.stdout.strip() == str(path.relative_to(ROOT))
    return path


def test_the_zip_holds_one_gardien_folder_with_only_shipped_files(plugin_zip):
    with zipfile.ZipFile(plugin_zip) as archive:
        names = archive.namelist()
        php = {name: archive.read(name).decode() for name in names if name.endswith(".php")}
    assert names and all(name.startswith("gardien/") for name in names)
    files = {PurePosixPath(name).relative_to("gardien") for name in names if not name.endswith("/")}
    top = {path.parts[0] for path in files}
    assert "tests" not in top and "vendor" not in top and "node_modules" not in top
    assert not {path.name for path in files} & DEVELOPMENT_FILES
    assert not [path for path in files if path.suffix in (".sh", ".bash", ".phar", ".zip")]
    assert not [path for path in files if path.name.startswith(".")]
    # Everything the plugin runs is there: every class, its translations, assets and block.
    sources = {
        PurePosixPath(path.relative_to(PLUGIN_DIR).as_posix())
        for path in (PLUGIN_DIR / "src").rglob("*.php")
    }
    assert sources <= files
    assert {
        PurePosixPath(name)
        for name in (
            "gardien.php",
            "uninstall.php",
            "readme.txt",
            "languages/gardien-fr_FR.mo",
            "assets/contact.css",
            "assets/contact-block.js",
            "blocks/contact/block.json",
        )
    } <= files
    unguarded = sorted(name for name, text in php.items() if not GUARD.match(text))
    assert unguarded == [], "PHP files without defined('ABSPATH') || exit; at the top"


def test_the_zip_is_named_after_the_header_version_which_the_readme_and_constant_repeat(
    plugin_zip,
):
    version = header("Version")
    readme = (PLUGIN_DIR / "readme.txt").read_text()
    assert plugin_zip.name == f"gardien-{version}.zip"
    assert f"\nStable tag: {version}\n" in readme
    assert f"define('GARDIEN_VERSION', '{version}');" in (PLUGIN_DIR / "gardien.php").read_text()


def test_readme_is_tested_up_to_the_wordpress_the_tests_run():
    version_php = (WORDPRESS_SOURCE / "wp-includes" / "version.php").read_text()
    wp_version = re.search(r"^\$wp_version = '([^']+)';", version_php, re.MULTILINE)[1]
    major_minor = ".".join(wp_version.split(".")[:2])
    readme = (PLUGIN_DIR / "readme.txt").read_text()
    assert f"\nTested up to: {major_minor}\n" in readme
    assert f"\nRequires at least: {header('Requires at least')}\n" in readme


def test_readme_says_what_goes_to_the_external_service():
    readme = (PLUGIN_DIR / "readme.txt").read_text()
    section = readme.split("== External services ==", 1)[1].split("\n== ", 1)[0]
    for said in (
        "GARDIEN_SERVICE_URL",
        "POST /v1/contact",
        "POST /v1/stats/events",
        "IP address",
        "user agent",
        "POST /v1/privacy/export",
        "POST /v1/privacy/erase",
        "GET /v1/policy",
        "privacy policy",
        "terms",
    ):
        assert said in section, said


def test_the_block_is_described_by_block_json_at_api_version_3():
    metadata = json.loads((PLUGIN_DIR / "blocks" / "contact" / "block.json").read_text())
    assert metadata["apiVersion"] == 3
    assert metadata["name"] == "gardien/contact"
    assert metadata["textdomain"] == "gardien"
    assert "apiVersion: 3," in (PLUGIN_DIR / "assets" / "contact-block.js").read_text()


@pytest.fixture(scope="module")
def installed(plugin_zip, gardien, tmp_path_factory) -> Iterator[PrivateWordPress]:
    """A fresh stack (its own MariaDB and WordPress) with the plugin installed from the zip."""
    database = PrivateMariaDB(tmp_path_factory.mktemp("dist-mariadb")).start()
    site = PrivateWordPress(
        tmp_path_factory.mktemp("dist-wp"),
        database,
        gardien.url,
        gardien.webhook_secret,
        plugin_zip=plugin_zip,
    )
    try:
        site.provision()
        site.serve()
        yield site
    finally:
        site.stop()
        database.stop()


REGISTRY_CHECK = """<?php
require getenv('GARDIEN_PHP_DIR') . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$gardien_block = WP_Block_Type_Registry::get_instance()->get_registered('gardien/contact');
echo json_encode([
    'active' => is_plugin_active('gardien/gardien.php'),
    'linked' => is_link(WP_PLUGIN_DIR . '/gardien'),
    'api_version' => $gardien_block ? $gardien_block->api_version : null,
    'editor_script' => $gardien_block ? $gardien_block->editor_script : null,
]), "\\n";
"""


def test_the_zip_installs_activates_and_its_contact_form_reaches_the_service(
    installed, gardien, stored, tmp_path
):
    plugin = installed.path / "wp-content" / "plugins" / "gardien"
    assert plugin.is_dir() and not plugin.is_symlink()
    assert not (plugin / "tests").exists()

    check = tmp_path / "registry.php"
    check.write_text(REGISTRY_CHECK)
    result = installed.php(check, env=installed.env(GARDIEN_PHP_DIR=str(PHP_DIR)))
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "active": True,
        "linked": False,
        "api_version": 3,
        "editor_script": "gardien-contact-block",
    }

    page = requests.get(f"{installed.url}/?page_id={installed.pages['contact_page']}", timeout=30)
    stylesheet = re.search(
        r"href='([^']*/wp-content/plugins/gardien/assets/contact\.css[^']*)'", page.text
    )
    assert stylesheet, "the form's stylesheet is not linked from the installed plugin"
    assert requests.get(stylesheet[1], timeout=30).status_code == 200
    block = requests.get(f"{installed.url}/?page_id={installed.pages['block_page']}", timeout=30)
    assert 'class="gardien-contact__form"' in block.text

    before = stored.count()
    fields = visitor_message()
    response = submit(installed, fields)
    installed.cron()  # WP-Cron delivers it, off the visitor's request
    assert response.status_code == 303
    assert "gardien_contact=sent" in response.headers["Location"]
    assert stored.count() == before + 1
    assert installed.cli("outbox")["rows"] == []
    log = installed.debug_log.read_text(errors="replace") if installed.debug_log.exists() else ""
    assert fields["gardien_email"] not in log
