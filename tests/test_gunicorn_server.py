"""deploy/gunicorn.conf.py under the real gunicorn: workers from the cores, a database wait
coherent with the worker timeout, a graceful reload (HUP), and no client address in any
log line, even at ``--log-level debug``."""

from __future__ import annotations

import json
import os
import re
import runpy
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from support.gardien import ROOT, GardienService, start_gardien
from support.postgres import free_port
from support.signing import body_bytes, signed_headers

from webhook_app.config import DEFAULTS
from webhook_app.serverlog import redact

pytestmark = pytest.mark.e2e

CONF = ROOT / "deploy" / "gunicorn.conf.py"
# The client speaks from another loopback address than the one gunicorn listens on, and
# from a port of its choosing, so that both can be looked for in the log.
CLIENT_ADDRESS = "127.0.0.3"
CONTACT = {
    "name": "Jeanne Martin",
    "email": "jeanne.martin@example.fr",
    "message": "Rappelez-moi demain.",
    "ip": "203.0.113.7",
}


def shipped(**env: str) -> dict:
    """The settings deploy/gunicorn.conf.py gives under the environment ``env``."""
    saved = dict(os.environ)
    os.environ.pop("GARDIEN_WORKERS", None)
    os.environ.update(env)
    try:
        return runpy.run_path(str(CONF))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_workers_follow_the_cores_unless_set():
    cores = len(os.sched_getaffinity(0))
    assert shipped()["workers"] == min(2 * cores + 1, 9)
    assert shipped(GARDIEN_WORKERS="3")["workers"] == 3


def test_a_request_gives_up_on_the_database_well_before_the_worker_is_killed():
    settings = shipped()
    assert settings["worker_class"] == "webhook_app.worker.SyncWorker"
    assert DEFAULTS["DB_TIMEOUT_SECONDS"] * 2 <= settings["timeout"]
    assert settings["graceful_timeout"] < settings["timeout"]


def test_a_database_wait_too_close_to_the_worker_timeout_is_reported(tmp_path):
    timeout = shipped()["timeout"]
    service = start_gardien(tmp_path, workers=1, settings={"DB_TIMEOUT_SECONDS": timeout // 2 + 1})
    service.stop()
    assert f"should be at most half of gunicorn's worker timeout ({timeout} s)" in (
        service.log_path.read_text()
    )
    fine = start_gardien(tmp_path / "fine", workers=1)
    fine.stop()
    assert "should be at most half" not in fine.log_path.read_text()


def exchange(port: int, raw: bytes, source_port: int, hang_up: bool = False) -> bytes:
    """Send ``raw`` from CLIENT_ADDRESS:``source_port`` (then close our side when
    ``hang_up``) and read the whole answer."""
    with socket.socket() as connection:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        connection.bind((CLIENT_ADDRESS, source_port))
        connection.settimeout(10)
        connection.connect(("127.0.0.1", port))
        connection.sendall(raw)
        if hang_up:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def signed_contact(service: GardienService, body: bytes) -> bytes:
    """The head of a signed POST /v1/contact for ``body``, as raw HTTP/1.1."""
    headers = signed_headers(service.webhook_secret, body)
    lines = [
        "POST /v1/contact HTTP/1.1",
        "Host: gardien.test",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_no_log_line_names_the_client_even_at_debug(tmp_path):
    service = start_gardien(tmp_path, workers=1)
    service.stop()
    # gunicorn's access log too, which the shipped settings leave off.
    service.start(workers=1, gunicorn_args=("--log-level", "debug", "--access-logfile", "-"))
    ports = set()
    try:
        body = body_bytes(CONTACT)
        cases = [
            (signed_contact(service, body) + body, 201),
            (b"GET /healthz HTTP/1.1\r\nHost: gardien.test\r\n\r\n", 200),
            (b"GET jeanne.martin@example.fr 127.0.0.1\r\n\r\n", 400),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
            (
                b"GET /to/jeanne?email=jeanne@example.fr HTTP/1.1\r\nHost: gardien.test\r\n"
                b"User-Agent: jeanne-browser\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n",
                404,
            ),
        ]
        for raw, status in cases:
            port = free_port()
            ports.add(port)
            assert status_of(exchange(service.port, raw, port)) == status
        # A client gone before its request line ends: gunicorn's debug line quotes it.
        port = free_port()
        ports.add(port)
        exchange(service.port, b"GET /healthz HTTP/1.1\r\nX-From: 127.0.0.3", port, hang_up=True)
    finally:
        service.stop()
    log = service.log_path.read_text()
    # The log is the one asked for: gunicorn's debug lines, the app's line per request.
    assert "[DEBUG] Ignored premature client disconnection" in log
    assert '"status": 201' in log
    assert re.search(r'\] "-" 201 \d+ "-" "-"', log)  # gunicorn's access line, emptied
    for needle in ("127.0.0.", CLIENT_ADDRESS, "jeanne", "203.0.113.7"):
        assert needle not in log
    for port in ports:
        assert not re.search(rf"(?<![\d.]){port}(?!\d)", log), port
    assert "Listening at: http://[address] (" in log
    assert "[DEBUG] GET request" in log  # gunicorn's pre_request line, without the path


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Listening at: http://127.0.0.1:8000 (42)", "Listening at: http://[address] (42)"),
        (
            "peer ('::1', 5050, 0, 0) and [2001:db8::7]:443",
            "peer ('[address]', 5050, 0, 0) and [address]",
        ),
        (
            "ip=::ffff:198.51.100.7 at 14:21:41 on 2026-12-01",
            "ip=[address] at 14:21:41 on 2026-12-01",
        ),
        ("gunicorn 27.0.1, 4 workers", "gunicorn 27.0.1, 4 workers"),
    ],
)
def test_addresses_are_redacted_and_nothing_else(line, expected):
    assert redact(line) == expected


def worker_pids(master: int) -> set[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False
    ).stdout
    return {int(pid) for pid in out.split()}


def wait_for(predicate, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_graceful_reload_finishes_the_request_in_flight_and_serves_with_new_workers(
    tmp_path: Path,
):
    service = start_gardien(tmp_path, workers=1)
    try:
        master = service.process.pid
        old = wait_for(lambda: worker_pids(master))
        body = body_bytes(CONTACT)
        head = signed_contact(service, body)
        with socket.create_connection(("127.0.0.1", service.port), timeout=20) as in_flight:
            # The only worker reads this request's body, half of which is still to come.
            in_flight.sendall(head + body[:10])
            time.sleep(0.5)
            os.kill(master, signal.SIGHUP)
            new = wait_for(lambda: worker_pids(master) - old)
            assert requests.get(service.url + "/healthz", timeout=10).status_code == 200
            in_flight.sendall(body[10:])
            answer = b""
            while chunk := in_flight.recv(65536):
                answer += chunk
        assert status_of(answer) == 201
        stored = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert stored["retention"] == "contact"
        wait_for(lambda: worker_pids(master) == new)
        assert service.signed("POST", "/v1/contact", CONTACT).status_code == 201
        assert service.process.poll() is None
    finally:
        service.stop()
