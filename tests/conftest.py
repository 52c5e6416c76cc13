"""Fixtures: the app on SQLite and on a private PostgreSQL, a client, signed requests."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from playwright.sync_api import Browser, sync_playwright
from support.chromium import CHROMIUM, CHROMIUM_ARGS
from support.postgres import PrivatePostgres
from support.signing import body_bytes, signed_headers

from webhook_app import clock, create_app
from webhook_app.config import new_secrets
from webhook_app.extensions import db

BACKENDS = ["sqlite", "postgres"]
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def secrets() -> dict[str, str]:
    """One set of generated secrets for the whole run."""
    return new_secrets()


def migrated(url: str, secrets: dict[str, str]) -> None:
    """Apply every migration to the database at ``url``."""
    app = create_app({**secrets, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, secrets) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "gardien.db"
    migrated(f"sqlite:///{path}", secrets)
    return path


@pytest.fixture(scope="session")
def postgres(secrets) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL server with a migrated template database."""
    server = PrivatePostgres().start()
    try:
        server.sql("CREATE DATABASE gardien_template")
        migrated(server.url("gardien_template"), secrets)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "gardien.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server: PrivatePostgres = request.getfixturevalue("postgres")
    name = f"gardien_test_{next(_database_numbers)}"
    server.sql(f"CREATE DATABASE {name} TEMPLATE gardien_template")
    return server.url(name)


@pytest.fixture
def app(database_url, secrets) -> Iterator[Flask]:
    """The app on a fresh database."""
    app = create_app({**secrets, "DATABASE_URL": database_url, "TESTING": True})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def send(client, secrets) -> Callable:
    """POST (or GET) a signed request to the app, as the plugin would."""

    def send(
        path: str,
        payload: object = None,
        *,
        method: str = "POST",
        secret: str | None = None,
        msg_id: str | None = None,
        at: datetime | None = None,
        site: str | None = None,
        content_type: str = "application/json",
    ):
        body = b"" if payload is None else body_bytes(payload)
        headers = signed_headers(
            secret or secrets["WEBHOOK_SECRET"], body, msg_id=msg_id, at=at or clock.now(),
            site=site,
            content_type=content_type,
        )
        return client.open(path, method=method, data=body, headers=headers)

    return send


@pytest.fixture
def store_message(app) -> Callable:
    """Store a contact message as intake would, at ``at`` (inside an app context)."""
    from webhook_app import messages
    from webhook_app.models import orm_transaction

    def store(email: str = "jeanne.martin@example.fr", at: datetime | None = None,
              site_id: int = 1, **fields) -> str:
        submission = {"name": "Jeanne Martin", "email": email, "message": "Bonjour", **fields}
        with clock.frozen(at or clock.now()), orm_transaction() as connection:
            row = messages.receive(connection, site_id, submission)
        return row["id"]

    return store


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, one for the whole run: Playwright's sync API allows one
    driver per process, so the dashboard's and the plugin's browser tests share it."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (make test does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
