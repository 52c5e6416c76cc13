"""POST /v1/contact on both backends: stored encrypted, with expiry, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from webhook_app import clock
from webhook_app.crypto import email_index
from webhook_app.extensions import db
from webhook_app.models import ContactMessage, Site

SUBMISSION = {
    "form": "contact",
    "submitted_at": "2026-11-26T07:00:00Z",
    "name": "Jeanne Martin",
    "email": "  Jeanne.Martin@Example.fr ",
    "company": "Atelier Martin",
    "message": "Bonjour, mon imprimante ne répond plus.",
    "ip": "203.0.113.7",
    "page": "https://example.fr/contact/",
    "consent": True,
    "fields": {"phone": "+33 6 12 34 56 78"},
}
NOW = datetime(2026, 11, 26, 7, 0, 5, tzinfo=UTC)


def test_submission_is_stored_encrypted_with_expiry(app, send):
    with clock.frozen(NOW):
        response = send("/v1/contact", SUBMISSION)
    assert response.status_code == 201
    answer = response.get_json()
    assert answer == {
        "id": answer["id"],
        "received_at": "2026-11-26T07:00:05Z",
        "expires_at": "2027-11-26T07:00:05Z",
        "retention": "contact",
    }
    with app.app_context():
        stored = db.session.get(ContactMessage, answer["id"])
        assert stored.personal == {
            "name": "Jeanne Martin",
            "email": "Jeanne.Martin@Example.fr",
            "company": "Atelier Martin",
            "message": "Bonjour, mon imprimante ne répond plus.",
            "ip": "203.0.113.7",
            "page": "https://example.fr/contact/",
            "fields": {"phone": "+33 6 12 34 56 78"},
        }
        assert stored.submitted_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
        assert stored.expires_at == datetime(2027, 11, 26, 7, 0, 5, tzinfo=UTC)
        raw = db.session.execute(text("SELECT * FROM contact_messages")).mappings().one()
        assert raw["personal"].startswith("gAAAAA"), "personal data is not a Fernet token"
        assert set(raw) == {
            "id", "site_id", "email_index", "form", "personal", "consent", "submitted_at",
            "received_at", "retention", "expires_at", "legal_hold_at", "legal_hold_by",
            "legal_hold_reason", "client_id",
        }, "a new column must be encrypted or explicitly not personal"
        found = db.session.scalars(
            db.select(ContactMessage).where(
                ContactMessage.email_index == email_index("jeanne.martin@example.fr")
            )
        ).all()
        assert [m.id for m in found] == [answer["id"]]


def test_minimal_submission_defaults_submitted_at_to_now(app, send):
    with clock.frozen(NOW):
        response = send("/v1/contact", {"name": "J", "email": "j@example.fr", "message": "x"})
    assert response.status_code == 201
    with app.app_context():
        stored = db.session.get(ContactMessage, response.get_json()["id"])
        assert stored.submitted_at == NOW
        assert stored.personal["company"] is None and stored.personal["ip"] is None


def test_replay_returns_first_answer_and_stores_once(app, send):
    first = send("/v1/contact", SUBMISSION, msg_id="msg_replay")
    again = send("/v1/contact", SUBMISSION, msg_id="msg_replay")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ContactMessage.id))) == 1


def test_same_id_with_another_body_conflicts(app, send):
    assert send("/v1/contact", SUBMISSION, msg_id="msg_conflict").status_code == 201
    changed = {**SUBMISSION, "message": "Autre chose"}
    response = send("/v1/contact", changed, msg_id="msg_conflict")
    assert response.status_code == 409
    assert response.get_json()["error"] == "idempotency_conflict"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ContactMessage.id))) == 1


def test_idempotency_key_is_forgotten_after_its_period(app, send):
    with clock.frozen(NOW):
        first = send("/v1/contact", SUBMISSION, msg_id="msg_old", at=NOW)
    later = datetime(2026, 12, 3, 7, 0, 6, tzinfo=UTC)  # seven days and a second
    with clock.frozen(later):
        again = send("/v1/contact", SUBMISSION, msg_id="msg_old", at=later)
    assert again.status_code == 201
    assert again.get_json()["id"] != first.get_json()["id"]


def test_sites_are_separate(app, send, runner):
    result = runner.invoke(args=["sites", "add", "shop"])
    shop_secret = result.output.strip().splitlines()[-1]
    assert send("/v1/contact", SUBMISSION, site="shop", secret=shop_secret).status_code == 201
    assert send("/v1/contact", SUBMISSION, site="shop").status_code == 401
    with app.app_context():
        shop = db.session.scalar(db.select(Site).where(Site.slug == "shop"))
        rows = db.session.scalars(db.select(ContactMessage)).all()
        assert [row.site_id for row in rows] == [shop.id]
