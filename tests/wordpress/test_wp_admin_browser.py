"""wp-admin in Chromium: the plugin's two screens render as native WordPress screens, and Tools →
Export Personal Data hands out a ZIP that holds what the service keeps."""

from __future__ import annotations

import json
import uuid
import zipfile

from helpers import store_messages


def test_tools_and_settings_screens_render(site, gardien, admin_page, tmp_path):
    page, errors = admin_page

    page.goto(f"{site.url}/wp-admin/tools.php?page=gardien-status")
    assert page.locator("h1").inner_text() == "Gardien status"
    assert page.locator("#adminmenu a[href='tools.php?page=gardien-status']").count() == 1
    assert page.locator(".card h2", has_text="Outbox").is_visible()
    assert page.locator(".card", has_text="Health").locator("td", has_text="Up").is_visible()
    assert page.locator("th", has_text="Contact messages kept").is_visible()
    page.screenshot(path=str(tmp_path / "tools-gardien.png"), full_page=True)

    page.goto(f"{site.url}/wp-admin/options-general.php?page=gardien")
    assert page.locator("h1").inner_text() == "Gardien settings"
    assert page.locator("#gardien-service_url").is_disabled(), "locked by GARDIEN_SERVICE_URL"
    assert "GARDIEN_SERVICE_URL" in page.locator("#gardien-service_url ~ .description").inner_text()
    assert page.locator("#gardien-webhook_secret").input_value() == "", "the secret is never shown"
    page.screenshot(path=str(tmp_path / "settings-gardien.png"), full_page=True)

    page.click("text=Test connection")
    page.wait_for_url("**gardien_tested=1**")
    notice = page.locator(".notice").first
    assert "notice-success" in notice.get_attribute("class"), notice.inner_text()
    version = gardien.signed("GET", "/v1/status").json()["version"]
    assert notice.locator("p").inner_text() == (
        f"Connected: the service accepts this site’s signature (version {version})."
    )
    assert errors == [], errors


def test_settings_form_saves_through_options_php(site, admin_page):
    page, errors = admin_page
    page.goto(f"{site.url}/wp-admin/options-general.php?page=gardien")
    page.uncheck("input[name='gardien_settings[forms][]'][value='wpforms']")
    page.fill("#gardien-trusted_proxies", "10.0.0.0/8\nnot-an-ip")
    page.click("#submit")
    page.wait_for_load_state()
    assert page.locator(".notice-error", has_text="not-an-ip").count() == 1
    assert page.locator("#gardien-trusted_proxies").input_value() == "10.0.0.0/8"
    assert not page.locator("input[name='gardien_settings[forms][]'][value='wpforms']").is_checked()
    assert page.locator("input[name='gardien_settings[forms][]'][value='cf7']").is_checked()
    assert errors == [], errors


def test_export_screen_downloads_what_the_service_keeps(site, gardien, admin_page, tmp_path):
    page, errors = admin_page
    marker = uuid.uuid4().hex[:10]
    email = f"paul.{marker}@example.fr"
    texts = [f"Pouvez-vous passer mardi ? ({marker})", f"Merci pour le devis ({marker})"]
    store_messages(gardien, email, texts)

    page.goto(f"{site.url}/wp-admin/export-personal-data.php")
    page.fill("#username_or_email_for_privacy_request", email)
    page.uncheck("#send_confirmation_email")  # created as confirmed, as after the e-mail's link
    page.click("#submit")
    page.wait_for_load_state()
    row = page.locator("tr", has_text=email)
    assert "Confirmed" in row.locator(".column-status").inner_text()
    row.hover()
    with page.expect_download(timeout=60_000) as download:
        row.locator(".row-actions .export-personal-data-idle .export-personal-data-handle").click()
    archive_path = tmp_path / "export.zip"
    download.value.save_as(archive_path)
    page.screenshot(path=str(tmp_path / "export-personal-data.png"), full_page=True)

    with zipfile.ZipFile(archive_path) as archive:
        [groups] = json.loads(archive.read("export.json")).values()
        index = archive.read("index.html").decode()
    items = groups["contact-messages"]["items"].values()
    exported = sorted(pair["value"] for item in items for pair in item if pair["name"] == "Message")
    assert exported == sorted(texts)
    assert texts[0] in index
    assert errors == [], errors
