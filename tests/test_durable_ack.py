"""A 2xx means on disk: what the plugin deletes from its outbox on a 2xx is committed
durably before the answer; statistics batches are answered without waiting for the disk.

Under gunicorn the order of system calls says it (strace: the write-ahead log is synced
before the answer's bytes go to the socket). In the process, every commit is checked for
the setting it ran with, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import has_request_context, request
from sqlalchemy import event, text
from support.gardien import GardienService, service_env
from support.postgres import free_port

from webhook_app import clock, create_app, durability
from webhook_app.config import ConfigError, new_secrets
from webhook_app.extensions import db

SUBMISSION = {
    "form": "contact",
    "name": "Jeanne Martin",
    "email": "jeanne.martin@example.fr",
    "message": "Bonjour, pouvez-vous me rappeler ?",
    "consent": True,
}
SYNCS = ("fsync", "fdatasync")
WRITES = ("write", "pwrite64", "writev")
# One traced system call: "PID name(first argument…". With -yy a descriptor is followed by
# what it is: <path> for a file, <TCP:[…]> for a socket.
CALL = re.compile(r"^\d+\s+(?:<\.\.\. )?(\w+)\(")


def page_views() -> dict:
    """A batch of two page views as the plugin posts it."""
    moment = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"events": [
        {"ts": moment, "url": f"https://example.fr/page-{number}/", "ip": "90.0.0.1",
         "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
        for number in range(2)
    ]}  # fmt: skip


@pytest.fixture
def traced(tmp_path) -> Iterator[tuple[GardienService, Path]]:
    """The service under gunicorn (one worker, SQLite), run as a child of strace so no
    ptrace attach permission is needed, and the file strace writes."""
    strace = shutil.which("strace")
    assert strace, "strace is missing: apt-get install strace (make test installs it)"
    trace = tmp_path / "strace.log"
    env = service_env(f"sqlite:///{tmp_path / 'gardien.db'}", {"RATE_LIMIT": ""})
    service = GardienService(workdir=tmp_path, port=free_port(), env=env)
    service.flask("db", "upgrade")
    wrapper = (
        strace, "-f", "-qq", "-yy", "-s", "32", "-e", "signal=none", "-o", str(trace),
        "-e", "trace=fsync,fdatasync,write,pwrite64,writev,sendto,sendmsg,recvfrom", "--",
    )
    service.start(workers=1, wrapper=wrapper)
    try:
        yield service, trace
    finally:
        service.stop()


def exchange(lines: list[str], request_line: str, status_line: str) -> list[str]:
    """The traced calls from the request's arrival to the first write of its answer,
    inclusive (both must be there)."""
    start = next(
        (i for i, line in enumerate(lines) if "recvfrom(" in line and request_line in line),
        None,
    )
    assert start is not None, f"the trace does not show {request_line!r} arriving"
    end = next(
        (i for i, line in enumerate(lines[start:], start) if status_line in line
         and CALL.match(line) and CALL.match(line).group(1) in ("write", "writev", "sendto",
                                                              "sendmsg")),
        None,
    )  # fmt: skip
    assert end is not None, f"the trace does not show {status_line!r} being sent"
    return lines[start : end + 1]


def on_wal(calls: list[str], names: tuple[str, ...]) -> list[int]:
    """The positions in ``calls`` of the calls named ``names`` on the write-ahead log."""
    return [
        number for number, line in enumerate(calls)
        if (match := CALL.match(line)) and match.group(1) in names and "gardien.db-wal>" in line
    ]  # fmt: skip


@pytest.mark.e2e
def test_contact_is_synced_before_its_answer_and_statistics_are_not(traced):
    service, trace = traced
    contact = service.signed("POST", "/v1/contact", SUBMISSION, msg_id=str(uuid.uuid4()))
    assert contact.status_code == 201
    batch = service.signed("POST", "/v1/stats/events", page_views(), msg_id=str(uuid.uuid4()))
    assert batch.status_code == 202
    service.stop()  # strace writes its last lines as the worker ends
    lines = trace.read_text(errors="replace").splitlines()

    intake = exchange(lines, "POST /v1/contact ", "HTTP/1.1 201 ")
    frames = on_wal(intake, WRITES)
    assert frames, "the message was written to the write-ahead log:\n" + "\n".join(intake)
    # Synced after its last frame, before the answer (the exchange's last call).
    assert [sync for sync in on_wal(intake, SYNCS) if sync > frames[-1]], (
        "the contact message was answered 201 before the write-ahead log was synced:\n"
        + "\n".join(intake)
    )

    statistics = exchange(lines, "POST /v1/stats/events ", "HTTP/1.1 202 ")
    assert on_wal(statistics, WRITES), "the batch was written to the write-ahead log"
    assert not on_wal(statistics, SYNCS), (
        "a statistics batch waited for a sync of the write-ahead log:\n" + "\n".join(statistics)
    )


@pytest.fixture
def commits(app) -> list[tuple[str | None, str]]:
    """Each commit of the app's engine: the request path (None: no request) and the
    durability setting in force inside the transaction, read just before it commits."""
    seen: list[tuple[str | None, str]] = []
    with app.app_context():
        engine = db.engine
    query = (
        "SHOW synchronous_commit" if engine.dialect.name == "postgresql"
        else "PRAGMA synchronous"
    )

    @event.listens_for(engine, "commit")
    def _commit(connection) -> None:
        driver = connection.connection.driver_connection
        (value,) = driver.execute(query).fetchone()
        seen.append((request.path if has_request_context() else None, str(value)))

    return seen


# SQLite's PRAGMA synchronous answers a number: 1 NORMAL, 2 FULL, 3 EXTRA.
DURABLE = {"sqlite": "2", "postgres": "on"}
RELAXED = {"sqlite": "1", "postgres": "off"}


def test_each_commit_runs_with_the_durability_of_its_kind(
    database_url, app, send, runner, commits
):
    # The private PostgreSQL of the tests runs with synchronous_commit=off by default:
    # durable writes must not depend on the server's default.
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    assert send("/v1/contact", SUBMISSION).status_code == 201
    assert send("/v1/stats/events", page_views()).status_code == 202
    person = {"email": SUBMISSION["email"], "page": 1}
    assert send("/v1/privacy/export", person).status_code == 200
    assert send("/v1/privacy/erase", person).status_code == 200
    assert send("/v1/contact", SUBMISSION).status_code == 201
    result = runner.invoke(args=["sites", "add", "atelier"])
    assert result.exit_code == 0, result.output

    by_path: dict[str | None, set[str]] = {}
    for path, value in commits:
        by_path.setdefault(path, set()).add(value)
    assert by_path["/v1/contact"] == {DURABLE[backend]}
    assert by_path["/v1/privacy/export"] == {DURABLE[backend]}
    assert by_path["/v1/privacy/erase"] == {DURABLE[backend]}
    assert by_path["/v1/stats/events"] == {RELAXED[backend]}
    assert by_path[None] == {DURABLE[backend]}, "a manager's command is durable"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_statistics_batches_are_relaxed(app):
    relaxed = {name for name, view in app.view_functions.items()
               if getattr(view, durability.RELAXED, False)}  # fmt: skip
    assert relaxed == {"stats.post_events"}


@pytest.mark.parametrize(("setting", "levels"), [
    ("NORMAL", ("FULL", "NORMAL")), ("normal", ("FULL", "NORMAL")),
    ("FULL", ("FULL", "FULL")), ("EXTRA", ("EXTRA", "EXTRA")),
])  # fmt: skip
def test_sqlite_setting_names_statistics_and_floors_the_rest(setting, levels):
    assert durability.sqlite_levels(setting) == levels


@pytest.mark.parametrize(("name", "value"), [
    ("SQLITE_SYNCHRONOUS", "OFF"), ("SQLITE_SYNCHRONOUS", "fast"),
    ("PG_SYNCHRONOUS_COMMIT", "maybe"),
])  # fmt: skip
def test_unknown_durability_settings_stop_the_service(monkeypatch, name, value):
    for variable in ("GARDIEN_SQLITE_SYNCHRONOUS", "GARDIEN_PG_SYNCHRONOUS_COMMIT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(f"GARDIEN_{name}", value)
    with pytest.raises(ConfigError, match=f"GARDIEN_{name}"):
        create_app(new_secrets())


def test_postgres_durable_level_is_the_setting(postgres, secrets):
    """An operator who relaxes durable writes (``local``: no wait for a standby) gets that
    level in every session; statistics batches stay off."""
    name = f"gardien_durable_{uuid.uuid4().hex[:8]}"
    postgres.sql(f"CREATE DATABASE {name} TEMPLATE gardien_template")
    app = create_app({**secrets, "DATABASE_URL": postgres.url(name),
                      "PG_SYNCHRONOUS_COMMIT": "local"})  # fmt: skip
    try:
        with app.app_context():
            assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "local"
    finally:
        with app.app_context():
            db.engine.dispose()
