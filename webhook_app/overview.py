"""What the manager should know first: what is kept per retention category, what ends in
the coming days, the purges, the sites, and what needs attention.

Read-only: nothing here writes. Every count is one query; what ends soon and what is
overdue are range scans on the indexed end dates the purge itself walks
(:data:`webhook_app.retention.RULES`), so the overview and the purge cannot disagree on
what ends when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from . import keys, policy, retention, sites
from .crypto import DATA, INDEX
from .extensions import db
from .models import (
    AuditEntry,
    Client,
    ContactMessage,
    ErasureTombstone,
    IdempotencyKey,
    Invoice,
    Manager,
    PrivacyRequest,
    Site,
)
from .stats.models import StatsDay, StatsEvent
from .status import next_purge

# What ends soon: this many days ahead, in spans of this many days.
WINDOW_DAYS = 30
SPAN_DAYS = 7
# A daily purge that has not run for longer than this needs attention.
PURGE_LATE = timedelta(days=2)

# Kinds of things that need attention (the dashboard words them).
PURGE_NEVER = "purge_never"
PURGE_LATE_KIND = "purge_late"
OVERDUE = "overdue"
SITE_SILENT = "site_silent"
KEY_NEEDED = "key_needed"
NO_SECOND_FACTOR = "no_second_factor"


@dataclass(frozen=True)
class Kept:
    """How many records of a policy category are stored, and of which kinds."""

    category: str
    count: int
    parts: dict[str, int] = field(default_factory=dict)
    counts_days: bool = False  # the count is of days of a site, not of single records


@dataclass(frozen=True)
class Span:
    """Days ``first`` to ``last`` (inclusive) and how many records of a rule end in them."""

    first: date
    last: date
    count: int


@dataclass(frozen=True)
class Ending:
    """What one purge rule ends in the coming days, and what it does to it."""

    rule: str
    action: str
    spans: tuple[Span, ...]

    @property
    def total(self) -> int:
        return sum(span.count for span in self.spans)


@dataclass(frozen=True)
class Purge:
    """A purge that ran: when, how many records in all, and per rule."""

    at: datetime
    count: int
    counts: dict[str, int]


@dataclass(frozen=True)
class SiteDelivery:
    """A registered site and when it last delivered (None: not within the keys' period)."""

    id: int
    slug: str
    enabled: bool
    last_delivery: datetime | None


@dataclass(frozen=True)
class Attention:
    """Something the manager should look at: a kind, how many, and what it concerns."""

    kind: str
    count: int = 1
    name: str = ""
    since: datetime | None = None
    period: str = ""  # an ISO 8601 duration, when the kind speaks of one


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows, computed at ``now``."""

    now: datetime
    kept: list[Kept]
    ending: list[Ending]
    legal_holds: int
    last_purge: Purge | None
    next_purge: datetime
    sites: list[SiteDelivery]
    # How far back deliveries are known (the idempotency keys' period, ISO 8601).
    delivery_period: str
    attention: list[Attention]


def _count(model: type, *conditions) -> int:
    query = select(func.count()).select_from(model).where(*conditions)
    return db.session.execute(query).scalar_one()


def _messages_by_retention() -> dict[str, int]:
    rows = db.session.execute(
        select(ContactMessage.retention, func.count()).group_by(ContactMessage.retention)
    )
    return {retention_key: count for retention_key, count in rows}


def _clients() -> Kept:
    active_now = Client.anonymised_at.is_(None)
    rows = dict(db.session.execute(
        select(active_now, func.count()).group_by(active_now)
    ).all())
    active, anonymised = rows.get(True, 0), rows.get(False, 0)
    return Kept(policy.CLIENT, active + anonymised, {"active": active, "anonymised": anonymised})


def kept(categories: list[str]) -> list[Kept]:
    """What is stored for each of ``categories`` (the policy's, in its order); a
    category the code keeps nothing for is left out."""
    by_retention: dict[str, int] | None = None

    def messages(key: str) -> Callable[[], Kept]:
        def count() -> Kept:
            nonlocal by_retention
            if by_retention is None:
                by_retention = _messages_by_retention()
            return Kept(key, by_retention.get(key, 0))
        return count

    counters: dict[str, Callable[[], Kept]] = {
        policy.CONTACT: messages(policy.CONTACT),
        policy.LEGAL_HOLD: messages(policy.LEGAL_HOLD),
        policy.CLIENT: _clients,
        policy.INVOICE: lambda: Kept(policy.INVOICE, _count(Invoice)),
        policy.STATS_EVENT: lambda: Kept(policy.STATS_EVENT, _count(StatsEvent)),
        policy.STATS_ROLLUP: lambda: Kept(policy.STATS_ROLLUP, _count(StatsDay), counts_days=True),
        policy.IDEMPOTENCY_KEY: lambda: Kept(policy.IDEMPOTENCY_KEY, _count(IdempotencyKey)),
        policy.AUDIT: lambda: Kept(policy.AUDIT, _count(AuditEntry)),
        policy.PRIVACY_REQUEST: lambda: Kept(policy.PRIVACY_REQUEST, _count(PrivacyRequest)),
        policy.ERASURE_TOMBSTONE: lambda: Kept(policy.ERASURE_TOMBSTONE,
                                               _count(ErasureTombstone)),
    }
    return [counters[key]() for key in categories if key in counters]


def _day(value: date | str) -> date:
    """A ``date()`` of SQL as a date (SQLite answers text, PostgreSQL a date)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def ending(now: datetime, days: int = WINDOW_DAYS) -> list[Ending]:
    """For each purge rule, how many records end after ``now`` and within ``days``,
    by spans of :data:`SPAN_DAYS` calendar days (UTC) from today."""
    until = now + timedelta(days=days)
    today = now.date()
    starts = [today + timedelta(days=offset) for offset in range(0, days + 1, SPAN_DAYS)]
    found = []
    for rule in retention.RULES:
        conditions = [rule.end > now, rule.end <= until]
        if rule.also is not None:
            conditions.append(rule.also)
        day = func.date(rule.end)
        by_day = {
            _day(value): count
            for value, count in db.session.execute(
                select(day, func.count()).where(*conditions).group_by(day)
            )
        }
        spans = []
        for first in starts:
            last = min(first + timedelta(days=SPAN_DAYS - 1), until.date())
            count = sum(n for value, n in by_day.items() if first <= value <= last)
            spans.append(Span(first, last, count))
        found.append(Ending(rule.name, rule.action, tuple(spans)))
    return found


def last_purge() -> Purge | None:
    """The last purge that ran (its ``purge.run`` audit entry), or None."""
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == retention.PURGE_RUN)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1)
    ).first()
    if entry is None:
        return None
    return Purge(entry.at, entry.count, retention.read_summary(entry.detail))


def coming_purge(now: datetime) -> datetime:
    """When the daily purge runs next (``PURGE_AT``, the systemd timer's time)."""
    return next_purge(now, current_app.config["PURGE_AT"])


def site_deliveries() -> list[SiteDelivery]:
    """Every registered site with its last delivery."""
    last = sites.last_deliveries()
    return [
        SiteDelivery(site_id, slug, disabled_at is None, last.get(site_id))
        for site_id, slug, disabled_at in db.session.execute(
            select(Site.id, Site.slug, Site.disabled_at).order_by(Site.slug)
        )
    ]


def attention(
    now: datetime, purge: Purge | None, deliveries: list[SiteDelivery]
) -> list[Attention]:
    """What needs the manager's attention at ``now``."""
    found = []
    if purge is None:
        found.append(Attention(PURGE_NEVER))
    elif now - purge.at > PURGE_LATE:
        found.append(Attention(PURGE_LATE_KIND, since=purge.at))
    for rule in retention.RULES:
        overdue = rule.count(now)
        if overdue:
            found.append(Attention(OVERDUE, overdue, rule.name))
    # A site is silent when none of its idempotency keys is left: none for that period.
    silent_for = policy.current()[policy.IDEMPOTENCY_KEY].period
    for site in deliveries:
        if site.enabled and site.last_delivery is None:
            found.append(Attention(SITE_SILENT, name=site.slug, period=silent_for))
    needs = keys.needs()
    for kind in (DATA, INDEX):
        first = keys.configured(kind)[0]
        found += [
            Attention(KEY_NEEDED, name=f"{kind} {need.fingerprint}", since=need.until)
            for need in needs if need.kind == kind and need.fingerprint != first
        ]
    without = _count(Manager, Manager.disabled_at.is_(None), Manager.totp_secret.is_(None))
    if without:
        found.append(Attention(NO_SECOND_FACTOR, without))
    return found


def summary(now: datetime) -> Overview:
    """The overview at ``now``."""
    categories = list(policy.current().categories)
    kept_now = kept(categories)
    holds = next((k.count for k in kept_now if k.category == policy.LEGAL_HOLD), 0)
    purge = last_purge()
    deliveries = site_deliveries()
    return Overview(
        now=now,
        kept=kept_now,
        ending=ending(now),
        legal_holds=holds,
        last_purge=purge,
        next_purge=coming_purge(now),
        sites=deliveries,
        delivery_period=policy.current()[policy.IDEMPOTENCY_KEY].period,
        attention=attention(now, purge, deliveries),
    )
