"""The overview: its numbers are the database's, its window moves with the clock, and it
says what needs attention."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from conftest import PASSWORD
from markupsafe import escape
from sqlalchemy import func, select

from webhook_app import clients, clock, managers, messages, policy, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, ContactMessage, Invoice
from webhook_app.overview import ending

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LABELS = {key: category.label["fr"] for key, category in policy.load().categories.items()}


def submission(n: int) -> dict:
    return {"name": f"Personne {n}", "email": f"personne{n}@example.fr", "message": "Bonjour"}


def section(body: str, name: str) -> str:
    """The part of the page labelled by the heading ``name`` (its id)."""
    found = re.search(rf'<section[^>]*aria-labelledby="{name}">(.*?)</section>', body, re.S)
    assert found, f"no section {name}"
    return found.group(1)


def row(body: str, label: str) -> list[str]:
    """The cells of the table row headed ``label`` (text only)."""
    found = re.search(r'<th scope="row">' + re.escape(str(escape(label))) + r"</th>(.*?)</tr>",
                      body, re.S)
    assert found, f"no row {label!r}"
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def text(body: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def overview(client, account, sign_in) -> str:
    sign_in(client, account)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_counts_per_category_are_the_database_s(app, client, send, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        ids = [send("/v1/contact", submission(n)).get_json()["id"] for n in range(5)]
        with app.app_context():
            messages.hold(ids[0], "contenu illicite", "cli:test")
            messages.hold(ids[1], "contenu illicite", "cli:test")
            client_record = messages.attach_to_client(ids[2], "cli:test")
            clients.add_invoice(client_record.id, "F-1", T0, 12_000, actor="cli:test")
            other = messages.attach_to_client(ids[3], "cli:test")
            retention.anonymise([other], T0)
            db.session.commit()
            expected_contact = db.session.scalar(
                select(func.count()).select_from(ContactMessage)
                .where(ContactMessage.retention == policy.CONTACT))
            assert expected_contact == 1
        body = overview(client, account, sign_in)
        with app.app_context():
            audit_count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    kept = section(body, "kept")
    assert row(kept, LABELS[policy.CONTACT])[0] == "1"
    assert row(kept, LABELS[policy.LEGAL_HOLD])[0] == "2"
    assert row(kept, LABELS[policy.CLIENT])[:2] == ["2", "1 actif(s), 1 anonymisé(s)"]
    assert row(kept, LABELS[policy.INVOICE])[0] == "1"
    # Five signed requests left five idempotency keys; audit entries as the log holds them.
    assert row(kept, LABELS[policy.IDEMPOTENCY_KEY])[0] == "5"
    assert row(kept, LABELS[policy.AUDIT])[0] == str(audit_count)
    assert "2 messages sous conservation légale." in text(body)


def test_every_category_of_the_policy_file_is_shown(app, client, make_manager, sign_in):
    account = make_manager()
    body = section(overview(client, account, sign_in), "kept")
    for key in policy.load().categories:
        row(body, LABELS[key])


def test_the_thirty_day_window_moves_with_the_clock(app, client, send, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        send("/v1/contact", submission(1))
    ends = policy.load()[policy.CONTACT].expires(T0)
    label = LABELS[policy.CONTACT]

    with clock.frozen(ends - timedelta(days=40)):
        assert row(section(overview(client, account, sign_in), "ending"), label)[-1] == "0"
    with clock.frozen(ends - timedelta(days=20)):
        body = section(overview(client, account, sign_in), "ending")
        # The third week from today holds it: days 14 to 20.
        assert row(body, label)[1:] == ["0", "0", "1", "0", "0", "1"]
        with app.app_context():
            assert {e.rule: e.total for e in ending(clock.now())}[policy.CONTACT] == 1
    with clock.frozen(ends + timedelta(days=1)):
        body = overview(client, account, sign_in)
        assert row(section(body, "ending"), label)[-1] == "0"
        assert ("1 enregistrement de « Messages de contact » est arrivé à son terme"
                in text(body))


def test_purges_last_and_next(app, client, send, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        send("/v1/contact", submission(1))
    later = policy.load()[policy.CONTACT].expires(T0) + timedelta(hours=1)
    with clock.frozen(later):
        body = text(overview(client, account, sign_in))
        assert "La purge n'a jamais été lancée" in body
        with app.app_context():
            assert retention.purge(clock.now())[policy.CONTACT] == 1
    with clock.frozen(later + timedelta(hours=1)):
        body = text(overview(client, account, sign_in))
    assert "jamais été lancée" not in body
    assert f"{later:%Y-%m-%d %H:%M} UTC — 2 enregistrements supprimés ou anonymisés" in body
    assert f"{LABELS[policy.CONTACT]}: 1" in body  # and its idempotency key
    assert f"{LABELS[policy.IDEMPOTENCY_KEY]}: 1" in body
    # The next run of the daily timer (PURGE_AT 03:30 UTC) after now.
    assert f"{later.date() + timedelta(days=1)} 03:30 UTC" in body
    with clock.frozen(later + timedelta(days=3)):
        body = text(overview(client, account, sign_in))
    assert f"La dernière purge date du {later:%Y-%m-%d %H:%M} UTC" in body


def test_sites_with_their_last_delivery_and_silent_ones(app, client, send, make_manager,
                                                         sign_in):
    account = make_manager()
    with clock.frozen(T0):
        body = overview(client, account, sign_in)
        assert "Le site default n'a rien envoyé depuis 7 jours ou plus." in text(body)
        send("/v1/contact", submission(1))
        body = overview(client, account, sign_in)
    assert row(body, "default") == ["Activé", f"{T0:%Y-%m-%d %H:%M} UTC"]
    assert "n'a rien envoyé" not in text(body)


def test_holds_link_and_managers_without_second_factor(app, client, make_manager, sign_in):
    account = make_manager()
    make_manager("second@clic-et-cetera.fr")
    body = text(overview(client, account, sign_in))
    assert "2 gestionnaires n'ont pas activé la connexion en deux étapes." in body
    assert "0 message sous conservation légale." in body
    with app.app_context():
        assert [m.id for m in managers.listing()]  # both exist, neither has TOTP
    assert PASSWORD not in body


def test_no_client_or_invoice_rule_is_hard_coded(app):
    """The categories come from the policy file: one the code counts nothing for is left out,
    and a file's order is kept."""
    from webhook_app.overview import kept

    with app.app_context():
        shown = [entry.category for entry in kept(["audit", "unknown", "contact"])]
        assert shown == ["audit", "contact"]
        assert db.session.scalar(select(func.count()).select_from(Client)) == 0
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
