"""Clients: the list, a record with its quotes, invoices, payments and reminders, and the
changes the CLI's ``clients`` commands make (the same functions of :mod:`webhook_app.clients`).

The list and the record show decrypted identities; opening a record is audited as an
access. An address searched for is posted, never put in a URL: the list is then filtered
by its blind indexes (``?subject=``). Amounts are typed in euros and dates as
``YYYY-MM-DD``; the domain parses both, so a wrong one is refused with its sentence.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webhook_app import clients, managers, sites
from webhook_app.crypto import email_indexes
from webhook_app.extensions import db
from webhook_app.models import Invoice, Quote, Site

from .blueprint import bp, done, in_nav, page, signed_in_manager

in_nav("dashboard.clients", _l("Clients"), 30)

FIELD_LABELS = {
    "name": _l("Name"), "company": _l("Company"), "siret": _l("SIRET number"),
    "role": _l("Role"), "phone": _l("Phone"), "email": _l("E-mail address"),
    "address": _l("Postal address"),
}
STATUS_LABELS = {
    "draft": _l("draft"), "sent": _l("sent"), "accepted": _l("accepted"),
    "refused": _l("refused"), "expired": _l("expired"),
}
METHOD_LABELS = {
    "transfer": _l("bank transfer"), "card": _l("card"), "cheque": _l("cheque"),
    "cash": _l("cash"), "direct_debit": _l("direct debit"), "cesu": _l("CESU"),
    "other": _l("other"),
}


@bp.app_template_filter("euros")
def euros(cents: int) -> str:
    """An amount of cents as the manager's language writes euros."""
    return format_currency(Decimal(cents) / 100, "EUR")


@bp.app_template_filter("day")
def day(value: Any) -> str:
    """A date as ``YYYY-MM-DD`` (a ``type="date"`` input's value too); empty for None."""
    return "" if value is None else value.strftime("%Y-%m-%d")


def _actor() -> str:
    return managers.actor(signed_in_manager())


def _form(name: str) -> str:
    return request.form.get(name, "")


def _to_record(client_id: str) -> ResponseReturnValue:
    return redirect(url_for("dashboard.clients_detail", client_id=client_id))


@bp.get("/clients", endpoint="clients")
def client_list() -> str:
    """Open records soonest-anonymised first (or the anonymised ones), 50 a page."""
    anonymised = request.args.get("view") == "anonymised"
    subjects = request.args.getlist("subject")
    try:
        listed = clients.listing(anonymised=anonymised, subjects=subjects,
                                 after=request.args.get("after"))
    except clients.ClientError as error:
        flash(_(str(error)), "error")
        listed = clients.Listed([], None)
    return page("clients/list.html", listed=listed, anonymised=anonymised, subjects=subjects,
                first_page=not request.args.get("after"))


@bp.post("/clients/search", endpoint="clients_search")
def client_search() -> ResponseReturnValue:
    """Find records by exact address: posted, then only its blind indexes go in the URL."""
    address = _form("email").strip()
    if not address:
        return redirect(url_for("dashboard.clients"))
    return redirect(url_for("dashboard.clients", subject=email_indexes(address)))


@bp.get("/clients/new", endpoint="clients_new")
def client_new() -> str:
    """The form to enter a client record by hand."""
    return page("clients/new.html", sites=sites.listing(), fields=FIELD_LABELS)


@bp.post("/clients/new", endpoint="clients_add")
def client_add() -> ResponseReturnValue:
    """Enter a client record by hand (``clients add``)."""
    added: list = []
    fields = {key: _form(key) for key in clients.CLIENT_FIELDS}
    if done(lambda: added.append(clients.add(_form("site"), fields, _actor())),
            _("The client record is added.")):
        return _to_record(added[0].id)
    return redirect(url_for("dashboard.clients_new"))


@bp.get("/clients/<client_id>", endpoint="clients_detail")
def client_detail(client_id: str) -> str:
    """A client record, decrypted: reading it is audited (``client.read``)."""
    try:
        client = clients.read(client_id, _actor())
    except clients.ClientError:
        abort(404)
    db.session.commit()
    return page(
        "clients/detail.html", client=client,
        site=db.session.get(Site, client.site_id),
        anonymisation=clients.anonymisation(client, str(get_locale())),
        correspondence=clients.correspondence(client), fields=FIELD_LABELS,
        statuses=STATUS_LABELS, methods=METHOD_LABELS,
    )


@bp.post("/clients/<client_id>/rectify", endpoint="clients_rectify")
def client_rectify(client_id: str) -> ResponseReturnValue:
    """Correct the fields that changed (``clients rectify``; the SIRET number is checked)."""
    client = _client(client_id)
    changes = {key: _form(key) for key in clients.CLIENT_FIELDS
               if key in request.form and (_form(key).strip() or None) != client.personal.get(key)}
    if changes:
        done(lambda: clients.rectify(client_id, changes, _actor()),
             _("The client record is corrected."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/quotes", endpoint="clients_add_quote")
def quote_add(client_id: str) -> ResponseReturnValue:
    """Add a quote (``clients add-quote``)."""
    _client(client_id)
    done(lambda: clients.add_quote(client_id, _form("number"), clients.day(_form("date")),
                                   clients.cents(_form("amount")), _form("status"),
                                   actor=_actor()),
         _("The quote is added."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/quotes/<int:quote_id>", endpoint="clients_edit_quote")
def quote_edit(client_id: str, quote_id: int) -> ResponseReturnValue:
    """Correct a quote."""
    _owned(Quote, quote_id, client_id)
    done(lambda: clients.edit_quote(quote_id, _form("number"), clients.day(_form("date")),
                                    clients.cents(_form("amount")), _form("status"),
                                    actor=_actor()),
         _("The quote is corrected."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/invoices", endpoint="clients_add_invoice")
def invoice_add(client_id: str) -> ResponseReturnValue:
    """Add an invoice (``clients add-invoice``)."""
    _client(client_id)
    done(lambda: clients.add_invoice(client_id, _form("number"), clients.day(_form("date")),
                                     clients.cents(_form("amount")), actor=_actor()),
         _("The invoice is added."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/invoices/<int:invoice_id>", endpoint="clients_edit_invoice")
def invoice_edit(client_id: str, invoice_id: int) -> ResponseReturnValue:
    """Correct an invoice (its keeping period follows its date)."""
    _owned(Invoice, invoice_id, client_id)
    done(lambda: clients.edit_invoice(invoice_id, _form("number"), clients.day(_form("date")),
                                      clients.cents(_form("amount")), actor=_actor()),
         _("The invoice is corrected."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/invoices/<int:invoice_id>/payment",
         endpoint="clients_payment")
def invoice_payment(client_id: str, invoice_id: int) -> ResponseReturnValue:
    """Record or correct the payment of an invoice (``clients add-payment``)."""
    _owned(Invoice, invoice_id, client_id)
    done(lambda: clients.record_payment(invoice_id, clients.day(_form("date")),
                                        _form("method"), actor=_actor()),
         _("The payment is recorded."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/invoices/<int:invoice_id>/reminder",
         endpoint="clients_reminder")
def invoice_reminder(client_id: str, invoice_id: int) -> ResponseReturnValue:
    """Count a payment reminder (``clients add-reminder``)."""
    _owned(Invoice, invoice_id, client_id)
    done(lambda: clients.record_reminder(invoice_id, clients.day(_form("date")),
                                         actor=_actor()),
         _("The reminder is counted."))
    return _to_record(client_id)


@bp.post("/clients/<client_id>/invoices/<int:invoice_id>/reminders",
         endpoint="clients_reminders")
def invoice_reminders(client_id: str, invoice_id: int) -> ResponseReturnValue:
    """Correct the number of reminders of an invoice and the date of the last."""
    _owned(Invoice, invoice_id, client_id)
    last = _form("date").strip()
    done(lambda: clients.correct_reminders(
        invoice_id, request.form.get("count", -1, type=int), clients.day(last) if last else None,
        actor=_actor()), _("The reminders are corrected."))
    return _to_record(client_id)


def _client(client_id: str) -> clients.Client:
    try:
        return clients.get(client_id)
    except clients.ClientError:
        abort(404)


def _owned(model: type[Quote] | type[Invoice], record_id: int, client_id: str) -> None:
    """404 unless the quote or invoice belongs to the client of the URL."""
    owner = db.session.scalar(db.select(model.client_id).where(model.id == record_id))
    if owner != client_id:
        abort(404)
