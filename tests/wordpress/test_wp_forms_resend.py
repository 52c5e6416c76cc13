"""A Contact Form 7 message whose mail failed is captured once, though the visitor, told that
it failed, sends it again (CF7 calls wpcf7_submit with mail_failed, then mail_failed or
mail_sent). Driven through CF7's hook as in test_wp_form_plugins.py."""

from __future__ import annotations

import uuid

from test_wp_form_plugins import cf7_submission


def resent(submission: dict, status: str) -> dict:
    """The same form sent again: new CAPTCHA token and hidden fields, same answers."""
    token = uuid.uuid4().hex
    posted = {**submission["posted"], "g-recaptcha-response": token, "_wpcf7_unit_tag": token}
    return {**submission, "posted": posted, "status": status}


def test_a_failed_mail_sent_again_is_captured_once(site, stored):
    before = stored.count()
    tag = uuid.uuid4().hex[:10]
    first = cf7_submission(tag)
    site.cli("cf7", resent(first, "mail_failed"))
    site.cli("cf7", resent(first, "mail_failed"))
    site.cli("cf7", resent(first, "mail_sent"))
    site.cron()
    assert stored.count() == before + 1
    # Another message from the same visitor is a message of its own.
    other = cf7_submission(tag)
    other["posted"]["your-message"] = f"Et jeudi ? {tag}"
    site.cli("cf7", resent(other, "mail_failed"))
    site.cron()
    assert stored.count() == before + 2
    # What is remembered holds none of the visitor's data in clear.
    remembered = site.database.sql(
        "SELECT option_name, option_value FROM wordpress.wp_options "
        "WHERE option_name LIKE '%gardien_seen%'"
    )
    assert remembered.count("_transient_gardien_seen_") == 2
    assert tag not in remembered and "Paul" not in remembered and "example.fr" not in remembered
