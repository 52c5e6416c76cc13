"""The messages pages: list (nothing decrypted), filters, search by blind index, keyset
pages, the detail (audited), each action and its refusals, escaping (both backends)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import csrf_token, post_form
from sqlalchemy import func, select, text

from webhook_app import clock, messages, sites
from webhook_app.crypto import email_index, email_indexes
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, ContactMessage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMAIL = "jeanne.martin@example.fr"
PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
ROW = re.compile(r'href="/messages/([0-9a-f-]{36})"')


@pytest.fixture
def manager(client, make_manager, sign_in):
    """A signed-in manager's browser; its account is ``manager.account``."""
    account = make_manager()
    assert sign_in(client, account).status_code == 302
    client.account = account
    return client


def listed(answer) -> list[str]:
    """The ids of the messages a list page shows, in order."""
    return ROW.findall(answer.get_data(as_text=True))


def shown(client, path: str) -> str:
    """The page at ``path`` as text a reader sees (entities decoded)."""
    return html.unescape(client.get(path).get_data(as_text=True))


def get_message(app, message_id: str) -> ContactMessage | None:
    with app.app_context():
        message = db.session.get(ContactMessage, message_id)
        if message is not None:
            db.session.expunge(message)
        return message


def audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_anonymous_visitors_are_sent_to_sign_in(app, client, store_message):
    with app.app_context():
        message_id = store_message(EMAIL, at=T0)
    for path in ("/messages", f"/messages/{message_id}"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    answer = client.post(f"/messages/{message_id}/erase", data={"confirm": "y"})
    assert answer.status_code in (302, 400)
    assert get_message(app, message_id) is not None
    assert audits(app, "message.read") == []


def test_the_list_shows_no_personal_data_and_decrypts_nothing(app, manager, store_message,
                                                               monkeypatch):
    with app.app_context():
        plain = store_message(EMAIL, at=T0, company="Atelier Martin")
        held = store_message("paul@example.fr", at=T0 + timedelta(hours=1))
        converted = store_message("luc@example.fr", at=T0 + timedelta(hours=2))
        messages.hold(held, "menaces", "test")
        messages.attach_to_client(converted, "test")
        db.session.commit()
        stored = {token for row in db.session.execute(text(
            "SELECT personal, legal_hold_reason FROM contact_messages")) for token in row}
    decrypted = []
    from webhook_app import crypto

    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: decrypted.append(token) or real(token))
    answer = manager.get("/messages")
    assert answer.status_code == 200
    assert decrypted, "the signed-in manager's own record is read"
    assert stored.isdisjoint(decrypted), "the list must decrypt no message"
    body = answer.get_data(as_text=True)
    assert listed(answer) == [converted, held, plain], "newest first"
    for personal in (EMAIL, "Jeanne", "Atelier Martin", "menaces", "paul@", "luc@"):
        assert personal not in body
    assert plain[:8] in body and "default" in body and "2027-03-02" in body
    assert "Conservation légale" in body or "Legal hold" in body  # the badge, in text
    assert "Messages au contenu illégal" in body and "Données clients" in body
    assert answer.headers["Cache-Control"] == "no-store"
    assert audits(app, "message.read") == []


def test_filters_by_site_dates_and_hold(app, manager, runner, store_message):
    runner.invoke(args=["sites", "add", "shop"])
    with app.app_context():
        shop = next(i for i, slug in sites.slugs().items() if slug == "shop")
        early = store_message(EMAIL, at=T0)
        late = store_message(EMAIL, at=T0 + timedelta(days=3))
        elsewhere = store_message(EMAIL, at=T0 + timedelta(days=1), site_id=shop)
        messages.hold(early, "menaces", "test")
        db.session.commit()
    assert listed(manager.get(f"/messages?site={shop}")) == [elsewhere]
    assert listed(manager.get("/messages?site=1")) == [late, early]
    assert listed(manager.get("/messages?from=2026-03-03&to=2026-03-05")) == [late, elsewhere]
    assert listed(manager.get("/messages?to=2026-03-02")) == [early], "the end day is included"
    assert listed(manager.get("/messages?held=1")) == [early]
    assert listed(manager.get("/messages?held=1&site=" + str(shop))) == []
    bad = manager.get("/messages?from=yesterday")
    assert bad.status_code == 200 and len(listed(bad)) == 3
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)


def test_search_by_exact_address_never_puts_it_in_a_url(app, manager, store_message):
    with app.app_context():
        mine = [store_message(EMAIL, at=T0 + timedelta(hours=h)) for h in range(2)]
        store_message("someone.else@example.fr", at=T0)
        index = email_index(EMAIL)
    answer = post_form(manager, "/messages/search", {"email": " Jeanne.Martin@EXAMPLE.fr "},
                       page="/messages")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert "jeanne" not in location.lower() and "%40" not in location and "@" not in location
    assert parse_qs(urlsplit(location).query)["subject"][0] == index
    page = manager.get(location)
    assert listed(page) == mine[::-1]
    assert EMAIL not in page.get_data(as_text=True)
    refused = post_form(manager, "/messages/search", {"email": "jeanne"}, page="/messages")
    assert refused.status_code == 302 and "subject" not in refused.headers["Location"]
    assert "Saisissez une adresse e-mail complète." in shown(manager, "/messages")


def test_keyset_pages_of_fifty_newest_first_with_ties(app, manager, store_message):
    with app.app_context():
        # Pairs of messages received at the same instant: the id breaks the tie.
        stored = [store_message(f"p{n}@example.fr", at=T0 + timedelta(minutes=n // 2))
                  for n in range(120)]
        expected = [row.id for row in db.session.execute(
            select(ContactMessage.id).order_by(ContactMessage.received_at.desc(),
                                               ContactMessage.id.desc()))]
    assert set(expected) == set(stored)
    seen, path = [], "/messages"
    sizes = []
    while path:
        answer = manager.get(path)
        ids = listed(answer)
        sizes.append(len(ids))
        seen += ids
        found = re.search(r'href="([^"]+)" rel="next"', answer.get_data(as_text=True))
        path = html.unescape(found.group(1)) if found else None
    assert sizes == [50, 50, 20]
    assert seen == expected, "no message skipped or shown twice"
    assert listed(manager.get("/messages?after=garbage")) == expected[:50]


def test_the_list_seeks_on_an_index(app):
    """Each kind of page is an index seek in (received_at, id) order, never a sort of the
    table: the plan must name the index and have no sort step."""
    after = (T0, "ffffffff-ffff-ffff-ffff-ffffffffffff")
    cases = [
        (messages.Filters(), "ix_contact_messages_received"),
        (messages.Filters(site_id=1), "ix_contact_messages_site_received"),
        (messages.Filters(held=True), "ix_contact_messages_held"),
    ]
    with app.app_context():
        dialect = db.engine.dialect.name
        for filters, index in cases:
            statement = _listing_statement(filters, after)
            compiled = statement.compile(dialect=db.engine.dialect,
                                         compile_kwargs={"literal_binds": True})
            if dialect == "sqlite":
                plan = " ".join(str(row[-1]) for row in db.session.execute(
                    text(f"EXPLAIN QUERY PLAN {compiled}")))
                assert index in plan and "TEMP B-TREE" not in plan, plan
            else:
                # A near-empty table is cheaper to scan: ask whether the index can serve it.
                db.session.execute(text("SET LOCAL enable_seqscan = off"))
                db.session.execute(text("SET LOCAL enable_bitmapscan = off"))
                plan = " ".join(row[0] for row in db.session.execute(
                    text(f"EXPLAIN {compiled}")))
                assert index in plan and "Sort" not in plan, plan
            db.session.rollback()


def _listing_statement(filters, after):
    """The statement :func:`messages.listing` runs (captured, not executed)."""
    captured = []

    class Capture:
        def execute(self, statement):
            captured.append(statement)
            return []

    real = db.session
    try:
        messages.db.session = Capture()  # type: ignore[assignment]
        messages.listing(filters, after, 51)
    finally:
        messages.db.session = real
    return captured[0]


def test_the_detail_decrypts_and_is_audited(app, manager, send):
    with clock.frozen(T0):
        stored = send("/v1/contact", {"name": "Jeanne Martin", "email": EMAIL,
                                      "company": "Atelier Martin", "message": "Bonjour",
                                      "ip": "203.0.113.9", "page": "https://example.fr/contact/",
                                      "consent": True, "fields": {"phone": "0612"}})
    message_id = stored.get_json()["id"]
    answer = manager.get(f"/messages/{message_id}")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    for shown in ("Jeanne Martin", EMAIL, "Atelier Martin", "Bonjour", "203.0.113.9",
                  "https://example.fr/contact/", "0612", "2027-03-02"):
        assert shown in body
    assert answer.headers["Cache-Control"] == "no-store"
    [read] = audits(app, "message.read")
    assert read.record_ids == [message_id]
    assert read.actor == f"manager:{manager.account.id}"
    with app.app_context():
        assert read.subject == email_index(EMAIL) and read.site_id == 1
    assert manager.get("/messages/not-a-message").status_code == 404


@pytest.mark.parametrize("field, value", [
    ("name", PAYLOAD), ("company", PAYLOAD), ("message", PAYLOAD), ("form", PAYLOAD),
    ("fields", {"phone": PAYLOAD, PAYLOAD: "x"}),
    ("page", "https://example.fr/\"'><script>alert(1)</script>"),
])
def test_public_values_are_escaped(app, manager, send, field, value):
    submission = {"name": "Jeanne", "email": EMAIL, "message": "Bonjour", field: value}
    stored = send("/v1/contact", submission)
    assert stored.status_code == 201, stored.get_json()
    message_id = stored.get_json()["id"]
    for path in (f"/messages/{message_id}", "/messages"):
        body = manager.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body
        assert "<img src=x" not in body and "onerror=alert(1)>" not in body
        assert "\"'>" not in body, "no attribute is broken out of"
    detail = manager.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "<script>alert(1)</script>" in shown(manager, f"/messages/{message_id}")


def test_flag_needs_a_reason_then_unflag(app, manager, store_message):
    with app.app_context():
        message_id = store_message(EMAIL, at=T0)
    path = f"/messages/{message_id}"
    refused = post_form(manager, f"{path}/hold", {"reason": "   "}, page=path)
    assert refused.status_code == 302
    assert "une conservation légale doit être motivée" in shown(manager, path)
    assert get_message(app, message_id).legal_hold_at is None
    assert audits(app, "message.flag") == []

    post_form(manager, f"{path}/hold", {"reason": "menaces <b>"}, page=path)
    held = get_message(app, message_id)
    assert held.retention == "legal_hold" and held.legal_hold_by == f"manager:{manager.account.id}"
    flagged = held.legal_hold_at
    assert held.expires_at == flagged.replace(year=flagged.year + 5), "five years from the flag"
    page = manager.get(path).get_data(as_text=True)
    assert "menaces &lt;b&gt;" in page and held.expires_at.strftime("%Y-%m-%d") in page
    [flag] = audits(app, "message.flag")
    assert "menaces" not in f"{flag.detail} {flag.record_ids}"

    post_form(manager, f"{path}/release", {}, page=path)
    released = get_message(app, message_id)
    assert released.legal_hold_at is None and released.retention == "contact"
    again = post_form(manager, f"{path}/release", {}, page=path)
    assert again.status_code == 302
    assert len(audits(app, "message.unflag")) == 1
    assert "ce message n'est pas sous conservation légale" in shown(manager, path)


def test_actions_without_the_csrf_token_are_refused(app, manager, store_message):
    with app.app_context():
        message_id = store_message(EMAIL, at=T0)
    for action, data in (("hold", {"reason": "x"}), ("erase", {"confirm": "y"}),
                         ("client", {}), ("rectify", {"field": "name", "value": "X"}),
                         ("release", {})):
        answer = manager.post(f"/messages/{message_id}/{action}", data=data)
        assert answer.status_code == 400, action
    message = get_message(app, message_id)
    assert message.legal_hold_at is None and message.client_id is None
    assert message.personal["name"] == "Jeanne Martin"


def test_convert_to_a_client_with_extra_fields(app, manager, store_message):
    with app.app_context():
        message_id = store_message(EMAIL, at=T0, company="Atelier Martin")
    path = f"/messages/{message_id}"
    post_form(manager, f"{path}/client", {"siret": "1234"}, page=path)
    assert get_message(app, message_id).client_id is None, "a bad SIRET is refused"
    assert "le numéro SIRET n'est pas valide" in shown(manager, path)

    answer = post_form(manager, f"{path}/client", {"siret": "732 829 320 00074",
                                                   "role": "Gérante", "phone": "",
                                                   "address": ""}, page=path)
    converted = get_message(app, message_id)
    assert answer.headers["Location"] == f"/clients/{converted.client_id}"
    assert converted.client_id is not None and converted.expires_at is None
    with app.app_context():
        client = db.session.get(Client, converted.client_id)
        assert client.personal["siret"] == "73282932000074"
        assert client.personal["role"] == "Gérante"
        assert client.personal["company"] == "Atelier Martin"
    body = manager.get(path).get_data(as_text=True)
    assert converted.client_id[:8] in body and "Convertir en client" not in body
    assert f'href="/clients/{converted.client_id}"' in body
    refused = post_form(manager, f"{path}/hold", {"reason": "x"}, page=path)
    assert refused.status_code == 302 and get_message(app, message_id).legal_hold_at is None


def test_correct_a_field(app, manager, store_message):
    with app.app_context():
        message_id = store_message(EMAIL, at=T0)
    path = f"/messages/{message_id}"
    post_form(manager, f"{path}/rectify", {"field": "email", "value": "not an address"},
              page=path)
    assert get_message(app, message_id).personal["email"] == EMAIL
    post_form(manager, f"{path}/rectify", {"field": "ip", "value": "1.2.3.4"}, page=path)
    assert get_message(app, message_id).personal.get("ip") is None

    post_form(manager, f"{path}/rectify", {"field": "email", "value": "jeanne@atelier.fr"},
              page=path)
    corrected = get_message(app, message_id)
    assert corrected.personal["email"] == "jeanne@atelier.fr"
    with app.app_context():
        assert corrected.email_index == email_indexes("jeanne@atelier.fr")[0]
    [entry] = audits(app, "message.rectify")
    assert entry.detail == "fields: email" and "atelier" not in str(entry.record_ids)


def test_erase_one_message(app, manager, store_message):
    with app.app_context():
        message_id = store_message(EMAIL, at=T0)
        other = store_message(EMAIL, at=T0)
    path = f"/messages/{message_id}"
    unconfirmed = post_form(manager, f"{path}/erase", {}, page=path)
    assert unconfirmed.headers["Location"] == path
    assert get_message(app, message_id) is not None

    answer = post_form(manager, f"{path}/erase", {"confirm": "y"}, page=path)
    assert answer.status_code == 302 and answer.headers["Location"] == "/messages"
    assert get_message(app, message_id) is None and get_message(app, other) is not None
    [entry] = audits(app, "message.erase")
    assert entry.record_ids == [message_id] and entry.actor == f"manager:{manager.account.id}"
    with app.app_context():
        assert entry.subject == email_index(EMAIL)
    assert "Le message est effacé." in shown(manager, "/messages")
    assert manager.get(path).status_code == 404


def test_erase_refuses_held_and_client_messages(app, manager, store_message):
    with app.app_context():
        held = store_message(EMAIL, at=T0)
        converted = store_message("luc@example.fr", at=T0)
        messages.hold(held, "menaces", "test")
        messages.attach_to_client(converted, "test")
        db.session.commit()
    for message_id in (held, converted):
        path = f"/messages/{message_id}"
        # The form is not offered; sent anyway, the domain refuses it.
        assert "/erase" not in manager.get(path).get_data(as_text=True)
        token = csrf_token(manager, path)
        answer = manager.post(f"{path}/erase", data={"csrf_token": token, "confirm": "y"})
        assert answer.status_code == 302 and answer.headers["Location"] == path
        assert get_message(app, message_id) is not None
        refusal = ("ce message est sous conservation légale : levez-la d'abord"
                   if message_id == held else "ce message appartient à une fiche client")
        assert refusal in shown(manager, path)
    assert audits(app, "message.erase") == []


def test_the_command_line_erases_with_the_same_rule(app, runner, store_message):
    with app.app_context():
        held = store_message(EMAIL, at=T0)
        plain = store_message(EMAIL, at=T0)
        messages.hold(held, "menaces", "test")
        db.session.commit()
    refused = runner.invoke(args=["messages", "erase", held, "--yes"])
    assert refused.exit_code == 1 and "legal hold" in refused.output
    assert get_message(app, held) is not None
    asked = runner.invoke(args=["messages", "erase", plain], input="n\n")
    assert asked.exit_code != 0 and get_message(app, plain) is not None
    erased = runner.invoke(args=["messages", "erase", plain, "--yes"])
    assert erased.exit_code == 0 and f"message {plain} erased" in erased.output
    assert get_message(app, plain) is None
    [entry] = audits(app, "message.erase")
    assert entry.actor.startswith("cli:")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 1
