"""deploy/nginx.conf, run by Debian's nginx (unprivileged, ports and paths rewritten:
tests/support/nginx.py) in front of the real service under gunicorn, over TLS: body limits
per endpoint, rate limits per site and per client, nginx's own answers in the contract's
JSON shape, and no client address in any of its logs."""

from __future__ import annotations

import http.client
import json
import re
import runpy
import socket
import ssl
from collections.abc import Iterator

import pytest
import requests
from support.gardien import ROOT, GardienService, start_gardien
from support.nginx import SHIPPED, Nginx, prepared_nginx
from support.postgres import free_port
from support.raw_http import exchange_on
from support.signing import body_bytes, signed_headers

from webhook_app.errors import CODES, RETRY_AFTER_UNAVAILABLE, SERVER_CODES

pytestmark = pytest.mark.e2e

KIB = 1024
CONTACT = {
    "name": "Jeanne Martin",
    "email": "jeanne.martin@example.fr",
    "message": "Rappelez-moi au sujet du devis.",
    "ip": "203.0.113.7",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[GardienService]:
    running = start_gardien(tmp_path_factory.mktemp("gardien-behind-nginx"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def nginx(service) -> Iterator[Nginx]:
    proxy = prepared_nginx(service.port)
    checked = proxy.test_config()
    assert checked.returncode == 0, checked.stderr
    proxy.start()
    yield proxy
    proxy.stop()
    proxy.remove()


def post(nginx: Nginx, path: str, body: bytes, headers: dict[str, str] | None = None):
    return requests.post(
        nginx.url + path,
        data=body,
        headers=headers or {"Content-Type": "application/json"},
        verify=nginx.certificate,
        timeout=30,
    )


def signed_post(nginx: Nginx, service: GardienService, path: str, payload, site=None):
    body = body_bytes(payload)
    return post(nginx, path, body, signed_headers(service.webhook_secret, body, site=site))


def contract_error(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    code, message = CODES[status]
    assert response.json() == {"error": code, "message": message}


def test_nginx_accepts_the_shipped_configuration(nginx):
    result = nginx.test_config()
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


def test_a_signed_contact_goes_through_tls_and_is_stored(nginx, service):
    answer = signed_post(nginx, service, "/v1/contact", CONTACT)
    assert answer.status_code == 201, answer.text
    assert answer.json()["retention"] == "contact"
    assert "max-age=" in answer.headers["Strict-Transport-Security"]
    with pytest.raises(requests.exceptions.SSLError):  # TLS 1.3 only
        context = ssl.create_default_context(cafile=str(nginx.certificate))
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", nginx.tls_port), timeout=10) as raw:
            try:
                context.wrap_socket(raw, server_hostname="127.0.0.1")
            except ssl.SSLError as exc:
                raise requests.exceptions.SSLError(str(exc)) from exc


# Each endpoint's limit (docs/CONTRACT.md §3): one byte over is refused by nginx; a body
# over a smaller endpoint's limit but within this one's reaches the service (its 401:
# not signed).
LIMITS = {
    "/v1/contact": 64 * KIB,
    "/v1/stats/events": 1024 * KIB,
    "/v1/privacy/export": 16 * KIB,
    "/v1/privacy/erase": 16 * KIB,
}


@pytest.mark.parametrize("path", LIMITS)
def test_a_body_over_the_endpoint_s_limit_is_refused_by_nginx_in_json(nginx, service, path):
    limit = LIMITS[path]
    within = post(nginx, path, b"x" * limit)
    assert within.status_code == 401, within.text
    over = post(nginx, path, b"x" * (limit + 1))
    contract_error(over, 413)
    # The service never saw it: its only 413s would be in its own log.
    assert '"status": 413' not in service.log_path.read_text()


def flood(nginx: Nginx, site: str, limit: int = 1500) -> requests.Response:
    """Unsigned requests for ``site`` until nginx answers 429; that answer."""
    with requests.Session() as session:
        for _ in range(limit):
            answer = session.get(
                nginx.url + "/v1/status",
                headers={"X-WP-Site": site},
                verify=nginx.certificate,
                timeout=30,
            )
            if answer.status_code == 429:
                return answer
            assert answer.status_code == 401, answer.text
    raise AssertionError(f"no 429 after {limit} requests for one site")


def test_one_site_s_flood_is_limited_and_the_others_still_get_through(nginx, service):
    limited = flood(nginx, "flooded-site")
    contract_error(limited, 429)
    assert limited.headers["Retry-After"] == "1"
    # The same client, for another site, and the site "default" (no X-WP-Site): served.
    other = requests.get(
        nginx.url + "/v1/status",
        headers={"X-WP-Site": "another-site"},
        verify=nginx.certificate,
        timeout=30,
    )
    assert other.status_code == 401
    assert signed_post(nginx, service, "/v1/contact", CONTACT).status_code == 201


def get_from(nginx: Nginx, address: str, path: str) -> http.client.HTTPResponse:
    """GET ``path`` over TLS from the loopback address ``address``."""
    context = ssl.create_default_context(cafile=str(nginx.certificate))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", nginx.tls_port, context=context, source_address=(address, 0), timeout=30
    )
    connection.request("GET", path)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_the_sign_in_pages_are_limited_per_client_address(nginx):
    for _ in range(100):
        answer = get_from(nginx, "127.0.0.2", "/login")
        if answer.status == 429:
            break
        assert answer.status == 200
    else:
        raise AssertionError("no 429 after 100 sign-in pages from one address")
    assert answer.getheader("Retry-After") == "60"
    assert json.loads(answer.body) == {"error": "rate_limited", "message": CODES[429][1]}
    assert get_from(nginx, "127.0.0.3", "/login").status == 200
    # Unsigned pages are limited per client address too, in their own zone.
    assert get_from(nginx, "127.0.0.2", "/healthz").status == 200


def test_gunicorn_down_is_a_503_in_json_with_retry_after(tmp_path):
    proxy = prepared_nginx(free_port())  # nothing listens there
    proxy.start()
    try:
        answer = requests.get(proxy.url + "/v1/status", verify=proxy.certificate, timeout=30)
        contract_error(answer, 503)
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_UNAVAILABLE)
        assert answer.elapsed.total_seconds() < 5
    finally:
        proxy.stop()
        logs = {path.name: path.read_text() for path in proxy.logs.iterdir()}
        proxy.remove()
    assert not any("127.0.0." in text for text in logs.values()), logs


def raw_exchange(nginx: Nginx, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=str(nginx.certificate))
    with socket.create_connection(("127.0.0.1", nginx.tls_port), timeout=10) as plain:
        with context.wrap_socket(plain, server_hostname="127.0.0.1") as connection:
            return exchange_on(connection, raw)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET jeanne.martin@example.fr\r\n\r\n", 400),
        (b"G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ],
)
def test_what_nginx_refuses_is_answered_in_json(nginx, raw, status):
    got, headers, body = raw_exchange(nginx, raw)
    assert got == status, body
    assert headers["Content-Type"] == "application/json"
    code, message = SERVER_CODES[status]
    assert json.loads(body) == {"error": code, "message": message}


def test_plain_http_redirects_to_the_https_name(nginx):
    answer = requests.get(
        f"http://127.0.0.1:{nginx.http_port}/v1/status", allow_redirects=False, timeout=10
    )
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://gardien.example.fr/v1/status"


def test_no_log_names_a_client(nginx, service):
    """Last in this file, after every request above (floods, refusals, three client
    addresses), and these, so that it also stands alone."""
    assert signed_post(nginx, service, "/v1/contact", CONTACT).status_code == 201
    assert post(nginx, "/v1/contact", b"x" * (64 * KIB + 1)).status_code == 413
    assert raw_exchange(nginx, b"GET jeanne.martin@example.fr\r\n\r\n")[0] == 400
    assert get_from(nginx, "127.0.0.2", "/login?email=jeanne.martin@example.fr").status
    assert get_from(nginx, "127.0.0.3", "/to/jeanne.martin@example.fr").status == 404
    nginx.stop()  # flushes and closes the logs
    logs = {path.name: path.read_text() for path in nginx.logs.iterdir()}
    access = logs["gardien.access.log"]
    assert re.search(r'"POST /v1/contact" site=default 201 ', access)
    assert re.search(r'"POST /v1/contact" site=default 413 ', access)
    assert not logs.get("access.log"), "a request reached the default access log"
    for name, text in logs.items():
        for needle in ("127.0.0.", "jeanne", "203.0.113.7", "client:"):
            assert needle not in text, (name, needle)


def test_nginx_waits_for_gunicorn_longer_than_gunicorn_waits_for_a_worker():
    """gunicorn's own 503 (a worker aborted past its timeout) reaches the sender."""
    waits = re.findall(r"proxy_read_timeout (\d+)s;", SHIPPED.read_text())
    gunicorn = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert waits and all(int(wait) > gunicorn["timeout"] for wait in waits)
