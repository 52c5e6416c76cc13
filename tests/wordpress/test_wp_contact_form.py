"""The plugin's own contact form, over HTTP, against the real service."""

from __future__ import annotations

import requests
from helpers import form_page, submit, visitor_message


def test_submission_is_stored_encrypted_with_its_expiry(site, stored):
    before = stored.count()
    fields = visitor_message()

    response = submit(site, fields)
    site.cron()  # WP-Cron delivers it, off the visitor's request

    assert response.status_code == 303
    assert "gardien_contact=sent" in response.headers["Location"]
    rows = stored.rows()
    assert len(rows) == before + 1
    row = rows[-1]
    # Whether the service keeps one encrypted document or one token per field, every column that
    # holds what the visitor typed is a Fernet token.
    personal = [
        column
        for column in ("personal", "name", "email", "company", "message", "ip")
        if column in row
    ]
    assert personal, f"no personal-data column in {sorted(row)}"
    for column in personal:
        assert row[column].startswith("gAAAAA"), f"{column} is not a Fernet token"
    raw = "|".join(str(value) for value in row.values())
    assert fields["gardien_email"] not in raw and "imprimante" not in raw and "Jeanne" not in raw
    assert row["expires_at"] > row["received_at"]
    assert row["expires_at"][:4] == str(int(row["received_at"][:4]) + 1), (
        "contact retention is one year"
    )
    outbox = site.cli("outbox")
    assert outbox["rows"] == [], "a delivered message must leave the outbox"


def test_confirmation_is_shown_after_the_redirect(site):
    response = submit(site, visitor_message())
    page = requests.get(response.headers["Location"], timeout=30)
    assert "gardien-contact__notice--success" in page.text
    assert "your message has been sent" in page.text


def test_a_robot_filling_the_honeypot_is_thanked_but_nothing_is_kept(site, stored):
    before = stored.count()
    response = submit(site, visitor_message(gardien_website="https://spam.example"))
    assert response.status_code == 303
    assert stored.count() == before
    assert site.cli("outbox")["rows"] == []


def test_invalid_fields_show_errors_and_keep_what_was_typed(site, stored):
    before = stored.count()
    fields = visitor_message(gardien_email="not-an-address", gardien_consent="")
    response = submit(site, fields)
    assert response.status_code == 200
    assert "gardien-contact__notice--error" in response.text
    assert 'id="gardien-email-error"' in response.text
    assert 'id="gardien-consent-error"' in response.text
    assert (
        "l’imprimante ne répond plus" in response.text
        or "l&rsquo;imprimante" in response.text
        or "imprimante ne r" in response.text
    ), "the typed message must be shown again"
    assert stored.count() == before


def test_a_stale_nonce_is_refused_without_losing_the_message(site, stored):
    before = stored.count()
    action, hidden, _ = form_page(site)
    fields = visitor_message()
    response = requests.post(
        action,
        data={**hidden, "_gardien_nonce": "0123456789", **fields},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 200
    assert "the form had expired" in response.text
    assert fields["gardien_message"].split("(")[1].rstrip(").") in response.text
    assert stored.count() == before


def test_the_block_renders_the_same_form(site):
    page = requests.get(f"{site.url}/?page_id={site.pages['block_page']}", timeout=30)
    assert page.status_code == 200
    assert 'class="gardien-contact__form"' in page.text
    assert 'name="_gardien_nonce"' in page.text


def test_an_address_the_service_would_refuse_is_sent_back_to_the_visitor(site, stored):
    """is_email() takes "jean..martin@example.fr"; the service would answer 422, so the message
    would never arrive: the visitor corrects it instead."""
    before = stored.count()
    response = submit(site, visitor_message(gardien_email="jean..martin@example.fr"))
    assert response.status_code == 200
    assert 'id="gardien-email-error"' in response.text
    assert site.cli("outbox")["rows"] == []
    assert stored.count() == before
