"""Clients, legal holds and their command lines (bundles: test_legal_hold_bundle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webhook_app import clients, clock, messages, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, ContactMessage

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("siret", "valid"),
    [("73282932000074", True), ("732 829 320 00074", True), ("35600000000048", True),
     ("73282932000075", False), ("1234", False), ("abcdefghijklmn", False)],
)
def test_siret_is_checked_by_its_checksum(siret, valid):
    if valid:
        assert clients.clean_fields({"siret": siret})["siret"].isdigit()
    else:
        with pytest.raises(clients.ClientError):
            clients.clean_fields({"siret": siret})


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1234.50", 123450), ("1234,50", 123450), ("1 234,50", 123450), ("1\u00a0234,5", 123450),
     ("1\u202f234 567", 123456700), ("80", 8000), ("0,05", 5), (" 12.3 ", 1230)],
)
def test_amounts_are_typed_in_euros(typed, cents):
    assert clients.cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "-5", "12.345", "1.234,50", "12 34", "1e3", "douze",
                                   "99999999999"])
def test_amounts_that_are_not_one_are_refused(typed):
    with pytest.raises(clients.ClientError):
        clients.cents(typed)


def test_days_are_typed_as_iso_dates():
    assert clients.day("2026-06-01") == datetime(2026, 6, 1, tzinfo=UTC)
    for typed in ("01/06/2026", "2026-13-01", "", "2026-06-01T10:00"):
        with pytest.raises(clients.ClientError):
            clients.day(typed)


def test_a_client_entered_by_hand_is_audited_and_anonymised_by_the_purge_rule(app):
    with app.app_context(), clock.frozen(T0):
        client = clients.add("default", {"name": "Atelier Martin", "email": "a@example.fr",
                                         "siret": "73282932000074"}, "manager:1")
        db.session.commit()
        with pytest.raises(clients.ClientError, match="already has a client"):
            clients.add("default", {"name": "Autre", "email": "A@example.fr"}, "manager:1")
        db.session.rollback()
        with pytest.raises(clients.ClientError, match="SIRET"):
            clients.add("default", {"name": "Autre", "siret": "73282932000075"}, "manager:1")
        db.session.rollback()
        shown = clients.anonymisation(client, "en")
        assert shown.on == T0.replace(year=2029) == clock.as_utc(client.anonymise_at)
        assert (shown.period, shown.last_activity) == ("3 years", T0)
        assert "last activity" in shown.starts
        assert "dernière activité" in clients.anonymisation(client, "fr").starts
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "client.add"))
        assert entry.actor == "manager:1" and entry.record_ids == [client.id]
        assert "Atelier" not in str(entry.detail) and entry.subject == client.email_index
        client_id = client.id
    with app.app_context(), clock.frozen(shown.on - timedelta(seconds=1)):
        retention.purge(clock.now())
        assert db.session.get(Client, client_id).anonymised_at is None
    with app.app_context(), clock.frozen(shown.on):
        retention.purge(clock.now())
        client = db.session.get(Client, client_id)
        assert client.anonymised_at is not None and clients.anonymisation(client, "en") is None


def test_quotes_invoices_payments_and_reminders_are_audited_and_corrected(app, store_message):
    with app.app_context(), clock.frozen(T0):
        client = messages.attach_to_client(store_message(at=T0), "cli:test")
        quote = clients.add_quote(client.id, "D-1", T0, 100, "sent", actor="manager:1")
        invoice = clients.add_invoice(client.id, "F-1", T0, 100, actor="manager:1")
        later = T0 + timedelta(days=40)
        clients.edit_quote(quote.id, " D-2 ", later, 250, "accepted", actor="manager:1")
        clients.edit_invoice(invoice.id, "F-2", later, 250, actor="manager:1")
        clients.record_payment(invoice.id, later, "card", actor="manager:1")
        clients.record_reminder(invoice.id, later, actor="manager:1")
        clients.correct_reminders(invoice.id, 3, T0, actor="manager:1")
        with pytest.raises(clients.ClientError):
            clients.correct_reminders(invoice.id, 2, None, actor="manager:1")
        with pytest.raises(clients.ClientError):
            clients.edit_quote(quote.id, "", later, 250, "sent", actor="manager:1")
        with pytest.raises(clients.ClientError):
            clients.edit_invoice(invoice.id, "F-3", later, -1, actor="manager:1")
        db.session.commit()
        assert (quote.number, quote.amount_cents, quote.status) == ("D-2", 250, "accepted")
        assert invoice.expires_at == later.replace(year=2046)
        assert (invoice.reminders_sent, clock.as_utc(invoice.last_reminder_on)) == (3, T0)
        assert clock.as_utc(client.anonymise_at) == later.replace(year=2029)
        actions = db.session.scalars(
            db.select(AuditEntry.action).where(AuditEntry.actor == "manager:1")
            .order_by(AuditEntry.id)
        ).all()
        assert actions == ["quote.add", "invoice.add", "quote.edit", "invoice.edit",
                           "invoice.payment", "invoice.reminder", "invoice.reminders"]


def test_conversion_attaches_later_messages_of_the_same_person(app, store_message):
    with app.app_context(), clock.frozen(T0):
        first = messages.attach_to_client(store_message(at=T0), "cli:test")
        later = store_message(at=T0.replace(month=9))
        second = messages.attach_to_client(later, "cli:test")
        assert second.id == first.id
        assert second.last_activity_at == T0.replace(month=9)
        assert second.anonymise_at == T0.replace(year=2029, month=9)
        assert db.session.get(ContactMessage, later).expires_at is None
        with pytest.raises(messages.MessageError):
            messages.attach_to_client(later, "cli:test")


def test_flag_records_who_when_why_and_refuses_clients(app, store_message):
    with app.app_context(), clock.frozen(T0):
        message_id = store_message(at=T0)
        message = messages.hold(message_id, "  propos haineux ", "cli:alice")
        assert (message.legal_hold_at, message.legal_hold_by) == (T0, "cli:alice")
        assert message.legal_hold_reason == "propos haineux"
        assert message.expires_at == T0.replace(year=2031)
        with pytest.raises(messages.MessageError):
            messages.attach_to_client(message_id, "cli:test")
        with pytest.raises(messages.MessageError):
            messages.hold(message_id, "   ", "cli:alice")
        actions = db.session.scalars(db.select(AuditEntry.action)).all()
        assert actions == ["message.flag"]


def test_command_lines(app, runner, store_message, tmp_path):
    with app.app_context():
        message_id = store_message(at=T0)
        other_id = store_message(at=T0, email="paul@example.fr")

    def run(*args):
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "legal hold until" in run("messages", "flag", message_id, "--reason", "menaces")
    assert "wrote" in run("legal-hold", "export", message_id, str(tmp_path / "b.zip"))
    (tmp_path / "key.pem").write_text(run("legal-hold", "public-key"))
    assert "verify" in run("legal-hold", "verify", str(tmp_path / "b.zip"),
                           "--public-key", str(tmp_path / "key.pem"))
    assert "kept until" in run("messages", "unflag", message_id)
    run("messages", "rectify", other_id, "--field", "name=Paul Durand")
    output = run("messages", "to-client", other_id, "--field", "siret=73282932000074",
                 "--field", "role=gérant")
    client_id = output.split()[1].rstrip(";")
    run("clients", "add-quote", client_id, "--number", "D-7", "--date", "2026-06-01",
        "--amount", "1200,50")
    invoice_line = run("clients", "add-invoice", client_id, "--number", "F-7", "--date",
                       "2026-06-15", "--amount", "1200.50")
    invoice_id = invoice_line.split()[1]
    run("clients", "add-payment", invoice_id, "--date", "2026-07-01", "--method", "transfer")
    run("clients", "add-reminder", invoice_id, "--date", "2026-06-30")
    run("clients", "rectify", client_id, "--field", "phone=+33 6 00 00 00 00")
    shown = run("clients", "show", client_id)
    assert "Paul Durand" in shown and "73282932000074" in shown and "1200.50" in shown
    assert "paid 2026-07-01 (transfer)" in shown and "kept until 2046-06-15" in shown
    assert "anonymised on: 2029-07-01" in shown
    assert "unless there is new activity" in run("clients", "add", "default", "--field",
                                                  "name=Atelier Martin")
    failed = runner.invoke(args=["clients", "add-quote", client_id, "--number", "D-8", "--date",
                                 "2026-06-01", "--amount", "12,345"])
    assert failed.exit_code != 0 and "amount" in failed.output
    failed = runner.invoke(args=["clients", "rectify", client_id, "--field", "siret=123"])
    assert failed.exit_code != 0 and "SIRET" in failed.output
    failed = runner.invoke(args=["messages", "flag", "no-such-id", "--reason", "x"])
    assert failed.exit_code != 0 and "no such message" in failed.output
