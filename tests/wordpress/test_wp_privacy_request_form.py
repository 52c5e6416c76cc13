"""A visitor's own privacy request ([gardien_privacy_request] and the gardien/privacy-request
block): it creates a request of core's privacy tools and sends core's confirmation e-mail;
honeypot and rate limit refuse without creating anything; a bad address gets a clear error."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest
import requests
from wp_stack import PHP_DIR, ROOT

AXE = ROOT / "tests" / "dashboard" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_ON_FORM = """async () => {
  const result = await axe.run('#gardien-privacy-request', {resultTypes: ['violations']});
  return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => v.id + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
}"""

SHORTCODE = "[gardien_privacy_request]"
BLOCK = "<!-- wp:gardien/privacy-request /-->"
HIDDEN = re.compile(
    r'<input[^>]*name="(?P<name>_gardien_privacy_nonce|gardien_privacy_request)"'
    r'[^>]*value="(?P<value>[^"]*)"'
)


def driver(site, command: str, payload: dict):
    result = site.php(PHP_DIR / "privacy-cli.php", command, input=payload)
    return json.loads(result.stdout.strip().splitlines()[-1])


def page_url(site, content: str) -> str:
    return f"{site.url}/?page_id={driver(site, 'request-form-page', {'content': content})['id']}"


def user_requests(site, email: str) -> list[dict]:
    return driver(site, "user-requests", {"email": email})


def mails_to(site, email: str) -> list[dict]:
    log = site.path / "wp-content" / "mail.log"
    if not log.exists():
        return []
    mails = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [mail for mail in mails if email in json.dumps(mail["to"])]


def new_address() -> str:
    return f"lucie.{uuid.uuid4().hex[:10]}@example.fr"


def post_form(site, http: requests.Session, url: str, **fields: str) -> requests.Response:
    """Fetch the page like a browser, then post the request form (without following redirects)."""
    page = http.get(url, timeout=30)
    assert page.status_code == 200
    action = re.search(
        r'<form class="gardien-privacy-request__form[^"]*" method="post" action="([^"]+)"',
        page.text,
    )
    assert action, "the request form is not on the page"
    hidden = {m["name"]: m["value"] for m in HIDDEN.finditer(page.text)}
    data = {"gardien_privacy_type": "export", "gardien_privacy_website": "", **hidden, **fields}
    return http.post(html.unescape(action[1]), data=data, allow_redirects=False, timeout=60)


@pytest.fixture
def visitor(site, chromium):
    context = chromium.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


def test_a_visitor_asks_for_an_export_and_core_sends_the_confirmation(site, visitor):
    page, errors = visitor
    email = new_address()
    page.goto(page_url(site, SHORTCODE))

    # A bad address first: a clear error, tied to its field.
    page.get_by_label("Send me a copy of my personal data").check()
    page.get_by_label("E-mail address").fill("lucie@")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state()
    field = page.locator("#gardien-privacy-email")
    assert field.get_attribute("aria-invalid") == "true"
    error = page.locator("#" + field.get_attribute("aria-describedby"))
    assert error.inner_text() == "Please enter a valid e-mail address, such as name@example.com."
    assert "correct the fields" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Send me a copy of my personal data").is_checked(), "choice kept"
    assert AXE.exists(), f"{AXE} is missing (axe-core of tests/dashboard/browser)"
    page.evaluate(AXE.read_text())
    assert page.evaluate(AXE_ON_FORM) == []
    assert user_requests(site, "lucie@") == []

    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**gardien_privacy_request=sent**")
    status = page.get_by_role("status")
    assert "please click the link in it to confirm your request" in status.inner_text()

    [request] = user_requests(site, email)
    assert (request["action"], request["status"]) == ("export_personal_data", "request-pending")
    [mail] = mails_to(site, email)
    assert mail["subject"] == "[Atelier Test] Confirm Action: Export Personal Data"
    assert f"request_id={request['id']}" in mail["message"]
    assert "action=confirmaction" in mail["message"]

    admin = site.login()
    listing = admin.get(f"{site.url}/wp-admin/export-personal-data.php", timeout=30).text
    assert email in listing, "the request is in Tools → Export Personal Data"
    assert errors == [], errors


def test_the_block_asks_for_an_erasure(site, visitor):
    page, errors = visitor
    email = new_address()
    page.goto(page_url(site, BLOCK))
    page.get_by_label("Erase my personal data").check()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**gardien_privacy_request=sent**")

    [request] = user_requests(site, email)
    assert (request["action"], request["status"]) == ("remove_personal_data", "request-pending")
    [mail] = mails_to(site, email)
    assert mail["subject"] == "[Atelier Test] Confirm Action: Erase Personal Data"
    admin = site.login()
    listing = admin.get(f"{site.url}/wp-admin/erase-personal-data.php", timeout=30).text
    assert email in listing, "the request is in Tools → Erase Personal Data"
    assert errors == [], errors


def test_a_missing_choice_is_an_error_of_its_own_field(site):
    response = post_form(
        site,
        requests.Session(),
        page_url(site, SHORTCODE),
        gardien_privacy_type="",
        gardien_privacy_email=new_address(),
    )
    assert response.status_code == 200
    assert 'aria-describedby="gardien-privacy-type-error"' in response.text
    assert "Please choose what you are asking for." in response.text


def test_the_honeypot_answers_as_sent_and_creates_nothing(site):
    email = new_address()
    response = post_form(
        site,
        requests.Session(),
        page_url(site, SHORTCODE),
        gardien_privacy_email=email,
        gardien_privacy_website="https://spam.example",
    )
    assert response.status_code == 303
    assert "gardien_privacy_request=sent" in response.headers["Location"]
    assert user_requests(site, email) == []
    assert mails_to(site, email) == []


def test_the_rate_limit_refuses_without_creating_a_request(site):
    url = page_url(site, SHORTCODE)
    http = requests.Session()
    for _ in range(5):
        refused = post_form(site, http, url, gardien_privacy_email="not-an-address")
        assert refused.status_code == 200
        assert "Please enter a valid e-mail address" in refused.text
    email = new_address()

    limited = post_form(site, http, url, gardien_privacy_email=email)

    assert limited.status_code == 200
    assert "too many requests came from your connection" in limited.text
    assert user_requests(site, email) == []
    assert mails_to(site, email) == []
    # The count is kept under a keyed hash of the address, never the address itself.
    counters = site.database.sql(
        "SELECT option_name, option_value FROM wordpress.wp_options "
        "WHERE option_name LIKE '\\_transient\\_gardien\\_prq\\_%'"
    ).splitlines()
    assert [line.split("\t")[1] for line in counters] == ["5"]
    assert "127.0.0.1" not in counters[0]
    log = site.debug_log.read_text(errors="replace") if site.debug_log.exists() else ""
    assert email not in log and "127.0.0.1" not in log


def test_a_second_request_for_an_open_one_says_the_same_and_sends_nothing_more(site):
    email = new_address()
    url = page_url(site, SHORTCODE)
    assert post_form(site, requests.Session(), url, gardien_privacy_email=email).status_code == 303
    again = post_form(site, requests.Session(), url, gardien_privacy_email=email)
    assert again.status_code == 303
    assert "gardien_privacy_request=sent" in again.headers["Location"]
    assert len(user_requests(site, email)) == 1
    assert len(mails_to(site, email)) == 1


def test_the_form_speaks_french_on_a_french_site(site):
    site.cli("site-language", {"locale": "fr_FR"})
    page = requests.get(page_url(site, SHORTCODE), timeout=30).text
    assert ">Envoyer ma demande</button>" in page
    assert "M’envoyer une copie de mes données personnelles" in page
    assert '<label for="gardien-privacy-email">Adresse e-mail' in page
