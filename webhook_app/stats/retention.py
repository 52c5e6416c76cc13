"""The statistics part of the daily purge (called by :func:`webhook_app.retention.purge`).

Raw page views end after the ``stats_event`` period of the policy file; the days' totals
(``stats_days``) and rollups after ``stats_rollup`` (25 months too in the seed: pages and
searches can still carry what a visitor typed). Before any raw page view is deleted, every
day that is over and still in the rollup period is rolled up, so the summary gives the
same numbers until the day's totals end as well.

Raw page views go ``chunk`` primary keys at a time, found by the ``(site_id,
occurred_at)`` index, one short transaction each, so memory stays flat and ingest never
waits long. Totals go whole days at a time, about ``chunk`` rollup rows per transaction,
each day's row and its rollups together (never a day's totals without its lists), the
day's row first: a rollup of that day running at the same moment either commits first, and
its rows are deleted here, or finds its day gone and writes nothing
(:func:`.rollup.roll_day`). Salts older than yesterday are destroyed, which ends any
chance to link or recompute their days' visitor hashes.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select

from webhook_app import audit, policy
from webhook_app.extensions import db, rowcount
from webhook_app.models import Site

from . import salts
from .models import StatsDay, StatsDayVisitor, StatsEvent, StatsRollup
from .rollup import ended_before, rollup
from .salts import ONE_DAY

SALT_RULE = "stats_salt"
DAY_RULE = "stats_day"


def purge(
    now: datetime, dry_run: bool = False, chunk: int = 10_000, actor: str = "purge"
) -> dict[str, int]:
    """Delete raw page views, rollups and days past their period, and salts older than
    yesterday.

    Returns ``{"stats_event": n, "stats_rollup": rollup rows, "stats_day": site-days,
    "stats_salt": m}``; with ``dry_run``, what a real run would delete, and nothing changes
    (not even the rollups). Each transaction of days is audited as ``actor``.
    """
    cutoff = policy.current()[policy.STATS_EVENT].cutoff(now)
    first_kept = ended_before(now)
    if dry_run:
        return {
            policy.STATS_EVENT: _count(StatsEvent, StatsEvent.occurred_at < cutoff),
            policy.STATS_ROLLUP: _count(StatsRollup, StatsRollup.day < first_kept),
            DAY_RULE: _count(StatsDay, StatsDay.day < first_kept),
            SALT_RULE: salts.destroy_old(now, dry_run=True),
        }
    rollup(now)
    counts = {policy.STATS_EVENT: 0, policy.STATS_ROLLUP: 0, DAY_RULE: 0}
    for site_id in db.session.scalars(select(Site.id).order_by(Site.id)).all():
        counts[policy.STATS_EVENT] += _delete_ended(site_id, cutoff, chunk)
        rollups, days = _delete_ended_days(site_id, first_kept, chunk, actor)
        counts[policy.STATS_ROLLUP] += rollups
        counts[DAY_RULE] += days
    return {**counts, SALT_RULE: salts.destroy_old(now)}


def _count(model: type, ended) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(ended)).scalar_one()


def _delete_ended(site_id: int, cutoff: datetime, chunk: int) -> int:
    done = 0
    while True:
        ids = db.session.scalars(
            select(StatsEvent.id)
            .where(StatsEvent.site_id == site_id, StatsEvent.occurred_at < cutoff)
            .order_by(StatsEvent.occurred_at)
            .limit(chunk)
        ).all()
        if not ids:
            return done
        db.session.execute(delete(StatsEvent).where(StatsEvent.id.in_(ids)))
        db.session.commit()
        done += len(ids)
        if len(ids) < chunk:
            return done


def _delete_ended_days(site_id: int, first_kept: date, chunk: int, actor: str) -> tuple[int, int]:
    """Delete the site's days before ``first_kept`` with their rollups, oldest first;
    return (rollup rows, days) deleted."""
    rollups = days = 0
    ended = (StatsRollup.site_id == site_id, StatsRollup.day < first_kept)
    while True:
        # Days before the day of the chunk-th oldest ended rollup row hold fewer than
        # chunk rows; a single day holding more goes alone.
        edge = db.session.scalar(
            select(StatsRollup.day).where(*ended).order_by(StatsRollup.day)
            .offset(chunk).limit(1)
        )  # fmt: skip
        until = first_kept
        if edge is not None:
            oldest = db.session.scalar(select(func.min(StatsRollup.day)).where(*ended))
            until = edge + ONE_DAY if edge == oldest else edge
        ended_days = db.session.scalars(
            delete(StatsDay)
            .where(StatsDay.site_id == site_id, StatsDay.day < until)
            .returning(StatsDay.day)
            .execution_options(synchronize_session=False)
        ).all()
        removed = rowcount(db.session.execute(
            delete(StatsRollup)
            .where(StatsRollup.site_id == site_id, StatsRollup.day < until)
            .execution_options(synchronize_session=False)
        ))
        # Hashes of a day never rolled up (the rollup runs first: only a day past its
        # period has any left); no audit of their own, they are part of the day.
        db.session.execute(
            delete(StatsDayVisitor)
            .where(StatsDayVisitor.site_id == site_id, StatsDayVisitor.day < until)
            .execution_options(synchronize_session=False)
        )
        if ended_days or removed:
            audit.record(
                f"purge.{policy.STATS_ROLLUP}", actor=actor, site_id=site_id,
                record_ids=[f"{site_id}:{day.isoformat()}" for day in sorted(ended_days)],
                detail=f"delete: {removed} rollup row(s)",
            )  # fmt: skip
        db.session.commit()
        rollups += removed
        days += len(ended_days)
        if edge is None:
            return rollups, days
