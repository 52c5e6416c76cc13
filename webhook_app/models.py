"""What is stored. Personal fields use the encrypted column types of :mod:`crypto`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .clock import as_utc, now
from .crypto import EncryptedJSON, EncryptedText
from .extensions import Model, db


class UTCDateTime(TypeDecorator):
    """A UTC timestamp stored naive, read back aware (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else as_utc(value)

    def bind_processor(self, dialect):
        """On SQLite, one step to the text SQLAlchemy's ``DATETIME`` stores
        (``2026-12-01 19:53:27.713000``): its two steps cost about 8,000 instructions more
        per value, and a contact submission binds five."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value):
            if value is None:
                return None
            return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process


def new_uuid() -> str:
    """A random UUID4 as text (the public id of a stored record)."""
    return str(uuid.uuid4())


@contextmanager
def orm_transaction() -> Iterator[Connection]:
    """The ORM session's transaction, as a connection; committed with the session.

    The work inside must not commit on its own: that would close the connection.
    """
    connection = db.session.connection()
    try:
        yield connection
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def insert_row(connection: Connection, model: type[Model], **values) -> None:
    """Insert one row in ``connection``'s transaction, on the driver's own cursor.

    Intake paths use this instead of ``session.add`` or a Core ``execute``: both cost more
    than the rest of a request. The statement is compiled once by SQLAlchemy and every
    value still goes through its column type (so personal fields are encrypted exactly as
    the ORM would); only SQLAlchemy's per-statement bookkeeping is skipped. A driver error
    comes out as SQLAlchemy's (``IntegrityError``…), without the parameters.
    """
    dialect = connection.dialect
    statement = _compiled_insert(model.__table__, dialect, frozenset(values))
    params = statement.params(values)
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None, "a connection in a transaction is checked out"
    cursor = driver_connection.cursor()
    try:
        cursor.execute(statement.sql, params)
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            statement.sql, None, error, dialect.loaded_dbapi.Error, hide_parameters=True,
            dialect=dialect,
        ) from None
    finally:
        cursor.close()


@dataclass(frozen=True)
class CompiledInsert:
    """An INSERT of some columns of a table, compiled for one dialect."""

    sql: str
    names: tuple[str, ...]  # parameter order
    positional: bool
    processors: tuple  # the column type's bind processor of each parameter, or None

    def params(self, values: dict) -> tuple | dict:
        """The driver's parameters for ``values`` (a dict with exactly the compiled keys)."""
        processed = [
            value if process is None else process(value)
            for value, process in zip(
                map(values.__getitem__, self.names), self.processors, strict=True
            )
        ]
        if self.positional:
            return tuple(processed)
        return dict(zip(self.names, processed, strict=True))


@cache
def _compiled_insert(table, dialect, keys: frozenset) -> CompiledInsert:
    compiled = table.insert().compile(dialect=dialect, column_keys=sorted(keys))
    names = tuple(compiled.positiontup if compiled.positional else compiled.binds)
    if set(names) != keys:
        # A column default or SQL expression SQLAlchemy would add: not for this path.
        raise ValueError(f"insert into {table.name} needs exactly the columns given")
    processors = tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return CompiledInsert(compiled.string, names, compiled.positional, processors)


def get_or_fail(model: type[Model], key, error: Exception):
    """The row of ``model`` with primary key ``key``, or raise ``error``."""
    row = db.session.get(model, key)
    if row is None:
        raise error
    return row


class Site(Model):
    """A WordPress site that sends to this service, with its signing secrets.

    A disabled site (``disabled_at`` set) is answered as if it did not exist; its data
    is kept and purged on time like any other.
    """

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    secrets: Mapped[list[SiteSecret]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="SiteSecret.id"
    )


class SiteSecret(Model):
    """One signing secret of a site; several may be valid at once during a rotation.

    ``fingerprint`` is a keyed hash of the secret's HMAC key (see
    :func:`webhook_app.sites.fingerprint`); being unique, it keeps one secret from ever
    belonging to two sites.
    """

    __tablename__ = "site_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(EncryptedText)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # After a rotation with a grace period (a breach's containment): refused from then on.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    site: Mapped[Site] = relationship(back_populates="secrets")


class IdempotencyKey(Model):
    """The first answer to a ``webhook-id``, replayed when the same message comes again."""

    __tablename__ = "idempotency_keys"
    # On SQLite the primary key is the table: one B-tree fewer to write on every request.
    __table_args__ = {"sqlite_with_rowid": False}

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    webhook_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    # A kept answer holds no personal data (an id, dates, counts); an endpoint whose answer
    # does (export pages) keeps none: None.
    response: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ContactMessage(Model):
    """A contact-form submission, encrypted, with the date it must be gone by.

    Everything the visitor typed or sent (name, e-mail, company, message, IP, page, extra
    fields) is one encrypted JSON
    document: one Fernet token per message instead of one per field, which halves the
    cost of intake. It is found by ``email_index``, never by decrypting.
    """

    __tablename__ = "contact_messages"
    __table_args__ = (
        # A person's messages in the order an export pages them (migration 0014).
        Index("ix_contact_messages_site_email", "site_id", "email_index", "received_at", "id"),
        # Partial: most messages never become a client's, and a purge of a million of
        # them should not have to maintain an index of a million NULLs.
        Index(
            "ix_contact_messages_client_id", "client_id",
            sqlite_where=text("client_id IS NOT NULL"),
            postgresql_where=text("client_id IS NOT NULL"),
        ),
        # The dashboard's list, newest first, seeks on these (keyset pagination): all
        # messages, one site's, the held ones (few: a partial index).
        Index("ix_contact_messages_received", "received_at", "id"),
        Index("ix_contact_messages_site_received", "site_id", "received_at", "id"),
        Index(
            "ix_contact_messages_held", "received_at", "id",
            sqlite_where=text("legal_hold_at IS NOT NULL"),
            postgresql_where=text("legal_hold_at IS NOT NULL"),
        ),
        # The overview counts messages per policy category from this index alone, not
        # by reading every (encrypted, large) row.
        Index("ix_contact_messages_retention", "retention", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email_index: Mapped[str] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(100))
    personal: Mapped[dict] = mapped_column(EncryptedJSON)
    consent: Mapped[bool | None] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retention: Mapped[str] = mapped_column(String(32))
    # None once the message belongs to a client: it then ends with the client record.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    legal_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold_by: Mapped[str | None] = mapped_column(String(100))
    legal_hold_reason: Mapped[str | None] = mapped_column(EncryptedText)
    client_id: Mapped[str | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))


class Client(Model):
    """A client relationship, born from a message or entered by hand.

    ``personal`` holds identity, company, SIRET, role, phone, e-mail and postal address,
    encrypted; anonymisation replaces it and clears ``email_index``. Amounts and dates of
    quotes and invoices stay.
    """

    __tablename__ = "clients"
    __table_args__ = (Index("ix_clients_site_email", "site_id", "email_index"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email_index: Mapped[str | None] = mapped_column(String(64))
    personal: Mapped[dict] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    anonymise_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quotes: Mapped[list[Quote]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Quote.issued_on"
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Invoice.issued_on"
    )


class Quote(Model):
    """A quote sent to a client (no personal data of its own)."""

    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    client: Mapped[Client] = relationship(back_populates="quotes")


class Invoice(Model):
    """An invoice, kept for the accounting period of the policy from its date."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_cents: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    client: Mapped[Client] = relationship(back_populates="invoices")


class AuditEntry(Model):
    """What was done to personal data, by whom and when, without the data itself.

    A person is named at most by the blind-index value of their address (``subject``).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(64))
    record_ids: Mapped[list] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer)
    # Room for a removed site's slug and its counts per kind of record.
    detail: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PrivacyRequest(Model):
    """An export or an erasure asked for one address on one site: its page calls, grouped.

    The proof that a person's request was answered, and how: when, by whom (the site or a
    manager), how many pages and items, and what was kept and why (the sentences of the
    answer, which name no one). The address stays encrypted in ``personal`` so that the
    dashboard can show it, until an erasure of that person on that site finishes: then
    only its blind index remains, as in the audit log. Deleted at ``expires_at``.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_started", "started_at", "id"),
        Index("ix_privacy_requests_site_email", "site_id", "email_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "export" or "erase"
    email_index: Mapped[str] = mapped_column(String(64))
    # {"email": the normalised address}; None once an erasure of the person finished.
    personal: Mapped[dict | None] = mapped_column(EncryptedJSON)
    requested_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pages: Mapped[int] = mapped_column(Integer)
    # Items exported, or records removed.
    items: Mapped[int] = mapped_column(Integer)
    items_retained: Mapped[bool] = mapped_column()
    explanations: Mapped[list] = mapped_column(JSON)
    done: Mapped[bool] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ServiceKey(Model):
    """A key the service made for itself (see :mod:`webhook_app.service_keys`), encrypted
    like every other secret at rest."""

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lease(Model):
    """A named lock with an expiry, for jobs on databases without advisory locks (SQLite)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[float] = mapped_column(Float, default=0.0)


class KeyRecord(Model):
    """A data or blind-index key that stored values may need, named by its fingerprint.

    The service records its first keys at start; a rotation (:mod:`webhook_app.keys`)
    records when it moved every value off a key. A key whose record says values may still
    need it cannot be dropped from the configuration: the service refuses to start.
    """

    __tablename__ = "keyring"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "data" or "index"
    fingerprint: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When another key became the first (new values stopped using this one).
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a rotation found no stored value left that needs this key.
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Manager(Model):
    """Someone of the company who runs the privacy side in the dashboard.

    The address is personal data like any other: encrypted, found by its blind index.
    ``session_epoch`` goes up when the password changes, a reset or setup link is used, or
    the account is disabled: every session and link made before then stops working.
    """

    __tablename__ = "managers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_index: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(EncryptedText)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    # The last time step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(5))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Incident(Model):
    """A personal data breach, as the register of GDPR article 33(5) keeps it.

    Never deleted and touched by no purge rule; it names sites by slug in its history
    only (no foreign key), so removing a site leaves it whole. The free texts are the
    manager's words, but they may name people: encrypted like personal data.
    """

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_detected", "status", "detected_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    nature: Mapped[str] = mapped_column(EncryptedText)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    people_count: Mapped[int | None] = mapped_column(Integer)
    records_count: Mapped[int | None] = mapped_column(Integer)
    consequences: Mapped[str | None] = mapped_column(EncryptedText)
    measures: Mapped[str | None] = mapped_column(EncryptedText)
    contact: Mapped[str | None] = mapped_column(EncryptedText)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))
    # Article 33: notified (reference, date; reasons when after 72 h) or why not.
    authority_reference: Mapped[str | None] = mapped_column(String(100))
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authority_reasoning: Mapped[str | None] = mapped_column(EncryptedText)
    delay_reasons: Mapped[str | None] = mapped_column(EncryptedText)
    # Article 34: the people notified (when), or why not (34(3)).
    people_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    people_reasoning: Mapped[str | None] = mapped_column(EncryptedText)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The seed's three steps: who did each, and when.
    contain_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contain_by: Mapped[str | None] = mapped_column(String(100))
    people_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    people_by: Mapped[str | None] = mapped_column(String(100))
    authority_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authority_by: Mapped[str | None] = mapped_column(String(100))
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id"
    )


class IncidentEvent(Model):
    """One change to an incident: who, when, what (field names, never their values)."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    fields: Mapped[list] = mapped_column(JSON, default=list)
    incident: Mapped[Incident] = relationship(back_populates="events")


class ErasureTombstone(Model):
    """One record an erasure removed or anonymised, named by id: what a restore re-applies.

    Written in the same transaction as the erasure (a person's, one message's, a site's
    removal), so a backup holds the tombstones of exactly the erasures already in it.
    Ids, not the blind index: they are exact, name no one, and still match a backup's rows
    after the index key was rotated. ``site_id`` has no foreign key: the tombstone of a
    removed site outlives it. Deleted at ``expires_at`` (``erasure_tombstone`` in the
    policy: as long as a backup is kept).
    """

    __tablename__ = "erasure_tombstones"
    __table_args__ = (Index("ix_erasure_tombstones_site", "site_id"),)

    # A UUID, so that the tombstones a restore brings in are told apart from those already
    # in the backup even after a restore reused integer ids.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # What was erased: message, client, stats_event, stats_rollup, privacy_request, site.
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(Integer)
    # The day of a daily total (stats_rollup): summing a day again gives its rows new ids,
    # so a restore has the day summed again too, from its raw page views.
    day: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
