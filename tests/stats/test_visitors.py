"""Unique visitors: one per IP and user agent per day, a new hash each day, salts destroyed."""

from __future__ import annotations

from datetime import date, timedelta

from pageviews import CHROME, NOON, page_view
from sqlalchemy import select, text

from webhook_app import clock
from webhook_app.extensions import db
from webhook_app.stats import salts
from webhook_app.stats.models import StatsEvent, StatsSalt
from webhook_app.stats.rollup import day_bounds
from webhook_app.stats.summary import summary

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
DAY = timedelta(days=1)


def hashes(app, day: date) -> list[str]:
    start, end = day_bounds(day)
    with app.app_context():
        return list(db.session.scalars(
            select(StatsEvent.visitor_hash)
            .where(StatsEvent.occurred_at >= start, StatsEvent.occurred_at < end)
            .order_by(StatsEvent.id)
        ))  # fmt: skip


def salt_days(app) -> list[date]:
    with app.app_context():
        return list(db.session.scalars(select(StatsSalt.day).order_by(StatsSalt.day)))


def day_of(app, day: date) -> dict:
    with app.app_context():
        return summary(1, day, day)["days"][0]


def test_same_ip_and_user_agent_on_a_day_is_one_visitor(app, post_events):
    with clock.frozen(NOON):
        post_events([page_view("https://example.fr/"), page_view("https://example.fr/a/")])
        post_events([page_view("https://example.fr/b/", ip="::ffff:90.0.0.1")])
    assert day_of(app, NOON.date()) == {"date": "2026-11-20", "visits": 3, "visitors": 1}
    assert len(set(hashes(app, NOON.date()))) == 1


def test_another_ip_or_user_agent_is_another_visitor(app, post_events):
    with clock.frozen(NOON):
        post_events([page_view(), page_view(ip="90.0.0.2"), page_view(user_agent=FIREFOX),
                     page_view(ip=None), page_view(ip=None, user_agent=None)])
    assert day_of(app, NOON.date())["visitors"] == 5


def test_the_next_day_gives_a_new_hash_and_old_salts_are_destroyed(app, post_events):
    first = NOON.date()
    with clock.frozen(NOON):
        post_events([page_view()])
    assert salt_days(app) == [first]
    with clock.frozen(NOON + DAY):
        post_events([page_view()])
        # Last evening's page view, arriving late, still joins yesterday's visitor.
        post_events([page_view(at=NOON)])
    assert salt_days(app) == [first, first + DAY]
    day_one, day_two = hashes(app, first), hashes(app, first + DAY)
    assert day_one[0] == day_one[1]
    assert day_two[0] != day_one[0]
    with clock.frozen(NOON + 2 * DAY):
        post_events([page_view()])
    # A new day's first page view destroys the salt of the day before yesterday.
    assert salt_days(app) == [first + DAY, first + 2 * DAY]
    assert hashes(app, first + 2 * DAY)[0] not in {day_one[0], day_two[0]}
    with clock.frozen(NOON + 3 * DAY):
        with app.app_context():
            assert salts.destroy_old(clock.now()) == 1
    assert salt_days(app) == [first + 2 * DAY]


def test_a_page_view_of_a_day_without_salt_links_to_nothing(app, post_events):
    old = NOON - 3 * DAY
    with clock.frozen(NOON):
        # Two batches for a day whose salt is gone: the same person cannot be followed
        # from one to the other, and no salt is stored for that day.
        post_events([page_view(at=old), page_view("https://example.fr/a/", at=old)])
        post_events([page_view(at=old)])
        post_events([page_view(at=NOON)])
    stale = hashes(app, old.date())
    assert stale[0] == stale[1], "within one batch the visitor is still counted once"
    assert stale[2] != stale[0]
    assert hashes(app, NOON.date())[0] not in stale
    assert salt_days(app) == [NOON.date()]
    assert day_of(app, old.date()) == {"date": "2026-11-17", "visits": 3, "visitors": 2}


def test_salts_are_stored_encrypted(app, post_events):
    with clock.frozen(NOON):
        post_events([page_view(user_agent=CHROME)])
        with app.app_context():
            salt = salts.salts_for({NOON.date()}, clock.now())[NOON.date()]
            stored = db.session.execute(text("SELECT salt FROM stats_salts")).scalar_one()
    assert len(salt) == 32
    assert salt.hex() not in stored


def test_concurrent_first_use_gives_one_salt(app):
    # Two workers both miss the day's salt: the loser of the insert reads the winner's.
    with app.app_context(), clock.frozen(NOON):
        salts._create([NOON.date()], clock.now())
        winner = salts.salts_for({NOON.date()}, clock.now())
        salts._create([NOON.date()], clock.now())
        assert salts.salts_for({NOON.date()}, clock.now()) == winner
