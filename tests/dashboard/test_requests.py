"""Privacy requests: recorded from the signed API page by page, listed by blind index,
decrypted on the detail page (audited), run by a manager (export downloaded, erasure),
purged on the clock, covered by key rotation (both backends)."""

from __future__ import annotations

import html
import json
import re
import secrets as random
from datetime import UTC, datetime, timedelta

import pytest
from conftest import post_form
from flask import Flask
from sqlalchemy import select, text

from webhook_app import clients, clock, create_app, keys, messages, privacy_requests, retention
from webhook_app.crypto import email_index
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, ContactMessage, PrivacyRequest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMAIL = "jeanne.martin@example.fr"
PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
ROW = re.compile(r'href="/requests/(\d+)"')


@pytest.fixture
def manager(client, make_manager, sign_in):
    """A signed-in manager's browser; its account is ``manager.account``."""
    account = make_manager()
    assert sign_in(client, account).status_code == 302
    client.account = account
    return client


def shown(client, path: str) -> str:
    """The page at ``path`` as text a reader sees (entities decoded)."""
    return html.unescape(client.get(path).get_data(as_text=True))


def requests_of(app: Flask) -> list[PrivacyRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)))
        for row in rows:
            _ = row.personal
            db.session.expunge(row)
        return rows


def audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def count_messages(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(ContactMessage.id)).all())


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/requests", "/requests/1", "/requests/new"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_the_pages_of_a_wordpress_export_make_one_record(app, send, store_message):
    with app.app_context():
        for minute in range(150):
            store_message(EMAIL, at=T0 + timedelta(minutes=minute))
    with clock.frozen(T0 + timedelta(days=1)):
        answers = [send("/v1/privacy/export", {"email": EMAIL, "page": page}).get_json()
                   for page in (1, 2)]
    assert [answer["done"] for answer in answers] == [False, True]
    [row] = requests_of(app)
    assert (row.kind, row.pages, row.items, row.done) == ("export", 2, 150, True)
    assert row.requested_by == "site:default" and row.site_id == 1
    assert row.personal == {"email": EMAIL} and not row.items_retained
    assert row.started_at == row.finished_at == T0 + timedelta(days=1)
    assert row.expires_at == datetime(2029, 3, 3, 9, tzinfo=UTC), "three years"
    with app.app_context():
        assert row.email_index == email_index(EMAIL)

    with clock.frozen(T0 + timedelta(days=2)):
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
    assert [row.pages for row in requests_of(app)] == [2, 1], "page 1 starts a new request"


def test_a_wordpress_erasure_keeps_its_record_but_not_the_address(app, send, store_message):
    with app.app_context():
        held = store_message(EMAIL, at=T0)
        store_message(EMAIL, at=T0)
        converted = store_message(EMAIL, at=T0)
        messages.hold(held, "menaces", "test")
        client = messages.attach_to_client(converted, "test")
        clients.add_invoice(client.id, "F-1", T0, 12050, actor="cli:test")
        db.session.commit()
    with clock.frozen(T0 + timedelta(days=1)):
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
        erased = send("/v1/privacy/erase", {"email": EMAIL, "page": 1}).get_json()
    assert erased["done"] and erased["items_retained"]
    export, erasure = requests_of(app)
    assert erasure.kind == "erase" and erasure.done and erasure.items == 2  # message, client
    assert erasure.items_retained and erasure.explanations == erased["messages"]
    assert erasure.personal is None and export.personal is None, "the address is erased"
    assert erasure.email_index == export.email_index, "the blind index remains, as proof"


def test_the_list_names_people_by_blind_index_and_decrypts_nothing(app, manager, send,
                                                                     monkeypatch):
    with clock.frozen(T0):
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
        send("/v1/privacy/erase", {"email": "paul@example.fr", "page": 1})
    with app.app_context():
        stored = {token for (token,) in db.session.execute(
            text("SELECT personal FROM privacy_requests")) if token}
        index = email_index(EMAIL)
    assert stored
    from webhook_app import crypto

    decrypted: list[str] = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: decrypted.append(token) or real(token))
    answer = manager.get("/requests")
    assert answer.status_code == 200 and stored.isdisjoint(decrypted)
    body = answer.get_data(as_text=True)
    assert EMAIL not in body and "paul@" not in body
    assert index[:12] in body and index not in body
    assert "site:default" in body and answer.headers["Cache-Control"] == "no-store"
    assert len(ROW.findall(body)) == 2
    assert len(ROW.findall(manager.get("/requests?kind=erase").get_data(as_text=True))) == 1
    found = post_form(manager, "/requests/search", {"email": EMAIL.upper()}, page="/requests")
    assert "@" not in found.headers["Location"] and index in found.headers["Location"]
    assert len(ROW.findall(manager.get(found.headers["Location"]).get_data(as_text=True))) == 1
    assert audits(app, "privacy_request.read") == []


def test_the_detail_decrypts_the_address_and_is_audited(app, manager, send):
    with clock.frozen(T0):
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
    [row] = requests_of(app)
    page = shown(manager, f"/requests/{row.id}")
    assert EMAIL in page and "2029-03-02" in page
    [read] = audits(app, "privacy_request.read")
    assert read.record_ids == [str(row.id)] and read.actor == f"manager:{manager.account.id}"
    assert read.subject == row.email_index and EMAIL not in str(read.detail)
    assert manager.get("/requests/999999").status_code == 404


def test_a_manager_downloads_an_export_as_json_and_html(app, manager, send):
    with clock.frozen(T0):
        stored = send("/v1/contact", {"name": PAYLOAD, "email": EMAIL, "company": PAYLOAD,
                                      "message": PAYLOAD, "ip": "203.0.113.9"})
    message_id = stored.get_json()["id"]
    answer = post_form(manager, "/requests/export",
                       {"export-site": "1", "export-email": EMAIL, "export-format": "json"},
                       page="/requests/new")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "@" not in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    document = json.loads(answer.get_data(as_text=True))
    [item] = document["data"]
    assert item["item_id"] == f"contact-{message_id}"
    assert {"name": "Message", "value": PAYLOAD} in item["data"]
    [row] = requests_of(app)
    assert row.requested_by == f"manager:{manager.account.id}" and row.done
    assert row.items == 1 and document["request"] == row.id
    [export] = audits(app, "privacy.export")
    assert export.actor == f"manager:{manager.account.id}"

    page = post_form(manager, "/requests/export",
                     {"export-site": "1", "export-email": EMAIL, "export-format": "html"},
                     page="/requests/new")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Disposition"].endswith('.html"')
    body = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "203.0.113.9" in body


def test_a_manager_runs_an_erasure_after_confirming(app, manager, store_message):
    with app.app_context():
        for hour in range(3):
            store_message(EMAIL, at=T0 + timedelta(hours=hour))
        store_message("paul@example.fr", at=T0)
    form = {"erasure-site": "1", "erasure-email": EMAIL}
    unconfirmed = post_form(manager, "/requests/erase", form, page="/requests/new")
    assert unconfirmed.headers["Location"] == "/requests/new"
    assert count_messages(app) == 4 and requests_of(app) == []

    answer = post_form(manager, "/requests/erase", {**form, "erasure-confirm": "y"},
                       page="/requests/new")
    assert answer.status_code == 302
    [row] = requests_of(app)
    assert answer.headers["Location"] == f"/requests/{row.id}"
    assert count_messages(app) == 1
    assert row.kind == "erase" and row.done and row.items == 3 and row.personal is None
    assert row.requested_by == f"manager:{manager.account.id}"
    page = shown(manager, answer.headers["Location"])
    assert "L'effacement est fait." in page and EMAIL not in page
    [erase] = audits(app, "privacy.erase")
    assert erase.actor == f"manager:{manager.account.id}" and EMAIL not in str(erase.detail)


def test_a_manager_run_is_refused_without_token_or_with_a_bad_address(app, manager,
                                                                        store_message):
    with app.app_context():
        store_message(EMAIL, at=T0)
    answer = manager.post("/requests/erase", data={"erasure-site": "1", "erasure-email": EMAIL,
                                                   "erasure-confirm": "y"})
    assert answer.status_code == 400 and count_messages(app) == 1
    refused = post_form(manager, "/requests/erase", {"erasure-site": "1",
                                                     "erasure-email": "jeanne",
                                                     "erasure-confirm": "y"},
                        page="/requests/new")
    assert refused.headers["Location"] == "/requests/new"
    assert "l'adresse e-mail n'est pas valide" in shown(manager, "/requests/new")
    unknown_site = post_form(manager, "/requests/export", {"export-site": "7",
                                                           "export-email": EMAIL,
                                                           "export-format": "json"},
                             page="/requests/new")
    assert unknown_site.status_code == 302
    assert requests_of(app) == [] and count_messages(app) == 1
    assert audits(app, "privacy.erase") == [] and audits(app, "privacy.export") == []


def test_request_records_are_purged_at_the_end_of_their_period(app, send):
    with clock.frozen(T0):
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
    [row] = requests_of(app)
    with app.app_context():
        with clock.frozen(row.expires_at - timedelta(seconds=1)):
            before = retention.purge(row.expires_at - timedelta(seconds=1))
        assert before["privacy_request"] == 0
        with clock.frozen(row.expires_at):
            after = retention.purge(row.expires_at)
        assert after["privacy_request"] == 1
    assert requests_of(app) == []
    [chunk] = audits(app, "purge.privacy_request")
    assert chunk.record_ids == [str(row.id)]


def test_a_removed_site_takes_its_request_records(app, runner, send):
    secret = runner.invoke(args=["sites", "add", "shop"]).output.strip().splitlines()[-1]
    with clock.frozen(T0):
        assert send("/v1/privacy/export", {"email": EMAIL, "page": 1}, site="shop",
                    secret=secret).status_code == 200
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
    assert len(requests_of(app)) == 2
    removed = runner.invoke(args=["sites", "remove", "shop", "--yes"])
    assert removed.exit_code == 0 and "1 privacy_requests" in removed.output
    assert [row.site_id for row in requests_of(app)] == [1]


def test_key_rotations_cover_request_records(app, database_url, secrets, send):
    with clock.frozen(T0):
        send("/v1/privacy/export", {"email": EMAIL, "page": 1})
        send("/v1/privacy/erase", {"email": "paul@example.fr", "page": 1})
    with app.app_context():
        assert "privacy_requests" in {table.name for table in keys.encrypted_tables()}
        erased_index = email_index("paul@example.fr")
    new = random.token_urlsafe(32)
    rotating = create_app({**secrets, "INDEX_KEYS": f"{new},{secrets['INDEX_KEY']}",
                           "DATABASE_URL": database_url, "TESTING": True})
    with rotating.app_context():
        keys.rotate_index(chunk=1)
        fresh = email_index(EMAIL)
        db.engine.dispose()
    export, erasure = requests_of(app)
    assert export.email_index == fresh != erased_index
    assert erasure.email_index == erased_index, "no address to recompute it from: kept"
    assert privacy_requests.KINDS == ("export", "erase")


def test_a_replayed_erasure_adds_nothing_a_replayed_export_is_recorded(app, send):
    with clock.frozen(T0):
        for _ in range(2):
            send("/v1/privacy/erase", {"email": EMAIL, "page": 1}, msg_id="msg_erase")
            send("/v1/privacy/export", {"email": EMAIL, "page": 1}, msg_id="msg_export")
    kinds = [row.kind for row in requests_of(app)]
    assert kinds.count("erase") == 1, "the first answer is replayed: nothing runs again"
    assert kinds.count("export") == 2, "the export is answered again: a disclosure"


def test_requests_come_in_keyset_pages_of_fifty(app, manager, send):
    with clock.frozen(T0):  # all at the same instant: the id breaks the tie
        for number in range(55):
            send("/v1/privacy/export", {"email": f"p{number}@example.fr", "page": 1})
    first = manager.get("/requests").get_data(as_text=True)
    ids = [int(found) for found in ROW.findall(first)]
    more = re.search(r'href="([^"]+)" rel="next"', first)
    assert len(ids) == 50 and ids == sorted(ids, reverse=True) and more
    rest = [int(found) for found in ROW.findall(
        manager.get(html.unescape(more.group(1))).get_data(as_text=True))]
    assert len(rest) == 5 and set(ids).isdisjoint(rest)
    assert sorted(ids + rest) == [row.id for row in requests_of(app)]
