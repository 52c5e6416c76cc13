"""The rights of a person: access (export) and erasure.

Export and erase answer exactly what a WordPress exporter and eraser callback return,
so the plugin hands them through. People are found by the blind index of their address
on one site, never by decrypting and scanning; visit statistics that still hold an
address in clear are found by :mod:`.stats.subjects`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from . import audit, clock, messages, policy, privacy_requests, tombstones
from .addresses import is_email
from .crypto import email_indexes
from .errors import DomainError
from .extensions import db
from .models import Client, ContactMessage, Invoice, PrivacyRequest, Quote, Site
from .notice import default_language, period_label
from .retention import anonymise
from .stats import subjects

PAGE_SIZE = 100
# A manager's run stops here rather than loop for ever: 1,000,000 items.
MAX_PAGES = 10_000


class PrivacyError(DomainError):
    """An export or erasure that cannot be run; the message names no personal data."""

# The label and description of each group of an export, by language.
GROUPS: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "contact-messages": (
            "Messages de contact", "Messages envoyés par le formulaire de contact."
        ),
        "client": ("Fiche client", "Identité et coordonnées de la relation client."),
        "quotes": ("Devis", "Devis adressés."),
        "invoices": ("Factures", "Factures, règlements et relances."),
        "visit-statistics": (
            "Statistiques de visite",
            "Pages visitées et recherches sur le site qui contiennent votre adresse e-mail.",
        ),
    },
    "en": {
        "contact-messages": ("Contact messages", "Messages sent with the contact form."),
        "client": ("Client record", "Identity and contact details of the client relationship."),
        "quotes": ("Quotes", "Quotes sent."),
        "invoices": ("Invoices", "Invoices, payments and reminders."),
        "visit-statistics": (
            "Visit statistics",
            "Pages visited and searches on the site that contain your e-mail address.",
        ),
    },
}

# Field labels and the explanations of an erasure, by language.
TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "search_terms": "Recherche sur le site", "visits": "Visites",
        "form": "Formulaire", "received": "Reçu le", "name": "Nom", "email": "Adresse e-mail",
        "company": "Entreprise", "message": "Message", "ip": "Adresse IP", "page": "Page",
        "consent": "Consentement", "kept_until": "Conservé jusqu'au",
        "legal_hold": "Conservation légale", "yes": "oui", "no": "non",
        "siret": "SIRET", "role": "Fonction", "phone": "Téléphone", "address": "Adresse postale",
        "last_activity": "Dernière activité", "anonymise_on": "Anonymisé le",
        "number": "Numéro", "date": "Date", "amount": "Montant (EUR)", "status": "Statut",
        "paid_on": "Réglée le", "payment_method": "Mode de règlement",
        "reminders": "Relances envoyées", "client_messages": "suit la fiche client",
        "held": "{n} message(s) conservé(s) jusqu'au {date} : signalé(s) pour contenu "
        "illicite, à la disposition des autorités compétentes (obligation légale).",
        "invoices_kept": "{n} facture(s) conservée(s) jusqu'au {date} : obligation comptable "
        "(Code de commerce, art. L123-22 : dix ans ; l'entreprise a choisi {period}). "
        "La fiche client est anonymisée.",
        "nothing": "Aucune donnée à effacer pour cette adresse.",
    },
    "en": {
        "search_terms": "Site search", "visits": "Visits",
        "form": "Form", "received": "Received", "name": "Name", "email": "E-mail address",
        "company": "Company", "message": "Message", "ip": "IP address", "page": "Page",
        "consent": "Consent", "kept_until": "Kept until",
        "legal_hold": "Legal hold", "yes": "yes", "no": "no",
        "siret": "SIRET", "role": "Role", "phone": "Phone", "address": "Postal address",
        "last_activity": "Last activity", "anonymise_on": "Anonymised on",
        "number": "Number", "date": "Date", "amount": "Amount (EUR)", "status": "Status",
        "paid_on": "Paid on", "payment_method": "Payment method",
        "reminders": "Reminders sent", "client_messages": "follows the client record",
        "held": "{n} message(s) kept until {date}: flagged for illegal content, kept at the "
        "disposal of the competent authorities (legal obligation).",
        "invoices_kept": "{n} invoice(s) kept until {date}: accounting obligation (French "
        "commercial code, art. L123-22: ten years; the company chose {period}). The client "
        "record is anonymised.",
        "nothing": "Nothing to erase for this address.",
    },
}


@dataclass(frozen=True)
class Person:
    """Someone's records on one site, found by blind index.

    ``indexes`` holds the address's index under every configured index key (the first
    key's first), so a person is found whole while a rotation of that key is under way.
    """

    site_id: int
    indexes: tuple[str, ...]

    @classmethod
    def of(cls, site_id: int, address: str) -> Person:
        """The person with ``address`` on site ``site_id``."""
        return cls(site_id, tuple(email_indexes(address)))

    @property
    def index(self) -> str:
        """The index under the first key: how the audit log names this person."""
        return self.indexes[0]


def _date(value: datetime | None) -> str:
    return "" if value is None else clock.as_utc(value).date().isoformat()


def _messages(person: Person):
    return (
        select(ContactMessage)
        .where(
            ContactMessage.site_id == person.site_id,
            ContactMessage.email_index.in_(person.indexes),
        )
        .order_by(ContactMessage.received_at, ContactMessage.id)
    )


def _clients(person: Person):
    return (
        select(Client)
        .where(Client.site_id == person.site_id, Client.email_index.in_(person.indexes))
        .order_by(Client.created_at, Client.id)
    )


def _quotes(person: Person):
    return (
        select(Quote).join(Client)
        .where(Client.site_id == person.site_id, Client.email_index.in_(person.indexes))
        .order_by(Quote.issued_on, Quote.id)
    )


def _invoices(person: Person):
    return (
        select(Invoice).join(Client)
        .where(Client.site_id == person.site_id, Client.email_index.in_(person.indexes))
        .order_by(Invoice.issued_on, Invoice.id)
    )


def export_page(site_id: int, email: str, page: int, actor: str) -> dict:
    """One page (1-based) of everything held about ``email`` on this site (recorded with
    the other pages of the same request: :mod:`.privacy_requests`)."""
    return _export_page(site_id, email, page, actor)[0]


def _export_page(
    site_id: int, email: str, page: int, actor: str
) -> tuple[dict, PrivacyRequest]:
    person = Person.of(site_id, email)
    language = default_language()
    texts = TEXTS[language]
    groups = [
        ("contact-messages", _messages(person), lambda m: _message_item(m, texts)),
        ("client", _clients(person), lambda c: _client_item(c, texts)),
        ("quotes", _quotes(person), lambda q: _quote_item(q, texts)),
        ("invoices", _invoices(person), lambda i: _invoice_item(i, texts)),
        ("visit-statistics", subjects.event_mentions(site_id, email),
         lambda e: subjects.event_item(e, texts)),
        ("visit-statistics", subjects.rollup_mentions(site_id, email),
         lambda r: subjects.rollup_item(r, texts)),
    ]
    skip, room, total = (page - 1) * PAGE_SIZE, PAGE_SIZE, 0
    items: list[dict] = []
    for group_id, query, describe in groups:
        # Counted without the order: ordered, SQLite would pick the index that gives it.
        size = db.session.execute(
            select(func.count()).select_from(query.order_by(None).subquery())
        ).scalar_one()
        total += size
        if room and skip < size:
            rows = db.session.scalars(query.offset(skip).limit(room)).all()
            label, description = GROUPS[language][group_id]
            for row in rows:
                item_id, data = describe(row)
                items.append({
                    "group_id": group_id, "group_label": label,
                    "group_description": description, "item_id": item_id, "data": data,
                })
            room -= len(rows)
        skip = max(0, skip - size)
    audit.record(
        "privacy.export", actor=actor, site_id=site_id, subject=person.index,
        record_ids=[item["item_id"] for item in items], detail=f"page {page}",
    )
    finished = page * PAGE_SIZE >= total
    request = privacy_requests.note(
        privacy_requests.EXPORT, site_id, person.indexes, email, page, actor,
        items=len(items), done=finished,
    )
    answer = {"data": items, "done": finished}
    return answer, request


def _pairs(texts: dict, pairs: list[tuple[str, object]]) -> list[dict]:
    return [
        {"name": texts[key], "value": "" if value is None else str(value)}
        for key, value in pairs
    ]


def _message_item(message: ContactMessage, texts: dict) -> tuple[str, list[dict]]:
    personal = message.personal
    # Extra form fields keep their own names: they are not labels of ours.
    extra = [{"name": key, "value": str(value)}
             for key, value in (personal.get("fields") or {}).items()]
    if message.client_id is not None:
        kept = texts["client_messages"]
    else:
        kept = _date(message.expires_at)
    held = (
        f"{texts['yes']} ({_date(message.legal_hold_at)})"
        if message.legal_hold_at else texts["no"]
    )
    data = _pairs(texts, [
        ("form", message.form), ("received", clock.format_rfc3339(message.received_at)),
        ("name", personal["name"]), ("email", personal["email"]),
        ("company", personal.get("company")), ("message", personal["message"]),
        ("ip", personal.get("ip")), ("page", personal.get("page")),
    ]) + extra + _pairs(texts, [
        ("consent", texts["yes"] if message.consent else texts["no"]),
        ("kept_until", kept), ("legal_hold", held),
    ])
    return f"contact-{message.id}", data


def _client_item(client: Client, texts: dict) -> tuple[str, list[dict]]:
    personal = client.personal
    data = _pairs(texts, [
        *((key, personal.get(key)) for key in
          ("name", "company", "siret", "role", "phone", "email", "address")),
        ("last_activity", _date(client.last_activity_at)),
        ("anonymise_on", _date(client.anonymise_at)),
    ])
    return f"client-{client.id}", data


def _amount(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _quote_item(quote: Quote, texts: dict) -> tuple[str, list[dict]]:
    data = _pairs(texts, [
        ("number", quote.number), ("date", _date(quote.issued_on)),
        ("amount", _amount(quote.amount_cents)), ("status", quote.status),
        ("anonymise_on", _date(quote.client.anonymise_at)),
    ])
    return f"quote-{quote.id}", data


def _invoice_item(invoice: Invoice, texts: dict) -> tuple[str, list[dict]]:
    data = _pairs(texts, [
        ("number", invoice.number), ("date", _date(invoice.issued_on)),
        ("amount", _amount(invoice.amount_cents)), ("paid_on", _date(invoice.paid_on)),
        ("payment_method", invoice.payment_method), ("reminders", invoice.reminders_sent),
        ("kept_until", _date(invoice.expires_at)),
    ])
    return f"invoice-{invoice.id}", data


def _erase_page(
    site_id: int, email: str, page: int, actor: str
) -> tuple[dict, PrivacyRequest]:
    """Erase up to one page of what may be erased; keep and explain what must be kept.

    Each call works on what is left (never an offset), so rows deleted by earlier pages
    cannot make a later one skip anything; ``page`` is only recorded (audit log, request
    record: :mod:`.privacy_requests`). When nothing is left, the request records of this
    person keep only their blind index.
    A client is found by its own address or by any of this address's messages that
    became its correspondence (its address may have been corrected since). Visit
    statistics that hold the address go last.
    """
    person = Person.of(site_id, email)
    language = default_language()
    texts = TEXTS[language]
    mine = (ContactMessage.site_id == site_id) & (ContactMessage.email_index.in_(person.indexes))
    erasable = messages.erasable(site_id, person.indexes)
    through_messages = select(ContactMessage.client_id).where(
        mine, ContactMessage.client_id.is_not(None)
    )
    client_ids = select(Client.id).where(
        Client.anonymised_at.is_(None),
        (Client.id.in_(through_messages))
        | ((Client.site_id == site_id) & (Client.email_index.in_(person.indexes))),
    )
    message_ids = list(db.session.scalars(erasable.order_by(ContactMessage.id).limit(PAGE_SIZE)))
    messages.erase(message_ids)
    room = PAGE_SIZE - len(message_ids)
    clients = list(db.session.scalars(
        select(Client).where(Client.id.in_(client_ids.order_by(Client.id).limit(room)))
    )) if room else []
    invoices = [invoice for client in clients for invoice in client.invoices]
    invoice_period = period_label(policy.current()[policy.INVOICE].period, language)
    explanations = _kept(
        texts["invoices_kept"], [invoice.expires_at for invoice in invoices], period=invoice_period
    )
    if clients:
        anonymise(clients, clock.now())
    statistics = subjects.erase_mentions(site_id, email, room - len(clients))
    left = sum(
        db.session.scalar(select(func.count()).select_from(query.subquery()))
        for query in (erasable, client_ids, subjects.event_mentions(site_id, email),
                      subjects.rollup_mentions(site_id, email))
    )
    held = list(db.session.scalars(
        select(ContactMessage.expires_at).where(mine, ContactMessage.legal_hold_at.is_not(None))
    ))
    if not left:
        explanations += _kept(texts["held"], held)
    removed = [*message_ids, *(client.id for client in clients), *statistics]
    tombstones.record(tombstones.MESSAGE, message_ids, site_id)
    tombstones.record(tombstones.CLIENT, [client.id for client in clients], site_id)
    if not removed and not explanations:
        explanations.append(texts["nothing"])
    audit.record(
        "privacy.erase", actor=actor, site_id=site_id, subject=person.index,
        record_ids=removed, detail=f"page {page}",
    )
    retained = bool(held or invoices)
    request = privacy_requests.note(
        privacy_requests.ERASE, site_id, person.indexes, email, page, actor,
        items=len(removed), done=not left, retained=retained, explanations=explanations,
    )
    if not left:
        forgotten = privacy_requests.forget(site_id, person.indexes)
        tombstones.record(tombstones.PRIVACY_REQUEST, forgotten, site_id)
    answer = {
        "items_removed": bool(removed),
        "items_retained": retained,
        "messages": explanations,
        "done": not left,
    }
    return answer, request


def erase_page(site_id: int, email: str, page: int, actor: str) -> dict:
    """One page of a WordPress erasure of ``email`` on this site (see :func:`_erase_page`)."""
    return _erase_page(site_id, email, page, actor)[0]


@dataclass
class Run:
    """A whole request run by a manager: its record, and what an export found."""

    request: PrivacyRequest
    items: list[dict]


def run_export(site_id: int, email: str, actor: str) -> Run:
    """Every page of an export, as WordPress would ask them (for an address received by
    e-mail or letter)."""
    items: list[dict] = []

    def collect(answer: dict) -> None:
        items.extend(answer["data"])

    return Run(_run(_export_page, site_id, email, actor, collect), items)


def run_erasure(site_id: int, email: str, actor: str) -> Run:
    """Every page of an erasure, as WordPress would ask them."""
    return Run(_run(_erase_page, site_id, email, actor, lambda answer: None), [])


def _run(page_of: Callable, site_id: int, email: str, actor: str,
         collect: Callable[[dict], None]) -> PrivacyRequest:
    email = email.strip()
    if not is_email(email):
        raise PrivacyError("the e-mail address is not valid")
    if db.session.get(Site, site_id) is None:
        raise PrivacyError("no such site")
    for page in range(1, MAX_PAGES + 1):
        answer, request = page_of(site_id, email, page, actor)
        collect(answer)
        if answer["done"]:
            return request
    raise PrivacyError("the request did not finish; run it again")


def _kept(template: str, ends: Sequence[datetime | None], **values: str) -> list[str]:
    """One explanation per end date: "2 invoice(s) kept until 2046-03-02: …"."""
    by_date: dict[str, int] = {}
    for end in ends:
        by_date[_date(end)] = by_date.get(_date(end), 0) + 1
    return [
        template.format(n=count, date=day, **values) for day, count in sorted(by_date.items())
    ]
