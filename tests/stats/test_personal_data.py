"""Page views that carry an e-mail address or a phone number, through the real service
(gunicorn, two workers): neither is in any table, file, dump or log afterwards, nor in the
summary; and once the rollup period is over, ``flask purge`` leaves no rollup row.

On SQLite, the database file and its write-ahead log are searched; on PostgreSQL, a
``pg_dump`` and what the server logged meanwhile. The service log on both.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from pageviews import page_view
from personal import ADDRESS, CARD, PAGE_VIEWS, assert_nowhere
from support.gardien import start_gardien

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "form",
    [ADDRESS, ADDRESS.upper(), "Jeanne.Martin%40Example.FR", "jeanne.martin%2540example.fr",
     "/commande/jeanne.martin@example.fr/", "jeanne.martin", "06 12 34 56 78",
     "06.12.34.56.78", "0612345678", "+33612345678", "+33 (0)6 12 34 56 78",
     "0033 6 12 34 56 78", "06+12+34+56+78", "06%2012%2034%2056%2078", CARD,
     "4970101234567890"],
)  # fmt: skip
def test_the_search_finds_what_it_looks_for(form):
    for encoded in (form.encode(), form.encode("utf-16-le")):
        with pytest.raises(AssertionError):
            assert_nowhere(b"\x00prefix " + encoded + b" suffix\x01", "a planted blob")


def post_and_roll(service) -> dict:
    """Post the page views now, roll today up as if it were tomorrow, return the summary."""
    now = datetime.now(UTC)
    events = [page_view(url, at=now) for url in PAGE_VIEWS]
    answer = service.signed("POST", "/v1/stats/events", {"events": events},
                            msg_id=str(uuid.uuid4()))  # fmt: skip
    assert answer.status_code == 202 and answer.json()["accepted"] == len(PAGE_VIEWS)
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%dT00:30:00Z")
    assert "rolled up 1 site-day(s)" in service.flask("stats", "rollup", "--now", tomorrow).stdout
    day = now.date().isoformat()
    summary = service.signed("GET", f"/v1/stats/summary?from={day}&to={day}")
    assert summary.json()["visits"] == len(PAGE_VIEWS)
    assert_nowhere(answer.content + summary.content, "an answer")
    return summary.json()


def purge_years_later(service) -> str:
    later = (datetime.now(UTC) + timedelta(days=27 * 31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return service.flask("purge", "--now", later).stdout


def counts(connection) -> tuple[int, ...]:
    return tuple(
        connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("stats_events", "stats_rollups", "stats_days", "stats_day_visitors")
    )


def test_sqlite_files_and_log_hold_no_address_or_phone(tmp_path):
    service = start_gardien(tmp_path / "gardien")
    try:
        summary = post_and_roll(service)
        assert {"terms": "[e-mail]", "visits": 4} in summary["searches"]
        files = [service.database_path, service.database_path.with_name("gardien.db-wal")]
        blob = b"".join(path.read_bytes() for path in files if path.exists())
        assert b"/commande/[e-mail]/" in blob, "the page views must be on disk to search them"
        assert_nowhere(blob, "the SQLite files")
        with sqlite3.connect(service.database_path) as connection:
            assert counts(connection)[1] > 0
            dump = "\n".join(connection.iterdump()).encode()
        assert_nowhere(dump, "the SQLite dump")

        report = purge_years_later(service)
        assert "stats_rollup" in report
        with sqlite3.connect(service.database_path) as connection:
            assert counts(connection) == (0, 0, 0, 0)
    finally:
        service.stop()
    assert b"/v1/stats/events" in service.log_path.read_bytes()
    assert_nowhere(service.log_path.read_bytes(), "the service log")


def test_postgres_dump_and_logs_hold_no_address_or_phone(tmp_path, postgres):
    database = f"gardien_personal_{uuid.uuid4().hex[:8]}"
    postgres.sql(f"CREATE DATABASE {database}")
    server_log = postgres.root / "server.log"
    logged_before = server_log.stat().st_size
    service = start_gardien(tmp_path / "gardien", database_url=postgres.url(database))
    try:
        post_and_roll(service)
        dump = postgres.dump(database)
        assert b"/commande/[e-mail]/" in dump
        assert_nowhere(dump, "the PostgreSQL dump")
        purge_years_later(service)
        url = postgres.url(database).replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url) as connection:
            assert counts(connection) == (0, 0, 0, 0)
    finally:
        service.stop()
    with open(server_log, "rb") as log:
        log.seek(logged_before)
        assert_nowhere(log.read(), "the PostgreSQL server log")
    assert_nowhere(service.log_path.read_bytes(), "the service log")
