"""Erasure tombstones: what an erasure removed, by id, so that a restore removes it again.

Every erasure writes them in its own transaction (:func:`record`): a person's erasure
(:mod:`.privacy`), one message's (:func:`.messages.erase_one`), a site's removal
(:func:`.sites.remove`). A backup therefore holds the tombstones of the erasures already
in it, and a restore (:mod:`.backup`) brings in those made since and applies them
(:func:`apply`), before the purge catches up with the periods that ended meanwhile.
Deletions made by the purge need no tombstone: the restore's purge makes them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import defer

from . import clock, policy
from .extensions import db, rowcount
from .models import Client, ContactMessage, ErasureTombstone, PrivacyRequest, new_uuid
from .stats.models import StatsDay, StatsEvent, StatsRollup

MESSAGE = "message"
CLIENT = "client"  # anonymised, not deleted
STATS_EVENT = policy.STATS_EVENT
STATS_ROLLUP = policy.STATS_ROLLUP
PRIVACY_REQUEST = "privacy_request"  # its address dropped
SITE = "site"  # the site and everything stored for it
KINDS = (MESSAGE, CLIENT, STATS_EVENT, STATS_ROLLUP, PRIVACY_REQUEST, SITE)


@dataclass(frozen=True)
class Tombstone:
    """A tombstone as a backup file or another database carries it."""

    id: str
    kind: str
    record_id: str
    site_id: int | None
    created_at: str
    expires_at: str
    day: str | None = None

    @classmethod
    def of(cls, row: ErasureTombstone) -> Tombstone:
        return cls(
            row.id,
            row.kind,
            row.record_id,
            row.site_id,
            clock.format_rfc3339(row.created_at),
            clock.format_rfc3339(row.expires_at),
            None if row.day is None else row.day.isoformat(),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def record(
    kind: str, record_ids: Iterable[str | int], site_id: int | None, day: date | None = None
) -> None:
    """Add a tombstone for each of ``record_ids`` to the current transaction (``day``: the
    day of the daily totals erased)."""
    if kind not in KINDS:
        raise ValueError(f"unknown tombstone kind {kind!r}")
    now = clock.now()
    expires = policy.current()[policy.ERASURE_TOMBSTONE].expires(now)
    db.session.add_all(
        ErasureTombstone(
            id=new_uuid(),
            kind=kind,
            record_id=str(record_id),
            site_id=site_id,
            day=day,
            created_at=now,
            expires_at=expires,
        )
        for record_id in record_ids
    )


def every() -> list[Tombstone]:
    """The tombstones of the current database."""
    rows = db.session.scalars(select(ErasureTombstone).order_by(ErasureTombstone.created_at))
    return [Tombstone.of(row) for row in rows]


def bring_in(found: Iterable[Tombstone]) -> list[Tombstone]:
    """Insert the tombstones this database lacks (by id); return them.

    Those it has already were written with their erasure, before the backup was taken,
    or brought in by an earlier restore: applied already. Applying only the new ones
    matters where ids are integers, which a database may give again after a restore.
    """
    wanted = {tombstone.id: tombstone for tombstone in found}
    present = set()
    ids = list(wanted)
    for start in range(0, len(ids), 500):
        present |= set(
            db.session.scalars(
                select(ErasureTombstone.id).where(ErasureTombstone.id.in_(ids[start : start + 500]))
            )
        )
    new = [tombstone for key, tombstone in wanted.items() if key not in present]
    db.session.add_all(
        ErasureTombstone(
            id=t.id,
            kind=t.kind,
            record_id=t.record_id,
            site_id=t.site_id,
            day=None if t.day is None else date.fromisoformat(t.day),
            created_at=clock.parse_rfc3339(t.created_at),
            expires_at=clock.parse_rfc3339(t.expires_at),
        )
        for t in new
    )
    db.session.flush()
    return new


def apply(found: Sequence[Tombstone], now: datetime) -> dict[str, int]:
    """Erase again what ``found`` names; return how many records each kind changed.

    Idempotent: a record already gone, or a client already anonymised, counts nothing.
    """
    by_kind: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for tombstone in found:
        by_kind[tombstone.kind].append(tombstone.record_id)
    counts = {kind: 0 for kind in KINDS}
    for start in range(0, max((len(ids) for ids in by_kind.values()), default=0), 500):
        chunk = {kind: ids[start : start + 500] for kind, ids in by_kind.items()}
        counts[SITE] += _sites([int(i) for i in chunk[SITE]])
        counts[MESSAGE] += _deleted(ContactMessage, ContactMessage.id, chunk[MESSAGE])
        counts[CLIENT] += _clients(chunk[CLIENT], now)
        counts[STATS_EVENT] += _deleted(
            StatsEvent, StatsEvent.id, [int(i) for i in chunk[STATS_EVENT]]
        )
        counts[STATS_ROLLUP] += _deleted(
            StatsRollup, StatsRollup.id, [int(i) for i in chunk[STATS_ROLLUP]]
        )
        counts[PRIVACY_REQUEST] += rowcount(
            db.session.execute(
                update(PrivacyRequest)
                .where(
                    PrivacyRequest.id.in_([int(i) for i in chunk[PRIVACY_REQUEST]]),
                    PrivacyRequest.personal.is_not(None),
                )
                .values(personal=None)
                .execution_options(synchronize_session=False)
            )
        )
    _sum_again({(t.site_id, t.day) for t in found if t.kind == STATS_ROLLUP and t.day})
    return counts


def _sum_again(days: set[tuple[int | None, str]]) -> None:
    """Mark these days of these sites changed: the purge that ends a restore sums them
    again from their raw page views (whose erased ones are gone), which replaces daily
    totals that a rollup made after the backup gave new ids."""
    for site_id, day in sorted(days, key=str):
        db.session.execute(
            update(StatsDay)
            .where(StatsDay.site_id == site_id, StatsDay.day == date.fromisoformat(day))
            .values(changes=StatsDay.changes + 1)
            .execution_options(synchronize_session=False)
        )


def _deleted(model: type, key, ids: list) -> int:
    if not ids:
        return 0
    result = db.session.execute(
        delete(model).where(key.in_(ids)).execution_options(synchronize_session=False)
    )
    return rowcount(result)


def _clients(ids: list[str], now: datetime) -> int:
    from .retention import anonymise

    if not ids:
        return 0
    query = (
        select(Client)
        .where(Client.id.in_(ids), Client.anonymised_at.is_(None))
        .options(defer(Client.personal))
    )
    clients = list(db.session.scalars(query))
    anonymise(clients, now)
    return len(clients)


def _sites(ids: list[int]) -> int:
    from .sites import delete_site

    return sum(1 for site_id in ids if delete_site(site_id) is not None)
