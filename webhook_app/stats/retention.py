"""The statistics part of the daily purge (called by :func:`webhook_app.retention.purge`).

Raw page views end after the ``stats_event`` period of the policy file. Before any is
deleted, every day that is over is rolled up, so the rollups (kept, they identify
nobody) give the same numbers after the purge as before. Deletion goes ``chunk`` primary
keys at a time, found by the ``(site_id, occurred_at)`` index, one short transaction
each, so memory stays flat and ingest never waits long. Salts older than yesterday are
destroyed, which ends any chance to link or recompute their days' visitor hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from webhook_app import policy
from webhook_app.extensions import db
from webhook_app.models import Site

from . import salts
from .models import StatsEvent
from .rollup import rollup

SALT_RULE = "stats_salt"


def purge_cutoff(now: datetime) -> datetime:
    """Page views that happened before this moment are past their period at ``now``."""
    return now - policy.current()[policy.STATS_EVENT].duration


def purge(now: datetime, dry_run: bool = False, chunk: int = 10_000) -> dict[str, int]:
    """Delete raw page views past their period and salts older than yesterday.

    Returns ``{"stats_event": n, "stats_salt": m}``; with ``dry_run``, what a real run
    would delete, and nothing changes (not even the rollups).
    """
    cutoff = purge_cutoff(now)
    if dry_run:
        ended = db.session.scalar(
            select(func.count()).select_from(StatsEvent).where(StatsEvent.occurred_at < cutoff)
        )
        return {policy.STATS_EVENT: ended, SALT_RULE: salts.destroy_old(now, dry_run=True)}
    rollup(now)
    deleted = 0
    for site_id in db.session.scalars(select(Site.id).order_by(Site.id)).all():
        deleted += _delete_ended(site_id, cutoff, chunk)
    return {policy.STATS_EVENT: deleted, SALT_RULE: salts.destroy_old(now)}


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
