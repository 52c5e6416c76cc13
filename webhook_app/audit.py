"""The audit log: who did what to personal data, when — never the data itself.

Every purge, erase, export, flag, conversion and rectification calls :func:`record` in
the same transaction as the change, so the log and the data cannot disagree.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence

from . import clock, policy
from .extensions import db
from .models import AuditEntry


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
