"""The policy page: the notice's table, the purges, and a dry run that deletes nothing and
counts what the real purge then deletes."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from conftest import post_form
from markupsafe import escape
from sqlalchemy import func, select

from webhook_app import clock, messages, notice, policy, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, ContactMessage, IdempotencyKey

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def text(body: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def dry_run_counts(body: str) -> dict[str, str]:
    """Rule label → count, from the dry run's table."""
    table = re.search(r'<caption id="dry-run">.*?</table>', body, re.S)
    assert table, "no dry run table"
    return {html.unescape(label): count for label, count in re.findall(
        r'<th scope="row">(.*?)</th><td class="number">(\d+)</td>', table.group(0))}


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/policy").status_code == 302
    # Even with a token (from the sign-in page), an anonymous dry run goes to sign-in.
    response = post_form(client, "/policy/dry-run", {}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_table_is_the_notice_s(app, client, make_manager, sign_in):
    account = make_manager()
    sign_in(client, account)
    body = client.get("/policy").get_data(as_text=True)
    with app.app_context():
        every = notice.entries(policy.current(), "fr", unpublished=True)
        public = notice.published(policy.current(), "fr")["categories"]
    assert {entry["key"] for entry in public} < {entry["key"] for entry in every}
    for entry in every:
        # Each value the notice publishes, escaped as the notice would write it.
        for value in (entry["label"], entry["purpose"], entry["legal_basis"],
                      entry["period_label"], notice.STARTS["fr"][entry["starts"]],
                      notice.AT_END["fr"][entry["at_end"]], *entry["data"]):
            assert str(escape(value)) in body, value
    # The purpose states the period from the file, never from prose.
    assert "l'entreprise a choisi 20 ans" in text(body)
    for heading in notice.HEADINGS["fr"]:
        assert f'<th scope="col">{escape(heading)}</th>' in body
    # The categories the public notice leaves out are marked.
    assert text(body).count("Non (registre interne)") == len(every) - len(public)


def test_english_wording_is_the_english_notice_s(app, client, make_manager, sign_in):
    account = make_manager()
    sign_in(client, account)
    post_form(client, "/language", {"language": "en", "back": "/policy"}, page="/policy")
    body = client.get("/policy").get_data(as_text=True)
    assert "the company chose 20 years" in text(body)
    assert "from the last activity (message, quote, invoice, payment)" in text(body)


def test_dry_run_deletes_nothing_and_counts_what_the_purge_deletes(app, client, send,
                                                                   make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        ids = [send("/v1/contact", {"name": f"P {n}", "email": f"p{n}@example.fr",
                                    "message": "Bonjour"}).get_json()["id"] for n in range(3)]
    with app.app_context():
        with clock.frozen(T0):
            messages.hold(ids[0], "contenu illicite", "cli:test")
            db.session.commit()
    later = policy.load()[policy.CONTACT].expires(T0) + timedelta(days=1)
    with clock.frozen(later):
        sign_in(client, account)
        with app.app_context():
            before = (count(ContactMessage), count(IdempotencyKey), count(AuditEntry))
        response = post_form(client, "/policy/dry-run", {}, page="/policy")
        assert response.status_code == 302
        assert response.headers["Location"] == "/policy"
        body = client.get("/policy").get_data(as_text=True)
        with app.app_context():
            # Nothing deleted, nothing audited.
            assert (count(ContactMessage), count(IdempotencyKey), count(AuditEntry)) == before
            labels = {key: c.label["fr"] for key, c in policy.current().categories.items()}
        shown = dry_run_counts(body)
        assert "Essai à blanc effectué : rien n'a été supprimé." in text(body)
        assert shown[labels[policy.CONTACT]] == "2"
        assert shown[labels[policy.LEGAL_HOLD]] == "0"
        assert shown[labels[policy.IDEMPOTENCY_KEY]] == "3"
        # The real purge then deletes exactly what the dry run counted, rule by rule.
        with app.app_context():
            done = retention.purge(clock.now())
        assert done is not None
        french = {**labels, "stats_day": "Jours de totaux de visite",
                  "stats_salt": "Sels quotidiens des empreintes de visiteur"}
        assert shown == {french[rule]: str(deleted) for rule, deleted in done.items()}
        # Shown once: the next visit has no stale dry run.
        assert 'id="dry-run"' not in client.get("/policy").get_data(as_text=True)


def test_dry_run_needs_the_form_s_token(app, client, make_manager, sign_in):
    account = make_manager()
    sign_in(client, account)
    response = client.post("/policy/dry-run")
    assert response.status_code == 400
    assert 'id="dry-run"' not in client.get("/policy").get_data(as_text=True)


def test_dry_run_while_a_purge_runs_says_so(app, client, make_manager, sign_in, monkeypatch):
    account = make_manager()
    sign_in(client, account)
    monkeypatch.setattr(retention, "purge", lambda now, dry_run=False: None)
    post_form(client, "/policy/dry-run", {}, page="/policy")
    body = client.get("/policy").get_data(as_text=True)
    assert "Une purge est en cours ; réessayez dans un instant." in text(body)
    assert 'id="dry-run"' not in body


def test_purges_last_and_next_on_the_policy_page(app, client, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        sign_in(client, account)
        assert "Jamais" in text(client.get("/policy").get_data(as_text=True))
        with app.app_context():
            retention.purge(clock.now())
        body = text(client.get("/policy").get_data(as_text=True))
    assert f"Dernière exécution {T0:%Y-%m-%d %H:%M} UTC" in body
    assert f"Prochaine exécution {T0.date() + timedelta(days=1)} 03:30 UTC" in body


def test_navigation_order(app, client, make_manager, sign_in):
    account = make_manager()
    sign_in(client, account)
    nav = re.search(r"<nav aria-label[^>]*>(.*?)</nav>", client.get("/").get_data(as_text=True),
                    re.S).group(1)
    links = re.findall(r'<a href="([^"]+)"', nav)
    assert links.index("/") < links.index("/policy") < links.index("/audit")


def test_in_nav_keeps_the_order_keys_whatever_the_import_order(monkeypatch):
    from webhook_app.dashboard import blueprint

    monkeypatch.setattr(blueprint, "NAV", [])
    monkeypatch.setattr(blueprint, "_NAV_ORDER", {})
    blueprint.in_nav("audit", "Audit", 70)
    blueprint.in_nav("overview", "Overview", 10)
    blueprint.in_nav("later", "Later")
    blueprint.in_nav("policy", "Policy", 50)
    assert [endpoint for endpoint, _ in blueprint.NAV] == ["overview", "policy", "audit", "later"]
