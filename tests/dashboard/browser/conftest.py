"""Fixtures of the browser suite: Chromium, axe-core, the service under real gunicorn
(SQLite) with managers and stored data, and the app's URL map (to know every page)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser
from support.gardien import GardienService, start_gardien
from support.postgres import free_port

from webhook_app import clock, managers
from webhook_app.extensions import db

from .harness import AXE, app_of, require_tools

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def browser(chromium: Browser) -> Browser:
    """Debian's Chromium, headless (missing Chromium or axe-core fails the test)."""
    require_tools()
    return chromium


@pytest.fixture(scope="session")
def axe_source() -> str:
    require_tools()
    return AXE.read_text()


def serve(workdir: Path) -> GardienService:
    """The service on a fresh SQLite database under gunicorn; its links (BASE_URL) point
    at itself, as `make run`'s do."""
    port = free_port()
    return start_gardien(workdir, port=port, settings={"BASE_URL": f"http://127.0.0.1:{port}"})


@dataclass
class Manager:
    """A manager who can sign in; ``code()`` gives a fresh code when they use a second
    factor."""

    email: str
    password: str = PASSWORD
    totp_secret: str | None = None

    def code(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()


def add_manager(app: Flask, second_factor: bool = False) -> Manager:
    """A manager with a password (as their invitation link leaves them), and a second
    factor already confirmed with the previous code, so the current one signs them in."""
    email = f"gerante{next(_numbers)}@clic-et-cetera.fr"
    with app.app_context():
        manager = managers.add(email, "cli:test")
        managers.redeem(managers.link_token(email, managers.INVITE), PASSWORD)
        secret = None
        if second_factor:
            secret = managers.new_totp_secret()
            previous = pyotp.TOTP(secret).at(clock.now() - timedelta(seconds=30))
            managers.enable_totp(manager, secret, previous)
        db.session.commit()
        db.session.remove()
    return Manager(email, totp_secret=secret)


@dataclass
class Seeded:
    """The shared service, its app (URL map, seeding) and the records stored in it."""

    service: GardienService
    app: Flask
    stored: dict

    @property
    def origin(self) -> str:
        return self.service.url

    def manager(self, second_factor: bool = False) -> Manager:
        return add_manager(self.app, second_factor)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Iterator[Seeded]:
    """One service for the crawl and the XSS test, holding messages, statistics, privacy
    requests and a client whose every free-text field carries an attack
    (payloads.store)."""
    from .payloads import store

    service = serve(tmp_path_factory.mktemp("gardien-browser"))
    try:
        app = app_of(service)
        stored = store(service, app)
        yield Seeded(service, app, stored)
        with app.app_context():
            db.engine.dispose()
    finally:
        service.stop()


@pytest.fixture
def fresh_service(tmp_path) -> Iterator[GardienService]:
    """A service on an empty database: no manager yet."""
    service = serve(tmp_path / "gardien")
    yield service
    service.stop()
