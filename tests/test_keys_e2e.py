"""Key rotation end to end: real gunicorn, signed requests arriving during the rotation,
the old key removed, the service restarted, every export still complete."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests
from cryptography.fernet import Fernet
from support.gardien import GardienService, start_gardien
from support.postgres import free_port

from webhook_app import clock
from webhook_app.crypto import DATA, INDEX, fingerprint

pytestmark = pytest.mark.e2e

ADDRESSES = [f"client{n}@example.fr" for n in range(4)]


class Sender:
    """Sends signed contact messages in a thread until stopped; counts the 201s."""

    def __init__(self, service: GardienService) -> None:
        self.service = service
        self.accepted: Counter = Counter()
        self.failures: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> Sender:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            send(self.service, ADDRESSES[n % len(ADDRESSES)], self.accepted, self.failures)
            n += 1


def send(service: GardienService, address: str, accepted: Counter, failures: list) -> None:
    response = service.signed("POST", "/v1/contact", {
        "name": "Client", "email": address, "message": f"Demande {uuid.uuid4()}"})
    if response.status_code == 201:
        accepted[address] += 1
    else:
        failures.append(response.status_code)


def exported_messages(service: GardienService, address: str) -> int:
    """How many contact messages a complete export of ``address`` lists (page by page)."""
    count, page = 0, 1
    while True:
        answer = service.signed("POST", "/v1/privacy/export", {"email": address, "page": page})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        count += sum(1 for item in body["data"] if item["group_id"] == "contact-messages")
        if body["done"]:
            return count
        page += 1


def restart(service: GardienService, **settings: str) -> GardienService:
    """Stop the service and start it again with ``settings`` changed (same port, data)."""
    service.stop()
    for name, value in settings.items():
        if value is None:
            service.env.pop(f"GARDIEN_{name}", None)
        else:
            service.env[f"GARDIEN_{name}"] = value
    return service.start()


def refused_start(service: GardienService, **settings: str) -> str:
    """Start with ``settings`` and expect gunicorn to stop at boot; return its log."""
    service.stop()
    before = service.log_path.read_text() if service.log_path.exists() else ""
    trial = GardienService(workdir=service.workdir, port=free_port(),
                           env={**service.env, **{f"GARDIEN_{k}": v for k, v in settings.items()}})
    with pytest.raises(RuntimeError, match="gunicorn exited"):
        trial.start()
    return service.log_path.read_text()[len(before):]


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, tmp_path):
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        name = f"gardien_keys_{uuid.uuid4().hex[:8]}"
        server.sql(f"CREATE DATABASE {name}")
        url = server.url(name)
    running = start_gardien(tmp_path, database_url=url)
    yield running
    running.stop()


def test_rotating_both_keys_under_traffic_loses_nothing(service):
    accepted: Counter = Counter()
    failures: list[int] = []
    for n in range(20):
        send(service, ADDRESSES[n % len(ADDRESSES)], accepted, failures)
    old_data, new_data = service.env["GARDIEN_DATA_KEYS"], Fernet.generate_key().decode()

    # Dropping the old data key before a rotation: the service refuses to start.
    log = refused_start(service, DATA_KEYS=new_data)
    assert fingerprint(DATA, old_data) in log and "keys rotate-data" in log
    assert old_data not in log and new_data not in log

    restart(service, DATA_KEYS=f"{new_data},{old_data}")
    with Sender(service) as sender:
        rotated = service.flask("keys", "rotate-data", "--chunk", "7")
    accepted.update(sender.accepted)
    failures += sender.failures
    assert "values re-encrypted" in rotated.stdout
    status = service.flask("keys", "status").stdout.splitlines()
    [old_line] = [line for line in status if fingerprint(DATA, old_data) in line]
    assert old_line.endswith("0 values; can be removed"), status
    restart(service, DATA_KEYS=new_data)
    assert {a: exported_messages(service, a) for a in ADDRESSES} == dict(accepted)

    old_index, new_index = service.env["GARDIEN_INDEX_KEY"], Fernet.generate_key().decode()
    log = refused_start(service, INDEX_KEY=new_index)
    assert fingerprint(INDEX, old_index) in log and "keys rotate-index" in log
    restart(service, INDEX_KEY=None, INDEX_KEYS=f"{new_index},{old_index}")
    with Sender(service) as sender:
        service.flask("keys", "rotate-index", "--chunk", "7")
    accepted.update(sender.accepted)
    failures += sender.failures
    assert {a: exported_messages(service, a) for a in ADDRESSES} == dict(accepted)

    # Requests stored before the rotation may be replayed for a week: the old index key
    # stays needed until the purge has forgotten them.
    log = refused_start(service, INDEX_KEYS=new_index)
    assert "replay" in log and fingerprint(INDEX, old_index) in log
    week_later = clock.format_rfc3339(clock.now() + timedelta(days=8))
    service.flask("purge", "--now", week_later)
    restart(service, INDEX_KEYS=new_index)
    assert {a: exported_messages(service, a) for a in ADDRESSES} == dict(accepted)
    assert failures == [], "no request failed during the rotations"
    assert sum(accepted.values()) > 20, "requests arrived during the rotations"
    requests.get(service.url + "/healthz", timeout=5).raise_for_status()
