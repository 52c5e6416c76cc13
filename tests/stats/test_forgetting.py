"""The IP address and user agent of a page view are never stored, logged or answered.

Distinctive IPv4, IPv6 and IPv4-mapped IPv6 addresses and user agents are posted, some in
page views that are kept, some in rejected ones, some from crawlers; then the SQLite file
and its WAL, a PostgreSQL dump, the answers and the captured logs are searched for every
textual and packed form of each.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from leaks import (
    IPV4,
    IPV6,
    MAPPED,
    REFUSED_IPV4,
    REFUSED_USER_AGENT,
    USER_AGENTS,
    address_forms,
    assert_nowhere,
    secrets_forms,
)
from pageviews import GOOGLEBOT, page_view
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from webhook_app.extensions import db

MARK_PATH = "/page-temoin-de-stockage/"


@pytest.fixture
def service_logs(app, caplog) -> Iterator[Callable[[], bytes]]:
    """Everything logged while the test runs: the service's own JSON lines (formatted by
    its handler, extra fields included) and every other logger, at DEBUG."""
    service = logging.getLogger("webhook_app")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(service.handlers[0].formatter)
    service.addHandler(handler)
    level = service.level
    service.setLevel(logging.DEBUG)

    def everything() -> bytes:
        others = "".join(repr(vars(record)) for record in caplog.records)
        return (lines.getvalue() + caplog.text + others).encode()

    try:
        with caplog.at_level(logging.DEBUG):
            yield everything
    finally:
        service.removeHandler(handler)
        service.setLevel(level)


def test_the_search_finds_what_it_looks_for():
    # The search itself must be able to fail: plant each form and find it.
    for name, form in secrets_forms():
        with pytest.raises(AssertionError):
            assert_nowhere(b"prefix " + form + b" suffix", name)
    assert ipaddress.ip_address(IPV6).packed in address_forms(IPV6)
    assert ipaddress.ip_address("176.158.42.219").packed in address_forms(MAPPED)
    assert b"2A01:0E0A:05C3:B7F0:9D1E:4B2A:17C6:8E35" in address_forms(IPV6)
    assert b"::ffff:b09e:2adb" in address_forms(MAPPED)
    assert b"0000:0000:0000:0000:0000:ffff:b09e:2adb" in address_forms(MAPPED)


def post_everything(post_events) -> list[bytes]:
    """Post kept, refused and crawler page views carrying the addresses; return answers."""
    kept = [
        page_view(f"https://example.fr{MARK_PATH}", ip=ip, user_agent=agent,
                  referrer="https://www.qwant.com/")
        for ip in (IPV4, IPV6, MAPPED) for agent in USER_AGENTS
    ]  # fmt: skip
    refused = [
        page_view(ip=REFUSED_IPV4, user_agent=REFUSED_USER_AGENT, cookie="x"),
        {"url": "https://example.fr/", "ip": REFUSED_IPV4, "user_agent": REFUSED_USER_AGENT},
        page_view(ip=REFUSED_IPV4 + ".1", user_agent=REFUSED_USER_AGENT),
        page_view(ip=IPV4, user_agent=REFUSED_USER_AGENT + " " + "x" * 1000),
        {"ts": "2026-11-20T10:00:00Z", "url": "https://example.fr/", "ip": IPV6,
         "user_agent": USER_AGENTS[0], REFUSED_IPV4: MAPPED},
        page_view(f"https://{REFUSED_IPV4}/x", ip=REFUSED_IPV4, user_agent="x" * 1001),
    ]  # fmt: skip
    crawlers = [page_view(ip=REFUSED_IPV4, user_agent=GOOGLEBOT + " " + REFUSED_USER_AGENT)]
    answers = []
    for batch in (kept, refused, crawlers, kept + refused):
        response = post_events(batch)
        assert response.status_code == 202
        answers.append(response.get_data())
    assert b'"accepted":6' in answers[0].replace(b" ", b"")
    assert b'"bots":1' in answers[2].replace(b" ", b"")
    return answers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_file_wal_answers_and_logs_hold_neither(app, post_events, database_url,
                                                       service_logs):  # fmt: skip
    path = Path(database_url.removeprefix("sqlite:///"))
    answers = post_everything(post_events)
    wal = Path(f"{path}-wal")
    assert wal.exists(), "SQLite should run in WAL mode"
    blob = path.read_bytes() + wal.read_bytes()
    assert MARK_PATH.encode() in blob, "the page views must be on disk to search them"
    assert_nowhere(blob, "the SQLite file or WAL")
    for answer in answers:
        assert_nowhere(answer, "an answer")
    logs = service_logs()
    assert b"/v1/stats/events" in logs, "the request lines must be in the captured logs"
    assert_nowhere(logs, "the logs")
    with app.app_context():
        db.engine.dispose()  # checkpoint the WAL into the main file, then look again
    assert_nowhere(path.read_bytes(), "the SQLite file after a checkpoint")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_dump_holds_neither(app, post_events, postgres, database_url, service_logs):
    answers = post_everything(post_events)
    dump = postgres.dump(database_url.rsplit("/", 1)[1])
    assert MARK_PATH.encode() in dump
    assert_nowhere(dump, "the PostgreSQL dump")
    for answer in answers:
        assert_nowhere(answer, "an answer")
    logs = service_logs()
    assert b"/v1/stats/events" in logs
    assert_nowhere(logs, "the logs")


def test_a_storage_failure_keeps_neither_in_the_exception(app):
    # A real database error in the middle of intake: its text and traceback (chained
    # exceptions included) must not carry the values of the statement.
    from webhook_app.stats import ingest

    events = [page_view(ip=ip, user_agent=agent) for ip in (IPV4, IPV6, MAPPED)
              for agent in USER_AGENTS]  # fmt: skip
    with app.app_context():
        db.session.execute(text("DROP TABLE stats_events"))
        db.session.commit()
        with pytest.raises(DBAPIError) as caught:
            ingest.receive(1, events)
        db.session.rollback()
    told = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "stats_events" in told
    assert_nowhere(told.encode(), "the exception")
