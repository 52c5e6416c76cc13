"""What the statistics store: reduced page views, daily salts, and the daily rollups.

No table has a column for the IP address or the user agent: a page view is reduced to a
:class:`~webhook_app.stats.derive.Visit` before anything is written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
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
    """A day of a site that has page views: its totals once rolled up, and whether they
    are still current.

    Ingest bumps ``changes`` when it adds page views to a day that is over (late events);
    a rollup records the ``changes`` it summed in ``rolled_changes``. The rollup of the
    day is current when both are equal; otherwise the summary counts the day from the
    raw events and the next rollup sums it again.
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


class StatsRollup(Model):
    """Visits and distinct visitors of one day for one value of one dimension.

    ``dimension`` is ``page``, ``country``, ``channel``, ``referrer`` or ``search``;
    ``value`` is ``None`` only for an unknown country. Kept after the raw events are
    purged, for the ``stats_rollup`` period (a page or search may still carry what a
    visitor typed).
    """

    __tablename__ = "stats_rollups"
    __table_args__ = (Index("ix_stats_rollups_site_day", "site_id", "day"),)

    id: Mapped[int] = mapped_column(EVENT_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    visits: Mapped[int] = mapped_column(Integer)
    visitors: Mapped[int] = mapped_column(Integer)
