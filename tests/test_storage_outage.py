"""PostgreSQL stops in the middle of a load: requests get the contract's 503 with
Retry-After, never a 500, and the service recovers by itself when the database is back;
everything answered 201 is stored."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support.gardien import GardienService, start_gardien
from support.postgres import PrivatePostgres
from test_contention import assert_unavailable
from test_e2e import stored

pytestmark = pytest.mark.e2e

# Crashes and returns of PostgreSQL under one load (`make soak`: GARDIEN_OUTAGE_ROUNDS=4).
ROUNDS = int(os.environ.get("GARDIEN_OUTAGE_ROUNDS", "1"))


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of its own: this test stops it."""
    server = PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture
def service(server, tmp_path) -> Iterator[GardienService]:
    server.sql("CREATE DATABASE gardien")
    running = start_gardien(tmp_path, database_url=server.url("gardien"))
    yield running
    running.stop()


def test_postgres_stopped_mid_load_gives_503_then_recovers_by_itself(server, service):
    stop = threading.Event()
    answers: list[tuple[float, str, requests.Response | None]] = []

    def keep_sending() -> None:
        while not stop.is_set():
            message = f"Panne {uuid.uuid4()}"
            payload = {"name": "Gaël Morvan", "email": "gael.m@example.net", "message": message}
            try:
                response = service.signed("POST", "/v1/contact", payload)
            except requests.RequestException:
                response = None
            answers.append((time.monotonic(), message, response))
            time.sleep(0.02)

    crashes: list[float] = []
    resumes: list[float] = []
    health_down: list[requests.Response] = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(2):
            pool.submit(keep_sending)
        time.sleep(1)
        for _ in range(ROUNDS):
            server.crash()
            crashes.append(time.monotonic())
            time.sleep(3)
            health_down.append(requests.get(service.url + "/healthz", timeout=20))
            server.resume()
            resumed_at = time.monotonic()
            resumes.append(resumed_at)
            deadline = resumed_at + 30
            while time.monotonic() < deadline and not any(
                at > resumed_at and r is not None and r.status_code == 201
                for at, _, r in answers
            ):
                time.sleep(0.1)
            time.sleep(0.5)
        stop.set()

    assert all(r is not None for _, _, r in answers), "gunicorn answered every request"
    statuses = {r.status_code for _, _, r in answers}
    others = [r.text for _, _, r in answers if r.status_code not in (201, 503)]
    assert statuses == {201, 503}, others
    for at, _, response in answers:
        if response.status_code == 503:
            assert crashes[0] - 1 <= at, "503 only once the database stopped"
            assert_unavailable(response)
    for answer in health_down:
        assert_unavailable(answer)
    for resumed_at in resumes:
        assert any(at > resumed_at and r.status_code == 201 for at, _, r in answers), (
            "the service took messages again without a restart"
        )
    assert requests.get(service.url + "/healthz", timeout=10).status_code == 200

    acknowledged = {message for _, message, r in answers if r.status_code == 201}
    kept = {row.personal["message"] for row in stored(service)}
    assert acknowledged <= kept
