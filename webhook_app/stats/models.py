"""What the statistics store: reduced page views, daily salts, and the daily rollups.

No table has a column for the IP address or the user agent: a page view is reduced to a
:class:`~webhook_app.stats.derive.Visit` before anything is written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from webhook_app.crypto import EncryptedText
from webhook_app.extensions import Model
from webhook_app.models import UTCDateTime

# BIGINT is not SQLite's auto-incrementing rowid alias; INTEGER is (and is 64-bit there).
EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")
# 64 bits of the daily HMAC: collisions among one site's visitors of one day are
# negligible (about 1 in 10^7 at a million visitors), and less is kept than the whole hash.
VISITOR_HASH_CHARS = 16


class StatsEvent(Model):
    """One page view, reduced: when, where on the site, from where, and a daily visitor hash.

    Kept for the ``stats_event`` period of the policy; the purge finds ended rows by
    ``(site_id, occurred_at)``, and the same index serves a day's rollup.
    """

    __tablename__ = "stats_events"
    __table_args__ = (Index("ix_stats_events_site_occurred", "site_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    path: Mapped[str] = mapped_column(Text)
    search_terms: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(16))
    referrer_host: Mapped[str | None] = mapped_column(String(253))
    visitor_hash: Mapped[str] = mapped_column(String(VISITOR_HASH_CHARS))


class StatsSalt(Model):
    """The random salt of one UTC day's visitor hashes, shared by every site and worker.

    Encrypted like other secrets at rest: with the salt, a database copy would let anyone
    test a guessed IP and user agent against the day's hashes. Deleted once older than
    yesterday (see :mod:`webhook_app.stats.salts`).
    """

    __tablename__ = "stats_salts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatsDay(Model):
    """A day of a site that has page views: its totals, and whether they are current.

    While the day has never been rolled up, ``visits`` and ``visitors`` are counters that
    ingest adds to, batch by batch (distinct visitors through the day's
    :class:`StatsDayVisitor` rows); they are ``NULL`` for a day that was not counted so
    from its first page view (one stored before migration 0012), which is then counted
    from its raw events until its rollup.

    Ingest bumps ``changes`` when it adds page views to a day that is over (late events);
    a rollup sums the day from its raw events and records the ``changes`` it saw in
    ``rolled_changes``. A rolled-up day is current while both are equal; otherwise the
    summary counts the day from the raw events and the next rollup sums it again.
    """

    __tablename__ = "stats_days"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    rolled_changes: Mapped[int | None] = mapped_column(Integer)
    visits: Mapped[int | None] = mapped_column(Integer)
    visitors: Mapped[int | None] = mapped_column(Integer)


def counted(rolled_changes: int | None, changes: int, visits: int | None) -> bool:
    """Whether a day's ``visits``, ``visitors`` and rollup rows are its numbers as they
    stand: counted at ingest from its first page view, or rolled up and unchanged since."""
    if rolled_changes is None:
        return visits is not None
    return rolled_changes == changes


class StatsDayVisitor(Model):
    """A visitor hash already counted in a day's ``visitors``, while the day is counted at
    ingest: a batch adds to the day's visitors only the hashes it inserts here.

    The same hashes as the raw page views of the day, and no more: deleted when the day is
    rolled up (the night after), or with the day by the purge.
    """

    __tablename__ = "stats_day_visitors"
    # The key is the whole row: on SQLite, one B-tree rather than a table and its index.
    __table_args__ = {"sqlite_with_rowid": False}

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    visitor_hash: Mapped[str] = mapped_column(String(VISITOR_HASH_CHARS), primary_key=True)


class StatsRollup(Model):
    """Visits and distinct visitors of one day for one value of one dimension.

    ``dimension`` is ``page``, ``country``, ``channel``, ``referrer`` or ``search``;
    ``value`` is ``None`` only for an unknown country. Kept after the raw events are
    purged, for the ``stats_rollup`` period (a page or search may still carry what a
    visitor typed).

    Ingest adds each batch's visits to the rows of the day (one row per key, ``NULL``
    counted as ``''`` in the key since a unique index keeps NULLs apart); ``visitors`` is
    0 in those rows until the day is rolled up, which sums it from the raw events.
    """

    __tablename__ = "stats_rollups"

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    visits: Mapped[int] = mapped_column(Integer)
    visitors: Mapped[int] = mapped_column(Integer)


# What makes a rollup row one: ingest's upsert names it as its conflict target.
ROLLUP_KEY = (
    StatsRollup.site_id,
    StatsRollup.day,
    StatsRollup.dimension,
    # A literal, not a bound parameter: SQLite matches the conflict target to the index
    # by its text.
    func.coalesce(StatsRollup.value, literal_column("''")),
)
Index("uq_stats_rollups_key", *ROLLUP_KEY, unique=True)
