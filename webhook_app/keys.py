"""Key rotation without losing anything, and the check that no needed key is gone.

Data keys (``GARDIEN_DATA_KEYS``, Fernet): the first encrypts, all decrypt. A rotation
(:func:`rotate_data`) re-encrypts every value of every encrypted column under the first
key; afterwards the older keys protect nothing and can be removed.

Blind-index keys (``GARDIEN_INDEX_KEYS``, new first): the first indexes, lookups try all.
:func:`rotate_index` recomputes every blind index from the decrypted address. The older
key is still needed to recognise a replayed request stored before the rotation (its
digest is keyed too), until those idempotency keys reach their end (seven days).

Which keys stored values may still need is kept in the ``keyring`` table
(:class:`~webhook_app.models.KeyRecord`): the service records its first keys when it
starts, and a rotation records when it moved every value off a key. At start, a key that
values may need but that the configuration lacks stops the service with a message naming
its fingerprint and the command to run (:func:`check`), instead of a 500 or an empty
export at request time.

Rotations work table by table in primary-key chunks, one short transaction each, with
compare-and-set updates, so they are safe while the service runs and resumable: a second
run skips what is done. A pass is repeated until it changes nothing, which also catches
values a worker still running with the old configuration wrote meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, current_app, has_app_context
from sqlalchemy.exc import OperationalError, ProgrammingError

from . import audit, clock
from .config import ConfigError
from .crypto import DATA, INDEX, EncryptedText, email_index, email_indexes, keys
from .errors import DomainError
from .extensions import db, upsert
from .locks import exclusive
from .models import Client, ContactMessage, IdempotencyKey, KeyRecord, PrivacyRequest

log = logging.getLogger(__name__)

LOCK_NAME = "keys.rotate"
CHUNK = 2000
MAX_PASSES = 5
# Tables whose ``email_index`` is the blind index of ``personal["email"]``.
INDEXED = (ContactMessage, Client, PrivacyRequest)
SETTING = {DATA: "GARDIEN_DATA_KEYS", INDEX: "GARDIEN_INDEX_KEY(S)"}
COMMAND = {DATA: "rotate-data", INDEX: "rotate-index"}


class KeysError(DomainError):
    """A rotation that cannot be done or finished; names keys by fingerprint only."""


# ---------------------------------------------------------------------------- the record


def configured(kind: str) -> list[str]:
    """Fingerprints of the configured keys of ``kind``, the first (current) one first."""
    current = keys()
    return current.data_fingerprints if kind == DATA else current.index_fingerprints


def record_configured(now: datetime) -> bool:
    """Record the configured keys in the keyring (added to the session, not committed);
    return whether anything changed.

    The first key of each kind is what new values use: it is recorded as in use (again,
    if a rotation was undone), and any other key that was first until now as replaced.
    A key first seen in another place has made no value here (only the first key
    encrypts and indexes): it is recorded as needed by none, so a key staged after the
    first and dropped again never blocks a start. (Migration 0008, which cannot know
    the history, records every key configured then as possibly needed.) Reads first and
    writes only a change, so starts and commands rarely take a write lock.
    """
    recorded = {(r.kind, r.fingerprint): r for r in db.session.scalars(sa.select(KeyRecord))}
    changed = False
    for kind in (DATA, INDEX):
        prints = configured(kind)
        new = [fp for fp in dict.fromkeys(prints) if (kind, fp) not in recorded]
        if new:
            db.session.execute(upsert(KeyRecord).values(
                [{"kind": kind, "fingerprint": fp, "first_seen_at": now,
                  "replaced_at": None if fp == prints[0] else now,
                  "rotated_at": None if fp == prints[0] else now} for fp in new]
            ).on_conflict_do_nothing(index_elements=["kind", "fingerprint"]))  # fmt: skip
            changed = True
        for (record_kind, fp), record in recorded.items():
            if record_kind != kind:
                continue
            if fp == prints[0] and (record.replaced_at or record.rotated_at):
                record.replaced_at = record.rotated_at = None
                changed = True
            elif fp != prints[0] and record.replaced_at is None:
                record.replaced_at = now
                changed = True
    return changed


@dataclass(frozen=True)
class Need:
    """Why stored values still need a key, and until when (None: until a rotation)."""

    kind: str
    fingerprint: str
    reason: str
    until: datetime | None = None


def needs() -> list[Need]:
    """Every recorded key that stored values may still need, configured or not."""
    found = []
    for record in db.session.scalars(sa.select(KeyRecord).order_by(KeyRecord.first_seen_at)):
        if record.rotated_at is None:
            reason = "values" if record.kind == DATA else "blind indexes"
            found.append(Need(record.kind, record.fingerprint, reason))
        elif record.kind == INDEX and record.replaced_at is not None:
            # Digests of requests stored before the key was replaced, kept for replays
            # until their end (found by the expiry index: a week of requests at most).
            until = db.session.scalar(
                sa.select(sa.func.max(IdempotencyKey.expires_at)).where(
                    IdempotencyKey.expires_at > clock.now(),
                    IdempotencyKey.created_at < record.replaced_at,
                )
            )
            if until is not None:
                found.append(Need(record.kind, record.fingerprint, "replay digests", until))
    return found


def missing() -> list[Need]:
    """The needs that the configuration cannot meet: their key is not configured."""
    have = {DATA: set(configured(DATA)), INDEX: set(configured(INDEX))}
    return [need for need in needs() if need.fingerprint not in have[need.kind]]


def explain(need: Need) -> str:
    """One sentence for an operator: what lacks which key, and what to do."""
    base = (f"stored {need.reason} need the {need.kind} key {need.fingerprint}, which "
            f"{SETTING[need.kind]} does not hold")
    if need.until is not None:
        return (f"{base} until {clock.format_rfc3339(need.until)} (requests sent before the "
                f"rotation may be replayed until then): keep it after the new key until then")
    if need.kind == INDEX:
        return (f"{base}: run `flask --app webhook_app keys {COMMAND[INDEX]}`, which "
                f"recomputes them from the stored addresses (it does not need that key)")
    return (f"{base}: put it back after the new key, run `flask --app webhook_app keys "
            f"{COMMAND[DATA]}`, then remove it")


def check(app: Flask) -> None:
    """Refuse to run without a needed key; otherwise record the configured keys.

    A refused configuration records nothing: a start with a mistyped key must not make
    the right one look replaced. Raises :class:`~webhook_app.config.ConfigError`.
    Runs in the current app context
    (a command's, whose transaction it commits first) or in one of its own (at start).
    Skipped before the first migration (no keyring yet) and, with a warning, when the
    database does not answer (``/healthz`` says so; the next start checks again).
    """
    # `current_app` is typed as the Flask it stands for, not as the proxy it is.
    if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
        lacking = _check_here()
    else:
        with app.app_context():
            try:
                lacking = _check_here()
            finally:
                db.session.remove()
    if lacking:
        raise ConfigError(
            "; ".join(explain(need) for need in lacking)
            + ". `flask --app webhook_app keys status` tells what each key protects."
        )


def _check_here() -> list[Need]:
    try:
        # Before the first migration the keyring is missing: the query fails, as it does
        # when the database does not answer, and there is nothing to check either way.
        lacking = missing()
        if not lacking:
            record_configured(clock.now())
        db.session.commit()  # the record, or only the end of the read transaction
        return lacking
    except (OperationalError, ProgrammingError):
        db.session.rollback()
        log.warning("the keys could not be checked: no keyring, or no database")
        return []


# ---------------------------------------------------------------------------- the scans


@dataclass(frozen=True)
class EncryptedTable:
    """A table's primary key and encrypted columns, read and written as raw tokens."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]

    @property
    def raw(self) -> sa.TableClause:
        """The table without column types: values come and go as stored (no decryption)."""
        return sa.table(self.name, *(sa.column(name) for name in (*self.key, *self.columns)))


def encrypted_tables() -> list[EncryptedTable]:
    """Every table with an encrypted column (found from the models, so none is forgotten)."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = tuple(c.name for c in table.columns if isinstance(c.type, EncryptedText))
        if columns:
            key = tuple(c.name for c in table.primary_key.columns)
            found.append(EncryptedTable(table.name, key, columns))
    return found


def _chunks(table: sa.TableClause, key: tuple[str, ...], columns: tuple[str, ...],
            chunk: int, where=None) -> Iterator[Sequence[sa.Row]]:  # fmt: skip
    """Rows of ``table`` (key and ``columns``) in key order, ``chunk`` at a time (keyset
    pagination: memory stays flat, and each read is a short, indexed range)."""
    key_columns = [table.c[name] for name in key]
    position = sa.tuple_(*key_columns) if len(key_columns) > 1 else key_columns[0]
    last = None
    while True:
        query = sa.select(*key_columns, *(table.c[name] for name in columns))
        if where is not None:
            query = query.where(where)
        if last is not None:
            query = query.where(position > (sa.tuple_(*last) if len(key) > 1 else last[0]))
        rows = db.session.execute(query.order_by(*key_columns).limit(chunk)).all()
        db.session.commit()  # end the read transaction: writers must not wait on a scan
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][: len(key)])


def _opener(token: str, fernets: list[Fernet]) -> int | None:
    """Which of ``fernets`` made ``token`` (by its HMAC, without decrypting), or None."""
    data = token.encode()
    for position, fernet in enumerate(fernets):
        try:
            fernet.extract_timestamp(data)
        except InvalidToken:
            continue
        return position
    return None


@dataclass
class Use:
    """How many stored values each configured key accounts for (by fingerprint), and how
    many none does: encrypted values it opens (data), blind indexes it gives (index)."""

    by_key: Counter = field(default_factory=Counter)
    unaccounted: int = 0


def data_use(chunk: int = CHUNK) -> Use:
    """Count, over every encrypted column, the values each configured data key protects."""
    current = keys()
    use = Use()
    for table in encrypted_tables():
        for rows in _chunks(table.raw, table.key, table.columns, chunk):
            for row in rows:
                for token in row[len(table.key):]:
                    if token is None:
                        continue
                    position = _opener(token, current.data)
                    if position is None:
                        use.unaccounted += 1
                    else:
                        use.by_key[current.data_fingerprints[position]] += 1
    return use


def index_use(chunk: int = CHUNK) -> Use:
    """Recompute every blind index under each configured key and count which one matches."""
    current = keys()
    use = Use()
    for _, rows in _indexed(chunk):
        for _, stored, address in rows:
            candidates = email_indexes(address) if isinstance(address, str) else []
            if stored in candidates:
                use.by_key[current.index_fingerprints[candidates.index(stored)]] += 1
            else:
                use.unaccounted += 1
    return use


UNREADABLE = object()


def _indexed(chunk: int) -> Iterator[tuple[sa.Table, list[tuple[str, str, object]]]]:
    """Chunks of ``(id, stored blind index, address)`` of every indexed row, per table.

    The address is None when the record holds none (a client whose address was
    removed: its index is stale, and a rotation clears it), and :data:`UNREADABLE` when
    the row's document cannot be decrypted (its data key is missing): such a row counts
    as unmatched, and stops a rotation.
    """
    fernet = keys().fernet
    for model in INDEXED:
        table = model.__table__
        raw = sa.table(table.name, sa.column("id"), sa.column("email_index"),
                       sa.column("personal"))
        # A row without a document (a request record whose address an erasure dropped)
        # keeps its index as it is: like the audit log's, it cannot be recomputed.
        where = raw.c.email_index.is_not(None) & raw.c.personal.is_not(None)
        for rows in _chunks(raw, ("id",), ("email_index", "personal"), chunk, where=where):
            yield table, [(row_id, stored, _address(fernet, token))
                          for row_id, stored, token in rows]  # fmt: skip


def _address(fernet, token: str) -> object:
    try:
        return json.loads(fernet.decrypt(token.encode())).get("email") or None
    except InvalidToken:
        return UNREADABLE


# ---------------------------------------------------------------------------- rotations


@dataclass
class Rotation:
    """What a rotation did: values changed per table, passes made, keys now unneeded."""

    changed: Counter = field(default_factory=Counter)
    passes: int = 0
    retired: list[str] = field(default_factory=list)


Progress = Callable[[str, int], None]


def rotate_data(chunk: int = CHUNK, progress: Progress | None = None) -> Rotation:
    """Re-encrypt every encrypted value under the first data key; mark the others unneeded.

    Raises :class:`KeysError` if another rotation runs, or if values remain that no
    configured key opens (their key is missing: nothing is marked unneeded then).
    """
    current = keys()
    first = current.data[0]
    result = Rotation()

    def one_pass() -> int:
        changed = unreadable = 0
        for table in encrypted_tables():
            raw = table.raw
            for rows in _chunks(raw, table.key, table.columns, chunk):
                updates, values = [], 0
                for row in rows:
                    tokens = row[len(table.key):]
                    stale = [t is not None and _opener(t, [first]) is None for t in tokens]
                    if not any(stale):
                        continue
                    try:
                        rotated = [current.fernet.rotate(t.encode()).decode() if old else t
                                   for t, old in zip(tokens, stale, strict=True)]  # fmt: skip
                    except InvalidToken:
                        unreadable += 1
                        continue
                    updates.append((row[: len(table.key)], tokens, rotated))
                    values += sum(stale)
                _compare_and_set(raw, table, updates)
                changed += values
                result.changed[table.name] += values
                if progress:
                    progress(table.name, len(rows))
        if unreadable:
            raise KeysError(f"{unreadable} stored value(s) can be opened by no configured data "
                            "key: put the missing key back (`keys status` counts them)")
        return changed

    return _run(DATA, current.data_fingerprints[0], one_pass, result)


def _compare_and_set(raw: sa.TableClause, table: EncryptedTable, updates: list) -> None:
    """Write the rotated tokens where the stored ones are still those read (a concurrent
    change wins: the next pass looks at it again); commit."""
    if not updates:
        return
    statement = (
        raw.update()
        .where(*(raw.c[name] == sa.bindparam(f"k_{name}") for name in table.key))
        .where(*(raw.c[name].is_not_distinct_from(sa.bindparam(f"o_{name}"))
                 for name in table.columns))
        .values({name: sa.bindparam(f"n_{name}") for name in table.columns})
    )
    params = [
        {**{f"k_{n}": v for n, v in zip(table.key, key, strict=True)},
         **{f"o_{n}": v for n, v in zip(table.columns, old, strict=True)},
         **{f"n_{n}": v for n, v in zip(table.columns, new, strict=True)}}
        for key, old, new in updates
    ]  # fmt: skip
    db.session.execute(statement, params)
    db.session.commit()


def rotate_index(chunk: int = CHUNK, progress: Progress | None = None) -> Rotation:
    """Recompute every blind index under the first index key; mark the others unneeded
    for indexes (replayed requests may still need them for a few days: see :func:`needs`)."""
    current = keys()
    result = Rotation()

    def one_pass() -> int:
        changed = unreadable = 0
        for table, rows in _indexed(chunk):
            unreadable += sum(1 for _, _, address in rows if address is UNREADABLE)
            updates = [
                {"k_id": row_id, "o_index": stored, "n_index": fresh}
                for row_id, stored, address in rows
                if address is not UNREADABLE
                and (fresh := email_index(address) if isinstance(address, str) else None)
                != stored
            ]
            if updates:
                statement = (
                    sa.update(table)
                    .where(table.c.id == sa.bindparam("k_id"),
                           table.c.email_index == sa.bindparam("o_index"))
                    .values(email_index=sa.bindparam("n_index"))
                )
                db.session.execute(statement, updates)
                db.session.commit()
            changed += len(updates)
            result.changed[table.name] += len(updates)
            if progress:
                progress(table.name, len(rows))
        if unreadable:
            raise KeysError(f"{unreadable} indexed row(s) can be opened by no configured data "
                            "key: put the missing data key back first")
        return changed

    return _run(INDEX, current.index_fingerprints[0], one_pass, result)


def _run(kind: str, first: str, one_pass: Callable[[], int], result: Rotation) -> Rotation:
    """Under the rotation lock: pass over everything until a pass changes nothing (the
    last pass is the proof), mark the other keys of ``kind`` unneeded, audit, commit."""
    with _locked():
        for _ in range(MAX_PASSES):
            result.passes += 1
            if one_pass() == 0:
                break
        else:
            raise KeysError("values keep changing under the rotation: a worker still runs "
                            "with an older key first; restart every worker with the new keys, "
                            "then run it again")
        result.retired = _retire(kind, first)
        audit.record(f"keys.rotate_{kind}", actor=audit.cli_actor(),
                     count=sum(result.changed.values()), detail=_summary(result))
        db.session.commit()  # a job: its record is written before the lock is let go
    return result


def _retire(kind: str, first: str) -> list[str]:
    """Mark every recorded key of ``kind`` but the first as needed by no stored value."""
    now = clock.now()
    retiring = list(db.session.scalars(
        sa.select(KeyRecord.fingerprint).where(
            KeyRecord.kind == kind, KeyRecord.fingerprint != first,
            KeyRecord.rotated_at.is_(None),
        )
    ))
    db.session.execute(
        sa.update(KeyRecord)
        .where(KeyRecord.kind == kind, KeyRecord.fingerprint.in_(retiring))
        .values(rotated_at=now, replaced_at=sa.func.coalesce(KeyRecord.replaced_at, now))
    )
    return retiring


@contextmanager
def _locked() -> Iterator[None]:
    """Hold the rotation lock for the block; refuse rather than wait if it is taken."""
    with exclusive(LOCK_NAME) as acquired:
        if not acquired:
            raise KeysError("another key rotation is running")
        yield


def _summary(result: Rotation) -> str:
    parts = [f"{name}={count}" for name, count in sorted(result.changed.items()) if count]
    return (" ".join(parts) or "nothing to change") + f"; passes={result.passes}"


# ---------------------------------------------------------------------------- the status


@dataclass(frozen=True)
class KeyState:
    """One key: configured or only recorded, what it protects, and what still needs it."""

    kind: str
    fingerprint: str
    configured: bool
    first: bool
    count: int  # values it opens (data) or blind indexes it matches (index)
    needs: tuple[Need, ...]

    @property
    def removable(self) -> bool:
        """Whether the key can leave the configuration without losing anything."""
        return not self.first and not self.count and not self.needs


@dataclass(frozen=True)
class Status:
    """Every key of both kinds, and the stored values no configured key accounts for."""

    keys: tuple[KeyState, ...]
    unreadable: int  # encrypted values no configured data key opens
    unmatched: int  # blind indexes no configured index key gives


def status(chunk: int = CHUNK) -> Status:
    """Scan every encrypted value and every blind index (reads only; safe while serving)."""
    data, index = data_use(chunk), index_use(chunk)
    counts = {DATA: data.by_key, INDEX: index.by_key}
    pending: dict[tuple[str, str], list[Need]] = {}
    for need in needs():
        pending.setdefault((need.kind, need.fingerprint), []).append(need)
    recorded = db.session.execute(sa.select(KeyRecord.kind, KeyRecord.fingerprint)).all()
    states = []
    for kind in (DATA, INDEX):
        prints = configured(kind)
        extra = [fp for k, fp in recorded if k == kind and fp not in prints]
        for fp in [*prints, *extra]:
            first = fp == prints[0]
            states.append(KeyState(
                kind=kind, fingerprint=fp, configured=fp in prints, first=first,
                count=counts[kind][fp], needs=() if first else tuple(pending.get((kind, fp), ())),
            ))  # fmt: skip
    return Status(tuple(states), data.unaccounted, index.unaccounted)
