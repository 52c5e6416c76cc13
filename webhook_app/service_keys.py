"""Keys the service makes for itself and keeps in its own database.

Two so far: the Ed25519 key that signs legal-hold bundles (:mod:`webhook_app.legal_hold`)
and the key of the site-secret fingerprints (:mod:`webhook_app.sites`). Each is a row of
``service_keys`` whose value is an :class:`~webhook_app.crypto.EncryptedText`, so a
backup, a dump or a rotation of ``GARDIEN_DATA_KEYS`` treats it as every other secret at
rest. Unlike the configured secrets, nobody has to generate, copy or keep them in step
between hosts: every process of the service reads the same row, made on first use.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from . import clock
from .extensions import db, upsert
from .models import ServiceKey


def get_or_create(name: str, make: Callable[[], str]) -> tuple[str, bool]:
    """The key called ``name``, and whether this call made it (with ``make()``).

    Two processes making it at once both get the one stored first: the insert ignores
    the conflict and the row is read back. Adds to the caller's transaction.
    """
    stored = _read(name)
    if stored is not None:
        return stored, False
    made = make()
    db.session.execute(
        upsert(ServiceKey)
        .values(name=name, value=made, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=[ServiceKey.name])
    )
    stored = _read(name)
    assert stored is not None, "the row is there: inserted here or by the other process"
    return stored, stored == made


def _read(name: str) -> str | None:
    return db.session.scalar(select(ServiceKey.value).where(ServiceKey.name == name))
