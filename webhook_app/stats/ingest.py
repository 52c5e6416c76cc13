"""Intake of a batch of page views: validate each, derive its visit, forget the rest.

A page view's IP address and user agent live only in this request's memory: they go into
:meth:`Deriver.derive` and come out as a country, a channel and a daily visitor hash.
Nothing here logs an event, and no error raised here names a value from one.

The stored visits are one executemany in the request's transaction; the signed-request
decorator commits it together with the ``webhook-id``, so a replayed batch is not counted
twice. Each day a batch touches is registered in ``stats_days`` for the rollup; a day
that is already over is marked changed, so that its rollup is summed again
(:mod:`webhook_app.stats.rollup`).

A page view is refused (its index listed, the rest kept) when a field is invalid, when
its ``ts`` is more than 5 minutes ahead, or when it is about as old as the retention
period (it would be purged at once). Late page views in between are kept; the ones of a
day whose salt is destroyed get a hash that links them to nothing (:mod:`.salts`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import update

from webhook_app import clock, policy
from webhook_app.extensions import db, upsert
from webhook_app.schemas import flatten

from . import salts
from .derive import Deriver, get_deriver
from .models import (
    ROLLUP_KEY,
    VISITOR_HASH_CHARS,
    StatsDay,
    StatsDayVisitor,
    StatsEvent,
    StatsRollup,
)
from .rollup import DIMENSIONS, WITHOUT_EMPTY
from .schemas import page_view

# Clocks of WordPress hosts drift; a page view further ahead than this is an error.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A day counts as over this long before midnight: a batch still committing at midnight
# then marks the day changed, so a rollup made just after midnight cannot miss it.
CLOSING = timedelta(minutes=10)

TOO_LATE = "Older than the retention period of visit statistics."
TOO_EARLY = "More than 5 minutes in the future."
BAD_URL = "Not a valid http(s) URL."


def deriver() -> Deriver:
    """This process's deriver for the app's ``GEOIP_DB`` and ``STATS_*`` redaction
    settings (built on first use)."""
    config = current_app.config
    return get_deriver(
        config.get("GEOIP_DB"), config["STATS_PHONE_REGION"], config["STATS_DIGIT_RUN"]
    )


def receive(site_id: int, page_views: list, now: datetime | None = None) -> dict:
    """Store the visits of a batch for ``site_id``; answer what became of each page view.

    Returns ``{"accepted": n, "bots": n, "rejected": [{"index": i, "fields": {...}}]}``,
    where accepted + bots + rejected is the number of page views. Nothing is committed.
    """
    now = now or clock.now()
    # A page view as old as the retention period would be purged at once; and a day on
    # the purge's edge must never be marked changed, or it would be summed again from
    # the part of its raw events that is left.
    earliest = policy.current()[policy.STATS_EVENT].cutoff(now) + 2 * salts.ONE_DAY
    latest = now + FUTURE_TOLERANCE
    rejected: list[dict] = []
    loaded: list[tuple[int, dict, datetime]] = []
    for index, raw in enumerate(page_views):
        try:
            event = page_view.load(raw)
        except ValidationError as error:
            rejected.append({"index": index, "fields": flatten(error.normalized_messages())})
            continue
        occurred_at = clock.as_utc(event["ts"])
        if occurred_at > latest or occurred_at < earliest:
            problem = TOO_EARLY if occurred_at > latest else TOO_LATE
            rejected.append({"index": index, "fields": {"ts": [problem]}})
            continue
        loaded.append((index, event, occurred_at))

    day_salts = salts.salts_for({occurred_at.date() for _, _, occurred_at in loaded}, now)
    throwaway: bytes | None = None
    derive = deriver().derive
    site = str(site_id)
    rows: list[dict] = []
    bots = 0
    for index, event, occurred_at in loaded:
        salt = day_salts.get(occurred_at.date())
        if salt is None:
            throwaway = throwaway or salts.throwaway_salt()
            salt = throwaway
        try:
            visit = derive(
                event["url"],
                event.get("ip"),
                event.get("user_agent"),
                event.get("referrer"),
                None,
                salt,
                site,
            )
        except ValueError:
            # Only the URL can fail, and the message of that error names no value.
            rejected.append({"index": index, "fields": {"url": [BAD_URL]}})
            continue
        if visit is None:
            bots += 1
            continue
        rows.append({
            "site_id": site_id,
            "occurred_at": occurred_at,
            "path": visit.path,
            "search_terms": visit.search_terms,
            "country": visit.country,
            "channel": visit.channel,
            "referrer_host": visit.referrer_host,
            "visitor_hash": visit.visitor_hash[:VISITOR_HASH_CHARS],
        })  # fmt: skip
    if rows:
        connection = db.session.connection()
        connection.execute(StatsEvent.__table__.insert(), rows)
        count(site_id, rows, now)
    rejected.sort(key=lambda rejection: rejection["index"])
    return {"accepted": len(rows), "bots": bots, "rejected": rejected}


def count(site_id: int, rows: list[dict], now: datetime) -> None:
    """Add stored visits to their days' counters: visits, new distinct visitors, and the
    visits of each page, country, channel, referrer host and search; mark the days that
    are over as changed, so their rollup is summed again. Nothing is committed.

    Locks are taken in one order, that of :func:`.rollup.roll_day` and of the purge: the
    day's row first, so two batches of a day (or a batch and a rollup) never deadlock;
    then visitor hashes and rollup keys in sorted order.
    """
    closing = (now + CLOSING).date()
    by_day: dict[date, list[dict]] = defaultdict(list)
    for row in rows:
        by_day[row["occurred_at"].date()].append(row)
    connection = db.session.connection()
    day_of = {"site_id": site_id}
    for day, visits in sorted(by_day.items()):
        changed = 1 if day < closing else 0
        keys = {**day_of, "day": day}
        connection.execute(
            upsert(StatsDay)
            .values(**keys, changes=changed, visits=len(visits), visitors=0)
            .on_conflict_do_update(
                index_elements=[StatsDay.site_id, StatsDay.day],
                set_={
                    "changes": StatsDay.changes + changed,
                    "visits": StatsDay.visits + len(visits),
                },
            )  # fmt: skip
        )
        hashes = sorted({row["visitor_hash"] for row in visits})
        # The hashes inserted come back, those already there do not (a row count would
        # do, but drivers do not all give one for an executemany).
        new = len(connection.execute(
            upsert(StatsDayVisitor.__table__)
            .on_conflict_do_nothing()
            .returning(StatsDayVisitor.visitor_hash),
            [{**keys, "visitor_hash": visitor} for visitor in hashes],
        ).all())  # fmt: skip
        if new:
            connection.execute(
                update(StatsDay)
                .where(StatsDay.site_id == site_id, StatsDay.day == day)
                .values(visitors=StatsDay.visitors + new)
            )
        tally: Counter[tuple[str, str | None]] = Counter()
        for dimension, column in DIMENSIONS.items():
            tally.update((dimension, row[column.key]) for row in visits)
        for dimension in WITHOUT_EMPTY:
            tally.pop((dimension, None), None)
        counters = upsert(StatsRollup.__table__)
        connection.execute(
            counters.on_conflict_do_update(
                index_elements=ROLLUP_KEY,
                set_={"visits": StatsRollup.visits + counters.excluded.visits},
            ),
            [{**keys, "dimension": dimension, "value": value, "visits": n, "visitors": 0}
             for (dimension, value), n in sorted(tally.items(), key=_rollup_order)],
        )  # fmt: skip


def _rollup_order(item: tuple[tuple[str, str | None], int]) -> tuple[str, str]:
    (dimension, value), _ = item
    return dimension, value or ""
