"""Callers own transactions: no domain function commits (ARCHITECTURE.md).

The /v1 wrapper, the CLI group and the dashboard commit once the whole action succeeded;
a domain function that committed on its own would leave half an action written when a
later step of the same action fails.
"""

from __future__ import annotations

from datetime import UTC, datetime

from webhook_app import clients, clock, legal_hold, messages, privacy, sites
from webhook_app.extensions import db

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
EMAIL = "jeanne.martin@example.fr"


class Committed(AssertionError):
    """A domain function committed."""


def test_no_domain_function_commits(app, store_message, tmp_path, monkeypatch):
    with app.app_context(), clock.frozen(T0):
        held, converted, other = (store_message(EMAIL, at=T0) for _ in range(3))
        secret = sites.add("atelier")
        db.session.commit()

        def refuse() -> None:
            raise Committed("a domain function committed")

        monkeypatch.setattr(db.session, "commit", refuse)
        steps = [
            lambda: messages.hold(held, "menaces", "cli:test"),
            lambda: legal_hold.export_bundle(held, tmp_path / "hold.zip", "cli:test"),
            lambda: legal_hold.public_key_pem("cli:test"),
            lambda: messages.release(held, "cli:test"),
            lambda: messages.rectify(other, {"name": "J. M."}, "cli:test"),
            lambda: messages.attach_to_client(converted, "cli:test"),
        ]
        for step in steps:
            step()
        client_id = messages.get(converted).client_id
        quote = clients.add_quote(client_id, "D-1", T0, 100, "sent", actor="cli:test")
        invoice = clients.add_invoice(client_id, "F-1", T0, 100, actor="cli:test")
        clients.record_payment(invoice.id, T0, "transfer", actor="cli:test")
        clients.record_reminder(invoice.id, T0, actor="cli:test")
        clients.edit_quote(quote.id, "D-2", T0, 200, "accepted", actor="cli:test")
        clients.edit_invoice(invoice.id, "F-2", T0, 200, actor="cli:test")
        clients.correct_reminders(invoice.id, 0, None, actor="cli:test")
        clients.rectify(client_id, {"role": "gérante"}, "cli:test")
        clients.add("atelier", {"name": "Atelier Martin"}, "cli:test")
        assert quote.id and invoice.id  # flushed, so the caller can name them
        sites.rotate("atelier")
        sites.remove_secret("atelier", sites.fingerprint(secret)[:12])
        sites.disable("atelier", "cli:test")
        sites.enable("atelier", "cli:test")
        sites.add("other")
        privacy.export_page(1, EMAIL, 1, actor="test")
        privacy.erase_page(1, EMAIL, 1, actor="test")
        sites.remove("atelier", "cli:test")
        monkeypatch.undo()
        db.session.rollback()

