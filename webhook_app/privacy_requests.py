"""The record of each export and erasure request: one row per request, its pages grouped.

WordPress asks for an export or an erasure page by page (1, 2, 3… until ``done``); a
manager's run does the same. :func:`note` is called by :mod:`.privacy` in the same
transaction as each page, so the record and what was done cannot disagree: page 1 starts
a row, each later page of the same site, kind, person and requester adds to the open
one. The row keeps the address encrypted until an erasure of that person finishes
(:func:`forget`); then only its blind index names them, as in the audit log. The purge
deletes rows at ``expires_at`` (the ``privacy_request`` period of the policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import defer

from . import audit, clock, policy
from .addresses import normalise_email
from .errors import DomainError
from .extensions import db
from .models import PrivacyRequest, get_or_fail

EXPORT = "export"
ERASE = "erase"
KINDS = (EXPORT, ERASE)


class PrivacyRequestError(DomainError):
    """A request record that cannot be shown; the message names no personal data."""


def note(
    kind: str, site_id: int, indexes: Sequence[str], address: str, page: int, actor: str, *,
    items: int, done: bool, retained: bool = False, explanations: Sequence[str] = (),
) -> PrivacyRequest:
    """Record one page of a request in the caller's transaction; return its row.

    ``indexes`` are the address's blind indexes (first key's first); ``items`` counts what
    this page exported or removed; ``explanations`` are the answer's sentences (what was
    kept and why: dates and counts, never a name).
    """
    now = clock.now()
    row = None if page == 1 else _open(kind, site_id, indexes, actor)
    if row is None:
        row = PrivacyRequest(
            site_id=site_id, kind=kind, email_index=indexes[0],
            personal={"email": normalise_email(address)}, requested_by=actor,
            started_at=now, pages=0, items=0, items_retained=False, explanations=[],
            done=False, expires_at=policy.current()[policy.PRIVACY_REQUEST].expires(now),
        )
        db.session.add(row)
    row.pages += 1
    row.items += items
    row.items_retained = row.items_retained or retained
    row.explanations = list(dict.fromkeys([*row.explanations, *explanations]))
    if done:
        row.done = True
        row.finished_at = now
    db.session.flush()  # its id, for the caller to show
    return row


def _open(kind: str, site_id: int, indexes: Sequence[str], actor: str) -> PrivacyRequest | None:
    """The latest unfinished request of this kind, person and requester on this site."""
    return db.session.scalar(
        select(PrivacyRequest)
        .where(
            PrivacyRequest.site_id == site_id,
            PrivacyRequest.email_index.in_(indexes),
            PrivacyRequest.kind == kind,
            PrivacyRequest.requested_by == actor,
            PrivacyRequest.done.is_(False),
        )
        .order_by(PrivacyRequest.started_at.desc(), PrivacyRequest.id.desc())
        .limit(1)
    )


def forget(site_id: int, indexes: Sequence[str]) -> list[int]:
    """Drop the address from every request record of this person on this site (their
    erasure has finished): the blind index alone remains, as proof. Return their ids."""
    rows = db.session.scalars(
        select(PrivacyRequest).where(
            PrivacyRequest.site_id == site_id,
            PrivacyRequest.email_index.in_(indexes),
            PrivacyRequest.personal.is_not(None),
        )
    )
    forgotten = []
    for row in rows:
        row.personal = None
        forgotten.append(row.id)
    return forgotten


def listing(
    site_id: int | None = None, kind: str | None = None, subjects: Sequence[str] = (),
    after: tuple[datetime, int] | None = None, size: int = 50,
) -> list[PrivacyRequest]:
    """Up to ``size`` request records, newest first, older than ``after`` (keyset
    pagination on ``(started_at, id)``). The address is not loaded, so not decrypted:
    reading it raises."""
    query = select(PrivacyRequest).options(defer(PrivacyRequest.personal, raiseload=True))
    if site_id is not None:
        query = query.where(PrivacyRequest.site_id == site_id)
    if kind is not None:
        query = query.where(PrivacyRequest.kind == kind)
    if subjects:
        query = query.where(PrivacyRequest.email_index.in_(subjects))
    if after is not None:
        query = query.where(tuple_(PrivacyRequest.started_at, PrivacyRequest.id) < after)
    query = query.order_by(PrivacyRequest.started_at.desc(), PrivacyRequest.id.desc())
    return list(db.session.scalars(query.limit(size)))


def get(request_id: int) -> PrivacyRequest:
    """The request record with this id, or :class:`PrivacyRequestError`."""
    return get_or_fail(PrivacyRequest, request_id, PrivacyRequestError("no such request"))


def read(request_id: int, actor: str) -> PrivacyRequest:
    """A request record, its address decrypted for ``actor``: an access, audited."""
    row = get(request_id)
    audit.record(
        "privacy_request.read", actor=actor, record_ids=[row.id], site_id=row.site_id,
        subject=row.email_index,
    )
    return row
