"""The purge: apply the retention policy, in bounded chunks, under a lock.

Each rule is an indexed range scan on an end date written when the row was stored or
changed state (see ARCHITECTURE.md), processed ``chunk`` primary keys at a time in short
transactions, so memory stays flat and intake never waits long. Running it twice at
once is safe: the second run skips (PostgreSQL advisory lock; on SQLite a lease row).
Running it twice in a row is harmless: the second finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import QueryableAttribute, defer
from sqlalchemy.sql.elements import ColumnElement

from . import audit, messages, policy
from .extensions import db, empty_sqlite_log
from .locks import exclusive
from .models import (
    AuditEntry,
    Client,
    ContactMessage,
    ErasureTombstone,
    IdempotencyKey,
    Invoice,
    PrivacyRequest,
)
from .stats import retention as stats_retention

ACTOR = "purge"
# Rows per transaction. Each chunk of expired messages rewrites the pages of the indexes
# that a random id and a person's blind index spread them over; bigger chunks share those
# pages. A million expired messages on SQLite (`make bench`, 2 cores): 68 to 86 s in chunks
# of 5,000, 57 s of 10,000, 46 to 48 s of 20,000, each chunk then holding SQLite's write
# lock about a second (intake waits that long, well within its 5 s database timeout).
CHUNK = 20_000
PURGE_RUN = "purge.run"
LOCK_NAME = "purge"


@dataclass(frozen=True)
class Rule:
    """One line of the purge report: which rows have ended and what happens to them.

    Chunks are taken in ``end`` order, walking its index, so each chunk reads only the
    rows it handles however many have ended (ordering by the key would sort them all).
    """

    name: str
    action: str
    model: type
    end: QueryableAttribute[datetime | None]
    key: tuple
    also: ColumnElement | None = None
    # Anonymisation needs the objects; deletion is one DELETE … RETURNING per chunk.
    anonymise: Callable[[list, datetime], None] | None = None

    def ended(self, now: datetime) -> ColumnElement:
        return self.end <= now if self.also is None else (self.end <= now) & self.also

    def count(self, now: datetime) -> int:
        """How many rows have ended (the dry run)."""
        query = select(func.count()).select_from(self.model).where(self.ended(now))
        return db.session.execute(query).scalar_one()

    def take(self, now: datetime, chunk: int) -> list:
        """Delete or anonymise up to ``chunk`` ended rows; return their keys."""
        oldest = select(*self.key).where(self.ended(now)).order_by(self.end).limit(chunk)
        if self.anonymise is not None:
            keys = list(db.session.scalars(oldest))
            if keys:
                self.anonymise(keys, now)
            return keys
        target = self.key[0] if len(self.key) == 1 else tuple_(*self.key)
        statement = delete(self.model).where(target.in_(oldest)).returning(*self.key)
        rows = db.session.execute(statement.execution_options(synchronize_session=False))
        return [row[0] if len(self.key) == 1 else ":".join(map(str, row)) for row in rows]


def anonymise(clients: list[Client], now: datetime) -> None:
    """Blank identity and contacts (Dolibarr's data-policy precedent), keep amounts and dates.

    The correspondence of those clients (their converted messages) goes with them.
    """
    for client in clients:
        client.personal = anonymised_identity(client.id)
        client.email_index = None
        client.anonymised_at = now
        client.anonymise_at = None
    messages.end_with_clients([client.id for client in clients])


def _anonymise_clients(ids: list, now: datetime) -> None:
    # The identity is replaced, never read: not decrypting it lets the purge run even
    # while a data key is missing.
    query = select(Client).where(Client.id.in_(ids)).options(defer(Client.personal))
    anonymise(list(db.session.scalars(query)), now)


def anonymised_identity(client_id: str) -> dict:
    """What a client record says once anonymised: a placeholder name, nothing else."""
    return {
        "name": f"ANONYMISED-{client_id[:8]}",
        "company": None,
        "siret": None,
        "role": None,
        "phone": None,
        "email": None,
        "address": None,
    }


MESSAGE_KEY = (ContactMessage.id,)
RULES = (
    Rule(policy.CONTACT, "delete", ContactMessage, ContactMessage.expires_at, MESSAGE_KEY,
         also=ContactMessage.retention == policy.CONTACT),
    Rule(policy.LEGAL_HOLD, "delete", ContactMessage, ContactMessage.expires_at, MESSAGE_KEY,
         also=ContactMessage.retention == policy.LEGAL_HOLD),
    Rule(policy.CLIENT, "anonymise", Client, Client.anonymise_at, (Client.id,),
         also=Client.anonymised_at.is_(None), anonymise=_anonymise_clients),
    Rule(policy.INVOICE, "delete", Invoice, Invoice.expires_at, (Invoice.id,)),
    Rule(policy.IDEMPOTENCY_KEY, "delete", IdempotencyKey, IdempotencyKey.expires_at,
         (IdempotencyKey.site_id, IdempotencyKey.webhook_id)),
    Rule(policy.PRIVACY_REQUEST, "delete", PrivacyRequest, PrivacyRequest.expires_at,
         (PrivacyRequest.id,)),
    Rule(policy.AUDIT, "delete", AuditEntry, AuditEntry.expires_at, (AuditEntry.id,)),
    Rule(policy.ERASURE_TOMBSTONE, "delete", ErasureTombstone, ErasureTombstone.expires_at,
         (ErasureTombstone.id,)),
)


def purge(now: datetime, *, dry_run: bool = False, chunk: int = CHUNK) -> dict[str, int] | None:
    """Apply every rule at ``now``; return counts per rule, or None if another purge runs.

    With ``dry_run`` nothing changes: the counts are what a real run would touch.
    """
    with exclusive(LOCK_NAME) as acquired:
        if not acquired:
            return None
        counts: dict[str, int] = {}
        for rule in RULES:
            counts[rule.name] = rule.count(now) if dry_run else _run(rule, now, chunk)
        counts.update(stats_retention.purge(now, dry_run=dry_run, chunk=chunk, actor=ACTOR))
        if dry_run:
            db.session.rollback()
        else:
            audit.record(PURGE_RUN, actor=ACTOR, count=sum(counts.values()),
                         detail=summary(counts))
            db.session.commit()
            empty_sqlite_log()
        return counts


def summary(counts: dict[str, int]) -> str:
    """The detail of a ``purge.run`` audit entry: ``contact=3 legal_hold=0 …``."""
    return " ".join(f"{name}={count}" for name, count in counts.items())


def read_summary(detail: str | None) -> dict[str, int]:
    """The counts per rule a ``purge.run`` entry recorded (see :func:`summary`)."""
    counts = {}
    for part in (detail or "").split():
        name, _, count = part.partition("=")
        if count.isdigit():
            counts[name] = int(count)
    return counts


def _run(rule: Rule, now: datetime, chunk: int) -> int:
    """Process a rule chunk by chunk, one short transaction and one audit entry per chunk."""
    done = 0
    while keys := rule.take(now, chunk):
        audit.record(
            f"purge.{rule.name}", actor=ACTOR, count=len(keys), detail=rule.action,
            record_ids=keys,
        )
        db.session.commit()
        done += len(keys)
        if len(keys) < chunk:
            break
    return done
