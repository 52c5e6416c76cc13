"""The lean intake path: driver-level inserts on a held connection, and cookie-less sessions."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import session
from sqlalchemy import DateTime, func, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import IntegrityError
from support.signing import body_bytes, signed_headers

from webhook_app import create_app, intake, policy
from webhook_app.extensions import db
from webhook_app.models import (
    ContactMessage,
    IdempotencyKey,
    UTCDateTime,
    insert_row,
    orm_transaction,
)
from webhook_app.signing import SignedRequest, once
from webhook_app.sites import SiteKeys

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
SUBMISSION = {"name": "Zoé", "email": "zoe@example.fr", "message": "Bonjour"}


def key(webhook_id: str, **changes) -> dict:
    return {
        "site_id": 1, "webhook_id": webhook_id, "body_digest": "d" * 64, "status": 201,
        "response": {"id": "x", "n": 1}, "created_at": T0, "expires_at": T0, **changes,
    }  # fmt: skip


def test_inserted_values_go_through_the_column_types(app):
    """Encrypted JSON, JSON and UTC times read back through the ORM as written."""
    personal = {"name": "Zoé", "email": "zoe@example.fr", "message": "Bonjour"}
    with app.app_context():
        with intake.transaction() as connection:
            insert_row(connection, IdempotencyKey, **key("msg_types"))
            insert_row(
                connection, ContactMessage, id="m-1", site_id=1, email_index="e" * 64,
                form=None, personal=personal, consent=True, submitted_at=T0, received_at=T0,
                retention="contact", expires_at=T0,
            )  # fmt: skip
        stored_key = db.session.get(IdempotencyKey, (1, "msg_types"))
        message = db.session.get(ContactMessage, "m-1")
        raw = db.session.execute(
            select(ContactMessage.__table__.c.personal).where(ContactMessage.id == "m-1")
        ).scalar()
        assert stored_key.response == {"id": "x", "n": 1}
        assert stored_key.created_at == T0
        assert message.personal == personal
        assert message.expires_at == T0
        assert "Zoé" not in raw and "zoe@" not in raw


def test_a_driver_error_is_sqlalchemys_without_the_values(app):
    with app.app_context():
        with intake.transaction() as connection:
            insert_row(connection, IdempotencyKey, **key("msg_twice"))
        with pytest.raises(IntegrityError) as caught, orm_transaction() as connection:
            insert_row(connection, IdempotencyKey, **key("msg_twice", body_digest="secret-digest"))
        assert "secret-digest" not in str(caught.value)
        # Nothing half-written, and the session is usable again.
        assert db.session.scalar(select(IdempotencyKey.body_digest)) == "d" * 64


def test_an_insert_must_name_every_column_it_writes(app):
    """A column left to its Python default (the id here) is refused on this path."""
    with app.app_context(), pytest.raises(ValueError, match="contact_messages"):
        with intake.transaction() as connection:
            insert_row(
                connection, ContactMessage, site_id=1, email_index="e" * 64, personal={},
                submitted_at=T0, received_at=T0, retention="contact",
            )  # fmt: skip


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_requests_without_a_session_cookie_set_none(app):
    @app.get("/test-session/<action>")
    def use_session(action: str):
        if action == "set":
            session["seen"] = True
        return {"seen": session.get("seen", False)}

    client = app.test_client()
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers
    assert client.get("/test-session/set").headers["Set-Cookie"].startswith("session=")
    assert client.get("/test-session/read").json == {"seen": True}


def test_an_answer_not_kept_is_sql_null(app):
    with app.app_context():
        with intake.transaction() as connection:
            insert_row(connection, IdempotencyKey, **key("msg_export", response=None))
        assert db.session.scalar(
            select(func.count()).where(IdempotencyKey.response.is_(None))
        ) == 1


def test_a_constraint_broken_by_the_work_is_not_taken_for_a_replay(app):
    """Only a conflict on the message id means "seen before"; anything else is raised."""
    calls = []

    def work(connection):
        calls.append(1)
        insert_row(
            connection, ContactMessage, id="m-orphan", site_id=999, email_index="e" * 64,
            form=None, personal={}, consent=None, submitted_at=T0, received_at=T0,
            retention="contact", expires_at=T0,
        )  # fmt: skip
        return {"id": "m-orphan"}, 201

    signed = SignedRequest(SiteKeys(1, "default", ()), "msg_orphan", "POST /v1/contact", b"{}")
    with app.app_context():
        for transaction in (intake.transaction, orm_transaction):
            calls.clear()
            with pytest.raises(IntegrityError):
                once(signed, work, policy.current()["idempotency_key"], True, transaction)
            assert calls == [1]
        assert db.session.get(IdempotencyKey, (1, "msg_orphan")) is None


def test_a_failed_commit_leaves_the_session_usable(app):
    with app.app_context():
        with intake.transaction() as connection:
            insert_row(connection, IdempotencyKey, **key("msg_taken"))
        with pytest.raises(IntegrityError), orm_transaction():
            db.session.add(IdempotencyKey(**key("msg_taken")))  # flushed by the commit
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def driver_of(connection) -> object:
    return connection.connection.driver_connection


def test_each_thread_keeps_one_connection_out_of_the_pool(app):
    """Intake begins every transaction on its thread's connection: no checkout, no
    check-in between requests; another thread holds its own."""
    with app.app_context():
        with intake.transaction() as connection:
            first = driver_of(connection)
        with intake.transaction() as connection:
            assert driver_of(connection) is first
        assert db.engine.pool.checkedout() == 1, "held between transactions"
        seen = []

        def other_thread():
            with app.app_context(), intake.transaction() as connection:
                seen.append(driver_of(connection))

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert seen and seen[0] is not first


def test_disposing_of_the_engine_closes_held_connections(app):
    with app.app_context():
        with intake.transaction() as connection:
            insert_row(connection, IdempotencyKey, **key("msg_before"))
        db.engine.dispose()
        assert connection.closed
        with intake.transaction() as fresh:
            insert_row(fresh, IdempotencyKey, **key("msg_after"))
        assert fresh is not connection
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 2


def test_a_replay_keeps_the_connection(app, send):
    """A broken constraint (the replay of a message id) is an answer, not a failure."""
    assert send("/v1/contact", SUBMISSION, msg_id="msg_replayed").status_code == 201
    with app.app_context(), intake.transaction() as connection:
        before = driver_of(connection)
    assert send("/v1/contact", SUBMISSION, msg_id="msg_replayed").status_code == 201
    with app.app_context(), intake.transaction() as connection:
        assert driver_of(connection) is before


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_the_server_ended_gives_one_503_then_a_fresh_one(app, send):
    """PostgreSQL restarted or ended the backend while the connection was held: that
    request is answered 503 (the plugin retries it), the next one gets a new connection."""
    with app.app_context():
        with intake.transaction() as connection:
            backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        db.session.remove()
    failed = send("/v1/contact", SUBMISSION, msg_id="msg_after_restart")
    assert failed.status_code == 503 and failed.headers["Retry-After"]
    retried = send("/v1/contact", SUBMISSION, msg_id="msg_after_restart")
    assert retried.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 1
        with intake.transaction() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != backend


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_connection_that_failed_is_not_used_again(database_url, secrets):
    """A lock not granted in time: 503, and the next request is served on a new
    connection, never on one left in an unknown state."""
    app = create_app({**secrets, "DATABASE_URL": database_url, "TESTING": True,
                      "DB_TIMEOUT_SECONDS": 1})
    client = app.test_client()

    def send(msg_id: str):
        body = body_bytes(SUBMISSION)
        headers = signed_headers(secrets["WEBHOOK_SECRET"], body, msg_id=msg_id)
        return client.post("/v1/contact", data=body, headers=headers)

    assert send("msg_first").status_code == 201
    with app.app_context(), intake.transaction() as connection:
        before = driver_of(connection)
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        locked = send("msg_locked")
        assert locked.status_code == 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert send("msg_locked").status_code == 201
    with app.app_context():
        with intake.transaction() as connection:
            assert driver_of(connection) is not before
        assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 2
        db.engine.dispose()


def test_times_are_bound_as_sqlalchemys_own_sqlite_text():
    """UTCDateTime's one-step processor writes what SQLite's DATETIME would: the purge
    compares stored times as text, so one format for every row and every bound value."""
    dialect = sqlite_dialect.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = DateTime().dialect_impl(dialect).bind_processor(dialect)
    paris = timezone(timedelta(hours=1))
    for value in (T0, T0.replace(microsecond=7), datetime(2027, 1, 1, 0, 30, tzinfo=paris),
                  datetime(2026, 11, 26, 9, 30, 0, 999_999)):
        naive_utc = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        assert ours(value) == theirs(naive_utc)
    assert ours(None) is None
