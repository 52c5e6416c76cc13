"""A newcomer's first minutes, in Chromium, on a fresh database: the setup link `make run`
prints, the password, the overview, signing out and in again, the language switch.
Every page on the way is checked (axe-core, phone width) and photographed
(test-output/dashboard/test_walkthrough/)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .harness import (
    Pages,
    app_of,
    new_context,
    output_folder,
    set_up_first_manager,
    setup_link,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

EMAIL = "gerante@clic-et-cetera.fr"
PASSWORD = "une phrase de passe assez longue"


def test_walkthrough(browser, axe_source, fresh_service, request):
    link = setup_link(fresh_service)
    assert link.startswith(f"{fresh_service.url}/setup/"), link
    context = new_context(browser)
    page = context.new_page()
    pages = Pages(page, fresh_service.url, app_of(fresh_service).url_map,
                  output_folder(request.node.name), axe_source)

    set_up_first_manager(pages, link, EMAIL, PASSWORD)
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    assert page.get_by_role("status").inner_text() == "Your password is set. Welcome."
    # The link was for one use; no other is printed once a manager exists.
    assert "/setup/" not in fresh_service.flask("managers", "setup-link").stdout
    pages.check(page.goto(link), status=410, name="03-setup-spent")

    page.goto(fresh_service.url + "/")
    page.get_by_role("link", name="My account").click()
    pages.check(name="04-account")
    assert page.get_by_role("heading", level=1).inner_text() == "My account"
    assert page.get_by_role("img", name="QR code of the key for your authenticator app").count()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/login"
    pages.check(name="05-signed-out")
    # Signed out: the account page sends to sign-in, and back to it afterwards.
    page.goto(fresh_service.url + "/account")
    assert urlsplit(page.url).path == "/login"
    pages.check(name="06-login-next")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/account"
    pages.check(name="07-account-again")

    pages.switch_language("Français")
    assert page.get_by_role("heading", level=1).inner_text() == "Mon compte"
    pages.check(name="08-account-fr")
    page.get_by_role("link", name="Vue d'ensemble").click()
    pages.check(name="09-overview-fr")
    pages.switch_language("English")
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"
    context.close()
    pages.assert_clean()
