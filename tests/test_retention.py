"""The purge applies the policy file: nothing outlives its period, nothing goes early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from webhook_app import clients, clock, locks, messages, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, ContactMessage, IdempotencyKey, Invoice

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def purge(at: datetime, **options):
    with clock.frozen(at):
        return retention.purge(at, **options)


def alive(model, key) -> bool:
    return db.session.get(model, key) is not None


def test_contact_message_goes_one_year_after_receipt_not_before(app, store_message):
    with app.app_context():
        message = store_message(at=T0)
        assert purge(T0.replace(year=2027) - SECOND)["contact"] == 0
        assert alive(ContactMessage, message)
        assert purge(T0.replace(year=2027))["contact"] == 1
        assert not alive(ContactMessage, message)


def test_legal_hold_keeps_five_years_from_the_flag_then_deletes(app, store_message):
    with app.app_context():
        message = store_message(at=T0)
        flagged_at = T0 + timedelta(days=200)
        with clock.frozen(flagged_at):
            messages.hold(message, "propos menaçants", "cli:test")
        assert purge(T0.replace(year=2028))["contact"] == 0
        end = flagged_at.replace(year=flagged_at.year + 5)
        assert purge(end - SECOND)["legal_hold"] == 0
        assert alive(ContactMessage, message)
        assert purge(end)["legal_hold"] == 1
        assert not alive(ContactMessage, message)


def test_lifting_a_hold_restores_the_contact_period(app, store_message):
    with app.app_context():
        message = store_message(at=T0)
        with clock.frozen(T0 + timedelta(days=500)):
            messages.hold(message, "erreur", "cli:test")
            messages.release(message, "cli:test")
        assert purge(T0 + timedelta(days=500))["contact"] == 1


def test_client_is_anonymised_three_years_after_last_activity(app, store_message):
    with app.app_context(), clock.frozen(T0):
        message = store_message(at=T0)
        client = messages.attach_to_client(message, "cli:test", {"role": "gérante"})
        invoice = clients.add_invoice(client.id, "F-2026-1", T0 + timedelta(days=30), 90000,
                                      actor="cli:test")
        clients.record_payment(invoice.id, T0 + timedelta(days=60), "transfer", actor="cli:test")
        client_id, invoice_id = client.id, invoice.id
        db.session.commit()
    with app.app_context():
        last = T0 + timedelta(days=60)
        assert purge(T0.replace(year=2027) + timedelta(days=1))["contact"] == 0
        assert alive(ContactMessage, message), "a client's message follows the client rules"
        assert purge(last.replace(year=last.year + 3) - SECOND)["client"] == 0
        assert purge(last.replace(year=last.year + 3))["client"] == 1
        record = db.session.get(Client, client_id)
        assert record.anonymised_at is not None and record.email_index is None
        assert set(record.personal.values()) == {f"ANONYMISED-{client_id[:8]}", None}
        assert not alive(ContactMessage, message)
        assert db.session.get(Invoice, invoice_id).amount_cents == 90000
        issued = T0 + timedelta(days=30)
        assert purge(issued.replace(year=issued.year + 20) - SECOND)["invoice"] == 0
        assert purge(issued.replace(year=issued.year + 20))["invoice"] == 1


def test_idempotency_keys_and_audit_entries_end_too(app, send):
    with clock.frozen(T0):
        answer = send("/v1/contact", {"name": "J", "email": "j@example.fr", "message": "m"})
    assert answer.status_code == 201
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyKey)) == 1
        counts = purge(T0 + timedelta(days=7))
        assert counts["idempotency_key"] == 1
        audit_before = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))
        assert audit_before >= 2
        counts = purge(T0 + timedelta(days=7 + 5 * 366))
        assert counts["audit"] >= audit_before


def test_dry_run_counts_and_changes_nothing(app, store_message):
    with app.app_context():
        for _ in range(3):
            store_message(at=T0)
        counts = purge(T0 + timedelta(days=400), dry_run=True)
        assert counts["contact"] == 3
        assert db.session.scalar(db.select(db.func.count()).select_from(ContactMessage)) == 3
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)) == 0


def test_chunks_are_audited_by_id_and_a_second_run_finds_nothing(app, store_message):
    with app.app_context():
        ids = sorted(store_message(at=T0) for _ in range(7))
        assert purge(T0 + timedelta(days=400), chunk=3)["contact"] == 7
        entries = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action == "purge.contact")
            .order_by(AuditEntry.id)
        ).all()
        assert [entry.count for entry in entries] == [3, 3, 1]
        assert sorted(i for entry in entries for i in entry.record_ids) == ids
        assert set(purge(T0 + timedelta(days=400)).values()) == {0}
        raw = str(db.session.execute(text("SELECT * FROM audit_log")).all())
        assert "jeanne" not in raw.lower()


def test_a_second_purge_at_the_same_time_skips(app, store_message):
    with app.app_context():
        store_message(at=T0)
        with locks.exclusive(retention.LOCK_NAME) as first:
            assert first
            other = app.app_context()
            other.push()
            try:
                assert purge(T0 + timedelta(days=400)) is None
            finally:
                other.pop()
        assert purge(T0 + timedelta(days=400))["contact"] == 1


def test_purge_command_prints_counts_per_rule(runner, app, store_message):
    with app.app_context():
        store_message(at=T0)
    result = runner.invoke(args=["purge", "--now", "2027-02-01T00:00:00Z", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would" in result.output
    assert [line.split() for line in result.output.splitlines() if "contact" in line] == [
        ["contact", "1"]
    ]
    result = runner.invoke(args=["purge", "--now", "2027-02-01T00:00:00Z"])
    assert [line.split() for line in result.output.splitlines() if "contact" in line] == [
        ["contact", "1"]
    ]
