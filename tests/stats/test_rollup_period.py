"""Daily totals and rollups end after the ``stats_rollup`` period, like the visits they
come from (issue 9: they survived ``purge --now`` years later)."""

from __future__ import annotations

from datetime import timedelta

from pageviews import NOON, page_view
from sqlalchemy import func, select

from webhook_app import clock, policy, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry
from webhook_app.stats.models import StatsDay, StatsEvent, StatsRollup
from webhook_app.stats.rollup import ended_before, roll_day, rollup
from webhook_app.stats.summary import summary

DAY = timedelta(days=1)
FIRST = NOON.date()


def visits_on(post_events, days: int, pages: int = 3) -> None:
    """``pages`` distinct pages visited on each of ``days`` days from FIRST, rolled up."""
    for offset in range(days):
        with clock.frozen(NOON + offset * DAY):
            post_events([page_view(f"https://example.fr/p{n}/?s=mot{n}") for n in range(pages)])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def purge(at, **options):
    with clock.frozen(at):
        return retention.purge(at, **options)


def test_the_period_is_the_policy_files_and_published(send):
    assert policy.load()["stats_rollup"].period == "P25M"
    published = send("/v1/policy?lang=en", method="GET").get_json()
    [entry] = [c for c in published["categories"] if c["key"] == "stats_rollup"]
    assert entry["period_label"] == "25 months" and entry["at_end"] == "delete"
    assert entry["label"] in published["html"]


def test_years_later_no_rollup_or_day_is_left(app, post_events):
    visits_on(post_events, 3)
    with app.app_context():
        with clock.frozen(NOON + 5 * DAY):
            assert rollup() == 3
        rolled = count(StatsRollup)
        assert rolled == 3 * 8  # three pages, three searches, a channel and a country a day
        counts = purge(NOON.replace(year=2030))
        assert counts["stats_event"] == 9
        assert (counts["stats_rollup"], counts["stats_day"]) == (rolled, 3)
        assert (count(StatsRollup), count(StatsDay), count(StatsEvent)) == (0, 0, 0)
        assert summary(1, FIRST, FIRST + 2 * DAY)["visits"] == 0
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "purge.stats_rollup")
        ).all()
        assert [entry.record_ids for entry in entries] == [
            ["1:2026-11-20", "1:2026-11-21", "1:2026-11-22"]
        ]
        assert entries[0].detail == f"delete: {rolled} rollup row(s)"
        assert set(purge(NOON.replace(year=2030)).values()) == {0}


def test_days_within_the_period_are_kept(app, post_events):
    visits_on(post_events, 4)
    with app.app_context():
        with clock.frozen(NOON + 4 * DAY):
            assert rollup() == 4
        # 25 months after the second day ended: two days past their period, two not.
        at = clock.as_utc(NOON.replace(year=2028, month=12, day=22, hour=0, minute=0))
        assert ended_before(at) == FIRST + 2 * DAY
        assert ended_before(at - timedelta(microseconds=1)) == FIRST + DAY
        before = summary(1, FIRST + 2 * DAY, FIRST + 3 * DAY)
        dry = purge(at, dry_run=True)
        counts = purge(at)
        assert dry == counts and (counts["stats_day"], counts["stats_rollup"]) == (2, 16)
        kept = db.session.scalars(select(StatsDay.day).order_by(StatsDay.day)).all()
        assert kept == [FIRST + 2 * DAY, FIRST + 3 * DAY]
        assert set(db.session.scalars(select(StatsRollup.day))) == set(kept)
        assert summary(1, FIRST + 2 * DAY, FIRST + 3 * DAY) == before


def test_chunks_take_whole_days_and_a_big_day_alone(app, post_events):
    with clock.frozen(NOON):
        post_events([page_view(f"https://example.fr/big-{n}/") for n in range(12)])
    visits_on(post_events, 4)  # FIRST gets 3 more pages: 15 pages, 20 rollup rows
    with app.app_context():
        with clock.frozen(NOON + 4 * DAY):
            assert rollup() == 4
        counts = purge(NOON.replace(year=2030), chunk=10)
        assert count(StatsRollup) == 0 and count(StatsDay) == 0
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "purge.stats_rollup")
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
    days = [entry.record_ids for entry in entries]
    # The first day has more rows than a chunk: alone. Then whole days, at most 10 rows a
    # transaction (8 a day).
    assert days == [["1:2026-11-20"], ["1:2026-11-21"], ["1:2026-11-22"], ["1:2026-11-23"]]
    assert counts["stats_rollup"] == 20 + 3 * 8 and counts["stats_day"] == 4


def test_the_rollup_never_brings_back_a_day_the_purge_removed(app, post_events):
    visits_on(post_events, 2)
    later = NOON.replace(year=2030)
    with app.app_context():
        with clock.frozen(NOON + 2 * DAY):
            # A rollup lists the pending days, then the purge ends them before it sums one.
            pending = db.session.execute(select(StatsDay.site_id, StatsDay.day,
                                                StatsDay.changes)).all()  # fmt: skip
        purge(later)
        assert (count(StatsDay), count(StatsRollup)) == (0, 0)
        db.session.execute(StatsEvent.__table__.insert(), [{
            "site_id": 1, "occurred_at": NOON, "path": "/late/", "search_terms": None,
            "country": None, "channel": "direct", "referrer_host": None,
            "visitor_hash": "0" * 16,
        }])  # fmt: skip
        db.session.commit()
        for site_id, day, changes in pending:
            roll_day(site_id, day, changes)
        assert (count(StatsDay), count(StatsRollup)) == (0, 0)
        # And a day still listed but past the period is not summed at all.
        db.session.add(StatsDay(site_id=1, day=FIRST, changes=0))
        db.session.commit()
        with clock.frozen(later):
            assert rollup(later) == 0
        assert count(StatsRollup) == 0


def test_purge_command_reports_rollups_and_days(app, runner, post_events):
    visits_on(post_events, 1)
    with app.app_context(), clock.frozen(NOON + DAY):
        rollup()
    result = runner.invoke(args=["purge", "--now", "2030-01-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[1:]}
    assert (lines["stats_rollup"], lines["stats_day"]) == ("8", "1")
