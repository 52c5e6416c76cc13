"""Clients: a message becomes a client relationship, with quotes, invoices and payments.

Every change of activity moves ``anonymise_at`` (last activity + the ``client`` period);
every invoice gets its own end date (invoice date + the ``invoice`` period). The
functions add to the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as siret_number

from . import audit, clock, policy
from .addresses import is_email
from .crypto import email_index, email_indexes
from .errors import DomainError
from .extensions import db
from .models import Client, ContactMessage, Invoice, Quote, get_or_fail

CLIENT_FIELDS = ("name", "company", "siret", "role", "phone", "email", "address")
PAYMENT_METHODS = ("transfer", "card", "cheque", "cash", "direct_debit", "cesu", "other")
QUOTE_STATUSES = ("draft", "sent", "accepted", "refused", "expired")


class ClientError(DomainError):
    """A client operation that cannot be done; the message names no personal data."""


def clean_fields(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """Check client fields: known names, a valid SIRET (checksum), a plausible address."""
    unknown = sorted(set(changes) - set(CLIENT_FIELDS))
    if unknown:
        raise ClientError(f"unknown client fields: {', '.join(unknown)}")
    cleaned = {key: (value.strip() or None) if value else None for key, value in changes.items()}
    siret, email = cleaned.get("siret"), cleaned.get("email")
    if siret:
        try:
            cleaned["siret"] = siret_number.validate(siret)
        except StdnumError:
            raise ClientError("the SIRET number is not valid (14 digits, Luhn checksum)") from None
    if email and not is_email(email):
        raise ClientError("the e-mail address is not valid")
    if "name" in cleaned and not cleaned["name"]:
        raise ClientError("a client needs a name")
    return cleaned


def get(client_id: str) -> Client:
    """The client with this id, or :class:`ClientError`."""
    return get_or_fail(Client, client_id, ClientError("no such client"))


def touch(client: Client, at: datetime) -> None:
    """Record activity at ``at``: the anonymisation date moves with the last activity."""
    if client.anonymised_at is not None:
        raise ClientError("this client record is anonymised")
    client.last_activity_at = max(client.last_activity_at, at)
    client.anonymise_at = policy.current()[policy.CLIENT].expires(client.last_activity_at)


def index_of(address: str | None) -> str | None:
    """The blind index of a client's address; None when the record holds none."""
    return email_index(address) if address else None


def for_message(message: ContactMessage, extra: dict[str, str]) -> Client:
    """The open client record of a message's author on its site, made from it if none.

    ``extra`` adds fields the message lacks (SIRET, role, …). Its activity is the
    message's receipt. Called by :func:`webhook_app.messages.attach_to_client`.
    """
    client = db.session.scalar(
        db.select(Client).where(
            Client.site_id == message.site_id,
            # Any configured index key: the client may predate a rotation of the index key.
            Client.email_index.in_(email_indexes(message.personal["email"])),
            Client.anonymised_at.is_(None),
        )
    )
    if client is None:
        personal = message.personal
        fields = clean_fields(
            {
                "name": personal["name"],
                "company": personal.get("company"),
                "email": personal["email"],
                "phone": (personal.get("fields") or {}).get("phone"),
                **extra,
            }
        )
        client = Client(
            site_id=message.site_id,
            # The client's own address (``extra`` may give another one), as rectify does.
            email_index=index_of(fields.get("email")),
            personal={key: fields.get(key) for key in CLIENT_FIELDS},
            created_at=clock.now(),
            last_activity_at=message.received_at,
        )
        db.session.add(client)
        db.session.flush()
    touch(client, message.received_at)
    return client


def rectify(client_id: str, changes: Mapping[str, str | None], actor: str) -> Client:
    """Correct client fields (the same function serves the CLI and the dashboard)."""
    client = get(client_id)
    if client.anonymised_at is not None:
        raise ClientError("this client record is anonymised")
    cleaned = clean_fields(changes)
    client.personal = {**client.personal, **cleaned}
    if "email" in cleaned:
        client.email_index = index_of(cleaned["email"])
    audit.record(
        "client.rectify", actor=actor, record_ids=[client.id], site_id=client.site_id,
        subject=client.email_index, detail="fields: " + ", ".join(sorted(cleaned)),
    )
    return client


def add_quote(
    client_id: str, number: str, issued_on: datetime, amount_cents: int, status: str
) -> Quote:
    """Add a quote; it counts as activity."""
    if status not in QUOTE_STATUSES:
        raise ClientError(f"status must be one of {', '.join(QUOTE_STATUSES)}")
    client = get(client_id)
    quote = Quote(number=number, issued_on=issued_on, amount_cents=amount_cents, status=status)
    client.quotes.append(quote)
    touch(client, issued_on)
    db.session.flush()  # its id, for the caller to show
    return quote


def add_invoice(client_id: str, number: str, issued_on: datetime, amount_cents: int) -> Invoice:
    """Add an invoice, kept for the ``invoice`` period from its date; it counts as activity."""
    client = get(client_id)
    invoice = Invoice(
        number=number,
        issued_on=issued_on,
        amount_cents=amount_cents,
        reminders_sent=0,
        expires_at=policy.current()[policy.INVOICE].expires(issued_on),
    )
    client.invoices.append(invoice)
    touch(client, issued_on)
    db.session.flush()  # its id, for the caller to show
    return invoice


def _invoice(invoice_id: int) -> Invoice:
    return get_or_fail(Invoice, invoice_id, ClientError("no such invoice"))


def record_payment(invoice_id: int, paid_on: datetime, method: str) -> Invoice:
    """Record the payment of an invoice; it counts as activity of its client."""
    if method not in PAYMENT_METHODS:
        raise ClientError(f"method must be one of {', '.join(PAYMENT_METHODS)}")
    invoice = _invoice(invoice_id)
    invoice.paid_on = paid_on
    invoice.payment_method = method
    touch(invoice.client, paid_on)
    return invoice


def record_reminder(invoice_id: int, sent_on: datetime) -> Invoice:
    """Count a payment reminder (not an activity of the client: the policy does not say so)."""
    invoice = _invoice(invoice_id)
    invoice.reminders_sent += 1
    invoice.last_reminder_on = sent_on
    return invoice
