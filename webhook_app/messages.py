"""A contact message's lifecycle, in one place.

received ─▶ (held ⇄ released) ─▶ deleted at ``expires_at`` by the purge
    │                              or at once by an erasure (unless held):
    │                              the person's (privacy), or this one (erase_one)
    └─▶ attached to a client ─▶ goes when the client record is anonymised

Every change of state sets ``retention`` (the policy category the message follows) and
``expires_at`` here and nowhere else, so the purge's range scan is always right. The
functions add to the caller's transaction and never commit: the request wrapper, the CLI
and the dashboard do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.engine import Connection

from . import audit, clients, clock, policy, tombstones
from .addresses import is_email
from .crypto import email_index
from .errors import DomainError
from .extensions import db
from .models import Client, ContactMessage, Site, get_or_fail, insert_row, new_uuid

RECTIFIABLE = ("name", "email", "company", "message")


class MessageError(DomainError):
    """A message operation that cannot be done; the message names no personal data."""


def receive(connection: Connection, site_id: int, submission: dict) -> dict:
    """Store a validated submission in ``connection``'s transaction; return its row.

    ``expires_at`` is fixed now, from the policy, so the purge is a range scan.
    """
    retention = policy.current()[policy.CONTACT]
    received = clock.now()
    ip = submission.get("ip")
    row = dict(
        id=new_uuid(),
        site_id=site_id,
        email_index=email_index(submission["email"]),
        form=submission.get("form"),
        personal={
            "name": submission["name"],
            "email": submission["email"],
            "company": submission.get("company"),
            "message": submission["message"],
            "ip": None if ip is None else str(ip),
            "page": submission.get("page"),
            "fields": submission.get("fields"),
        },
        consent=submission.get("consent"),
        submitted_at=submission.get("submitted_at") or received,
        received_at=received,
        retention=retention.key,
        expires_at=retention.expires(received),
    )
    insert_row(connection, ContactMessage, **row)
    return row


def accepted(message: dict) -> dict:
    """The ``201`` answer for a stored submission."""
    return {
        "id": message["id"],
        "received_at": clock.format_rfc3339(message["received_at"]),
        "expires_at": clock.format_rfc3339(message["expires_at"]),
        "retention": message["retention"],
    }


@dataclass(frozen=True)
class Listed:
    """What a list of messages shows of one: nothing encrypted."""

    id: str
    site_id: int
    form: str | None
    received_at: datetime
    expires_at: datetime | None
    retention: str
    held: bool
    client_id: str | None

    @property
    def position(self) -> tuple[datetime, str]:
        """Where the next page starts (keyset pagination)."""
        return (self.received_at, self.id)


@dataclass(frozen=True)
class Filters:
    """Which messages a list shows: one site, a time range, held ones only, one person
    (by the blind indexes of their address)."""

    site_id: int | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None
    held: bool = False
    subjects: tuple[str, ...] = ()


def listing(
    filters: Filters, after: tuple[datetime, str] | None = None, size: int = 50
) -> list[Listed]:
    """Up to ``size`` messages, newest first, older than ``after`` (keyset pagination on
    ``(received_at, id)``, each page an index seek however deep). Nothing is decrypted.
    """
    query = select(
        ContactMessage.id, ContactMessage.site_id, ContactMessage.form,
        ContactMessage.received_at, ContactMessage.expires_at, ContactMessage.retention,
        ContactMessage.legal_hold_at.is_not(None), ContactMessage.client_id,
    )
    if filters.site_id is not None:
        query = query.where(ContactMessage.site_id == filters.site_id)
    elif filters.subjects:
        # Every site, listed (there are few) so that the (site_id, email_index) index
        # finds the person by seeks on both backends, not a scan of the whole index.
        query = query.where(ContactMessage.site_id.in_(list(db.session.scalars(select(Site.id)))))
    if filters.subjects:
        query = query.where(ContactMessage.email_index.in_(filters.subjects))
    if filters.held:
        query = query.where(ContactMessage.legal_hold_at.is_not(None))
    if filters.received_from is not None:
        query = query.where(ContactMessage.received_at >= filters.received_from)
    if filters.received_before is not None:
        query = query.where(ContactMessage.received_at < filters.received_before)
    if after is not None:
        # A plain tuple: each value is bound with its column's type (UTC, naive).
        query = query.where(tuple_(ContactMessage.received_at, ContactMessage.id) < after)
    query = query.order_by(ContactMessage.received_at.desc(), ContactMessage.id.desc())
    return [Listed(*row) for row in db.session.execute(query.limit(size))]


def get(message_id: str) -> ContactMessage:
    """The message with this id, or :class:`MessageError`."""
    return get_or_fail(ContactMessage, message_id, MessageError("no such message"))


def read(message_id: str, actor: str) -> ContactMessage:
    """A message, to be shown decrypted to ``actor``: an access, audited."""
    message = get(message_id)
    _audit("message.read", message, actor)
    return message


def hold(message_id: str, reason: str, actor: str) -> ContactMessage:
    """Put a message under legal hold (illegal content), recording who, when and why.

    It is then kept for the ``legal_hold`` period from now and exempt from erasure.
    """
    if not reason.strip():
        raise MessageError("a legal hold needs a reason")
    message = get(message_id)
    if message.client_id is not None:
        raise MessageError("this message belongs to a client record")
    now = clock.now()
    message.legal_hold_at = now
    message.legal_hold_by = actor
    message.legal_hold_reason = reason.strip()
    _follow(message, policy.LEGAL_HOLD, now)
    _audit("message.flag", message, actor)
    return message


def release(message_id: str, actor: str) -> ContactMessage:
    """Lift a hold: the message ends as any contact message would (maybe at once)."""
    message = get(message_id)
    if message.legal_hold_at is None:
        raise MessageError("this message is not under legal hold")
    message.legal_hold_at = None
    message.legal_hold_by = None
    message.legal_hold_reason = None
    _follow(message, policy.CONTACT, message.received_at)
    _audit("message.unflag", message, actor)
    return message


def attach_to_client(message_id: str, actor: str, extra: dict[str, str] | None = None) -> Client:
    """Turn a message into a client relationship (or attach it to the same person's).

    The message then follows the client's rules: it has no end date of its own and goes
    when the client record is anonymised.
    """
    message = get(message_id)
    if message.client_id is not None:
        raise MessageError("this message already belongs to a client")
    if message.legal_hold_at is not None:
        raise MessageError("this message is under legal hold; lift the hold first")
    client = clients.for_message(message, extra or {})
    message.client_id = client.id
    message.retention = policy.CLIENT
    message.expires_at = None
    audit.record(
        "message.to_client", actor=actor, record_ids=[message.id, client.id],
        site_id=message.site_id, subject=message.email_index,
    )
    return client


def rectify(message_id: str, changes: dict[str, str], actor: str) -> ContactMessage:
    """Correct fields of a message at its author's request; a new address moves its index."""
    unknown = sorted(set(changes) - set(RECTIFIABLE))
    if unknown:
        raise MessageError(f"only {', '.join(RECTIFIABLE)} can be corrected")
    if any(not str(value).strip() for key, value in changes.items() if key != "company"):
        raise MessageError("a corrected field cannot be empty")
    message = get(message_id)
    if "email" in changes:
        changes = {**changes, "email": changes["email"].strip()}
        if not is_email(changes["email"]):
            raise MessageError("the e-mail address is not valid")
        message.email_index = email_index(changes["email"])
    message.personal = {**message.personal, **changes}
    _audit("message.rectify", message, actor, detail="fields: " + ", ".join(sorted(changes)))
    return message


def erasable(site_id: int, indexes: Sequence[str]):
    """The ids of a person's messages (by any of their ``indexes``) an erasure deletes:
    not held, not a client's."""
    return select(ContactMessage.id).where(
        ContactMessage.site_id == site_id,
        ContactMessage.email_index.in_(indexes),
        ContactMessage.legal_hold_at.is_(None),
        ContactMessage.client_id.is_(None),
    )


def erase(message_ids: list[str]) -> None:
    """Delete these messages at once (an erasure; the caller audits it)."""
    if message_ids:
        db.session.execute(delete(ContactMessage).where(ContactMessage.id.in_(message_ids)))


def erase_one(message_id: str, actor: str) -> None:
    """Delete one message at once (its author asked, or it should not have been kept).

    The same exemptions as an erasure: not a held message, nor a client's correspondence.
    """
    message = get(message_id)
    if message.legal_hold_at is not None:
        raise MessageError("this message is under legal hold; lift the hold first")
    if message.client_id is not None:
        raise MessageError("this message belongs to a client record")
    _audit("message.erase", message, actor)
    erase([message.id])
    tombstones.record(tombstones.MESSAGE, [message.id], message.site_id)


def end_with_clients(client_ids: list[str]) -> None:
    """Delete the correspondence of clients whose record is being anonymised."""
    if client_ids:
        db.session.execute(delete(ContactMessage).where(ContactMessage.client_id.in_(client_ids)))


def _follow(message: ContactMessage, category: str, start) -> None:
    """Make ``message`` follow ``category`` of the policy, its period starting at ``start``."""
    message.retention = category
    message.expires_at = policy.current()[category].expires(start)


def _audit(action: str, message: ContactMessage, actor: str, detail: str | None = None) -> None:
    audit.record(
        action, actor=actor, record_ids=[message.id], site_id=message.site_id,
        subject=message.email_index, detail=detail,
    )
