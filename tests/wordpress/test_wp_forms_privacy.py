"""Form plugins as their users configured them: what a form plugin was told not to keep (the
visitor's IP, uploaded files, quiz and CAPTCHA answers) is not sent to the service either.
The form plugins are driven through their real hook names and argument shapes, as in
test_wp_form_plugins.py (tests/wordpress/php/cli.php calls the hooks as they would)."""

from __future__ import annotations

import uuid

from test_wp_form_plugins import cf7_submission

VISITOR_IP = "198.51.100.23"  # what the harness's requests come from (see test_wp_form_plugins)


def marker() -> str:
    return uuid.uuid4().hex[:10]


def wpforms_fields(tag: str, **extra: dict) -> dict:
    return {
        "0": {"name": "Nom", "value": "Claire Petit", "id": 0, "type": "name"},
        "1": {"name": "Courriel", "value": f"claire.{tag}@example.fr", "id": 1, "type": "email"},
        "3": {"name": "Votre demande", "value": f"Un devis {tag}", "id": 3, "type": "textarea"},
        **extra,
    }


GF_FIELDS = [
    {"id": 1, "type": "name", "label": "Name", "inputs": [{"id": "1.3"}, {"id": "1.6"}]},
    {"id": 2, "type": "email", "label": "Email"},
    {"id": 4, "type": "textarea", "label": "Comments"},
]


def gf_entry(tag: str, **extra: str) -> dict:
    return {
        "id": "91",
        "form_id": "3",
        "status": "active",
        "1.3": "Luc",
        "1.6": "Bernard",
        "2": f"luc.{tag}@example.fr",
        "4": f"Rappelez-moi {tag}",
        **extra,
    }


def queued_bodies(site) -> list[dict]:
    return [row["body"] for row in site.cli("open-outbox")]


def test_wpforms_sends_the_ip_unless_storing_user_details_is_disabled(site, gardien):
    gardien.stop()
    site.cli("wpforms", {"fields": wpforms_fields(marker())})
    gdpr = {"gdpr": True}
    # "Disable storing user details (IP address and user agent)" on the form.
    site.cli(
        "wpforms",
        {
            "fields": wpforms_fields(marker()),
            "form_data": {"settings": {"disable_ip": "1"}},
            "wpforms_settings": gdpr,
        },
    )
    # "Disable User Details" for every form, in WPForms' GDPR settings.
    site.cli(
        "wpforms",
        {
            "fields": wpforms_fields(marker()),
            "wpforms_settings": {**gdpr, "gdpr-disable-details": True},
        },
    )
    # The per-form switch only counts when the GDPR enhancements are on, as in WPForms.
    site.cli(
        "wpforms",
        {"fields": wpforms_fields(marker()), "form_data": {"settings": {"disable_ip": "1"}}},
    )
    ips = [body.get("ip") for body in queued_bodies(site)]
    assert ips == [VISITOR_IP, None, None, VISITOR_IP]


def test_gravity_forms_sends_no_ip_when_the_form_prevents_storing_it(site, gardien):
    gardien.stop()
    site.cli("gravityforms", {"entry": gf_entry(marker(), ip=VISITOR_IP), "fields": GF_FIELDS})
    # Form settings > Personal Data > "Prevent the storage of IP addresses during form submission".
    site.cli(
        "gravityforms",
        {
            "entry": gf_entry(marker(), ip=""),
            "fields": GF_FIELDS,
            "form": {"personalData": {"preventIP": True}},
        },
    )
    # A site whose gform_ip_address filter returns nothing: the entry was saved without an IP.
    site.cli("gravityforms", {"entry": gf_entry(marker(), ip=""), "fields": GF_FIELDS})
    ips = [body.get("ip") for body in queued_bodies(site)]
    assert ips == [VISITOR_IP, None, None]


def test_contact_form_7_sends_neither_uploads_nor_do_not_store_fields(site, gardien):
    """As CF7's Flamingo module: no quiz, CAPTCHA or other do-not-store tag, and no file
    field (whose posted value is the upload's SHA-256 hash)."""
    gardien.stop()
    tag = marker()
    submission = cf7_submission(tag)
    file_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    submission["posted"].update(
        {
            "your-file": file_hash,
            "your-quiz": "4",
            "captcha-1": "XKQ7",
            "one-time-code": "123456",
            "budget": "5000",
        }
    )
    submission["tags"].update(
        {
            "your-file": "file",
            "your-quiz": "quiz",
            "captcha-1": "captchar",
            "one-time-code": "otp",
            "budget": "number",
        }
    )
    submission["tag_features"] = {"otp": ["name-attr", "do-not-store"]}
    site.cli("cf7", submission)
    [body] = queued_bodies(site)
    assert body["fields"] == {"your-subject": "Devis", "budget": "5000"}
    assert file_hash not in str(body)


def test_wpforms_and_gravity_forms_upload_urls_are_not_sent(site, gardien):
    gardien.stop()
    url = "https://example.fr/wp-content/uploads/wpforms/12-abc/cv.pdf"
    site.cli(
        "wpforms",
        {
            "fields": wpforms_fields(
                marker(),
                **{
                    "5": {"name": "CV", "value": url, "id": 5, "type": "file-upload"},
                    "6": {"name": "Signature", "value": url, "id": 6, "type": "signature"},
                    "7": {"name": "Budget", "value": "5000", "id": 7, "type": "number"},
                },
            )
        },
    )
    site.cli(
        "gravityforms",
        {
            "entry": gf_entry(marker(), **{"5": url, "7": "5000"}),
            "fields": [
                *GF_FIELDS,
                {"id": 5, "type": "fileupload", "label": "CV"},
                {"id": 7, "type": "number", "label": "Budget"},
            ],
        },
    )
    wpforms, gravity = queued_bodies(site)
    assert wpforms["fields"] == {"budget": "5000"}
    assert gravity["fields"] == {"budget": "5000"}
