"""``GET /v1/stats/summary`` and :func:`summary`: numbers, rollups, purge, query errors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pageviews import CHROME, GOOGLEBOT, NOON, page_view
from sqlalchemy import func, select

from webhook_app import clock, sites
from webhook_app.extensions import db
from webhook_app.models import Site
from webhook_app.stats import retention
from webhook_app.stats.models import StatsDay, StatsEvent, StatsRollup
from webhook_app.stats.rollup import rollup
from webhook_app.stats.schemas import SummarySchema
from webhook_app.stats.summary import MAX_DAYS, summary

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
DAY = timedelta(days=1)
FIRST = NOON.date()


def a_day_of_visits() -> list[dict]:
    """Three visitors (FR, DE, unknown country) and a crawler: six page views, now."""
    at = clock.now()
    return [
        page_view("https://example.fr/", at=at, referrer="https://www.google.fr/"),
        page_view("https://example.fr/services/", at=at, referrer="https://example.fr/"),
        page_view("https://example.fr/?s=WiFi", at=at),
        page_view("https://example.fr/services/", at=at, ip="2003::1", user_agent=FIREFOX,
                  referrer="https://m.facebook.com/story.php?id=1"),
        page_view("https://example.fr/search/wifi/", at=at, ip="2003::1", user_agent=FIREFOX),
        page_view("https://example.fr/contact/", at=at, ip=None,
                  referrer="https://blog.exemple.fr/billet/"),
        page_view("https://example.fr/", at=at, user_agent=GOOGLEBOT),
    ]  # fmt: skip


def summary_of(app, date_from: date, date_to: date) -> dict:
    with app.app_context():
        return summary(1, date_from, date_to)


def test_summary_counts_a_day(app, post_events, send):
    with clock.frozen(NOON):
        assert post_events(a_day_of_visits()).get_json()["accepted"] == 6
        response = send("/v1/stats/summary?from=2026-11-20&to=2026-11-20", method="GET")
    assert response.status_code == 200
    assert response.get_json() == {
        "from": "2026-11-20",
        "to": "2026-11-20",
        "visits": 6,
        "visitors": 3,
        "days": [{"date": "2026-11-20", "visits": 6, "visitors": 3}],
        "pages": [{"path": "/", "visits": 2}, {"path": "/services/", "visits": 2},
                  {"path": "/contact/", "visits": 1}, {"path": "/search/", "visits": 1}],
        "countries": [{"country": "FR", "visits": 3}, {"country": "DE", "visits": 2},
                      {"country": None, "visits": 1}],
        "channels": [{"channel": "direct", "visits": 2}, {"channel": "internal", "visits": 1},
                     {"channel": "search", "visits": 1}, {"channel": "social", "visits": 1},
                     {"channel": "website", "visits": 1}],
        "referrers": [{"host": "blog.exemple.fr", "visits": 1},
                      {"host": "google.fr", "visits": 1}, {"host": "m.facebook.com", "visits": 1}],
        "searches": [{"terms": "wifi", "visits": 2}],
    }  # fmt: skip
    assert summary_of(app, FIRST, FIRST) == response.get_json()
    assert SummarySchema().validate(response.get_json()) == {}, "the published shape"


def test_every_day_of_the_range_is_listed(app, post_events):
    with clock.frozen(NOON):
        post_events(a_day_of_visits())
    with clock.frozen(NOON + 2 * DAY):
        post_events(a_day_of_visits()[:2])
    answer = summary_of(app, FIRST - DAY, FIRST + 3 * DAY)
    assert answer["days"] == [
        {"date": "2026-11-19", "visits": 0, "visitors": 0},
        {"date": "2026-11-20", "visits": 6, "visitors": 3},
        {"date": "2026-11-21", "visits": 0, "visitors": 0},
        {"date": "2026-11-22", "visits": 2, "visitors": 1},
        {"date": "2026-11-23", "visits": 0, "visitors": 0},
    ]
    # Visitors add up day by day: the same person on two days counts twice.
    assert (answer["visits"], answer["visitors"]) == (8, 4)
    assert summary_of(app, FIRST + DAY, FIRST + DAY)["visits"] == 0


def three_days(post_events) -> None:
    for offset in range(3):
        with clock.frozen(NOON + offset * DAY):
            post_events(a_day_of_visits() + [page_view(f"https://example.fr/day-{offset}/")])


def test_rollups_give_the_same_numbers_once_the_raw_events_are_gone(app, post_events):
    three_days(post_events)
    last = FIRST + 2 * DAY
    live = summary_of(app, FIRST, last)
    assert live["visits"] == 21 and live["visitors"] == 9
    with app.app_context(), clock.frozen(NOON + 2 * DAY):
        assert rollup() == 2  # the two days that are over; today stays live
    assert summary_of(app, FIRST, last) == live
    with app.app_context():
        rows = db.session.execute(
            select(StatsRollup.dimension, StatsRollup.value, StatsRollup.visits,
                   StatsRollup.visitors)
            .where(StatsRollup.day == FIRST).order_by(StatsRollup.dimension, StatsRollup.value)
        ).all()  # fmt: skip
        two_days = db.session.scalar(
            select(func.count()).select_from(StatsRollup).where(StatsRollup.day < last)
        )
    assert ("page", "/", 2, 1) in rows
    assert ("page", "/services/", 2, 2) in rows
    assert ("country", "FR", 4, 1) in rows
    assert ("country", None, 1, 1) in rows
    assert ("search", "wifi", 2, 2) in rows
    assert all(value is not None for dimension, value, *_ in rows if dimension != "country")

    last_day = summary_of(app, last, last)
    # 25 months after the last page view: every raw event has ended, and the totals of the
    # first two days; the last day's visits were at noon, its totals last until midnight.
    purge_at = clock.as_utc(NOON.replace(year=2028, month=12)) + 2 * DAY
    with app.app_context(), clock.frozen(purge_at):
        counts = retention.purge(purge_at, chunk=5)
        assert db.session.scalar(select(func.count()).select_from(StatsEvent)) == 0
    assert counts == {"stats_event": 21, "stats_rollup": two_days, "stats_day": 2,
                      "stats_salt": 2}  # fmt: skip
    assert summary_of(app, last, last) == last_day
    assert summary_of(app, FIRST, FIRST + DAY)["visits"] == 0


def test_purge_keeps_what_is_in_its_period(app, post_events):
    three_days(post_events)
    # 25 months after the second day at noon: the first two days have ended, not the third;
    # the totals of the first day have ended (its last moment too), not the second's.
    purge_at = clock.as_utc(NOON.replace(year=2028, month=12)) + DAY + timedelta(minutes=1)
    with app.app_context(), clock.frozen(purge_at):
        # The first day's rows, counted at ingest (no rollup has run).
        first_day = db.session.scalar(
            select(func.count()).select_from(StatsRollup).where(StatsRollup.day == FIRST)
        )
        counted = db.session.scalar(select(func.count()).select_from(StatsRollup))
        assert 0 < first_day < counted
        assert retention.purge(purge_at, dry_run=True) == {
            "stats_event": 14, "stats_rollup": first_day, "stats_day": 1, "stats_salt": 2,
        }  # fmt: skip
        assert db.session.scalar(select(func.count()).select_from(StatsEvent)) == 21
        assert db.session.scalar(select(func.count()).select_from(StatsRollup)) == counted
        assert retention.purge(purge_at, chunk=4)["stats_event"] == 14
        assert db.session.scalar(select(func.count()).select_from(StatsEvent)) == 7
        assert db.session.scalar(select(func.min(StatsDay.day))) == FIRST + DAY
        assert set(retention.purge(purge_at).values()) == {0}


def test_late_page_views_reopen_a_rolled_day(app, post_events):
    with clock.frozen(NOON):
        post_events(a_day_of_visits())
    with clock.frozen(NOON + DAY):
        with app.app_context():
            assert rollup() == 1
            assert rollup() == 0, "a day rolled up and unchanged is not summed again"
        before = summary_of(app, FIRST, FIRST)
        post_events([page_view("https://example.fr/late/", at=NOON, ip="90.0.0.9")])
        after = summary_of(app, FIRST, FIRST)
        assert (after["visits"], after["visitors"]) == (before["visits"] + 1, 4)
        assert {"path": "/late/", "visits": 1} in after["pages"]
        with app.app_context():
            changed = db.session.get(StatsDay, (1, FIRST))
            assert (changed.changes, changed.rolled_changes) == (1, 0)
            assert rollup() == 1
        assert summary_of(app, FIRST, FIRST) == after


def test_a_batch_near_midnight_marks_its_day_changed(app, post_events):
    evening = NOON.replace(hour=23, minute=55)
    with clock.frozen(evening):
        post_events([page_view(at=evening)])
    with app.app_context():
        assert db.session.get(StatsDay, (1, FIRST)).changes == 1


def test_lists_hold_the_hundred_most_visited(app, post_events):
    with clock.frozen(NOON):
        events = [page_view(f"https://example.fr/page-{number:03}/") for number in range(105)]
        events += [page_view("https://example.fr/page-104/")] * 2
        post_events(events)
    pages = summary_of(app, FIRST, FIRST)["pages"]
    assert len(pages) == 100
    assert pages[0] == {"path": "/page-104/", "visits": 3}
    assert pages[1:3] == [{"path": "/page-000/", "visits": 1}, {"path": "/page-001/", "visits": 1}]


def test_each_site_sees_its_own_visits(app, post_events):
    with app.app_context():
        secret = sites.add("atelier")
        db.session.commit()
    with clock.frozen(NOON):
        post_events([page_view()], site="atelier", secret=secret)
        post_events([page_view(), page_view(user_agent=FIREFOX)])
    with app.app_context():
        other = db.session.scalar(select(Site.id).where(Site.slug == "atelier"))
        assert summary(other, FIRST, FIRST)["visits"] == 1
    assert summary_of(app, FIRST, FIRST)["visits"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=2026-11-20", "from"),
        ("from=2026-11-20", "to"),
        ("from=2026-02-30&to=2026-03-01", "from"),
        ("from=2026-11-20T00:00:00Z&to=2026-11-21", "from"),
        ("from=20261120&to=2026-11-21", "from"),
        ("from=2026-11-21&to=2026-11-20", "from"),
        (f"from=2025-01-01&to={date(2025, 1, 1) + timedelta(days=MAX_DAYS)}", "to"),
        ("from=2026-11-20&to=2026-11-21&site=other", "_schema"),
    ],
)
def test_bad_query_is_refused(send, query, field):
    response = send(f"/v1/stats/summary?{query}", method="GET")
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_the_longest_range_is_fine(send):
    last = date(2025, 1, 1) + timedelta(days=MAX_DAYS - 1)
    response = send(f"/v1/stats/summary?from=2025-01-01&to={last}", method="GET")
    assert response.status_code == 200
    assert len(response.get_json()["days"]) == MAX_DAYS


def test_summary_function_refuses_a_reversed_range(app):
    with app.app_context(), pytest.raises(ValueError):
        summary(1, FIRST, FIRST - DAY)


def test_rollup_command(app, runner, post_events):
    with clock.frozen(NOON):
        post_events([page_view(user_agent=CHROME)])
    result = runner.invoke(args=["stats", "rollup", "--now", "2026-11-21T03:30:00Z",
                                 "--day", "2026-11-19"])  # fmt: skip
    assert result.exit_code == 0 and "rolled up 0 site-day(s)" in result.output
    result = runner.invoke(args=["stats", "rollup", "--now", "2026-11-21T03:30:00Z"])
    assert result.exit_code == 0 and "rolled up 1 site-day(s)" in result.output
    assert runner.invoke(args=["stats", "rollup", "--day", "20 nov"]).exit_code == 2
