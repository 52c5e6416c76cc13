"""Today is counted as its page views arrive: the summary reads counters that ingest keeps,
equal at every moment to a count of the raw page views, and to the rollup made after
midnight."""

from __future__ import annotations

import concurrent.futures
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pageviews import CHROME, NOON, page_view
from sqlalchemy import delete, func, select
from support.gardien import start_gardien

from webhook_app import clock
from webhook_app.extensions import db
from webhook_app.stats.models import StatsDay, StatsDayVisitor, StatsEvent
from webhook_app.stats.rollup import live_day, rollup
from webhook_app.stats.summary import LISTS, _top, summary

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
DAY = timedelta(days=1)
TODAY = NOON.date()


def visits(at: datetime, visitor: int) -> list[dict]:
    """Page views of one visitor (by address) at ``at``: pages, a search, a referrer, a
    country or none."""
    ip = f"90.0.0.{visitor}" if visitor % 3 else f"10.0.0.{visitor}"  # 10.x: no country
    return [
        page_view("https://example.fr/", at=at, ip=ip, referrer="https://www.google.fr/"),
        page_view(f"https://example.fr/page-{visitor % 4}/", at=at, ip=ip,
                  referrer="https://example.fr/"),
        page_view("https://example.fr/?s=Wifi+Box", at=at, ip=ip, user_agent=FIREFOX),
    ]  # fmt: skip


def from_raw_events(app, day) -> dict:
    """The day's numbers counted from its raw page views, in the summary's shape."""
    with app.app_context():
        counts = live_day(1, day)
    # The summary's own ranking (``_top``): what is checked here is the counting.
    lists = {name: [{key: value, "visits": n} for value, n in _top(counts.by[dimension])]
             for name, dimension, key in LISTS}
    return {"visits": counts.visits, "visitors": counts.visitors, **lists}


def read(app, day) -> dict:
    with app.app_context():
        answer = summary(1, day, day)
    return {key: answer[key] for key in ("visits", "visitors", *(name for name, *_ in LISTS))}


def drop_raw_events(app) -> None:
    with app.app_context():
        db.session.execute(delete(StatsEvent))
        db.session.commit()


def test_today_is_read_from_counters_equal_to_the_raw_events(app, post_events):
    with clock.frozen(NOON):
        # Visitors come back in later batches, and batches overlap.
        for first in range(0, 12, 3):
            batch = [view for visitor in range(first, first + 5) for view in
                     visits(NOON, visitor)]  # fmt: skip
            assert post_events(batch).get_json()["accepted"] == len(batch)
    expected = from_raw_events(app, TODAY)
    assert (expected["visits"], expected["visitors"]) == (4 * 5 * 3, 14 * 2)
    assert read(app, TODAY) == expected
    with app.app_context():
        day = db.session.get(StatsDay, (1, TODAY))
        assert (day.visits, day.visitors, day.rolled_changes) == (60, 28, None)
    # The raw page views are not read: without them, today's numbers stay.
    drop_raw_events(app)
    assert read(app, TODAY) == expected


def test_the_rollup_after_midnight_gives_the_same_numbers_and_ends_the_hashes(app, post_events):
    with clock.frozen(NOON):
        post_events([view for visitor in range(6) for view in visits(NOON, visitor)])
        post_events([view for visitor in range(3, 9) for view in visits(NOON, visitor)])
    counted = read(app, TODAY)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatsDayVisitor)) == 18
        assert rollup(NOON + DAY) == 1
        assert db.session.scalar(select(func.count()).select_from(StatsDayVisitor)) == 0
    assert read(app, TODAY) == counted
    drop_raw_events(app)
    assert read(app, TODAY) == counted


def test_batches_in_the_last_minutes_of_the_day_keep_it_counted(app, post_events):
    late_evening = datetime(2026, 11, 20, 23, 55, tzinfo=UTC)
    with clock.frozen(NOON):
        post_events(visits(NOON, 1))
    with clock.frozen(late_evening):
        # Marked changed, so that a rollup just after midnight cannot miss it...
        post_events(visits(late_evening, 1) + visits(late_evening, 2))
    with app.app_context():
        assert db.session.get(StatsDay, (1, TODAY)).changes == 1
    expected = from_raw_events(app, TODAY)
    assert (expected["visits"], expected["visitors"]) == (9, 4)
    # ... and still read from its counters.
    drop_raw_events(app)
    assert read(app, TODAY) == expected


def test_a_late_batch_after_the_rollup_is_counted_from_the_raw_events(app, post_events):
    with clock.frozen(NOON):
        post_events(visits(NOON, 1) + visits(NOON, 2))
    with app.app_context():
        rollup(NOON + DAY)
    with clock.frozen(NOON + DAY):
        # The same visitor on the same day: counted again once its hash is gone, if the
        # counters were read.
        post_events(visits(NOON, 1))
    expected = from_raw_events(app, TODAY)
    assert (expected["visits"], expected["visitors"]) == (9, 4)
    assert read(app, TODAY) == expected
    with app.app_context():
        assert rollup(NOON + DAY) == 1
    assert read(app, TODAY) == expected
    drop_raw_events(app)
    assert read(app, TODAY) == expected


def test_a_day_stored_before_the_counters_is_counted_from_the_raw_events(app, post_events):
    with clock.frozen(NOON):
        post_events(visits(NOON, 1))
    with app.app_context():
        # As migration 0012 leaves a day stored before it: no counters, no hashes.
        day = db.session.get(StatsDay, (1, TODAY))
        day.visits = day.visitors = None
        db.session.execute(delete(StatsDayVisitor))
        db.session.commit()
    with clock.frozen(NOON):
        post_events(visits(NOON, 1) + visits(NOON, 2))
    with app.app_context():
        assert db.session.get(StatsDay, (1, TODAY)).visits is None
    expected = from_raw_events(app, TODAY)
    assert (expected["visits"], expected["visitors"]) == (9, 4)
    assert read(app, TODAY) == expected


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, tmp_path):
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        url = server.url(f"gardien_counted_{uuid.uuid4().hex[:8]}")
        server.sql(f"CREATE DATABASE {url.rsplit('/', 1)[1]}")
    running = start_gardien(tmp_path / "gardien", database_url=url, workers=2)
    yield running
    running.stop()


@pytest.mark.e2e
def test_concurrent_batches_count_each_visitor_once(service):
    """Two gunicorn workers take batches of the same visitors at once: each is counted
    once, and nothing waits for ever (the locks are taken in one order)."""
    now = datetime.now(UTC)
    agents = [CHROME, FIREFOX]
    batches = [
        [page_view(f"https://example.fr/p{(batch + n) % 7}/", at=now, ip=f"90.0.{n}.1",
                   user_agent=agents[batch % 2])
         for n in range(40)][::1 if batch % 2 else -1]
        for batch in range(24)
    ]  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(
            lambda batch: service.signed("POST", "/v1/stats/events", {"events": batch},
                                         msg_id=str(uuid.uuid4())),
            batches,
        ))  # fmt: skip
    assert [answer.status_code for answer in answers] == [202] * len(batches)
    day = now.date().isoformat()
    answer = service.signed("GET", f"/v1/stats/summary?from={day}&to={day}").json()
    assert (answer["visits"], answer["visitors"]) == (24 * 40, 2 * 40)
    assert sum(page["visits"] for page in answer["pages"]) == 24 * 40
    assert answer["channels"] == [{"channel": "direct", "visits": 24 * 40}]
