"""Database-wide named locks for jobs (the purge, key rotations): one run at a time.

PostgreSQL has advisory locks; SQLite has none, so a lease row with an expiry stands in
(a crashed run's lease runs out). A second run finds the lock taken and says so.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from .extensions import db, rowcount
from .models import Lease

# Any constant works as long as every Gardien process uses the same one.
ADVISORY_LOCK_BASE = 0x6761726469656E  # "gardien"
LEASE_SECONDS = 3600


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key of the lock ``name`` (one per name)."""
    return ADVISORY_LOCK_BASE + zlib.crc32(name.encode())


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Hold a database-wide lock named ``name`` for the block; yield False if taken."""
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(advisory_key(name)) as acquired:
            yield acquired
        return
    holder = f"{os.getpid()}-{time.monotonic_ns()}"
    acquired = _take_lease(name, holder)
    try:
        yield acquired
    finally:
        if acquired:
            db.session.rollback()
            db.session.execute(
                update(Lease).where(Lease.name == name, Lease.holder == holder)
                .values(holder=None, until=0.0)
            )
            db.session.commit()


@contextmanager
def _advisory_lock(key: int) -> Iterator[bool]:
    """A session-level PostgreSQL advisory lock on a connection of its own."""
    with db.engine.connect() as connection:
        acquired = connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
        )
        connection.commit()
        try:
            yield bool(acquired)
        finally:
            if acquired:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": key}
                )
                connection.commit()


def _take_lease(name: str, holder: str) -> bool:
    """Claim the lease row if it is free or its holder's time ran out (a crashed run)."""
    # Leases count wall-clock seconds: the retention clock may be moved by --now.
    wall = time.time()
    if db.session.get(Lease, name) is None:
        db.session.add(Lease(name=name, holder=None, until=0.0))
        try:
            db.session.commit()
        except IntegrityError:  # another run created it first: fine, claim it below
            db.session.rollback()
    claimed = rowcount(db.session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.holder.is_(None)) | (Lease.until < wall))
        .values(holder=holder, until=wall + LEASE_SECONDS)
    ))
    db.session.commit()
    return claimed == 1
