"""The audit log: who did what to personal data, when — never the data itself.

Every purge, erase, export, flag, conversion and rectification calls :func:`record` in
the same transaction as the change, so the log and the data cannot disagree.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from . import clock, policy
from .extensions import db
from .models import AuditEntry

PAGE_SIZE = 50


def cli_actor() -> str:
    """The operator running a command, as the audit log names them."""
    return f"cli:{getpass.getuser()}"


def record(
    action: str,
    *,
    actor: str,
    record_ids: Sequence[str | int] = (),
    count: int | None = None,
    site_id: int | None = None,
    subject: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction.

    ``subject`` is a blind-index value at most; ``detail`` a fixed, non-personal phrase.
    """
    at = clock.now()
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        site_id=site_id,
        subject=subject,
        record_ids=[str(record_id) for record_id in record_ids],
        count=len(record_ids) if count is None else count,
        detail=detail,
        expires_at=policy.current()[policy.AUDIT].expires(at),
    )
    db.session.add(entry)
    return entry


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Filter:
    """Which entries to read: any combination of action, actor, site and time range
    (``start`` included, ``end`` excluded)."""

    action: str | None = None
    actor: str | None = None
    site_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found = []
        if self.action:
            found.append(AuditEntry.action == self.action)
        if self.actor:
            found.append(AuditEntry.actor == self.actor)
        if self.site_id is not None:
            found.append(AuditEntry.site_id == self.site_id)
        if self.start is not None:
            found.append(AuditEntry.at >= self.start)
        if self.end is not None:
            found.append(AuditEntry.at < self.end)
        return found


@dataclass(frozen=True)
class Cursor:
    """A place in the log, newest first: an entry's time and id (ids break ties)."""

    at: datetime
    id: int

    def __str__(self) -> str:
        return f"{clock.as_utc(self.at).strftime('%Y-%m-%dT%H:%M:%S.%f')}_{self.id}"

    @classmethod
    def read(cls, text: str | None) -> Cursor | None:
        """The cursor written by ``str()``, or None for anything else."""
        moment, _, number = (text or "").rpartition("_")
        try:
            at = datetime.fromisoformat(moment)
        except ValueError:
            return None
        if not number.isdigit() or at.tzinfo is not None:
            return None
        return cls(clock.as_utc(at), int(number))

    @classmethod
    def of(cls, entry: AuditEntry) -> Cursor:
        return cls(entry.at, entry.id)

    def older(self) -> ColumnElement[bool]:
        """Entries after this place, newest first (the ``at <=`` bound uses the index)."""
        return and_(AuditEntry.at <= self.at,
                    or_(AuditEntry.at < self.at, AuditEntry.id < self.id))

    def newer(self) -> ColumnElement[bool]:
        """Entries before this place, newest first."""
        return and_(AuditEntry.at >= self.at,
                    or_(AuditEntry.at > self.at, AuditEntry.id > self.id))


@dataclass(frozen=True)
class Page:
    """Entries newest first, and where the pages on either side start (None: no page)."""

    entries: list[AuditEntry]
    older: Cursor | None
    newer: Cursor | None


NEWEST_FIRST = (AuditEntry.at.desc(), AuditEntry.id.desc())
OLDEST_FIRST = (AuditEntry.at.asc(), AuditEntry.id.asc())


def _exists(*conditions: ColumnElement[bool]) -> bool:
    return db.session.scalar(select(AuditEntry.id).where(*conditions).limit(1)) is not None


def read(
    chosen: Filter, *, before: Cursor | None = None, after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """A page of the filtered log, newest first: the first page, or the one older than
    ``before``, or the one newer than ``after`` (keyset pagination on ``(at, id)``, no
    OFFSET: every page costs the same however deep)."""
    conditions = chosen.conditions()
    if after is not None:
        rows = list(db.session.scalars(
            select(AuditEntry).where(*conditions, after.newer())
            .order_by(*OLDEST_FIRST).limit(size + 1)
        ))
        more_newer = len(rows) > size
        entries = rows[:size][::-1]
        more_older = True
    else:
        where = conditions if before is None else [*conditions, before.older()]
        rows = list(db.session.scalars(
            select(AuditEntry).where(*where).order_by(*NEWEST_FIRST).limit(size + 1)
        ))
        entries = rows[:size]
        more_older = len(rows) > size
        more_newer = before is not None and bool(entries) and _exists(
            *conditions, Cursor.of(entries[0]).newer()
        )
    if not entries:
        return Page([], None, None)
    return Page(
        entries,
        Cursor.of(entries[-1]) if more_older else None,
        Cursor.of(entries[0]) if more_newer else None,
    )


def every(chosen: Filter, chunk: int = 1000) -> Iterator[AuditEntry]:
    """Every entry of the filtered log, newest first, ``chunk`` at a time."""
    before = None
    while True:
        page = read(chosen, before=before, size=chunk)
        yield from page.entries
        if page.older is None:
            return
        before = page.older
