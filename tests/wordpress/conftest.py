"""Session fixtures for the plugin's tests: a private MariaDB, the real Gardien service under
gunicorn on SQLite, and a private WordPress with the plugin activated and configured through
wp-config.php constants pointing at that service."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from support.gardien import GardienService, start_gardien
from wp_stack import PrivateMariaDB, PrivateWordPress, ensure_running, missing_tools


@pytest.fixture(scope="session")
def wp_tools() -> None:
    """Every system tool the suite runs; missing ones fail the run, never skip it."""
    missing = missing_tools()
    if missing:
        pytest.fail("missing system tools: " + ", ".join(missing), pytrace=False)


@pytest.fixture(scope="session")
def mariadb(wp_tools, tmp_path_factory) -> Iterator[PrivateMariaDB]:
    server = PrivateMariaDB(tmp_path_factory.mktemp("mariadb")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gardien(wp_tools, tmp_path_factory) -> Iterator[GardienService]:
    """The real service; tests that stop it must start it again."""
    service = start_gardien(tmp_path_factory.mktemp("gardien"))
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def wordpress(mariadb, gardien, tmp_path_factory) -> Iterator[PrivateWordPress]:
    site = PrivateWordPress(
        tmp_path_factory.mktemp("wp"), mariadb, gardien.url, gardien.webhook_secret
    )
    site.provision()
    site.serve()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture
def site(wordpress, gardien) -> Iterator[PrivateWordPress]:
    """The WordPress with an empty outbox, default settings, and the service up."""
    ensure_running(gardien)
    wordpress.cli("reset", {"stats_enabled": False})
    yield wordpress
    ensure_running(gardien)


class StoredMessages:
    """Read access to the service's SQLite file, as an auditor would have."""

    def __init__(self, service: GardienService):
        self.service = service

    def rows(self) -> list[dict]:
        with sqlite3.connect(self.service.database_path) as db:
            db.row_factory = sqlite3.Row
            return [
                dict(row)
                for row in db.execute("SELECT * FROM contact_messages ORDER BY received_at")
            ]

    def count(self) -> int:
        return len(self.rows())


@pytest.fixture
def stored(gardien) -> StoredMessages:
    return StoredMessages(gardien)


@pytest.fixture
def admin_page(site, chromium):
    """Chromium signed in to wp-admin as the administrator: (the page, its script errors)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{site.url}/wp-login.php")
    page.fill("#user_login", "admin")
    page.fill("#user_pass", site.admin_password)
    page.click("#wp-submit")
    page.wait_for_url("**/wp-admin/**")
    yield page, errors
    context.close()
