"""Daily rollups: each site's day summed again from its raw page views once it is over.

A day is counted as its page views arrive: ingest adds each batch to the day's totals
(``stats_days``) and to its rows per page, country, channel, referrer host and search
terms (``stats_rollups``), and counts as new visitors only the hashes it could add to the
day's ``stats_day_visitors`` (:func:`.ingest.count`). So the summary reads today as it
reads any other day, whatever the number of page views.

Once the day is over, it is summed again from its raw events in one pass: by ``flask
stats rollup`` and, before anything is deleted, by the daily purge
(:mod:`webhook_app.stats.retention`). That pass fills in what counters cannot (the
distinct visitors of each page, country and so on) and ends the day's visitor hashes.
The rollups hold counts only, with pages and searches redacted (no address, phone or long
number), so the numbers stay the same once the raw events are purged; they have a period
of their own, ``stats_rollup``, since a page or a search may still carry what a visitor
typed.

Late page views (a day already over) cannot be told apart from visitors counted before
once the day's hashes are gone, so ingest bumps the day's ``changes``; a rollup records
the ``changes`` it saw *before* reading the raw events. A batch committed while a day is
being summed is then either counted or leaves the day marked changed; never lost. A day
marked changed since its rollup, or not counted from its first page view (stored before
migration 0012), is counted from the raw events by the summary (:func:`live_day`) until
its next rollup.

Days and rollups end after the ``stats_rollup`` period of the policy file: a day past it
is never summed (the purge is about to delete it), and a day the purge deleted while it
was being summed gets no rollup rows back (:func:`roll_day`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from operator import itemgetter

from sqlalchemy import delete, distinct, func, or_, select, update

from webhook_app import clock, policy
from webhook_app.extensions import db, rowcount

from .models import StatsDay, StatsDayVisitor, StatsEvent, StatsRollup
from .salts import ONE_DAY

DIMENSIONS = {
    "page": StatsEvent.path,
    "country": StatsEvent.country,
    "channel": StatsEvent.channel,
    "referrer": StatsEvent.referrer_host,
    "search": StatsEvent.search_terms,
}
# A visit with no referrer host (direct, internal) or no search is not a row of those
# reports; an unknown country is, as ``null``.
WITHOUT_EMPTY = ("referrer", "search")
# Rows of raw events read at a time when a day is counted live.
LIVE_CHUNK = 10_000


@dataclass
class DayCounts:
    """A day of a site: page views, distinct visitors, page views per dimension value."""

    visits: int = 0
    visitors: int = 0
    by: dict[str, Counter] = field(default_factory=lambda: {name: Counter() for name in DIMENSIONS})


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a day starts at (included) and ends at (excluded)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + ONE_DAY


def _in_day(site_id: int, day: date) -> tuple:
    start, end = day_bounds(day)
    return (
        StatsEvent.site_id == site_id,
        StatsEvent.occurred_at >= start,
        StatsEvent.occurred_at < end,
    )


def ended_before(now: datetime) -> date:
    """Days before this one are past the ``stats_rollup`` period at ``now``: the last
    visit of each is (a day's last moment ends its period)."""
    return policy.current()[policy.STATS_ROLLUP].cutoff(now).date()


def rollup(now: datetime | None = None, day: date | None = None) -> int:
    """Sum every day that is over and not rolled up yet (or changed since), within the
    rollup period; return how many site-days were summed. ``day`` limits the run to that
    day."""
    now = now or clock.now()
    pending = select(StatsDay.site_id, StatsDay.day, StatsDay.changes).where(
        StatsDay.day < now.date(),
        StatsDay.day >= ended_before(now),
        or_(StatsDay.rolled_changes.is_(None), StatsDay.rolled_changes != StatsDay.changes),
    )
    if day is not None:
        pending = pending.where(StatsDay.day == day)
    days = db.session.execute(pending.order_by(StatsDay.day, StatsDay.site_id)).all()
    db.session.commit()
    for site_id, pending_day, changes in days:
        roll_day(site_id, pending_day, changes)
    return len(days)


def roll_day(site_id: int, day: date, changes: int) -> None:
    """Sum one day of one site from its raw events and commit its rollup.

    ``changes`` is the day's counter as read before summing (see the module docstring).
    A day whose row is gone (the purge ended it since it was listed) is left alone.
    """
    in_day = _in_day(site_id, day)
    hashes = func.count(distinct(StatsEvent.visitor_hash))
    visits, visitors = db.session.execute(select(func.count(), hashes).where(*in_day)).one()
    rows = []
    for dimension, column in DIMENSIONS.items():
        query = select(column, func.count(), hashes).where(*in_day).group_by(column)
        if dimension in WITHOUT_EMPTY:
            query = query.where(column.is_not(None))
        rows += [
            {"site_id": site_id, "day": day, "dimension": dimension, "value": value,
             "visits": count, "visitors": distinct_visitors}
            for value, count, distinct_visitors in db.session.execute(query)
        ]  # fmt: skip
    # The day's row first: on PostgreSQL its lock makes a concurrent rollup of the same
    # day wait, so the delete below always sees the other one's rows; and the purge,
    # which deletes the day's row before its rollups, either waits for this commit (and
    # then deletes these rows) or has deleted the row, and nothing is written.
    current = rowcount(
        db.session.execute(
            update(StatsDay)
            .where(StatsDay.site_id == site_id, StatsDay.day == day)
            .values(rolled_changes=changes, visits=visits, visitors=visitors)
        )
    )
    if not current:
        db.session.rollback()
        return
    db.session.execute(
        delete(StatsRollup).where(StatsRollup.site_id == site_id, StatsRollup.day == day)
    )
    if rows:
        db.session.connection().execute(StatsRollup.__table__.insert(), rows)
    # The day's visitors are summed now: the hashes that counted them at ingest can go.
    db.session.execute(
        delete(StatsDayVisitor).where(
            StatsDayVisitor.site_id == site_id, StatsDayVisitor.day == day
        )
    )
    db.session.commit()


def live_day(site_id: int, day: date) -> DayCounts:
    """Count a day whose counters are not current (see the module docstring) from its raw
    events.

    One pass, counted in Python a chunk of rows at a time: cheaper than one grouping
    query per dimension, and memory stays flat however busy the day.
    """
    counts = DayCounts()
    hashes: set[str] = set()
    columns = [*DIMENSIONS.values(), StatsEvent.visitor_hash]
    result = db.session.connection().execute(select(*columns).where(*_in_day(site_id, day)))
    # Straight from the driver's cursor: these text columns need no conversion, and
    # building a result row object for each page view costs more than counting it.
    while chunk := result.cursor.fetchmany(LIVE_CHUNK):
        for position, dimension in enumerate(DIMENSIONS):
            counts.by[dimension].update(map(itemgetter(position), chunk))
        hashes.update(map(itemgetter(len(DIMENSIONS)), chunk))
    result.close()
    for dimension in WITHOUT_EMPTY:
        counts.by[dimension].pop(None, None)
    counts.visits = counts.by["channel"].total()
    counts.visitors = len(hashes)
    return counts
