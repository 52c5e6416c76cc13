"""The daily salts of the visitor hash: made on first use, destroyed after the next day.

One salt per UTC day serves every site (the hash covers the site too). Every gunicorn
worker reads the same row: the first to need day D's salt inserts it, and a worker that
loses the race on the primary key reads the winner's. The salt is written in a
transaction of its own, so it never waits on, nor rolls back with, a batch of events.

Only today's and yesterday's salts exist (and tomorrow's, for an event a few minutes
ahead of midnight): yesterday's because page views of the evening arrive late. A page
view of an older day is hashed with a salt made for that one request and never stored
(:func:`throwaway_salt`), so it is counted among that day's visitors but cannot be linked
to any other page view, nor recomputed from an IP address and user agent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from webhook_app.extensions import db, rowcount

from .models import StatsSalt
from .visitor import new_salt

ONE_DAY = timedelta(days=1)


def oldest_kept(now: datetime) -> date:
    """The oldest day whose salt still exists at ``now``: yesterday."""
    return now.date() - ONE_DAY


def salts_for(days: set[date], now: datetime) -> dict[date, bytes]:
    """The stored salt of each of ``days`` that still has one (created if missing).

    Days older than yesterday are left out: their salt is gone, see the module docstring.
    """
    kept = sorted(day for day in days if day >= oldest_kept(now))
    if not kept:
        return {}
    salts = _read(kept)
    missing = [day for day in kept if day not in salts]
    if missing:
        _create(missing, now)
        salts = _read(kept)
    return salts


def throwaway_salt() -> bytes:
    """A salt for page views of days whose salt is destroyed; never stored."""
    return new_salt()


def destroy_old(now: datetime, *, dry_run: bool = False) -> int:
    """Delete the salts of days before yesterday; return how many (or would be)."""
    ended = StatsSalt.day < oldest_kept(now)
    if dry_run:
        query = select(func.count()).select_from(StatsSalt).where(ended)
        return db.session.execute(query).scalar_one()
    deleted = rowcount(db.session.execute(delete(StatsSalt).where(ended)))
    db.session.commit()
    return deleted


def _read(days: list[date]) -> dict[date, bytes]:
    # Through the table, so the column type decrypts; one statement for every day.
    rows = db.session.execute(
        select(StatsSalt.day, StatsSalt.salt).where(StatsSalt.day.in_(days))
    ).all()
    return {row.day: bytes.fromhex(row.salt) for row in rows}


def _create(days: list[date], now: datetime) -> None:
    # A connection of its own: the salt must be committed even if the batch is rolled
    # back (a replayed webhook-id), and must not wait for the batch's transaction.
    for day in days:
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    insert(StatsSalt),
                    {"day": day, "salt": new_salt().hex(), "created_at": now},
                )
                # A new day is the moment the day before yesterday's salt ends.
                connection.execute(delete(StatsSalt).where(StatsSalt.day < oldest_kept(now)))
        except IntegrityError:
            pass  # another worker made this day's salt first: _read finds theirs
