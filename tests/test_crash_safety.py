"""Crash safety under load, on both backends: while signed contact submissions arrive,
`kill -9` one gunicorn worker, then the master and what is left of it. Afterwards every
request that was answered 2xx is stored, and a client that sends again what got no answer
(or got one, as a plugin that missed it would), with the same webhook-id and body, stores
nothing twice."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from support.gardien import GardienService, start_gardien
from test_e2e import stored

pytestmark = pytest.mark.e2e

SENDERS = 4
# Kill cycles on one database (`make soak`: GARDIEN_CRASH_ROUNDS=5).
ROUNDS = int(os.environ.get("GARDIEN_CRASH_ROUNDS", "1"))


@dataclass
class Sent:
    msg_id: str
    payload: dict
    status: int | None  # None: no answer (connection refused, reset, timed out)
    answer: dict | None = None


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, tmp_path) -> Iterator[GardienService]:
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        name = f"gardien_crash_{uuid.uuid4().hex[:8]}"
        server.sql(f"CREATE DATABASE {name}")
        url = server.url(name)
    running = start_gardien(tmp_path / "gardien", database_url=url)
    yield running
    running.stop()


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def send(service: GardienService, msg_id: str, payload: dict) -> Sent:
    try:
        response = service.signed("POST", "/v1/contact", payload, msg_id=msg_id)
    except requests.RequestException:
        return Sent(msg_id, payload, None)
    answer = response.json() if response.status_code == 201 else None
    return Sent(msg_id, payload, response.status_code, answer)


def keep_sending(service: GardienService, stop: threading.Event, sent: list[Sent]) -> None:
    while not stop.is_set():
        msg_id = str(uuid.uuid4())
        payload = {
            "name": "Capucine Delmas-Roure",
            "email": "capucine.dr@example.net",
            "message": f"Demande {msg_id}",
        }
        sent.append(send(service, msg_id, payload))


def crash_round(service: GardienService) -> list[Sent]:
    """One cycle: load, kill -9 of a worker then of the master, restart, send again what
    got no answer (and some of what did); what was sent."""
    master = service.process.pid
    stop = threading.Event()
    sent: list[Sent] = []
    with ThreadPoolExecutor(SENDERS) as pool:
        for _ in range(SENDERS):
            pool.submit(keep_sending, service, stop, sent)
        time.sleep(1.5)
        victim = workers_of(master)[0]
        os.kill(victim, signal.SIGKILL)
        time.sleep(1.5)
        os.kill(master, signal.SIGKILL)
        time.sleep(0.2)
        os.killpg(master, signal.SIGKILL)  # the workers the master left behind
        time.sleep(0.5)
        stop.set()
    service.process.wait()

    acknowledged = [s for s in sent if s.status == 201]
    unanswered = [s for s in sent if s.status is None]
    assert len(acknowledged) >= 20, "the load ran before the kills"
    assert unanswered, "the kills cut some requests (otherwise nothing was tested)"
    assert {s.status for s in sent} <= {201, None}, "no error answer, only cut connections"

    service.start()
    retried = [send(service, s.msg_id, s.payload) for s in unanswered]
    again = [send(service, s.msg_id, s.payload) for s in acknowledged[::5]]
    assert {s.status for s in retried + again} == {201}
    for first, replay in zip(acknowledged[::5], again, strict=True):
        assert replay.answer == first.answer, "a replay gets the first answer"
    return sent


def test_kill_9_of_a_worker_then_the_master_loses_no_acknowledged_message(service):
    sent: list[Sent] = []
    for _ in range(ROUNDS):
        sent += crash_round(service)

    messages = [row.personal["message"] for row in stored(service)]
    assert len(messages) == len(set(messages)), "nothing stored twice"
    assert set(messages) == {s.payload["message"] for s in sent}, (
        "every acknowledged message is stored, and every retried one once"
    )
