"""Storage locked or unreachable: the contract's JSON 503 with Retry-After within seconds,
under a real gunicorn; nothing half-written; the purge waits longer than a request."""

from __future__ import annotations

import runpy
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click
import psycopg
import pytest
import requests
from sqlalchemy import text
from support.gardien import ROOT, VENV_BIN, GardienService, service_env, start_gardien
from support.postgres import free_port

from webhook_app.config import DEFAULTS
from webhook_app.extensions import db

pytestmark = pytest.mark.e2e

SUBMISSION = {
    "name": "Clothilde Anquetil-Ravel",
    "email": "clothilde.ar@example.org",
    "message": "Rappelez-moi au sujet du contrat de maintenance.",
    "ip": "198.51.100.77",
}
PERSONAL = (SUBMISSION["name"], SUBMISSION["email"], "contrat de maintenance", SUBMISSION["ip"])
# Every table a request reads or writes, except the sites (a site's keys are cached by
# each worker, so locking them would test the cache, not the wait).
TABLES = (
    "contact_messages", "idempotency_keys", "stats_events", "stats_salts", "stats_days",
    "stats_rollups", "clients", "quotes", "invoices", "audit_log", "leases",
)
DEFAULT_WAIT = DEFAULTS["DB_TIMEOUT_SECONDS"]
SHORT_WAIT = 1
# Time a request may take beyond its wait: scheduling on a busy 2-core machine.
SLACK = 3.0
GUNICORN_TIMEOUT = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["timeout"]


def new_database(postgres, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    postgres.sql(f"CREATE DATABASE {name}")
    return postgres.url(name)


def serve(backend: str, request, tmp_path_factory, **settings) -> GardienService:
    """A gunicorn service on a fresh database of ``backend``."""
    url = None
    if backend == "postgres":
        url = new_database(request.getfixturevalue("postgres"), "gardien_contention")
    return start_gardien(tmp_path_factory.mktemp(backend), database_url=url, settings=settings)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(request, tmp_path_factory) -> Iterator[GardienService]:
    """The service with its shipped settings (a request waits DB_TIMEOUT_SECONDS' default)."""
    running = serve(request.param, request, tmp_path_factory)
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def quick_service(request, tmp_path_factory) -> Iterator[GardienService]:
    """The service with a request wait of one second, to try every endpoint quickly."""
    running = serve(request.param, request, tmp_path_factory, DB_TIMEOUT_SECONDS=SHORT_WAIT)
    yield running
    running.stop()


def url_of(service: GardienService) -> str:
    return service.env["GARDIEN_DATABASE_URL"]


@contextmanager
def write_lock(service: GardienService) -> Iterator[None]:
    """Hold the database the way a long writer would, from another connection."""
    url = url_of(service)
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        holder.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def count_rows(service: GardienService, table: str) -> int:
    """Rows of ``table``, read with a connection of the test's own."""
    url = url_of(service)
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response: requests.Response) -> None:
    """The contract's 503: JSON, the fixed sentence, Retry-After."""
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    for value in PERSONAL:
        assert value not in response.text


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Poll ``condition`` until it holds (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_held_lock_gives_503_within_seconds_and_nothing_half_written(service):
    msg_id = str(uuid.uuid4())
    with write_lock(service):
        response, elapsed = timed(
            lambda: service.signed("POST", "/v1/contact", SUBMISSION, msg_id=msg_id)
        )
    assert_unavailable(response)
    # It waited for the lock as long as a request may, then gave up long before gunicorn
    # would have killed the worker.
    assert DEFAULT_WAIT - 0.5 <= elapsed <= DEFAULT_WAIT + SLACK < GUNICORN_TIMEOUT / 2
    assert count_rows(service, "contact_messages") == 0
    assert count_rows(service, "idempotency_keys") == 0
    again = service.signed("POST", "/v1/contact", SUBMISSION, msg_id=msg_id)
    assert again.status_code == 201, again.text
    assert count_rows(service, "contact_messages") == 1
    log = service.log_path.read_text()
    assert '"message": "storage unavailable"' in log
    for value in PERSONAL:
        assert value not in log


SIGNED = {
    "POST /v1/contact": lambda s, i: s.signed("POST", "/v1/contact", SUBMISSION, msg_id=i),
    "POST /v1/stats/events": lambda s, i: s.signed(
        "POST", "/v1/stats/events",
        {"events": [{"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "url": "https://example.fr/", "ip": SUBMISSION["ip"]}]},
        msg_id=i,
    ),
    "POST /v1/privacy/export": lambda s, i: s.signed(
        "POST", "/v1/privacy/export", {"email": SUBMISSION["email"], "page": 1}, msg_id=i
    ),
    "POST /v1/privacy/erase": lambda s, i: s.signed(
        "POST", "/v1/privacy/erase", {"email": SUBMISSION["email"], "page": 1}, msg_id=i
    ),
    "GET /v1/status": lambda s, i: s.signed("GET", "/v1/status", msg_id=i),
    "GET /v1/stats/summary": lambda s, i: s.signed(
        "GET", "/v1/stats/summary?from=2026-01-01&to=2026-01-31", msg_id=i
    ),
}


@pytest.mark.parametrize("endpoint", SIGNED)
def test_every_endpoint_gives_up_after_its_wait(quick_service, endpoint):
    """A request that needs a held lock answers 503 after the wait; on SQLite a reader
    never waits for a writer (write-ahead log), so a GET is answered at once."""
    send = SIGNED[endpoint]
    msg_id = str(uuid.uuid4())
    reader_on_sqlite = endpoint.startswith("GET") and "sqlite" in url_of(quick_service)
    with write_lock(quick_service):
        response, elapsed = timed(lambda: send(quick_service, msg_id))
    if reader_on_sqlite:
        assert response.status_code == 200, response.text  # had it waited, it would be 503
    else:
        assert_unavailable(response)
        assert SHORT_WAIT - 0.5 <= elapsed <= SHORT_WAIT + SLACK
    again = send(quick_service, msg_id)
    assert again.status_code in (200, 201, 202), again.text


def test_healthz_does_not_wait_for_table_locks(quick_service):
    with write_lock(quick_service):
        response = requests.get(quick_service.url + "/healthz", timeout=20)
    assert response.json() == {"status": "ok"}  # had it waited, it would be 503


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes connections and never says a word, like a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("server", ["closed", "silent"])
def test_unreachable_postgres_gives_503_within_seconds(tmp_path, server):
    """A stopped server (nothing listens) and a hung one (nothing answers)."""
    with silent_server() as silent_port:
        port = silent_port if server == "silent" else free_port()
        env = service_env(f"postgresql+psycopg://gardien@127.0.0.1:{port}/gardien")
        service = GardienService(workdir=tmp_path, port=free_port(), env=env)
        service.start(healthy=False)
        try:
            contact, contact_time = timed(lambda: service.signed("POST", "/v1/contact",
                                                                 SUBMISSION))
            health, health_time = timed(
                lambda: requests.get(service.url + "/healthz", timeout=20)
            )
        finally:
            service.stop()
    for response, elapsed in ((contact, contact_time), (health, health_time)):
        assert_unavailable(response)
        assert elapsed <= DEFAULT_WAIT + SLACK


def test_the_purge_waits_longer_than_a_request(quick_service):
    """Under the same lock, a request gives up after its wait while the purge, a command,
    keeps waiting and then finishes its work."""
    url = url_of(quick_service)
    with write_lock(quick_service):
        purge = subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "webhook_app", "purge"],
            env=quick_service.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(lambda: purge_is_waiting(purge, url), "the purge to wait for the lock")
            response = quick_service.signed("POST", "/v1/contact", SUBMISSION)
            assert_unavailable(response)
            assert purge.poll() is None, purge.communicate()
            assert purge_is_waiting(purge, url)
        except BaseException:
            purge.kill()
            raise
    out, err = purge.communicate(timeout=60)
    assert purge.returncode == 0, err


def open_files(pid: int) -> set[str]:
    """The paths a process has open now (a descriptor closed while read is skipped)."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(str(fd.readlink()))
        except FileNotFoundError:
            continue  # closed between the listing and the reading
    return found


def purge_is_waiting(purge: subprocess.Popen, url: str) -> bool:
    """Whether the purge process is at the lock: SQLite, it has the database file open (its
    first write follows at once); PostgreSQL, a session of its database waits for a lock."""
    assert purge.poll() is None, purge.communicate()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        return path in open_files(purge.pid)
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin) as connection:
        waiting = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (name,),
        ).fetchone()[0]
    return waiting >= 1


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_requests_and_commands_get_their_own_wait(app):
    """The wait follows the caller, even on a connection the pool hands out again."""
    sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    probe = text("PRAGMA busy_timeout" if sqlite else "SHOW lock_timeout")
    expected = {
        "request": 5000 if sqlite else "5s",
        "command": 60000 if sqlite else "1min",
    }
    for caller in ("command", "request", "command", "request"):
        if caller == "request":
            with app.test_request_context("/v1/contact"):
                seen = db.session.execute(probe).scalar()
                db.session.remove()
        else:
            # As under `flask …`: a command line is running.
            with click.Context(click.Command("flask")), app.app_context():
                seen = db.session.execute(probe).scalar()
                db.session.remove()
        assert seen == expected[caller], caller


def test_a_serving_process_starting_up_waits_as_a_request_does(app):
    """The key check at start runs outside any request: it must not wait a minute."""
    sqlite = app.config["DATABASE_URL"].startswith("sqlite")
    with app.app_context():
        seen = db.session.execute(
            text("PRAGMA busy_timeout" if sqlite else "SHOW lock_timeout")).scalar()
        db.session.remove()
    assert seen == (5000 if sqlite else "5s")


def test_a_request_gives_up_well_before_gunicorn_kills_it():
    assert DEFAULTS["DB_TIMEOUT_SECONDS"] + SLACK <= GUNICORN_TIMEOUT / 3
    assert DEFAULTS["CLI_DB_TIMEOUT_SECONDS"] > DEFAULTS["DB_TIMEOUT_SECONDS"]
