"""wp-admin in Chromium: the plugin's two screens render as native WordPress screens."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(site, tmp_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{site.url}/wp-login.php")
        page.fill("#user_login", "admin")
        page.fill("#user_pass", site.admin_password)
        page.click("#wp-submit")
        page.wait_for_url("**/wp-admin/**")
        yield page, errors
        browser.close()


def test_tools_and_settings_screens_render(site, browser_page, tmp_path):
    page, errors = browser_page

    page.goto(f"{site.url}/wp-admin/tools.php?page=gardien-status")
    assert page.locator("h1").inner_text() == "Gardien status"
    assert page.locator("#adminmenu a[href='tools.php?page=gardien-status']").count() == 1
    assert page.locator(".card h2", has_text="Outbox").is_visible()
    assert page.locator(".card", has_text="Health").locator("td", has_text="Up").is_visible()
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
    classes = notice.get_attribute("class")
    assert "notice-success" in classes or "notice-warning" in classes, notice.inner_text()
    assert errors == [], errors


def test_settings_form_saves_through_options_php(site, browser_page):
    page, errors = browser_page
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
