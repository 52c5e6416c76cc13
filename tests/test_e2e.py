"""The service as users run it: real gunicorn, signed requests over loopback HTTP."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
import requests
from support.gardien import start_gardien

from webhook_app import create_app
from webhook_app.extensions import db
from webhook_app.models import ContactMessage

pytestmark = pytest.mark.e2e

SUBMISSION = {
    "name": "Ondine Vasseur-Kerbrat",
    "email": "ondine.vk@example.net",
    "message": "Devis pour un réseau de trois postes.",
    "ip": "2001:db8:4f:1::77",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = start_gardien(tmp_path_factory.mktemp("gardien"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def postgres_service(tmp_path_factory, postgres):
    """The same, on the private PostgreSQL server."""
    postgres.sql("CREATE DATABASE gardien_e2e")
    running = start_gardien(
        tmp_path_factory.mktemp("gardien-pg"), database_url=postgres.url("gardien_e2e")
    )
    yield running
    running.stop()


def stored(service) -> list[ContactMessage]:
    """Read the rows back through the app, with the service's own settings."""
    settings = {
        key.removeprefix("GARDIEN_"): value
        for key, value in service.env.items()
        if key.startswith("GARDIEN_")
    }
    app = create_app(settings)
    with app.app_context():
        rows = db.session.scalars(db.select(ContactMessage)).all()
        db.session.expunge_all()
        db.engine.dispose()
    return rows


def test_signed_submission_through_gunicorn_is_stored(service):
    msg_id = str(uuid.uuid4())
    response = service.signed("POST", "/v1/contact", SUBMISSION, msg_id=msg_id)
    assert response.status_code == 201, response.text
    answer = response.json()
    replay = service.signed("POST", "/v1/contact", SUBMISSION, msg_id=msg_id)
    assert (replay.status_code, replay.json()) == (201, answer)
    rows = {row.id: row for row in stored(service)}
    assert rows[answer["id"]].personal["email"] == SUBMISSION["email"]
    assert rows[answer["id"]].personal["ip"] == SUBMISSION["ip"]


@pytest.mark.parametrize("backend", ["service", "postgres_service"])
def test_concurrent_replays_store_once(backend, request):
    """Both workers racing on one webhook-id: one row, one answer."""
    service = request.getfixturevalue(backend)
    msg_id = str(uuid.uuid4())
    payload = {**SUBMISSION, "message": f"course {msg_id}"}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: service.signed("POST", "/v1/contact", payload, msg_id=msg_id),
                range(16),
            )
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(1 for row in stored(service) if row.personal["message"] == payload["message"]) == 1


def test_errors_and_health_over_http(service):
    assert requests.get(service.url + "/healthz", timeout=5).json() == {"status": "ok"}
    unsigned = requests.post(service.url + "/v1/contact", json=SUBMISSION, timeout=5)
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "unauthorized")
    chunked = requests.post(
        service.url + "/v1/contact",
        data=(b"x" * 8192 for _ in range(10)),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert (chunked.status_code, chunked.json()["error"]) == (413, "payload_too_large")


def test_logs_hold_no_address_or_message(service):
    service.signed("POST", "/v1/contact", {**SUBMISSION, "email": "bad@@x"})
    service.signed("POST", "/v1/contact", SUBMISSION)
    log = service.log_path.read_text()
    assert '"route": "/v1/contact"' in log, "request lines must be logged to be checked"
    for value in (SUBMISSION["email"], "bad@@x", SUBMISSION["ip"], "127.0.0.1", "Devis"):
        assert value not in log
