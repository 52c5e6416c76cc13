"""Capture from Contact Form 7, WPForms and Gravity Forms, through their real hook names and
argument shapes (the form plugins themselves are not installable here: tests/wordpress/php
calls the hooks as they would)."""

from __future__ import annotations

import uuid


def marker() -> str:
    return uuid.uuid4().hex[:10]


def cf7_submission(tag: str, **extra) -> dict:
    return {
        "posted": {
            "your-name": "Paul Durand",
            "your-email": f"paul.{tag}@example.fr",
            "your-subject": "Devis",
            "your-message": f"Pouvez-vous passer mardi ? {tag}",
            "_wpcf7_container_post": "0",
        },
        "tags": {
            "your-name": "text",
            "your-email": "email",
            "your-subject": "text",
            "your-message": "textarea",
        },
        **extra,
    }


def test_contact_form_7_submission_is_stored(site, stored):
    before = stored.count()
    tag = marker()
    site.cli("cf7", cf7_submission(tag))
    site.cron()  # WP-Cron delivers it
    assert stored.count() == before + 1
    assert site.cli("outbox")["rows"] == []


def test_contact_form_7_mapping_is_what_the_service_receives(site, gardien):
    """With the service down, the queued body can be read back: the fields are mapped."""
    gardien.stop()
    tag = marker()
    site.cli("cf7", cf7_submission(tag))
    [queued] = site.cli("open-outbox")
    assert queued["endpoint"] == "/v1/contact"
    body = queued["body"]
    assert body["name"] == "Paul Durand"
    assert body["email"] == f"paul.{tag}@example.fr"
    assert body["message"].endswith(tag)
    assert body["fields"] == {"your-subject": "Devis"}
    assert body["form"] == "cf7-7"
    assert body["page"].endswith("/contact-cf7/")
    assert body["ip"] == "198.51.100.23"


def test_contact_form_7_do_not_store_is_respected(site, stored):
    before = stored.count()
    site.cli("cf7", cf7_submission(marker(), settings={"do_not_store": True}))
    site.cli("cf7", cf7_submission(marker(), meta={"do_not_store": True}))
    assert stored.count() == before
    assert site.cli("outbox")["rows"] == []


def test_contact_form_7_spam_and_invalid_submissions_are_not_sent(site, stored):
    before = stored.count()
    site.cli("cf7", cf7_submission(marker(), status="spam"))
    site.cli("cf7", cf7_submission(marker(), status="validation_failed"))
    assert stored.count() == before


def test_wpforms_submission_is_stored(site, stored, gardien):
    before = stored.count()
    tag = marker()
    fields = {
        "0": {"name": "Nom", "value": "Claire Petit", "id": 0, "type": "name"},
        "1": {"name": "Courriel", "value": f"claire.{tag}@example.fr", "id": 1, "type": "email"},
        "2": {"name": "Société", "value": "Petit SARL", "id": 2, "type": "text"},
        "3": {
            "name": "Votre demande",
            "value": f"Un devis, svp. {tag}",
            "id": 3,
            "type": "textarea",
        },
    }
    site.cli("wpforms", {"fields": fields})
    site.cron()
    assert stored.count() == before + 1


def test_gravity_forms_submission_is_stored_and_spam_is_not(site, stored):
    before = stored.count()
    tag = marker()
    form_fields = [
        {
            "id": 1,
            "type": "name",
            "label": "Name",
            "inputs": [{"id": "1.3", "label": "First"}, {"id": "1.6", "label": "Last"}],
        },
        {"id": 2, "type": "email", "label": "Email"},
        {"id": 3, "type": "text", "label": "Company"},
        {"id": 4, "type": "textarea", "label": "Comments"},
    ]
    entry = {
        "id": "91",
        "form_id": "3",
        "status": "active",
        "1.3": "Luc",
        "1.6": "Bernard",
        "2": f"luc.{tag}@example.fr",
        "3": "Bernard & fils",
        "4": f"Rappelez-moi {tag}",
    }
    site.cli("gravityforms", {"entry": entry, "fields": form_fields})
    site.cron()
    assert stored.count() == before + 1
    site.cli("gravityforms", {"entry": {**entry, "status": "spam"}, "fields": form_fields})
    site.cron()
    assert stored.count() == before + 1
