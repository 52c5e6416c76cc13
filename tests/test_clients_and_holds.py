"""Clients, legal holds and their command lines (bundles: test_legal_hold_bundle)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webhook_app import clients, clock, messages
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, ContactMessage

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
    failed = runner.invoke(args=["clients", "rectify", client_id, "--field", "siret=123"])
    assert failed.exit_code != 0 and "SIRET" in failed.output
    failed = runner.invoke(args=["messages", "flag", "no-such-id", "--reason", "x"])
    assert failed.exit_code != 0 and "no such message" in failed.output
