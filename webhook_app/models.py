"""What is stored. Personal fields use the encrypted column types of :mod:`crypto`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .clock import as_utc, now
from .crypto import EncryptedJSON, EncryptedText
from .extensions import db


class UTCDateTime(TypeDecorator):
    """A UTC timestamp stored naive, read back aware (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else as_utc(value)


def new_uuid() -> str:
    """A random UUID4 as text (the public id of a stored record)."""
    return str(uuid.uuid4())


def insert_row(model: type[db.Model], **values) -> None:
    """Insert one row through Core in the session's transaction.

    Intake paths use this instead of ``session.add``: the ORM unit of work costs more
    than the rest of a request, and nothing there needs the object afterwards.
    """
    db.session.connection().execute(model.__table__.insert(), values)


class Site(db.Model):
    """A WordPress site that sends to this service, with its signing secrets."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    secrets: Mapped[list[SiteSecret]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="SiteSecret.id"
    )


class SiteSecret(db.Model):
    """One signing secret of a site; several may be valid at once during a rotation."""

    __tablename__ = "site_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(EncryptedText)
    fingerprint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    site: Mapped[Site] = relationship(back_populates="secrets")


class IdempotencyKey(db.Model):
    """The first answer to a ``webhook-id``, replayed when the same message comes again."""

    __tablename__ = "idempotency_keys"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    webhook_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    # The answer may hold personal data (an export page), so it is encrypted like the rest.
    response: Mapped[dict] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


PERSONAL_FIELDS = ("name", "email", "company", "message", "ip", "page", "fields")


class ContactMessage(db.Model):
    """A contact-form submission, encrypted, with the date it must be gone by.

    Everything the visitor typed or sent (``PERSONAL_FIELDS``) is one encrypted JSON
    document: one Fernet token per message instead of one per field, which halves the
    cost of intake. It is found by ``email_index``, never by decrypting.
    """

    __tablename__ = "contact_messages"
    __table_args__ = (Index("ix_contact_messages_site_email", "site_id", "email_index"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email_index: Mapped[str] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(100))
    personal: Mapped[dict] = mapped_column(EncryptedJSON)
    consent: Mapped[bool | None] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retention: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
