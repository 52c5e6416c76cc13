"""Every row of the contract's error table, on both backends; nothing echoed, nothing stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from support.capture import app_logging_here
from support.signing import signed_headers

from webhook_app import create_app
from webhook_app.extensions import db
from webhook_app.models import ContactMessage

EMAIL = "secret.person@example.fr"
IP = "198.51.100.23"
MESSAGE = "Un message très personnel"
VALID = {"name": "Secret Person", "email": EMAIL, "message": MESSAGE, "ip": IP}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    text = response.get_data(as_text=True)
    for personal in (EMAIL, IP, MESSAGE, "Secret Person"):
        assert personal not in text
    return body


def stored_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(ContactMessage.id)))


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"name": "x",}', b"", b"\xff\xfe{}", b'{"a": "\xe9"}',
     b'{"name": NaN}', b'{"name": Infinity}', b'{"page": ' + b"1" * 5000 + b"}",
     b'{"name": "\\ud800"}', b"[" * 30_000],
    ids=["broken", "trailing-comma", "empty", "utf16-bom", "latin1", "nan", "infinity",
         "huge-integer", "lone-surrogate", "deep-nesting"],
)
def test_400_malformed_json(app, client, secrets, body):
    headers = signed_headers(secrets["WEBHOOK_SECRET"], body)
    assert_error(client.post("/v1/contact", data=body, headers=headers), 400, "malformed_json")
    assert stored_count(app) == 0


def test_bad_utf8_without_a_signature_is_401(client):
    response = client.post("/v1/contact", data=b"\xff\xfe{}", content_type="application/json")
    assert_error(response, 401, "unauthorized")


def _stale(headers):
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 301)


def _future(headers):
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) + 301)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda h: h.pop("webhook-signature"),
        lambda h: h.pop("webhook-id"),
        lambda h: h.pop("webhook-timestamp"),
        lambda h: h.update({"webhook-signature": "v1,AAAA"}),
        lambda h: h.update({"webhook-signature": "v1,not base64!!"}),
        lambda h: h.update({"webhook-signature": "garbage"}),
        lambda h: h.update({"webhook-signature": h["webhook-signature"].replace("v1,", "v2,")}),
        lambda h: h.update({"webhook-timestamp": "soon"}),
        lambda h: h.update({"webhook-timestamp": "\u00b2"}),
        lambda h: h.update({"webhook-timestamp": "9" * 5000}),
        lambda h: h.update({"webhook-id": "bad id with spaces"}),
        lambda h: h.update({"webhook-id": "x" * 129}),
        lambda h: h.update({"X-WP-Site": "nowhere"}),
        lambda h: h.update({"X-WP-Site": "Bad Slug!"}),
        _stale,
        _future,
    ],
    ids=[
        "no-signature", "no-id", "no-timestamp", "wrong-signature", "signature-not-base64",
        "signature-no-version", "signature-v2", "timestamp-not-int", "timestamp-superscript",
        "timestamp-huge", "id-bad-chars",
        "id-too-long", "unknown-site", "bad-site-slug", "stale", "future",
    ],
)
def test_401_unauthorized(app, client, secrets, spoil):
    body = json.dumps(VALID).encode()
    headers = signed_headers(secrets["WEBHOOK_SECRET"], body)
    spoil(headers)
    assert_error(client.post("/v1/contact", data=body, headers=headers), 401, "unauthorized")
    assert stored_count(app) == 0


def test_401_wrong_key(app, client):
    from webhook_app.config import new_webhook_secret

    body = json.dumps(VALID).encode()
    headers = signed_headers(new_webhook_secret(), body)
    assert_error(client.post("/v1/contact", data=body, headers=headers), 401, "unauthorized")


def test_404_unknown_path(client, send):
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(send("/v1/nothing-here", VALID), 404, "not_found")


def test_405_wrong_method(client):
    response = client.get("/v1/contact")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert_error(client.post("/healthz"), 405, "method_not_allowed")


@pytest.mark.parametrize(("path", "allow"), [("/v1/contact", "POST"), ("/healthz", "GET, HEAD")])
def test_405_options_is_not_served(client, path, allow):
    response = client.options(path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


def test_409_idempotency_conflict(app, send):
    assert send("/v1/contact", VALID, msg_id="msg_409").status_code == 201
    other = {**VALID, "message": MESSAGE + " (bis)"}
    assert_error(send("/v1/contact", other, msg_id="msg_409"), 409, "idempotency_conflict")
    assert stored_count(app) == 1


def test_413_over_the_endpoint_limit(app, send):
    big = {**VALID, "message": "x" * (64 * 1024)}
    assert_error(send("/v1/contact", big), 413, "payload_too_large")
    assert stored_count(app) == 0


def test_413_is_answered_before_the_signature(client):
    body = b"{" + b" " * (64 * 1024) + b"}"
    response = client.post("/v1/contact", data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_415_unsupported_media_type(app, send, content_type):
    response = send("/v1/contact", VALID, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert stored_count(app) == 0


def test_json_with_charset_is_accepted(send):
    response = send("/v1/contact", VALID, content_type="application/json; charset=utf-8")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"email": EMAIL.replace("@", "@@")}, "email"),
        ({"email": "a" * 250 + "@example.fr"}, "email"),
        ({"message": ""}, "message"),
        ({"message": "m" * 20_001}, "message"),
        ({"message": 42}, "message"),
        ({"company": "c" * 201}, "company"),
        ({"ip": "999.1.1.1"}, "ip"),
        ({"ip": "not an ip"}, "ip"),
        ({"page": "javascript:alert(1)"}, "page"),
        ({"submitted_at": "yesterday"}, "submitted_at"),
        ({"submitted_at": "2026-11-26T07:00:00"}, "submitted_at"),
        ({"submitted_at": "0001-01-01T00:00:00+01:00"}, "submitted_at"),
        ({"submitted_at": "9999-12-31T23:59:59-01:00"}, "submitted_at"),
        ({"form": "contact\u0000"}, "form"),
        ({"consent": "maybe"}, "consent"),
        ({"fields": {"phone": 612345678}}, "fields"),
        ({"fields": {f"f{i}": "v" for i in range(21)}}, "fields"),
        ({"fields": ["a"]}, "fields"),
        ({"unexpected": 1}, "_schema"),
        ({EMAIL: "as a key"}, "_schema"),
    ],
)
def test_422_validation_failed(app, send, change, field):
    payload = {**VALID, **change}
    if change.get("name", "x") is None:
        payload.pop("name")
    body = assert_error(send("/v1/contact", payload), 422, "validation_failed")
    assert field in body["fields"], body["fields"]
    assert all(isinstance(p, str) for problems in body["fields"].values() for p in problems)
    assert stored_count(app) == 0


@pytest.mark.parametrize("payload", [[VALID], "text", 3, None])
def test_422_body_must_be_an_object(app, send, payload):
    response = send("/v1/contact", json.dumps(payload).encode())
    assert_error(response, 422, "validation_failed")


def test_429_rate_limited(database_url, secrets):
    app = create_app({**secrets, "DATABASE_URL": database_url, "RATE_LIMIT": "3/minute"})
    client = app.test_client()

    def post():
        body = json.dumps(VALID).encode()
        return client.post(
            "/v1/contact", data=body, headers=signed_headers(secrets["WEBHOOK_SECRET"], body)
        )

    assert [post().status_code for _ in range(3)] == [201, 201, 201]
    response = post()
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    with app.app_context():
        db.engine.dispose()


def test_503_when_storage_is_down(tmp_path, secrets, postgres):
    down = [
        f"sqlite:///{tmp_path / 'missing' / 'gardien.db'}",
        f"postgresql+psycopg://gardien@127.0.0.1:{postgres.port + 1}/nothing",
    ]
    for url in down:
        app = create_app({**secrets, "DATABASE_URL": url})
        client = app.test_client()
        body = json.dumps(VALID).encode()
        headers = signed_headers(secrets["WEBHOOK_SECRET"], body)
        response = client.post("/v1/contact", data=body, headers=headers)
        assert_error(response, 503, "unavailable")
        assert int(response.headers["Retry-After"]) > 0
        assert_error(client.get("/healthz"), 503, "unavailable")


def test_413_get_with_a_body(send):
    response = send("/v1/status", {"unexpected": "body"}, method="GET")
    assert_error(response, 413, "payload_too_large")


def test_same_id_on_another_endpoint_is_a_conflict(send):
    query = {"email": EMAIL, "page": 1}
    assert send("/v1/privacy/export", query, msg_id="msg_both").status_code == 200
    assert_error(send("/v1/privacy/erase", query, msg_id="msg_both"), 409, "idempotency_conflict")


def test_unverified_webhook_id_is_not_logged(capsys, database_url, secrets):
    app = app_logging_here(database_url, secrets)
    headers = {"webhook-id": "jeanne.martin.example.fr", "webhook-timestamp": "1",
               "webhook-signature": "v1,AAAA", "Content-Type": "application/json"}
    assert app.test_client().post("/v1/contact", data=b"{}", headers=headers).status_code == 401
    err = capsys.readouterr().err
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(line["route"], line["status"], line["site"], line["webhook_id"]) for line in logged
            if line["logger"] == "webhook_app.request"] == [("/v1/contact", 401, None, None)]
    assert "jeanne.martin" not in err


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_timestamp_tolerance_is_inclusive_at_300_seconds(send):
    at = datetime.now(UTC) - timedelta(seconds=295)
    assert send("/v1/contact", VALID, at=at).status_code == 201
