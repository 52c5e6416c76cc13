"""The walk-through, second half: the manager's everyday work in Chromium, on a fresh
database — search a message by e-mail, open it, flag it (and lift the flag), convert it to
a client, add an invoice, run an erasure for an address received by letter, read the
audit log, sign out. Every page on the way is checked (axe-core, phone width, console)
and photographed (test-output/dashboard/test_walkthrough_pages/).

Labels and button names are the English source strings (the context is English, locale
en-GB). Each step also checks the database, so a page that shows the right notice but
did nothing still fails.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from webhook_app.extensions import db
from webhook_app.models import AuditEntry, ContactMessage, Invoice

from .harness import (
    Pages,
    app_of,
    new_context,
    output_folder,
    set_up_first_manager,
    setup_link,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

EMAIL = "gerante@clic-et-cetera.fr"
PASSWORD = "une phrase de passe assez longue"
PAUL = {"name": "Paul Girard", "email": "paul.girard@example.fr", "company": "Girard SARL",
        "message": "Pouvez-vous passer mardi pour l'imprimante ?", "form": "contact"}
JEANNE = {"name": "Jeanne Martin", "email": "jeanne.martin@example.fr",
          "message": "Merci de supprimer mes données.", "form": "contact"}
# Accessible names (English source strings).
SEARCH_EMAIL = "E-mail address"
SEARCH = "Search"
REASON = "Reason"
FLAG = "Flag and keep for the authorities"
UNFLAG = "Lift the legal hold"
CONVERT = "Convert to a client"
ADD_INVOICE = "Add an invoice"


def test_walkthrough_pages(browser, axe_source, fresh_service, request):
    paul_id = _store(fresh_service, PAUL)
    jeanne_id = _store(fresh_service, JEANNE)
    app = app_of(fresh_service)
    context = new_context(browser)
    page = context.new_page()
    pages = Pages(page, fresh_service.url, app.url_map, output_folder(request.node.name),
                  axe_source)
    set_up_first_manager(pages, setup_link(fresh_service), EMAIL, PASSWORD)

    # Messages: search by exact e-mail (a POST: the address never sits in a URL).
    page.get_by_role("navigation").get_by_role("link", name="Messages").click()
    pages.check(name="03-messages")
    page.get_by_label(SEARCH_EMAIL, exact=True).fill(PAUL["email"])
    page.get_by_role("button", name=SEARCH, exact=True).click()
    page.wait_for_load_state("load")
    pages.check(name="04-messages-search")
    assert "paul" not in page.url.lower(), f"the address is in the URL: {page.url}"
    found = page.locator(f"main a[href$='/messages/{paul_id}']")
    assert found.count() >= 1, "Paul's message is not in the results"
    assert page.locator(f"main a[href$='/messages/{jeanne_id}']").count() == 0

    # Open it: decrypted, escaped, audited as a read.
    found.first.click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == f"/messages/{paul_id}"
    pages.check(name="05-message")
    text = page.inner_text("main")
    for value in (PAUL["name"], PAUL["email"], PAUL["company"], PAUL["message"]):
        assert value in text, value
    assert _audited(app, "message.read", paul_id)

    # Flag it as illegal content (a reason is required), then lift the flag.
    page.get_by_label(REASON, exact=True).fill("Menaces envers le gérant")
    page.get_by_role("button", name=FLAG, exact=True).click()
    page.wait_for_load_state("load")
    pages.check(name="06-message-flagged")
    assert page.get_by_role("status").count(), "no notice after flagging"
    assert _message(app, paul_id).legal_hold_at is not None
    page.get_by_role("button", name=UNFLAG, exact=True).click()
    page.wait_for_load_state("load")
    pages.check(name="07-message-unflagged")
    assert _message(app, paul_id).legal_hold_at is None

    # Convert it to a client: the page of the new client record follows.
    page.get_by_role("button", name=CONVERT, exact=True).click()
    page.wait_for_load_state("load")
    pages.check(name="08-client")
    client_id = _message(app, paul_id).client_id
    assert client_id is not None
    assert urlsplit(page.url).path == f"/clients/{client_id}"
    assert PAUL["name"] in page.inner_text("main")

    # Add an invoice (its form is folded under "Add an invoice").
    page.locator("summary", has_text=ADD_INVOICE).click()
    form = page.locator("details", has=page.locator("summary", has_text=ADD_INVOICE))
    form.get_by_label("Number").fill("F-2026-0042")
    form.get_by_label("Date").fill("2026-11-20")
    form.get_by_label("Amount in euros").fill("123.45")
    form.get_by_role("button", name="Add the invoice").click()
    page.wait_for_load_state("load")
    pages.check(name="09-invoice-added")
    assert "F-2026-0042" in page.inner_text("main")
    with app.app_context():
        invoice = db.session.scalar(db.select(Invoice).filter_by(number="F-2026-0042"))
        assert invoice is not None and invoice.client_id == client_id
        assert invoice.amount_cents == 12345
        db.session.remove()

    # An erasure for an address received by letter, from the privacy requests page.
    page.get_by_role("navigation").get_by_role("link", name="Privacy requests").click()
    pages.check(name="10-requests")
    page.get_by_role("link", name=re.compile("^Run an export or an erasure")).click()
    page.wait_for_load_state("load")
    pages.check(name="11-request-new")
    erasure = page.locator("form", has=page.get_by_role("heading", name="Erasure"))
    erasure.get_by_label(SEARCH_EMAIL).fill(JEANNE["email"])
    erasure.get_by_role("button", name="Erase").click()  # without the tick: refused
    page.wait_for_load_state("load")
    assert "Tick the box" in page.inner_text("main")
    assert _message(app, jeanne_id) is not None, "erased without confirmation"
    erasure.get_by_label(SEARCH_EMAIL).fill(JEANNE["email"])
    erasure.get_by_label(re.compile("^I confirm")).check()
    erasure.get_by_role("button", name="Erase").click()
    page.wait_for_load_state("load")
    pages.check(name="12-erasure-done")
    assert urlsplit(page.url).path.startswith("/requests/")
    assert _message(app, jeanne_id) is None, "Jeanne's message is still stored"
    assert JEANNE["email"] not in page.url

    # The audit log: what was done, by whom, never personal data.
    page.get_by_role("navigation").get_by_role("link", name=re.compile("audit", re.I)).click()
    pages.check(name="13-audit")
    log = page.inner_text("main")
    for action in ("message.read", "message.flag", "message.unflag", "message.to_client",
                   "client.read", "privacy.erase"):
        assert action in log, action
    for personal in (PAUL["email"], PAUL["name"], JEANNE["email"], JEANNE["name"],
                     "Menaces"):
        assert personal not in log, personal

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/login"
    pages.check(name="14-signed-out")
    context.close()
    pages.assert_clean()


def _store(service, submission: dict) -> str:
    answer = service.signed("POST", "/v1/contact", submission)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _message(app, message_id: str) -> ContactMessage | None:
    with app.app_context():
        message = db.session.get(ContactMessage, message_id)
        db.session.expunge_all()
        db.session.remove()
        return message


def _audited(app, action: str, record_id: str) -> bool:
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).filter_by(action=action)).all()
        found = any(record_id in (entry.record_ids or []) for entry in entries)
        db.session.remove()
        return found
