"""Several app servers (separate gunicorn processes on separate ports) on one PostgreSQL:
idempotency, the daily visitor salt and the per-site rate limit (counted in Redis) hold
across them, and a purge running while both ingest loses or doubles nothing. The purge
part runs on SQLite too (two servers on one file)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from support.gardien import GardienService, start_gardien
from support.postgres import free_port
from support.redis import redis_cli, running_redis
from test_e2e import stored

from webhook_app import clock, create_app, messages
from webhook_app.extensions import db
from webhook_app.models import orm_transaction

pytestmark = pytest.mark.e2e

LIMIT = 12
# The purge test: expired messages to purge, and seconds of load before the purges start
# (`make soak` raises both: GARDIEN_PURGE_OLD, GARDIEN_PURGE_LOAD_SECONDS).
OLD = int(os.environ.get("GARDIEN_PURGE_OLD", "20"))
LOAD_SECONDS = float(os.environ.get("GARDIEN_PURGE_LOAD_SECONDS", "0.5"))
SUBMISSION = {"name": "Maël Ollivier", "email": "mael.o@example.net", "message": "Bonjour"}


def service_app(service: GardienService):
    """The app in this process, with the service's own settings (its database, its keys)."""
    return create_app({
        key.removeprefix("GARDIEN_"): value
        for key, value in service.env.items() if key.startswith("GARDIEN_")
    })


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with running_redis() as url:
        yield url


def second_server(first: GardienService, workdir, extra: dict[str, str] | None = None):
    """Another app server: its own gunicorn and port, the same database and secrets."""
    env = {**first.env, **(extra or {})}
    workdir.mkdir(parents=True, exist_ok=True)
    return GardienService(workdir=workdir, port=free_port(), env=env).start()


@pytest.fixture(scope="module")
def servers(postgres, redis_url, tmp_path_factory) -> Iterator[tuple[GardienService, ...]]:
    name = f"gardien_pair_{uuid.uuid4().hex[:8]}"
    postgres.sql(f"CREATE DATABASE {name}")
    settings = {"RATE_LIMIT": f"{LIMIT}/minute", "RATE_LIMIT_STORAGE_URI": redis_url}
    workdir = tmp_path_factory.mktemp("pair")
    first = start_gardien(workdir / "a", database_url=postgres.url(name), settings=settings)
    second = second_server(first, workdir / "b")
    yield first, second
    second.stop()
    first.stop()


@pytest.fixture
def pair(servers, redis_url) -> tuple[GardienService, ...]:
    """Both servers, with the rate-limit counts of earlier tests forgotten."""
    port = redis_url.rsplit(":", 1)[1]
    assert redis_cli(port, "flushall") == "OK"
    return servers


def test_the_site_limit_is_one_count_across_servers_and_workers(pair):
    first, second = pair
    answers = [
        server.signed("POST", "/v1/contact", {**SUBMISSION, "message": f"n° {n}"}).status_code
        for n in range(16)
        for server in (first, second)
    ][:16]
    # 12 a minute for the site, wherever the requests land (4 workers in all).
    assert answers[:LIMIT] == [201] * LIMIT
    assert answers[LIMIT:] == [429] * 4
    refused = second.signed("POST", "/v1/contact", SUBMISSION)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_one_webhook_id_sent_to_both_servers_is_stored_once(pair):
    msg_id = str(uuid.uuid4())
    payload = {**SUBMISSION, "message": f"course {msg_id}"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda n: pair[n % 2].signed("POST", "/v1/contact", payload, msg_id=msg_id),
            range(8),
        ))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert [r.personal["message"] for r in stored(pair[0])].count(payload["message"]) == 1


def test_a_visitor_seen_by_both_servers_is_one_visitor(pair):
    view = {"url": "https://exemple.fr/services/", "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            "ts": clock.format_rfc3339(clock.now())}
    for server in pair:
        accepted = server.signed("POST", "/v1/stats/events", {"events": [view]})
        assert accepted.status_code == 202, accepted.text
    today = clock.now().date().isoformat()
    summary = pair[1].signed("GET", f"/v1/stats/summary?from={today}&to={today}").json()
    assert (summary["visits"], summary["visitors"]) == (2, 1)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str | None:
    if request.param == "sqlite":
        return None
    server = request.getfixturevalue("postgres")
    name = f"gardien_purge_{uuid.uuid4().hex[:8]}"
    server.sql(f"CREATE DATABASE {name}")
    return server.url(name)


def test_a_purge_while_two_servers_ingest_loses_and_doubles_nothing(database_url, tmp_path):
    first = start_gardien(tmp_path / "a", database_url=database_url)
    second = second_server(first, tmp_path / "b")
    # Messages of more than a year ago, stored as intake stored them then.
    with service_app(first).app_context():
        with clock.frozen(clock.now() - timedelta(days=400)), orm_transaction() as connection:
            for n in range(OLD):
                messages.receive(connection, 1, {**SUBMISSION, "message": f"ancien {n}"})
        db.engine.dispose()

    stop = threading.Event()
    answers: list[tuple[str, int]] = []

    def keep_sending(server: GardienService) -> None:
        while not stop.is_set():
            message = f"nouveau {uuid.uuid4()}"
            response = server.signed("POST", "/v1/contact", {**SUBMISSION, "message": message})
            answers.append((message, response.status_code))

    try:
        with ThreadPoolExecutor(4) as pool:
            for server in (first, second, first, second):
                pool.submit(keep_sending, server)
            time.sleep(LOAD_SECONDS)
            # Two purges at once, as two app servers' timers could start them: one works,
            # the other finds the lease taken (or nothing left), in small transactions.
            with ThreadPoolExecutor(2) as purging:
                purges = list(purging.map(lambda server: server.flask("purge", "--chunk", "5"),
                                          (first, second)))
            stop.set()
    finally:
        second.stop()
        first.stop()

    assert {status for _, status in answers} == {201}, "no request failed, none was locked out"
    deleted = sum(
        int(line.split()[-1]) for purge in purges for line in purge.stdout.splitlines()
        if line.strip().startswith("contact ")
    )
    assert deleted == OLD, [purge.stdout for purge in purges]
    kept = [row.personal["message"] for row in stored(first)]
    assert not [m for m in kept if m.startswith("ancien")]
    assert sorted(kept) == sorted(message for message, _ in answers)
