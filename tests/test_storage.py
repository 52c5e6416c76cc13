"""Nothing personal is readable on disk: SQLite file and WAL, PostgreSQL dump."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from sqlalchemy import event, text

from webhook_app import clock, retention
from webhook_app.crypto import email_index
from webhook_app.extensions import db

SUBMISSION = {
    "name": "Zéphyrine Quarrington",
    "email": "zephyrine.quarrington@example.org",
    "company": "Quarrington Ouvrages",
    "message": "Mon adresse est 12 rue des Lilas, merci de me rappeler.",
    "ip": "192.0.2.147",
    "fields": {"phone": "+33 6 98 76 54 32"},
}


def forms(value: str) -> list[bytes]:
    """Every way a value could sit in a file: UTF-8, UTF-16, lower case, packed IP."""
    found = [value.encode(), value.encode("utf-16-le"), value.lower().encode()]
    try:
        found.append(ipaddress.ip_address(value).packed)
    except ValueError:
        pass
    return found


def assert_absent(blob: bytes, values) -> None:
    for value in values:
        for form in forms(value):
            assert form not in blob, f"clear text found for {value[:6]}…"


def personal_values() -> list[str]:
    return [
        SUBMISSION["name"], SUBMISSION["email"], SUBMISSION["company"],
        "12 rue des Lilas", SUBMISSION["ip"], "+33 6 98 76 54 32",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_file_and_wal_hold_no_clear_text(app, send, database_url):
    path = Path(database_url.removeprefix("sqlite:///"))
    response = send("/v1/contact", SUBMISSION)
    assert response.status_code == 201
    wal = Path(f"{path}-wal")
    assert wal.exists(), "SQLite should run in WAL mode"
    blob = path.read_bytes() + wal.read_bytes()
    assert response.get_json()["id"].encode() in blob, "the row must be on disk to search it"
    assert_absent(blob, personal_values())
    with app.app_context():
        assert email_index(SUBMISSION["email"]).encode() in blob
        db.engine.dispose()  # checkpoint the WAL into the main file, then look again
    assert_absent(path.read_bytes(), personal_values())


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_dump_holds_no_clear_text(app, send, postgres, database_url):
    response = send("/v1/contact", SUBMISSION)
    assert response.status_code == 201
    dump = postgres.dump(database_url.rsplit("/", 1)[1])
    assert response.get_json()["id"].encode() in dump
    assert_absent(dump, personal_values())


def secure_delete_off(dbapi_connection, connection_record) -> None:
    """SQLite's default where the library was built without ``SQLITE_SECURE_DELETE``."""
    dbapi_connection.execute("PRAGMA secure_delete=OFF")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_erased_row_leaves_the_sqlite_files_at_the_next_purge(app, send, database_url):
    """Neither the database's free space nor the write-ahead log keeps an erased row.

    Debian builds SQLite with ``SQLITE_SECURE_DELETE``, so ``secure_delete`` is already on
    here and the service's pragma would go untested: each connection starts with it off,
    as SQLite's own default has it (python.org and Homebrew builds, for instance), before
    the service's settings run.
    """
    with app.app_context():
        event.listen(db.engine, "connect", secure_delete_off, insert=True)
        db.engine.dispose()
    path = Path(database_url.removeprefix("sqlite:///"))
    addresses = ["garde.un@example.org", "efface@example.org", "garde.deux@example.org"]
    for address in addresses:
        assert send("/v1/contact", {**SUBMISSION, "email": address}).status_code == 201
    with app.app_context():
        tokens = dict(db.session.execute(text(
            "SELECT email_index, personal FROM contact_messages"
        )).all())
        erased = tokens.pop(email_index(addresses[1]))
        db.session.rollback()
    assert send("/v1/privacy/erase", {"email": addresses[1], "page": 1}).status_code == 200
    with app.app_context():
        retention.purge(clock.now())
    # The service's connections stay open, as they would: the log is not removed on close.
    blob = b"".join(file.read_bytes() for file in (path, Path(f"{path}-wal")) if file.exists())
    assert all(token.encode() in blob for token in tokens.values()), "kept rows are found"
    assert erased.encode() not in blob
