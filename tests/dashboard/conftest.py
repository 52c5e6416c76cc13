"""Fixtures for the dashboard through Flask's test client: managers, signed-in browsers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from webhook_app import managers
from webhook_app.extensions import db

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'type="hidden" name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    body = client.get(path).get_data(as_text=True)
    found = CSRF.search(body)
    assert found, f"no CSRF token on {path}"
    return found.group(1) or found.group(2)


def post_form(client: FlaskClient, path: str, data: dict, *, page: str | None = None,
              **options):
    """Submit a form as a browser would: with the CSRF token of the page it sits on."""
    token = csrf_token(client, page or path)
    return client.post(path, data={"csrf_token": token, **data}, **options)


@dataclass
class Account:
    """A manager who can sign in."""

    id: int
    email: str
    password: str = PASSWORD


@pytest.fixture
def make_manager(app) -> Callable[..., Account]:
    """Add a manager with a password, as an invitation link would leave them."""

    def make(email: str = "gerante@clic-et-cetera.fr", password: str = PASSWORD) -> Account:
        with app.app_context():
            manager = managers.add(email, "cli:test")
            token = managers.link_token(email, managers.INVITE)
            managers.redeem(token, password)
            db.session.commit()
            return Account(manager.id, email, password)

    return make


@pytest.fixture
def sign_in() -> Callable[..., object]:
    """Sign a test client in (address and password)."""

    def sign(client: FlaskClient, account: Account, **options):
        return post_form(client, "/login", {"email": account.email,
                                            "password": account.password},
                         page="/login", **options)

    return sign
