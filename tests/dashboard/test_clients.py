"""The clients pages: list, search, record (audited), the changes the CLI makes, refusals,
escaping, and an anonymisation date that is the purge's (both backends)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import post_form

from webhook_app import clients, clock, messages, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, Invoice, Quote

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
EMAIL = "jeanne.martin@example.fr"
SIRET = "73282932000074"


@pytest.fixture
def browser(app, client, make_manager, sign_in):
    """A signed-in manager's test client, on the service clock at T0."""
    with clock.frozen(T0):
        account = make_manager()
        assert sign_in(client, account).status_code == 302
    client.account = account
    return client


def add_client(app, name="Jeanne Martin", email=EMAIL, at=T0, **fields) -> str:
    with app.app_context(), clock.frozen(at):
        client = clients.add("default", {"name": name, "email": email, **fields}, "cli:test")
        db.session.commit()
        return client.id


def actions(app, actor: str) -> list[tuple[str, list]]:
    """What ``actor`` did to client records, in order (not signing in)."""
    with app.app_context():
        return [(entry.action, entry.record_ids) for entry in db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.actor == actor).order_by(AuditEntry.id))
            if not entry.action.startswith("manager.")]


def notices(answer) -> list[str]:
    return [html.unescape(text) for text in re.findall(
        r'class="notice error"[^>]*>([^<]*)<', answer.get_data(as_text=True))]


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    client_id = add_client(app)
    for path in ("/clients", "/clients/new", f"/clients/{client_id}"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    answer = client.post("/clients/search", data={"email": EMAIL})
    assert answer.status_code in (302, 400)
    assert EMAIL not in answer.headers.get("Location", "")


def test_the_list_puts_the_soonest_anonymised_first_and_pages_by_key(app, browser):
    ids = [add_client(app, f"Client {n:02d}", f"c{n}@example.fr", at=T0 - timedelta(days=n))
           for n in range(51)]
    with clock.frozen(T0):
        first = browser.get("/clients").get_data(as_text=True)
        names = re.findall(r"Client \d\d", first)
        assert names == [f"Client {n:02d}" for n in range(50, 0, -1)], "oldest activity first"
        following = re.search(r'href="(/clients\?after=[^"]+)"', first)[1]
        second = browser.get(html.unescape(following)).get_data(as_text=True)
        assert re.findall(r"Client \d\d", second) == ["Client 00"]
        assert not re.search(r'href="/clients\?after=', second), "the last page has no next"
    with app.app_context(), clock.frozen(T0):
        client = db.session.get(Client, ids[0])
        retention.anonymise([client], T0)
        db.session.commit()
    with clock.frozen(T0):
        assert "Client 00" not in browser.get("/clients").get_data(as_text=True)
        anonymised = browser.get("/clients?view=anonymised").get_data(as_text=True)
        assert "ANONYMISED-" in anonymised and "Client 01" not in anonymised


def test_search_by_address_is_posted_and_only_blind_indexes_reach_the_url(app, browser):
    add_client(app)
    add_client(app, "Paul Durand", "paul@example.fr")
    with clock.frozen(T0):
        answer = post_form(browser, "/clients/search", {"email": " Jeanne.Martin@Example.fr "},
                           page="/clients")
        location = answer.headers["Location"]
        assert answer.status_code == 302 and location.startswith("/clients?subject=")
        assert "jeanne" not in location.lower() and "example" not in location.lower()
        shown = browser.get(location).get_data(as_text=True)
    assert "Jeanne Martin" in shown and "Paul Durand" not in shown
    with app.app_context():
        assert not db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.detail.contains("jeanne"))), "no address in the audit log"


def test_a_record_is_decrypted_on_its_page_and_the_reading_is_audited(app, browser):
    client_id = add_client(app, company="Atelier Martin", siret=SIRET, role="gérante")
    with clock.frozen(T0):
        page = browser.get(f"/clients/{client_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for value in ("Jeanne Martin", "Atelier Martin", SIRET, "gérante", EMAIL):
        assert value in text
    assert actions(app, f"manager:{browser.account.id}") == [("client.read", [client_id])]
    with clock.frozen(T0):
        assert browser.get("/clients/no-such-client").status_code == 404


def test_the_anonymisation_date_shown_is_the_one_the_purge_keeps(app, browser, store_message,
                                                                  sign_in):
    with app.app_context():
        message_id = store_message(at=T0 - timedelta(days=10))
        client_id = messages.attach_to_client(message_id, "cli:test").id
        db.session.commit()
    with clock.frozen(T0):
        text = browser.get(f"/clients/{client_id}").get_data(as_text=True)
    shown = re.search(r"anonymisée le (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", text)
    assert shown, text
    assert "3 ans" in text and "dernière activité" in text
    assert f'href="/messages/{message_id}"' in text
    moment = datetime.strptime(shown[1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert moment == (T0 - timedelta(days=10)).replace(year=2029)
    with app.app_context(), clock.frozen(moment - timedelta(minutes=1)):
        retention.purge(clock.now())
        assert db.session.get(Client, client_id).anonymised_at is None
    with app.app_context(), clock.frozen(moment):
        retention.purge(clock.now())
        assert db.session.get(Client, client_id).anonymised_at is not None
    with clock.frozen(moment):
        sign_in(browser, browser.account)
        text = browser.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Anonymisée le" in text and "Jeanne" not in text
    assert "clients_add_quote" not in text and "/quotes\"" not in text, "no forms once anonymised"


def test_quotes_invoices_payments_and_reminders_are_added_and_corrected(app, browser):
    client_id = add_client(app, siret=SIRET)
    base = f"/clients/{client_id}"
    actor = f"manager:{browser.account.id}"

    def post(path, data):
        answer = post_form(browser, base + path, data, page=base)
        assert answer.status_code == 302 and answer.headers["Location"] == base
        assert notices(browser.get(base)) == []

    with clock.frozen(T0):
        post("/quotes", {"number": "D-1", "date": "2026-05-20", "amount": "1 234,50",
                         "status": "sent"})
        post("/invoices", {"number": "F-1", "date": "2026-05-25", "amount": "1234.5"})
        with app.app_context():
            quote_id = db.session.scalar(db.select(Quote.id))
            invoice_id = db.session.scalar(db.select(Invoice.id))
        post(f"/quotes/{quote_id}", {"number": "D-1b", "date": "2026-05-21", "amount": "99",
                                     "status": "accepted"})
        post(f"/invoices/{invoice_id}", {"number": "F-1b", "date": "2026-05-26",
                                         "amount": "2 000"})
        post(f"/invoices/{invoice_id}/reminder", {"date": "2026-06-10"})
        post(f"/invoices/{invoice_id}/payment", {"date": "2026-06-15", "method": "cheque"})
        post(f"/invoices/{invoice_id}/reminders", {"count": "2", "date": "2026-06-12"})
        post("/rectify", {"name": "Jeanne Martin-Durand", "company": "", "siret": SIRET,
                          "role": "", "phone": "", "email": EMAIL, "address": ""})
        page = browser.get(base).get_data(as_text=True)
    with app.app_context():
        quote, invoice = db.session.get(Quote, quote_id), db.session.get(Invoice, invoice_id)
        assert (quote.number, quote.amount_cents, quote.status) == ("D-1b", 9900, "accepted")
        assert (invoice.number, invoice.amount_cents) == ("F-1b", 200000)
        assert clock.as_utc(invoice.expires_at) == datetime(2046, 5, 26, tzinfo=UTC)
        assert (clock.as_utc(invoice.paid_on), invoice.payment_method) == (
            datetime(2026, 6, 15, tzinfo=UTC), "cheque")
        assert invoice.reminders_sent == 2
        client = db.session.get(Client, client_id)
        assert client.personal["name"] == "Jeanne Martin-Durand"
        assert client.personal["siret"] == SIRET
        assert clock.as_utc(client.anonymise_at) == datetime(2029, 6, 15, tzinfo=UTC)
    assert "2046-05-26" in page and "2029-06-15" in page, "the invoice's own end date is shown"
    assert "2000,00" in page.replace("\u202f", "").replace("\xa0", "")
    assert [action for action, _ in actions(app, actor) if action != "client.read"] == [
        "quote.add", "invoice.add", "quote.edit", "invoice.edit", "invoice.reminder",
        "invoice.payment", "invoice.reminders", "client.rectify"]
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).where(
            AuditEntry.action == "client.rectify"))
        assert entry.detail == "fields: name", "only the fields that changed"


@pytest.mark.parametrize(("path", "data", "refusal"), [
    ("/rectify", {"siret": "73282932000075"}, "SIRET"),
    ("/quotes", {"number": "D-1", "date": "2026-05-20", "amount": "12,345", "status": "sent"},
     "montant"),
    ("/quotes", {"number": "D-1", "date": "2026-05-20", "amount": "-3", "status": "sent"},
     "montant"),
    ("/invoices", {"number": "F-1", "date": "20/05/2026", "amount": "12"}, "date"),
    ("/invoices", {"number": "", "date": "2026-05-20", "amount": "12"}, "numéro"),
])
def test_refusals_are_flashed_and_change_nothing(app, browser, path, data, refusal):
    client_id = add_client(app)
    base = f"/clients/{client_id}"
    with app.app_context():
        before = db.session.get(Client, client_id).personal
    with clock.frozen(T0):
        answer = post_form(browser, base + path, data, page=base)
        assert answer.status_code == 302
        shown = notices(browser.get(base))
    assert len(shown) == 1 and refusal in shown[0], shown
    with app.app_context():
        assert db.session.get(Client, client_id).personal == before
        assert db.session.scalar(db.select(db.func.count()).select_from(Quote)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Invoice)) == 0
    assert [action for action, _ in actions(app, f"manager:{browser.account.id}")
            if action != "client.read"] == []


def test_a_form_without_its_token_is_refused(app, browser):
    client_id = add_client(app)
    with clock.frozen(T0):
        answer = browser.post(f"/clients/{client_id}/quotes", data={
            "number": "D-1", "date": "2026-05-20", "amount": "12", "status": "sent"})
        assert answer.status_code == 400
        answer = browser.post("/clients/new", data={"site": "default", "name": "X"})
        assert answer.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Quote)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 1


def test_an_invoice_of_another_client_is_not_reached_through_this_one(app, browser):
    mine, other = add_client(app), add_client(app, "Paul", "paul@example.fr")
    with app.app_context(), clock.frozen(T0):
        invoice_id = clients.add_invoice(other, "F-9", T0, 100, actor="cli:test").id
        db.session.commit()
    with clock.frozen(T0):
        answer = post_form(browser, f"/clients/{mine}/invoices/{invoice_id}/payment",
                           {"date": "2026-06-01", "method": "card"}, page=f"/clients/{mine}")
    assert answer.status_code == 404
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).paid_on is None


def test_a_client_is_added_by_hand(app, browser):
    with clock.frozen(T0):
        answer = post_form(browser, "/clients/new", {
            "site": "default", "name": "Atelier Martin", "email": "atelier@example.fr",
            "siret": SIRET, "company": "", "role": "", "phone": "", "address": ""})
        assert answer.status_code == 302
        refused = post_form(browser, "/clients/new", {"site": "default", "name": "X",
                                                      "siret": "123"})
        assert refused.headers["Location"] == "/clients/new"
        assert notices(browser.get("/clients/new"))
    with app.app_context():
        [client] = db.session.scalars(db.select(Client)).all()
        assert answer.headers["Location"] == f"/clients/{client.id}"
        assert client.personal["siret"] == SIRET
        assert clock.as_utc(client.anonymise_at) == T0.replace(year=2029)
    assert [action for action, _ in actions(app, f"manager:{browser.account.id}")] == [
        "client.add"]


def test_names_and_companies_are_shown_escaped(app, browser, store_message):
    typed = add_client(app, XSS, "x@example.fr", company=XSS)
    with app.app_context():
        sent = messages.attach_to_client(store_message(name=XSS, company=XSS), "cli:test").id
        db.session.commit()
    with clock.frozen(T0):
        pages = [browser.get(path).get_data(as_text=True)
                 for path in ("/clients", f"/clients/{typed}", f"/clients/{sent}")]
    for text in pages:
        assert "<script>alert(1)" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x" in text
    assert pages[0].count("&lt;script&gt;") == 4, "name and company of both records"
