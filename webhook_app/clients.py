"""Clients: a message becomes a client relationship, with quotes, invoices and payments.

Every change of activity moves ``anonymise_at`` (last activity + the ``client`` period);
every invoice gets its own end date (invoice date + the ``invoice`` period). Every change
is audited (ids and the blind index, never the data). The functions add to the caller's
transaction and never commit; the CLI and the dashboard call the same ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as siret_number

from . import audit, clock, notice, policy, sites
from .addresses import is_email
from .crypto import email_index, email_indexes
from .errors import DomainError
from .extensions import db
from .models import Client, ContactMessage, Invoice, Quote, Site, get_or_fail

CLIENT_FIELDS = ("name", "company", "siret", "role", "phone", "email", "address")
PAYMENT_METHODS = ("transfer", "card", "cheque", "cash", "direct_debit", "cesu", "other")
QUOTE_STATUSES = ("draft", "sent", "accepted", "refused", "expired")
# The largest amount a quote or an invoice holds (its column is a 32-bit integer of cents).
MAX_CENTS = 2**31 - 1
# "1234.50", "1234,50", "1 234,50" (spaces, non-breaking ones too, group the thousands).
AMOUNT = re.compile(r"(\d{1,3}(?: \d{3})+|\d+)(?:[.,](\d{1,2}))?")
PAGE_SIZE = 50


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


def cents(text: str) -> int:
    """An amount typed in euros ("1 234,50", "1234.50", "80") as cents; refused if it is
    not one, is negative or has more than two decimals."""
    typed = re.sub(r"[\u00a0\u202f ]+", " ", (text or "").strip())
    found = AMOUNT.fullmatch(typed)
    if found is None:
        raise ClientError("the amount is not valid: write it in euros, such as 1 234,50")
    whole, decimals = found.group(1).replace(" ", ""), (found.group(2) or "").ljust(2, "0")
    amount = int(whole) * 100 + int(decimals)
    if amount > MAX_CENTS:
        raise ClientError("the amount is too large")
    return amount


def day(text: str) -> datetime:
    """A day typed as YYYY-MM-DD, as the start of that day in UTC."""
    try:
        parsed = datetime.strptime((text or "").strip(), "%Y-%m-%d")
    except ValueError:
        raise ClientError("the date is not valid: write it as YYYY-MM-DD") from None
    return parsed.replace(tzinfo=UTC)


def get(client_id: str) -> Client:
    """The client with this id, or :class:`ClientError`."""
    return get_or_fail(Client, client_id, ClientError("no such client"))


def read(client_id: str, actor: str) -> Client:
    """The client with this id, its reading audited as an access to personal data."""
    client = get(client_id)
    audit.record("client.read", actor=actor, record_ids=[client.id], site_id=client.site_id,
                 subject=client.email_index)
    return client


def correspondence(client: Client) -> list[tuple[str, datetime, str | None]]:
    """The messages attached to a client: id, receipt and form (nothing decrypted)."""
    rows = db.session.execute(
        db.select(ContactMessage.id, ContactMessage.received_at, ContactMessage.form)
        .where(ContactMessage.client_id == client.id)
        .order_by(ContactMessage.received_at)
    )
    return [(message_id, clock.as_utc(at), form) for message_id, at, form in rows]


def touch(client: Client, at: datetime) -> None:
    """Record activity at ``at``: the anonymisation date moves with the last activity."""
    if client.anonymised_at is not None:
        raise ClientError("this client record is anonymised")
    client.last_activity_at = max(client.last_activity_at, at)
    client.anonymise_at = policy.current()[policy.CLIENT].expires(client.last_activity_at)


def index_of(address: str | None) -> str | None:
    """The blind index of a client's address; None when the record holds none."""
    return email_index(address) if address else None


@dataclass(frozen=True)
class Anonymisation:
    """When a client record will be anonymised, and the rule of the policy that says so.

    ``on`` is the ``anonymise_at`` that :func:`touch` wrote and the purge's ``client`` rule
    scans (the record goes at the first purge from that moment); ``period`` and ``starts``
    are the rule as the published notice words it, in ``language``.
    """

    on: datetime
    last_activity: datetime
    period: str
    starts: str


def anonymisation(client: Client, language: str) -> Anonymisation | None:
    """When and why ``client`` will be anonymised; None once it is."""
    if client.anonymise_at is None:
        return None
    rule = policy.current()[policy.CLIENT]
    return Anonymisation(
        on=clock.as_utc(client.anonymise_at),
        last_activity=clock.as_utc(client.last_activity_at),
        period=notice.period_label(rule.period, language),
        starts=notice.STARTS[language].get(rule.starts, rule.starts),
    )


@dataclass(frozen=True)
class Listed:
    """A page of client records and the key of the next page (None on the last)."""

    clients: list[tuple[Client, str]]
    next: str | None


def listing(
    *, anonymised: bool = False, subjects: Sequence[str] = (), after: str | None = None,
    size: int = PAGE_SIZE,
) -> Listed:
    """One page of client records with their site's slug: open ones soonest-anonymised
    first (the index on ``anonymise_at``), or anonymised ones (by id); only those whose
    blind index is one of ``subjects`` if given. ``after`` is the ``next`` of the page
    before (keyset pagination: no OFFSET)."""
    query = db.select(Client, Site.slug).join(Site, Site.id == Client.site_id)
    if subjects:
        query = query.where(Client.email_index.in_(list(subjects)))
    if anonymised:
        query = query.where(Client.anonymise_at.is_(None)).order_by(Client.id)
        if after:
            query = query.where(Client.id > after)
    else:
        query = query.where(Client.anonymise_at.is_not(None)).order_by(
            Client.anonymise_at, Client.id
        )
        if after:
            at, _, last_id = after.partition("|")
            try:
                moment = clock.parse_rfc3339(at)
            except ValueError:
                raise ClientError("this page of the list no longer exists") from None
            query = query.where(
                (Client.anonymise_at > moment)
                | ((Client.anonymise_at == moment) & (Client.id > last_id))
            )
    rows = [(client, slug) for client, slug in db.session.execute(query.limit(size + 1))]
    more = len(rows) > size
    rows = rows[:size]
    following = None
    if more:
        last = rows[-1][0]
        following = last.id if anonymised or last.anonymise_at is None else (
            f"{clock.format_rfc3339(last.anonymise_at)}|{last.id}"
        )
    return Listed(rows, following)


def add(site_slug: str, fields: Mapping[str, str | None], actor: str) -> Client:
    """Enter a client record by hand (not from a message); its activity starts now.

    Refused when the site already has an open record for that address: a later message of
    the same person is attached to the one record (:func:`for_message`).
    """
    site = sites.get(site_slug)
    cleaned = clean_fields({"name": "", **fields})
    address = cleaned.get("email")
    if address and db.session.scalar(
        db.select(Client.id).where(
            Client.site_id == site.id,
            Client.email_index.in_(email_indexes(address)),
            Client.anonymised_at.is_(None),
        )
    ):
        raise ClientError("this site already has a client with this e-mail address")
    now = clock.now()
    client = Client(
        site_id=site.id,
        email_index=index_of(address),
        personal={key: cleaned.get(key) for key in CLIENT_FIELDS},
        created_at=now,
        last_activity_at=now,
    )
    db.session.add(client)
    db.session.flush()
    touch(client, now)
    audit.record("client.add", actor=actor, record_ids=[client.id], site_id=site.id,
                 subject=client.email_index)
    return client


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


def _checked_quote(number: str, amount_cents: int, status: str) -> str:
    if status not in QUOTE_STATUSES:
        raise ClientError(f"status must be one of {', '.join(QUOTE_STATUSES)}")
    return _checked(number, amount_cents)


def _checked(number: str, amount_cents: int) -> str:
    """The number of a quote or an invoice (required, stripped), its amount checked too."""
    if not 0 <= amount_cents <= MAX_CENTS:
        raise ClientError("the amount is not valid: write it in euros, such as 1 234,50")
    number = (number or "").strip()
    if not number or len(number) > 64:
        raise ClientError("a number of 1 to 64 characters is required")
    return number


def _audit(action: str, client: Client, record_id: int, actor: str, detail: str) -> None:
    audit.record(action, actor=actor, record_ids=[client.id, record_id], site_id=client.site_id,
                 subject=client.email_index, detail=detail)


def add_quote(
    client_id: str, number: str, issued_on: datetime, amount_cents: int, status: str, *,
    actor: str,
) -> Quote:
    """Add a quote; it counts as activity."""
    number = _checked_quote(number, amount_cents, status)
    client = get(client_id)
    quote = Quote(number=number, issued_on=issued_on, amount_cents=amount_cents, status=status)
    client.quotes.append(quote)
    touch(client, issued_on)
    db.session.flush()  # its id, for the caller to show and the audit log
    _audit("quote.add", client, quote.id, actor, f"status={status}")
    return quote


def _quote(quote_id: int) -> Quote:
    return get_or_fail(Quote, quote_id, ClientError("no such quote"))


def edit_quote(
    quote_id: int, number: str, issued_on: datetime, amount_cents: int, status: str, *,
    actor: str,
) -> Quote:
    """Correct a quote (number, date, amount, status); its date counts as activity."""
    number = _checked_quote(number, amount_cents, status)
    quote = _quote(quote_id)
    touch(quote.client, issued_on)
    quote.number, quote.issued_on = number, issued_on
    quote.amount_cents, quote.status = amount_cents, status
    _audit("quote.edit", quote.client, quote.id, actor, f"status={status}")
    return quote


def add_invoice(
    client_id: str, number: str, issued_on: datetime, amount_cents: int, *, actor: str
) -> Invoice:
    """Add an invoice, kept for the ``invoice`` period from its date; it counts as activity."""
    number = _checked(number, amount_cents)
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
    db.session.flush()  # its id, for the caller to show and the audit log
    _audit("invoice.add", client, invoice.id, actor, "added")
    return invoice


def _invoice(invoice_id: int) -> Invoice:
    return get_or_fail(Invoice, invoice_id, ClientError("no such invoice"))


def edit_invoice(
    invoice_id: int, number: str, issued_on: datetime, amount_cents: int, *, actor: str
) -> Invoice:
    """Correct an invoice (number, date, amount): its end date follows its date, which
    counts as activity."""
    number = _checked(number, amount_cents)
    invoice = _invoice(invoice_id)
    touch(invoice.client, issued_on)
    invoice.number, invoice.issued_on, invoice.amount_cents = number, issued_on, amount_cents
    invoice.expires_at = policy.current()[policy.INVOICE].expires(issued_on)
    _audit("invoice.edit", invoice.client, invoice.id, actor, "edited")
    return invoice


def record_payment(invoice_id: int, paid_on: datetime, method: str, *, actor: str) -> Invoice:
    """Record (or correct) the payment of an invoice; it counts as activity of its client."""
    if method not in PAYMENT_METHODS:
        raise ClientError(f"method must be one of {', '.join(PAYMENT_METHODS)}")
    invoice = _invoice(invoice_id)
    touch(invoice.client, paid_on)
    invoice.paid_on = paid_on
    invoice.payment_method = method
    _audit("invoice.payment", invoice.client, invoice.id, actor, f"method={method}")
    return invoice


def record_reminder(invoice_id: int, sent_on: datetime, *, actor: str) -> Invoice:
    """Count a payment reminder (not an activity of the client: the policy does not say so)."""
    invoice = _invoice(invoice_id)
    invoice.reminders_sent += 1
    invoice.last_reminder_on = sent_on
    _audit("invoice.reminder", invoice.client, invoice.id, actor, "reminder")
    return invoice


def correct_reminders(
    invoice_id: int, count: int, last_on: datetime | None, *, actor: str
) -> Invoice:
    """Correct the reminders counted for an invoice: how many, and the date of the last."""
    if count < 0 or (count == 0) != (last_on is None):
        raise ClientError("give the number of reminders and, if there were any, the last date")
    invoice = _invoice(invoice_id)
    invoice.reminders_sent, invoice.last_reminder_on = count, last_on
    _audit("invoice.reminders", invoice.client, invoice.id, actor, f"count={count}")
    return invoice
