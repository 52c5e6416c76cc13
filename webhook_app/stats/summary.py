"""The visit summary of a date range, for the plugin (``GET /v1/stats/summary``) and the
dashboard, which calls :func:`summary` directly.

Days are UTC. A day is read from its totals and rollup rows, which ingest keeps current
(today included); a day whose counters are not current (late page views since its
rollup, see :mod:`.rollup`) is counted from its raw events, so the numbers are right at
any moment without waiting for the nightly rollup.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from webhook_app.extensions import db

from .models import StatsDay, StatsRollup, counted
from .rollup import DIMENSIONS, DayCounts, live_day
from .salts import ONE_DAY

MAX_DAYS = 400
TOP = 100
# Answer list, the rollup dimension it reads, and the key of each entry.
LISTS = (
    ("pages", "page", "path"),
    ("countries", "country", "country"),
    ("channels", "channel", "channel"),
    ("referrers", "referrer", "host"),
    ("searches", "search", "terms"),
)


def range_problems(date_from: date, date_to: date) -> dict[str, list[str]]:
    """What is wrong with an inclusive date range, by query parameter; empty when fine."""
    if date_from > date_to:
        return {"from": ["Must not be after to."]}
    if (date_to - date_from).days + 1 > MAX_DAYS:
        return {"to": [f"At most {MAX_DAYS} days from from."]}
    return {}


def summary(site_id: int, date_from: date, date_to: date) -> dict:
    """Visits and visitors of ``site_id`` from ``date_from`` to ``date_to`` (inclusive).

    The shape of the contract: totals, every day of the range (zeros included), and the
    pages, countries, channels, referrer hosts and searches with the most visits (at most
    100 each, by visits then name). ``visitors`` is the sum of each day's distinct visitors.
    Raises ``ValueError`` for a range :func:`range_problems` refuses.
    """
    if range_problems(date_from, date_to):
        raise ValueError("the date range is reversed or too long")
    known = db.session.execute(
        select(StatsDay.day, StatsDay.changes, StatsDay.rolled_changes, StatsDay.visits,
               StatsDay.visitors)
        .where(StatsDay.site_id == site_id, StatsDay.day.between(date_from, date_to))
    ).all()  # fmt: skip
    days: dict[date, DayCounts] = {}
    live = []
    for row in known:
        if counted(row.rolled_changes, row.changes, row.visits):
            days[row.day] = DayCounts(visits=row.visits, visitors=row.visitors)
        else:
            live.append(row.day)
    by: dict[str, Counter[str | None]] = {dimension: Counter() for dimension in DIMENSIONS}
    _add_rollups(by, site_id, date_from, date_to, live)
    for day in live:
        days[day] = live_day(site_id, day)
        for dimension, counts in days[day].by.items():
            by[dimension].update(counts)
    every_day = [date_from + n * ONE_DAY for n in range((date_to - date_from).days + 1)]
    answer: dict = {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "visits": sum(counts.visits for counts in days.values()),
        "visitors": sum(counts.visitors for counts in days.values()),
        "days": [
            {
                "date": day.isoformat(),
                "visits": days[day].visits if day in days else 0,
                "visitors": days[day].visitors if day in days else 0,
            }
            for day in every_day
        ],  # fmt: skip
    }
    for name, dimension, key in LISTS:
        answer[name] = [{key: value, "visits": visits} for value, visits in _top(by[dimension])]
    return answer


def _add_rollups(by: dict[str, Counter], site_id: int, date_from: date, date_to: date,
                 live: list[date]) -> None:  # fmt: skip
    query = (
        select(StatsRollup.dimension, StatsRollup.value, func.sum(StatsRollup.visits))
        .where(StatsRollup.site_id == site_id, StatsRollup.day.between(date_from, date_to))
        .group_by(StatsRollup.dimension, StatsRollup.value)
    )
    if live:
        # A day not current may have rollup rows of before its change: counted live.
        query = query.where(StatsRollup.day.not_in(live))
    for dimension, value, visits in db.session.execute(query):
        by[dimension][value] += int(visits)


def _top(counts: Counter) -> list[tuple[str | None, int]]:
    ranked = sorted(
        ((value, visits) for value, visits in counts.items() if visits),
        key=lambda item: (-item[1], item[0] is None, item[0] or ""),
    )
    return ranked[:TOP]
