"""The data breaches pages: the register, recording and editing, the countdown on the
service clock, the workflow and its refusals, containment (the manager's own session
ends), the people's CSV, the letter, the authority's summary, the exports (both backends)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import post_form
from markupsafe import escape

from webhook_app import clock, sites
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Incident, Manager

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"


@pytest.fixture
def browser(app, client, make_manager, sign_in):
    with clock.frozen(T0):
        account = make_manager()
        assert sign_in(client, account).status_code == 302
    client.account = account
    return client


def notices(answer, kind: str = "error") -> list[str]:
    return [html.unescape(text) for text in re.findall(
        rf'class="notice {kind}"[^>]*>([^<]*)<', answer.get_data(as_text=True))]


def record(browser, **fields) -> int:
    data = {"nature": "Ordinateur volé " + XSS, "detected_at": "2026-06-01T07:00",
            "categories": ["contact"], "contact": "dpo@example.fr", **fields}
    with clock.frozen(T0):
        answer = post_form(browser, "/incidents/new", data)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def test_anonymous_visitors_are_sent_to_sign_in_and_actions_need_the_token(app, browser):
    anonymous = app.test_client()
    for path in ("/incidents", "/incidents/new", "/incidents/1", "/incidents.csv"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    with clock.frozen(T0):
        assert browser.post("/incidents/new", data={"nature": "x"}).status_code == 400
    with app.app_context():
        assert db.session.query(Incident).count() == 0


def test_record_shows_escaped_facts_and_the_countdown_on_the_service_clock(
        app, browser, sign_in):
    number = record(browser, detected_at="2026-06-01T05:30")
    with clock.frozen(T0):
        text = browser.get(f"/incidents/{number}").get_data(as_text=True)
        listing = browser.get("/incidents").get_data(as_text=True)
    assert XSS not in text and str(escape(XSS)) in text
    assert "2026-06-04 05:30 UTC" in text, "the deadline as an absolute time"
    assert "68 h 30 min" in text and "68 h 30 min" in listing
    assert 'http-equiv="refresh"' not in text
    with clock.frozen(T0 + timedelta(hours=80)):
        sign_in(browser, browser.account)
        late = browser.get(f"/incidents/{number}").get_data(as_text=True)
    assert "en retard" in late and "h 30 min" not in late


def test_edit_refusal_and_history(app, browser):
    number = record(browser)
    with clock.frozen(T0):
        refused = post_form(browser, f"/incidents/{number}/edit",
                            {"nature": "", "detected_at": "2026-06-01T07:00"},
                            page=f"/incidents/{number}/edit")
        assert refused.status_code == 400
        saved = post_form(browser, f"/incidents/{number}/edit",
                          {"nature": "Ordinateur volé", "detected_at": "2026-06-01T07:00",
                           "categories": ["contact"], "contact": "dpo@example.fr",
                           "measures": "Disque chiffré"}, page=f"/incidents/{number}/edit")
        assert saved.status_code == 302
        text = browser.get(f"/incidents/{number}").get_data(as_text=True)
    assert "measures, nature" in text and "Disque chiffré" in text
    with app.app_context():
        assert db.session.get(Incident, number).measures == "Disque chiffré"


def test_status_needs_the_delay_reasons_after_72_hours(app, browser, sign_in):
    number = record(browser)
    page = f"/incidents/{number}"
    with clock.frozen(T0):
        for status in ("assessed", "contained"):
            post_form(browser, f"{page}/status", {"status": status}, page=page)
    with clock.frozen(T0 + timedelta(hours=90)):
        sign_in(browser, browser.account)
        refused = post_form(browser, f"{page}/status",
                            {"status": "authority_notified", "reference": "CNIL-42",
                             "notified_at": "2026-06-05T00:00"}, page=page,
                            follow_redirects=True)
        assert any("délai" in notice or "retard" in notice for notice in notices(refused))
        with app.app_context():
            assert db.session.get(Incident, number).status == "contained"
        post_form(browser, f"{page}/status",
                  {"status": "authority_notified", "reference": "CNIL-42",
                   "notified_at": "2026-06-05T00:00", "delay_reasons": "Week-end"}, page=page)
        summary = browser.get(f"{page}/authority").get_data(as_text=True)
    assert "CNIL-42" in summary and "Week-end" in summary and "@media" not in summary
    with app.app_context():
        incident = db.session.get(Incident, number)
        assert incident.status == "authority_notified" and incident.authority_by


def test_contain_ends_the_own_session_and_shows_secrets_and_links_once(app, browser, send):
    with app.app_context():
        sites.add("atelier")
        db.session.commit()
    number = record(browser)
    page = f"/incidents/{number}"
    with clock.frozen(T0):
        answer = post_form(browser, f"{page}/contain",
                           {"rotate": ["atelier"], "grace_hours": "2"}, page=page)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        secret = re.search(r"<code>(whsec_[^<]+)</code>", text)[1]
        assert "/reset/" in text and browser.account.email in text
        assert browser.get(page).headers["Location"].startswith("/login")
    with app.app_context():
        manager = db.session.get(Manager, browser.account.id)
        assert manager.password_hash is None
        assert db.session.get(Incident, number).contain_at is not None
        assert "incident.contain" in {e.action for e in db.session.query(AuditEntry)}
    with clock.frozen(T0 + timedelta(hours=1)):
        body = {"name": "J", "email": "j@example.fr", "message": "x"}
        assert send("/v1/contact", body, site="atelier", secret=secret).status_code == 201


def test_people_csv_letter_and_exports(app, browser, store_message):
    with app.app_context():
        sites.add("atelier")
        db.session.commit()
        site_id = {slug: i for i, slug in sites.slugs().items()}["atelier"]
        store_message("=cmd@example.fr", at=T0 - timedelta(days=2), site_id=site_id)
        store_message("decoy@example.fr", at=T0 - timedelta(days=2), site_id=1)
    number = record(browser, consequences="Hameçonnage", measures="Secret changé")
    page = f"/incidents/{number}"
    with clock.frozen(T0):
        answer = post_form(browser, f"{page}/people.csv",
                           {"categories": ["contact"], "sites": ["atelier"],
                            "start": "2026-05-01T00:00", "end": "2026-06-01T09:00"}, page=page)
        assert answer.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
        assert rows[1:] == [["'=cmd@example.fr", "contact", "atelier"]]
        letter = browser.get(f"{page}/letter").get_data(as_text=True)
        exported = json.loads(browser.get("/incidents.json").get_data(as_text=True))
        register_csv = browser.get("/incidents.csv").get_data(as_text=True)
        listing = browser.get("/incidents").get_data(as_text=True)
    assert "Hameçonnage" in letter and "Secret changé" in letter and "dpo@example.fr" in letter
    assert "Likely consequences" in letter and "Conséquences probables" in letter
    assert exported["incidents"][0]["history"][0]["action"] == "record"
    assert "people_export" in register_csv
    assert 'href="/incidents.csv" download' in listing
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="incident.people_export").one()
        assert entry.count == 1 and "example" not in (entry.detail or "")
