"""What is answered before or around the application, under a real gunicorn: requests
gunicorn refuses by itself, OPTIONS and HEAD, a body whose framing is broken, a worker
aborted past gunicorn's timeout. All in the contract's JSON shape, nothing quoted back,
no address in the log (docs/CONTRACT.md, "Edge cases")."""

from __future__ import annotations

import json
import socket
import time
import uuid

import psycopg
import pytest
import requests
from support.gardien import start_gardien
from support.raw_http import exchange_on

from webhook_app.errors import CODES, RETRY_AFTER_UNAVAILABLE, SERVER_CODES

pytestmark = pytest.mark.e2e

EMAIL = "jeanne.martin@example.fr"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = start_gardien(tmp_path_factory.mktemp("gardien-edges"))
    yield running
    running.stop()


def exchange(service, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to gunicorn, read the whole answer."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as connection:
        return exchange_on(connection, raw)


def request(*lines: str, body: bytes = b"") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


LONG = "a" * 5000
REFUSED = {
    "not-a-request-line": (request(f"GET {EMAIL}"), 400),
    "bad-method": (request("G@T / HTTP/1.1", "Host: x"), 400),
    "bad-version": (request("GET / HTTP/9.9", "Host: x"), 400),
    "request-line-too-long": (request(f"GET /{LONG}?{EMAIL} HTTP/1.1", "Host: x"), 414),
    "header-too-long": (request("GET /healthz HTTP/1.1", "Host: x", f"X-Big: {LONG * 2}{EMAIL}"),
                        431),
    "too-many-headers": (request("GET /healthz HTTP/1.1", "Host: x",
                                 *(f"X-{n}: {EMAIL}" for n in range(120))), 431),
    "bad-header-name": (request("GET /healthz HTTP/1.1", "Host: x", f"Bad Name: {EMAIL}"), 400),
    "nul-in-header": (request("GET /healthz HTTP/1.1", "Host: x", f"X-A: {EMAIL}\x00"), 400),
    "obsolete-folding": (request("GET /healthz HTTP/1.1", "Host: x", "X-A: a", f" {EMAIL}"),
                         400),
    "length-and-chunked": (request("POST /v1/contact HTTP/1.1", "Host: x", "Content-Length: 2",
                                   "Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 400),
    "unknown-transfer-coding": (request("POST /v1/contact HTTP/1.1", "Host: x",
                                        "Transfer-Encoding: jeanne"), 400),
    "expect-other-than-continue": (request("POST /v1/contact HTTP/1.1", "Host: x",
                                           f"Expect: {EMAIL}", "Content-Length: 2",
                                           body=b"{}"), 417),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_gunicorn_refuses_is_answered_in_json(service, case):
    raw, status = REFUSED[case]
    got, headers, body = exchange(service, raw)
    assert got == status, body
    assert headers["Content-Type"] == "application/json"
    code, message = SERVER_CODES[status]
    assert json.loads(body) == {"error": code, "message": message}
    assert b"jeanne" not in body and b"Bad Name" not in body
    log = service.log_path.read_text()
    assert "jeanne" not in log and "127.0.0.1" not in log


def test_a_broken_chunked_body_is_malformed_not_a_500(service):
    raw = request("POST /v1/contact HTTP/1.1", "Host: x", "Content-Type: application/json",
                  "Transfer-Encoding: chunked", body=b"zz\r\n{}\r\n0\r\n\r\n")
    status, headers, body = exchange(service, raw)
    assert (status, json.loads(body)["error"]) == (400, "malformed_json")


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/v1/contact", "POST"), ("/v1/status", "GET, HEAD"), ("/healthz", "GET, HEAD")],
)
def test_options_is_a_json_405_with_allow(service, path, allow):
    response = requests.options(service.url + path, timeout=10)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["Allow"] == allow


def test_options_star_is_not_found(service):
    status, _, body = exchange(service, request("OPTIONS * HTTP/1.1", "Host: x"))
    assert (status, json.loads(body)["error"]) == (404, "not_found")


def test_head_is_a_get_without_its_body(service):
    head = requests.head(service.url + "/healthz", timeout=10)
    get = requests.get(service.url + "/healthz", timeout=10)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Type"] == get.headers["Content-Type"] == "application/json"
    assert head.headers["Content-Length"] == str(len(get.content))
    signed = service.signed("HEAD", "/v1/status")
    assert (signed.status_code, signed.content) == (200, b"")
    unsigned = requests.head(service.url + "/v1/status", timeout=10)
    assert (unsigned.status_code, unsigned.content) == (401, b"")
    post_only = requests.head(service.url + "/v1/contact", timeout=10)
    assert (post_only.status_code, post_only.headers["Allow"]) == (405, "POST")


def test_a_worker_aborted_past_gunicorns_timeout_still_answers_503(
    tmp_path_factory, postgres
):
    """A misconfigured wait (longer than gunicorn's timeout): when gunicorn aborts the
    worker, the sender still gets the contract's 503, not gunicorn's HTML 500."""
    name = f"gardien_abort_{uuid.uuid4().hex[:8]}"
    postgres.sql(f"CREATE DATABASE {name}")
    service = start_gardien(
        tmp_path_factory.mktemp("gardien-abort"), database_url=postgres.url(name),
        settings={"DB_TIMEOUT_SECONDS": 60},
    )
    service.stop()
    service.start(gunicorn_args=("--timeout", "2"))
    try:
        holder = psycopg.connect(postgres.url(name).replace("postgresql+psycopg", "postgresql"))
        holder.execute("LOCK TABLE contact_messages IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = service.signed(
            "POST", "/v1/contact", {"name": "A", "email": EMAIL, "message": "m"}
        )
        elapsed = time.monotonic() - started
        holder.rollback()
        holder.close()
    finally:
        service.stop()
    assert response.status_code == 503, response.text
    assert response.json() == {"error": CODES[503][0], "message": CODES[503][1]}
    assert response.headers["Retry-After"] == str(RETRY_AFTER_UNAVAILABLE)
    assert elapsed < 10
    log = service.log_path.read_text()
    assert '"error_class": "SystemExit"' in log
    assert EMAIL not in log and "127.0.0.1" not in log
