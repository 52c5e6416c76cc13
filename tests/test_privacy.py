"""Export and erase exactly as WordPress expects them, on both backends."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from webhook_app import clients, clock, messages, privacy
from webhook_app.crypto import email_index
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, ContactMessage, IdempotencyKey

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMAIL = "jeanne.martin@example.fr"


def test_export_one_message_has_the_wordpress_shape(app, send):
    with clock.frozen(T0):
        stored = send("/v1/contact", {"name": "Jeanne", "email": EMAIL, "message": "Bonjour",
                                      "ip": "203.0.113.9", "fields": {"phone": "0612"}})
        response = send("/v1/privacy/export", {"email": " Jeanne.Martin@EXAMPLE.fr ", "page": 1})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["done"] is True
    [item] = answer["data"]
    assert set(item) == {"group_id", "group_label", "group_description", "item_id", "data"}
    assert item["group_id"] == "contact-messages"
    assert item["group_label"] == "Messages de contact"
    assert item["item_id"] == f"contact-{stored.get_json()['id']}"
    values = {pair["name"]: pair["value"] for pair in item["data"]}
    assert values["Adresse e-mail"] == EMAIL
    assert values["Adresse IP"] == "203.0.113.9"
    assert values["phone"] == "0612"
    assert values["Conservé jusqu'au"] == "2027-03-02"
    assert values["Conservation légale"] == "non"
    assert all(set(pair) == {"name", "value"} for pair in item["data"])


def test_export_of_unknown_address_is_empty_and_done(send):
    answer = send("/v1/privacy/export", {"email": "nobody@example.fr", "page": 1}).get_json()
    assert answer == {"data": [], "done": True}


def test_export_pages_250_messages_with_stable_ids(app, store_message):
    with app.app_context():
        for hour in range(250):
            store_message(EMAIL, at=T0 + timedelta(hours=hour))
        pages = [privacy.export_page(1, EMAIL, page, actor="test") for page in (1, 2, 3)]
        again = [privacy.export_page(1, EMAIL, page, actor="test") for page in (1, 2, 3)]
    assert [len(p["data"]) for p in pages] == [100, 100, 50]
    assert [p["done"] for p in pages] == [False, False, True]
    ids = [item["item_id"] for page in pages for item in page["data"]]
    assert len(set(ids)) == 250
    assert ids == [item["item_id"] for page in again for item in page["data"]]


def test_export_is_scoped_to_site_and_address(app, store_message, runner):
    runner.invoke(args=["sites", "add", "other"])
    with app.app_context():
        store_message(EMAIL)
        store_message("someone.else@example.fr")
        store_message(EMAIL, site_id=2)
        answer = privacy.export_page(1, EMAIL, 1, actor="test")
    assert len(answer["data"]) == 1


def test_export_groups_client_quotes_invoices_and_hold(app, store_message):
    with app.app_context(), clock.frozen(T0):
        converted = store_message(EMAIL, at=T0)
        held = store_message(EMAIL, at=T0)
        client = messages.attach_to_client(converted, "test", {"siret": "73282932000074"})
        clients.add_quote(client.id, "D-1", T0, 12050, "accepted", actor="cli:test")
        invoice = clients.add_invoice(client.id, "F-1", T0, 12050, actor="cli:test")
        clients.record_payment(invoice.id, T0, "transfer", actor="cli:test")
        messages.hold(held, "menaces", "test")
        answer = privacy.export_page(1, EMAIL, 1, actor="test")
    groups = [item["group_id"] for item in answer["data"]]
    assert groups == ["contact-messages", "contact-messages", "client", "quotes", "invoices"]
    by_id = {item["item_id"]: item for item in answer["data"]}
    hold = {p["name"]: p["value"] for p in by_id[f"contact-{held}"]["data"]}
    assert hold["Conservation légale"].startswith("oui")
    assert hold["Conservé jusqu'au"] == "2031-03-02"
    assert "menaces" not in str(answer), "the reason of a hold stays internal"
    record = {p["name"]: p["value"] for p in by_id[f"client-{client.id}"]["data"]}
    assert record["SIRET"] == "73282932000074"
    assert record["Anonymisé le"] == "2029-03-02"
    bill = {p["name"]: p["value"] for p in by_id[f"invoice-{invoice.id}"]["data"]}
    assert bill["Montant (EUR)"] == "120.50" and bill["Conservé jusqu'au"] == "2046-03-02"


def test_export_in_english(database_url, secrets, store_message):
    from webhook_app import create_app

    app = create_app({**secrets, "DATABASE_URL": database_url, "LANGUAGE": "en"})
    with app.app_context():
        store_message(EMAIL)
        [item] = privacy.export_page(1, EMAIL, 1, actor="test")["data"]
        db.engine.dispose()
    assert item["group_label"] == "Contact messages"
    assert "Kept until" in [pair["name"] for pair in item["data"]]


def test_erase_250_messages_while_paging_skips_nothing(app, store_message):
    with app.app_context():
        for number in range(250):
            store_message(EMAIL, at=T0, message=f"message {number}")
        store_message("someone.else@example.fr")
        answers = [privacy.erase_page(1, EMAIL, page, actor="test") for page in (1, 2, 3)]
        left = db.session.scalar(
            db.select(db.func.count()).select_from(ContactMessage)
            .where(ContactMessage.email_index == email_index(EMAIL))
        )
        others = db.session.scalar(db.select(db.func.count()).select_from(ContactMessage))
    assert [a["done"] for a in answers] == [False, False, True]
    assert all(a["items_removed"] for a in answers)
    assert not any(a["items_retained"] for a in answers)
    assert left == 0 and others == 1


def test_erase_keeps_and_explains_legal_holds_and_invoices(app, store_message):
    with app.app_context(), clock.frozen(T0):
        plain = store_message(EMAIL)
        held = store_message(EMAIL)
        converted = store_message(EMAIL)
        messages.hold(held, "menaces", "test")
        client = messages.attach_to_client(converted, "test")
        clients.add_invoice(client.id, "F-1", T0, 5000, actor="cli:test")
        first = privacy.erase_page(1, EMAIL, 1, actor="site:default")
        assert db.session.get(ContactMessage, plain) is None
        assert db.session.get(ContactMessage, converted) is None
        assert db.session.get(ContactMessage, held) is not None
        record = db.session.get(Client, client.id)
        assert record.anonymised_at is not None and record.email_index is None
        assert record.personal["name"].startswith("ANONYMISED-")
        assert len(record.invoices) == 1 and record.invoices[0].amount_cents == 5000
        second = privacy.erase_page(1, EMAIL, 1, actor="site:default")
    assert first["items_removed"] and first["items_retained"] and first["done"]
    assert any("2031-03-02" in line and "1 message" in line for line in first["messages"])
    assert any("2046-03-02" in line and "1 facture" in line for line in first["messages"])
    assert second["items_removed"] is False and second["done"] is True
    assert len(second["messages"]) == 1 and "2031-03-02" in second["messages"][0]


def test_retained_items_are_explained_per_end_date(app, store_message):
    with app.app_context():
        first = store_message(EMAIL, at=T0)
        second = store_message(EMAIL, at=T0)
        with clock.frozen(T0):
            messages.hold(first, "menaces", "test")
        with clock.frozen(T0 + timedelta(days=40)):
            messages.hold(second, "menaces", "test")
        answer = privacy.erase_page(1, EMAIL, 1, actor="test")
    assert [line.split(" : ")[0] for line in answer["messages"]] == [
        "1 message(s) conservé(s) jusqu'au 2031-03-02",
        "1 message(s) conservé(s) jusqu'au 2031-04-11",
    ]


def test_erase_finds_a_client_whose_address_was_corrected(app, store_message):
    with app.app_context(), clock.frozen(T0):
        message = store_message(EMAIL)
        client = messages.attach_to_client(message, "test")
        clients.rectify(client.id, {"email": "jeanne@newco.example"}, "cli:test")
        answer = privacy.erase_page(1, EMAIL, 1, actor="test")
        assert answer["items_removed"] and answer["done"]
        assert db.session.get(ContactMessage, message) is None
        assert db.session.get(Client, client.id).anonymised_at is not None


def test_export_answers_are_not_kept_but_replays_still_answer(app, send):
    with clock.frozen(T0):
        send("/v1/contact", {"name": "Jeanne", "email": EMAIL, "message": "Bonjour secret"})
        first = send("/v1/privacy/export", {"email": EMAIL, "page": 1}, msg_id="msg_export")
        again = send("/v1/privacy/export", {"email": EMAIL, "page": 1}, msg_id="msg_export")
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    with app.app_context():
        kept = db.session.get(IdempotencyKey, (1, "msg_export"))
        assert kept is not None and kept.response is None


def test_second_erase_says_nothing_left(app, store_message):
    with app.app_context():
        store_message(EMAIL)
        assert privacy.erase_page(1, EMAIL, 1, actor="test")["items_removed"]
        again = privacy.erase_page(1, EMAIL, 1, actor="test")
    assert again == {"items_removed": False, "items_retained": False,
                     "messages": ["Aucune donnée à effacer pour cette adresse."], "done": True}


def test_erase_and_export_are_audited_without_the_address(app, send):
    with clock.frozen(T0):
        send("/v1/contact", {"name": "Jeanne", "email": EMAIL, "message": "Bonjour"})
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
        send("/v1/privacy/erase", {"email": EMAIL, "page": 1})
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        raw = str(db.session.execute(text("SELECT * FROM audit_log")).all())
        index = email_index(EMAIL)
    assert [(e.action, e.actor, e.count) for e in entries] == [
        ("privacy.export", "site:default", 1), ("privacy.erase", "site:default", 1)
    ]
    assert all(e.subject == index for e in entries)
    assert EMAIL not in raw and "Jeanne" not in raw


@pytest.mark.parametrize("path", ["/v1/privacy/export", "/v1/privacy/erase"])
@pytest.mark.parametrize(
    ("payload", "field"),
    [({"page": 1}, "email"), ({"email": "x@example.fr"}, "page"),
     ({"email": "x@example.fr", "page": 0}, "page"),
     ({"email": "x@example.fr", "page": "1"}, "page"),
     ({"email": "not an address", "page": 1}, "email"),
     ({"email": "x@example.fr", "page": 1, "extra": True}, "_schema")],
)
def test_privacy_requests_are_validated(send, path, payload, field):
    response = send(path, payload)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_privacy_request_limit_is_16_kib(send):
    response = send("/v1/privacy/export", {"email": "x@example.fr", "page": 1, "pad": "x" * 17000})
    assert response.status_code == 413


def test_rectify_message_moves_the_index_and_is_audited(app, store_message):
    with app.app_context():
        message_id = store_message(EMAIL)
        messages.rectify(message_id, {"email": "j.martin@example.org", "name": "J. M."},
                                actor="cli:test")
        message = db.session.get(ContactMessage, message_id)
        assert message.personal["email"] == "j.martin@example.org"
        assert message.personal["name"] == "J. M."
        assert message.email_index == email_index("J.Martin@example.org")
        assert privacy.export_page(1, EMAIL, 1, actor="test")["data"] == []
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "message.rectify"))
        assert entry.detail == "fields: email, name" and entry.record_ids == [message_id]
        with pytest.raises(messages.MessageError):
            messages.rectify(message_id, {"ip": "1.2.3.4"}, actor="cli:test")


def test_an_export_reads_only_the_persons_rows(sqlite_template, secrets, tmp_path):
    """On SQLite, the plans of an export's message queries go through the person's index, in
    its order: not every message of the site (its planner chose that one, ordered, before
    0014: 0.3 s for one address among a million messages)."""
    from webhook_app import create_app

    database = tmp_path / "gardien.db"
    shutil.copy(sqlite_template, database)
    app = create_app({**secrets, "DATABASE_URL": f"sqlite:///{database}"})
    with app.app_context():
        query = privacy._messages(privacy.Person.of(1, EMAIL))
        for statement in (query.limit(100), select(func.count()).select_from(
            query.order_by(None).subquery()
        )):
            compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = " ".join(row[-1] for row in db.session.execute(
                text(f"EXPLAIN QUERY PLAN {compiled}")
            ))
            assert "INDEX ix_contact_messages_site_email (site_id=? AND email_index=?)" in plan
            assert "TEMP B-TREE" not in plan, "no sort: the index gives the order"
        db.engine.dispose()
