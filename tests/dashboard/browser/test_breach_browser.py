"""The breach procedure in Chromium, on a service whose clock the test moves (libfaketime,
:mod:`support.service_clock`): an incident recorded, its countdown on the service clock,
containment (another manager's session refused, the old site secret signing through its
grace period and refused after it), the people to notify (exactly the seeded people of
the chosen categories, sites and period), the letter, the authority's summary, closing,
and the register intact after a purge years later.

Screenshots: test-output/dashboard/test_breach_procedure/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from support.gardien import start_gardien
from support.postgres import free_port
from support.service_clock import ServiceClock

from .harness import (
    Pages,
    app_of,
    new_context,
    output_folder,
    set_up_first_manager,
    setup_link,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

OWNER, OWNER_PASSWORD = "gerante@clic-et-cetera.fr", "une phrase de passe assez longue"
OTHER, OTHER_PASSWORD = "associe@clic-et-cetera.fr", "une autre phrase assez longue"
NEW_PASSWORD = "la phrase de passe d'après l'incident"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FACTS = {
    "Nature of the breach": "Ordinateur portable volé dans le train, avec l'export des messages",
    "Likely consequences": "Hameçonnage ciblé des personnes qui nous ont écrit",
    "Measures taken or proposed": "Secret du site changé, mots de passe révoqués",
    "Contact point": "dpo@clic-et-cetera.fr, 01 23 45 67 89",
}
COUNTDOWN = re.compile(r"Time left at [^:]+:\d\d UTC: (\d+) h (\d+) min\.")


def contact(name: str, email: str) -> dict:
    return {"name": name, "email": email, "message": f"Bonjour, ici {name}."}


@pytest.fixture
def service(tmp_path):
    clock = ServiceClock(tmp_path / "faketime.rc")
    port = free_port()
    running = start_gardien(tmp_path / "gardien", port=port,
                            settings={"BASE_URL": f"http://127.0.0.1:{port}"},
                            extra_env=clock.env())  # fmt: skip
    running.clock = clock
    yield running
    clock.move_to(timedelta(0))  # gunicorn's graceful stop reads the wall clock
    running.stop()


def post(service, path: str, body: dict, site: str | None = None, secret: str | None = None):
    return service.signed("POST", path, body, site=site, secret=secret, at=service.clock.now())


def seed(service) -> tuple[str, set[str]]:
    """People on two sites, in and out of the period, of two categories, one erased; return
    the site boutique's secret and the addresses the incident's CSV must hold."""
    printed = service.flask("sites", "add", "boutique").stdout
    boutique = re.search(r"whsec_\S+", printed).group()
    moments = [
        (-40 * DAY, None, "Denise Avant", "denise.avant@example.fr"),  # before the period
        (-3 * DAY, None, "Alice Dans", "alice.dans@example.fr"),
        (-3 * DAY, "boutique", "Carole Ailleurs", "carole.ailleurs@example.fr"),  # other site
        (-3 * DAY, None, "Franck Efface", "franck.efface@example.fr"),  # erased below
        (-2 * DAY, None, "Bruno Dans", "bruno.dans@example.fr"),
    ]
    for offset, site, name, email in moments:
        service.clock.move_to(offset)
        secret = boutique if site else None
        assert post(service, "/v1/contact", contact(name, email), site, secret).status_code == 201
    # Another category: a client record, entered by hand on the same site in the period.
    service.flask("clients", "add", "default", "--field", "name=Émile Client",
                  "--field", "email=emile.client@example.fr")  # fmt: skip
    service.clock.move_to(-1 * DAY)
    erased = post(service, "/v1/privacy/erase", {"email": "franck.efface@example.fr", "page": 1})
    assert erased.status_code == 200 and erased.json()["done"], erased.text
    service.clock.move_to(timedelta(0))
    return boutique, {"alice.dans@example.fr", "bruno.dans@example.fr"}


def countdown(pages: Pages) -> timedelta:
    found = COUNTDOWN.search(pages.page.locator(".countdown").inner_text())
    assert found, pages.page.locator("main").inner_text()[:500]
    return timedelta(hours=int(found[1]), minutes=int(found[2]))


def open_incident(pages: Pages, number: str, name: str) -> None:
    pages.page.goto(f"{pages.origin}/incidents/{number}")
    pages.check(name=name)


def status_of(page) -> str:
    return page.locator("p .badge").first.text_content().strip()


def again(pages: Pages, email: str, password: str) -> None:
    """The clock moved past the idle limit: sign in again."""
    sign_in(pages, email, password, check=False)


def test_breach_procedure(browser, axe_source, service, request):
    boutique_secret, exposed = seed(service)
    owner_context, other_context = new_context(browser), new_context(browser)
    page = owner_context.new_page()
    pages = Pages(page, service.url, app_of(service).url_map,
                  output_folder(request.node.name), axe_source)
    set_up_first_manager(pages, setup_link(service), OWNER, OWNER_PASSWORD)
    invitation = re.search(r"https?://\S+/reset/\S+",
                           service.flask("managers", "add", OTHER).stdout).group()
    other = Pages(other_context.new_page(), service.url, pages.url_map, pages.folder,
                  axe_source, run_axe=False, screenshots=False)
    other.page.goto(invitation)
    other.page.get_by_label("New password").fill(OTHER_PASSWORD)
    other.page.get_by_label("The same password again").fill(OTHER_PASSWORD)
    other.page.get_by_role("button", name="Save the password").click()
    other.page.wait_for_load_state("load")
    assert urlsplit(other.page.url).path == "/", other.page.url

    # Record the incident, detected two hours ago on the service clock.
    detected = (service.clock.now() - 2 * HOUR).replace(second=0, microsecond=0)
    page.get_by_role("link", name="Data breaches").click()
    pages.check(name="03-register-empty")
    page.get_by_role("link", name="Record a new incident").click()
    pages.check(name="04-record")
    for label, value in FACTS.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Detected at (UTC)").fill(detected.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Contact messages").check()
    page.get_by_label("Approximate number of people").fill("4")
    page.get_by_role("button", name="Record the incident").click()
    pages.check(name="05-incident")
    number = urlsplit(page.url).path.rsplit("/", 1)[1]
    deadline = detected + 72 * HOUR
    left = countdown(pages)
    assert abs(left - (deadline - service.clock.now())) < 2 * timedelta(minutes=1), left

    # 30 hours later on the service clock (not waited for): the countdown follows it.
    service.clock.move_to(30 * HOUR)
    page.goto(f"{service.url}/incidents/{number}")
    assert urlsplit(page.url).path == "/login", "30 hours idle: signed out"
    again(pages, OWNER, OWNER_PASSWORD)
    again(other, OTHER, OTHER_PASSWORD)
    open_incident(pages, number, "06-incident-30-hours-later")
    left = countdown(pages)
    assert abs(left - (deadline - service.clock.now())) < 2 * timedelta(minutes=1), left
    assert timedelta(hours=39) < left < timedelta(hours=41)

    # Contain: the site boutique gets a new secret, its old one keeps signing 2 hours.
    page.locator("#rotate-boutique").check()
    page.get_by_label("Grace period of the old secrets (hours)").fill("2")
    page.get_by_role("button", name="Contain: end every session and void every password").click()
    pages.check(name="07-contained")
    new_secret = page.locator(".secret code").inner_text()
    assert new_secret.startswith("whsec_") and new_secret != boutique_secret
    links = dict(re.findall(r"(\S+@\S+): (https?://\S+/reset/\S+)",
                            page.locator("main").inner_text()))  # fmt: skip
    assert set(links) == {OWNER, OTHER}
    # The other manager's session, open before, is refused now.
    other.page.goto(f"{service.url}/messages")
    assert urlsplit(other.page.url).path == "/login", other.page.url
    other.page.get_by_label("E-mail address").fill(OTHER)
    other.page.get_by_label("Password").fill(OTHER_PASSWORD)
    other.page.get_by_role("button", name="Sign in").click()
    other.page.wait_for_load_state("load")
    assert urlsplit(other.page.url).path == "/login", "the voided password is refused"
    # The owner's own reset link, within its hour, and a new password.
    page.goto(links[OWNER])
    pages.check(name="08-new-password")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the password").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/", page.url

    # The old secret of boutique inside its grace period, the new one, then after it.
    message = contact("Gaston Pendant", "gaston@example.fr")
    service.clock.move_to(31 * HOUR)
    assert post(service, "/v1/contact", message, "boutique", boutique_secret).status_code == 201
    assert post(service, "/v1/contact", message, "boutique", new_secret).status_code == 201
    service.clock.move_to(32 * HOUR + 5 * timedelta(minutes=1))
    assert post(service, "/v1/contact", message, "boutique", boutique_secret).status_code == 401
    assert post(service, "/v1/contact", message, "boutique", new_secret).status_code == 201

    # The people to notify: contact messages of site default, over the last ten days.
    again(pages, OWNER, NEW_PASSWORD)
    open_incident(pages, number, "09-incident-contained")
    now = service.clock.now()
    page.locator("#people-contact").check()
    page.locator("#people-legal_hold").uncheck()
    page.locator("#people-client").uncheck()
    page.locator("#people-site-default").check()
    page.get_by_label("From (UTC, included)").fill((now - 10 * DAY).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("To (UTC, excluded)").fill((now + HOUR).strftime("%Y-%m-%dT%H:%M"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the addresses (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == exposed, rows
    assert {row[1] for row in rows[1:]} == {"contact"}

    page.get_by_role("link", name="The letter to the people (French and English)").click()
    pages.check(name="10-letter")
    letters = page.locator("pre.letter").all_inner_texts()
    assert len(letters) == 2
    for value in FACTS.values():
        assert value in letters[0] and value in letters[1]

    # 80 hours after detection: late, and the reasons for the delay are asked for.
    service.clock.move_to(80 * HOUR)
    again(pages, OWNER, NEW_PASSWORD)
    open_incident(pages, number, "11-incident-late")
    assert page.locator(".badge.late").count() and not page.locator(".countdown").count()
    assert status_of(page) == "contained", "containment moved the status on"
    for status, extra in (
        ("authority notified", {"Reference of the notification": "CNIL-2026-0042",
                                "Reasons for the delay": "Vol constaté un vendredi soir"}),
        ("people notified", {}),
        ("closed", {}),
    ):
        form = page.locator("form").filter(has=page.get_by_role("group", name=status,
                                                                exact=True))
        for label, value in extra.items():
            form.get_by_label(label).fill(value)
        form.get_by_role("button", name=f"Set the status: {status}").click()
        pages.check(name=f"12-status-{status.replace(' ', '-')}")
        assert status_of(page) == status
    checklist = page.locator(".checklist").inner_text()
    assert checklist.count("done") == 3 and "to do" not in checklist
    history = page.locator("table").inner_text()
    page.get_by_role("link", name="Printable summary for the CNIL's notification").click()
    pages.check(name="13-authority")
    summary = page.locator("main").inner_text()
    assert "CNIL-2026-0042" in summary and "Vol constaté un vendredi soir" in summary
    assert FACTS["Nature of the breach"] in summary

    # Years later, after the purge, the register still holds the incident and its history.
    service.clock.move_to(timedelta(0))
    years_later = (datetime.now(UTC) + 6 * 365 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    purged = dict(re.findall(r"^  (\w+) +(\d+)$", service.flask("purge", "--now",
                                                                  years_later).stdout, re.M))
    # Every message has ended (four seeded, three signed with the secrets; one erased).
    assert int(purged["contact"]) == 7, purged
    again(pages, OWNER, NEW_PASSWORD)
    open_incident(pages, number, "14-incident-after-purge")
    assert page.locator("table").inner_text() == history
    assert status_of(page) == "closed"
    with page.expect_download() as download:
        page.goto(f"{service.url}/incidents")
        page.get_by_role("link", name="Register as JSON").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert "CNIL-2026-0042" in exported
    owner_context.close()
    other_context.close()
    pages.assert_clean()
