"""The sites page: fingerprints and last deliveries, a secret shown once that signs, rotation
and retirement, disabling, removal behind its confirmation, refusals (both backends)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import post_form

from webhook_app import clock, messages, sites
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, ContactMessage, Site, SiteSecret

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECRET = re.compile(r"<code>(whsec_[A-Za-z0-9+/=]+)</code>")
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"


@pytest.fixture
def browser(app, client, make_manager, sign_in):
    """A signed-in manager's test client."""
    with clock.frozen(T0):
        account = make_manager()
        assert sign_in(client, account).status_code == 302
    client.account = account
    return client


def contact(name: str = "Jeanne Martin") -> dict:
    return {"name": name, "email": "jeanne@example.fr", "message": "Bonjour"}


def notices(answer, kind: str = "error") -> list[str]:
    return [html.unescape(text) for text in re.findall(
        rf'class="notice {kind}"[^>]*>([^<]*)<', answer.get_data(as_text=True))]


def audited(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(entry.action, entry.actor) for entry in db.session.scalars(
            db.select(AuditEntry).order_by(AuditEntry.id)) if entry.action.startswith("site.")]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/sites", "/sites/default/remove"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_the_list_shows_states_fingerprints_and_last_deliveries(app, browser, send):
    with app.app_context():
        sites.add("atelier")
        listed = {site.slug: site for site in sites.listing()}
        db.session.commit()
    with clock.frozen(T0):
        assert send("/v1/contact", contact()).status_code == 201
        text = browser.get("/sites").get_data(as_text=True)
    default_print = listed["default"].fingerprints[0].removesuffix(sites.CONFIGURED)
    for fingerprint in (default_print, *listed["atelier"].fingerprints):
        assert f"<code>{fingerprint}</code>" in text
    assert "whsec_" not in text, "no secret on the list"
    rows = dict(re.findall(r'<th scope="row">([a-z]+)</th>(.*?)</tr>', text, re.S))
    assert "2026-06-01 09:00 UTC" in rows["default"]
    assert "2026-06-01" not in rows["atelier"] and "activé" in rows["atelier"]


def test_a_new_site_s_secret_is_shown_once_and_signs(app, browser, send):
    with clock.frozen(T0):
        answer = post_form(browser, "/sites", {"slug": "atelier"}, page="/sites")
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        secret = SECRET.search(text)[1]
        assert "GARDIEN_WEBHOOK_SECRET" in text and "Réglages" in text
        assert "ancien secret" not in text, "a new site has no previous secret"
        assert secret not in browser.get("/sites").get_data(as_text=True)
        assert secret not in browser.get("/").get_data(as_text=True), "not flashed either"
        assert send("/v1/contact", contact(), site="atelier", secret=secret).status_code == 201
    with app.app_context():
        assert db.session.scalar(db.select(Site.id).where(Site.slug == "atelier"))
        with browser.session_transaction() as session:
            assert secret not in str(dict(session))


def test_rotation_shows_the_new_secret_once_then_the_old_one_is_retired(app, browser, send):
    with app.app_context():
        old = sites.add("atelier")
        db.session.commit()
    with clock.frozen(T0):
        answer = post_form(browser, "/sites/atelier/rotate", {}, page="/sites")
        new = SECRET.search(answer.get_data(as_text=True))[1]
        assert new != old and "ancien secret reste valide" in answer.get_data(as_text=True)
        for secret in (old, new):
            assert send("/v1/contact", contact(), site="atelier", secret=secret).status_code == 201
        with app.app_context():
            old_print = sites.fingerprint(old)[:sites.SHOWN_FINGERPRINT]
        assert new not in browser.get("/sites").get_data(as_text=True)
        answer = post_form(browser, "/sites/atelier/remove-secret", {"fingerprint": old_print},
                           page="/sites")
        assert answer.status_code == 302
        assert send("/v1/contact", contact(), site="atelier", secret=old).status_code == 401
        assert send("/v1/contact", contact(), site="atelier", secret=new).status_code == 201
        new_print = re.search(r"<code>([0-9a-f]{12})</code>",
                              browser.get("/sites").get_data(as_text=True).split("atelier")[1])
        refused = post_form(browser, "/sites/atelier/remove-secret",
                            {"fingerprint": new_print[1]}, page="/sites")
        assert refused.status_code == 302
        assert notices(browser.get("/sites")), "a site keeps at least one secret"
        assert send("/v1/contact", contact(), site="atelier", secret=new).status_code == 201


def test_a_secret_in_its_grace_period_says_until_when_then_that_it_expired(app, browser,
                                                                           sign_in):
    with app.app_context(), clock.frozen(T0):
        sites.add("boutique")
        old = db.session.scalar(
            db.select(SiteSecret.fingerprint).join(Site).where(Site.slug == "boutique"))
        sites.rotate("boutique", grace=timedelta(hours=4))
        db.session.commit()
    shown = old[:sites.SHOWN_FINGERPRINT]
    with clock.frozen(T0 + timedelta(hours=3)):
        sign_in(browser, browser.account)  # the morning's session has ended
        page = html.unescape(browser.get("/sites").get_data(as_text=True))
        grace = r"\(délai de grâce : signe jusqu’au 2026-06-01 13:00 UTC\)"
        assert re.search(shown + r"</code>\s*" + grace, page), page
    with clock.frozen(T0 + timedelta(hours=5)):
        sign_in(browser, browser.account)
        page = html.unescape(browser.get("/sites").get_data(as_text=True))
        assert re.search(shown + r"</code>\s*\(expiré le 2026-06-01 13:00 UTC : refusé\)", page)


def test_disabling_stops_deliveries_and_enabling_restores_them(app, browser, send):
    with app.app_context():
        secret = sites.add("atelier")
        db.session.commit()
    actor = f"manager:{browser.account.id}"
    with clock.frozen(T0):
        assert post_form(browser, "/sites/atelier/disable", {}, page="/sites").status_code == 302
        assert "désactivé" in browser.get("/sites").get_data(as_text=True)
        assert send("/v1/contact", contact(), site="atelier", secret=secret).status_code == 401
        post_form(browser, "/sites/atelier/disable", {}, page="/sites")
        assert notices(browser.get("/sites")), "disabled already"
        post_form(browser, "/sites/atelier/enable", {}, page="/sites")
        assert send("/v1/contact", contact(), site="atelier", secret=secret).status_code == 201
    assert audited(app) == [("site.disable", actor), ("site.enable", actor)]


def test_removal_needs_the_slug_typed_again_and_default_cannot_go(app, browser, send):
    with app.app_context():
        secret = sites.add("atelier")
        db.session.commit()
    with clock.frozen(T0):
        message_id = send("/v1/contact", contact(), site="atelier", secret=secret).get_json()["id"]
        with app.app_context():
            messages.hold(message_id, "menaces", "cli:test")
            db.session.commit()
        page = browser.get("/sites/atelier/remove").get_data(as_text=True)
        counts = dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', page))
        assert counts["Messages de contact"] == "1" and counts["Secrets"] == "1"
        assert counts["dont sous conservation judiciaire"] == "1"
        wrong = post_form(browser, "/sites/atelier/remove", {"confirm": "atelie"},
                          page="/sites/atelier/remove")
        assert wrong.headers["Location"] == "/sites/atelier/remove"
        assert notices(browser.get("/sites/atelier/remove"))
        with app.app_context():
            assert db.session.get(ContactMessage, message_id) is not None
        no_token = browser.post("/sites/atelier/remove", data={"confirm": "atelier"})
        assert no_token.status_code == 400
        gone = post_form(browser, "/sites/atelier/remove", {"confirm": "atelier"},
                         page="/sites/atelier/remove")
        assert gone.headers["Location"] == "/sites"
        assert send("/v1/contact", contact(), site="atelier", secret=secret).status_code == 401
        refused = browser.get("/sites/default/remove")
        assert refused.status_code == 302 and notices(browser.get("/sites"))
        post_form(browser, "/sites/default/remove", {"confirm": "default"}, page="/sites")
        assert notices(browser.get("/sites"))
    with app.app_context():
        assert db.session.get(ContactMessage, message_id) is None
        assert db.session.scalar(db.select(Site.id).where(Site.slug == "default"))
    assert [action for action, _ in audited(app)] == ["site.remove"]


@pytest.mark.parametrize("slug", ["Atelier", "", "a b", XSS, "default"])
def test_a_bad_or_taken_slug_is_refused_and_nothing_is_added(app, browser, slug):
    with clock.frozen(T0):
        answer = post_form(browser, "/sites", {"slug": slug}, page="/sites")
        assert answer.status_code == 302 and answer.headers["Location"] == "/sites"
        shown = browser.get("/sites")
    assert len(notices(shown)) == 1
    assert "<script>alert(1)" not in shown.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Site)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(SiteSecret)) == 0


def test_actions_without_their_token_are_refused(app, browser):
    with app.app_context():
        sites.add("atelier")
        db.session.commit()
    with clock.frozen(T0):
        for path in ("/sites", "/sites/atelier/rotate", "/sites/atelier/disable"):
            answer = browser.post(path, data={"slug": "other"})
            assert answer.status_code == 400
            assert "whsec_" not in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SiteSecret)) == 1
        assert db.session.scalar(db.select(Site.disabled_at).where(Site.slug == "atelier")) is None
