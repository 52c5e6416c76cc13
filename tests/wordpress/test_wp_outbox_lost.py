"""A form entry the outbox cannot keep (the plugin is not configured, the insert fails) never
vanishes in silence: it is counted for the administrator, and a visitor of the plugin's own form
is told that the message was not sent."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from helpers import submit, visitor_message
from wp_stack import PHP_DIR

UNUSABLE_SECRET = "whsec_c2hvcnQ="  # "short": not a usable secret, so not configured


@contextmanager
def outbox_table_gone(site) -> Iterator[None]:
    """The outbox table cannot be written (a full disk, a lost table): every insert fails."""
    site.database.sql(
        "RENAME TABLE wordpress.wp_gardien_outbox TO wordpress.wp_gardien_outbox_away"
    )
    try:
        yield
    finally:
        site.database.sql(
            "RENAME TABLE wordpress.wp_gardien_outbox_away TO wordpress.wp_gardien_outbox"
        )


def cf7_submission(tag: str) -> dict:
    return {
        "posted": {
            "your-name": "Paul Durand",
            "your-email": f"paul.{tag}@example.fr",
            "your-message": f"Pouvez-vous passer mardi ? {tag}",
        },
        "tags": {"your-name": "text", "your-email": "email", "your-message": "textarea"},
    }


def not_stored_row(site) -> str | None:
    page = site.login().get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30)
    assert page.status_code == 200
    found = re.search(
        r'<tr><th scope="row">Form entries that could not be stored</th><td>(.*?)</td></tr>',
        page.text,
    )
    return None if found is None else html.unescape(found[1])


def forget_counts(site) -> None:
    site.php(PHP_DIR / "outbox-tools.php", "forget-counts", input={})


def test_form_plugin_entries_that_cannot_be_stored_are_counted(site, stored):
    forget_counts(site)
    before = stored.count()
    assert not_stored_row(site) is None
    tags = [uuid.uuid4().hex[:10] for _ in range(3)]
    with outbox_table_gone(site):
        site.cli("cf7", cf7_submission(tags[0]))
        site.cli(
            "wpforms",
            {
                "fields": {
                    "0": {"name": "Nom", "value": "Claire Petit", "id": 0, "type": "name"},
                    "1": {
                        "name": "Courriel",
                        "value": f"claire.{tags[1]}@example.fr",
                        "id": 1,
                        "type": "email",
                    },
                    "2": {"name": "Demande", "value": tags[1], "id": 2, "type": "textarea"},
                }
            },
        )
    with site.secret_replaced(UNUSABLE_SECRET):
        site.cli("cf7", cf7_submission(tags[2]))

    assert stored.count() == before
    assert site.cli("outbox")["rows"] == []
    shown = not_stored_row(site)
    assert shown is not None and shown.startswith("3, the last one "), shown
    assert shown.endswith(" ago")


def test_the_own_form_says_the_message_was_not_sent(site, stored):
    forget_counts(site)
    before = stored.count()
    fields = visitor_message()
    with outbox_table_gone(site):
        response = submit(site, fields)

    assert response.status_code == 200, "no redirect to the confirmation"
    assert "gardien-contact__notice--error" in response.text
    assert "your message could not be sent" in response.text
    assert "gardien-contact__notice--success" not in response.text
    assert fields["gardien_message"].split("(")[1][:12] in html.unescape(response.text), (
        "what the visitor typed is given back to send again"
    )
    assert stored.count() == before
    assert not_stored_row(site).startswith("1, the last one ")
