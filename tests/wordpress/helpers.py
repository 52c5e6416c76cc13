"""Small helpers shared by the plugin's tests."""

from __future__ import annotations

import html
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from wp_stack import ensure_running

FORM_FIELD = re.compile(
    r'<input[^>]*name="(?P<name>_gardien_nonce|gardien_contact)"[^>]*value="(?P<value>[^"]*)"'
)


def form_page(site, session: requests.Session | None = None) -> tuple[str, dict[str, str], str]:
    """GET the contact page: (form action, hidden fields with a fresh nonce, page HTML)."""
    http = session or requests
    page = http.get(f"{site.url}/?page_id={site.pages['contact_page']}", timeout=30)
    assert page.status_code == 200
    action = re.search(
        r'<form class="gardien-contact__form" method="post" action="([^"]+)"', page.text
    )
    assert action, "the contact form is not on the page"
    hidden = {m["name"]: m["value"] for m in FORM_FIELD.finditer(page.text)}
    assert set(hidden) == {"_gardien_nonce", "gardien_contact"}
    return html.unescape(action[1]), hidden, page.text


def visitor_message(**overrides: str) -> dict[str, str]:
    """A filled-in contact form with a message nobody else sends."""
    marker = uuid.uuid4().hex[:12]
    fields = {
        "gardien_name": "Jeanne Martin",
        "gardien_email": f"jeanne.{marker}@example.fr",
        "gardien_company": "Atelier Martin",
        "gardien_message": f"Bonjour, l’imprimante ne répond plus ({marker}).",
        "gardien_consent": "1",
        "gardien_website": "",
    }
    fields.update(overrides)
    return fields


def submit(
    site, fields: dict[str, str], session: requests.Session | None = None
) -> requests.Response:
    """Fetch the form like a browser, then post it (without following the redirect)."""
    http = session or requests.Session()
    action, hidden, _ = form_page(site, http)
    return http.post(action, data={**hidden, **fields}, allow_redirects=False, timeout=60)


# A desktop browser: the service counts python-requests as a crawler, not as a visit.
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def store_messages(gardien, email: str, texts: list[str]) -> list[str]:
    """POST /v1/contact once per text, signed as the plugin's outbox does; the stored ids."""

    def send(text: str) -> str:
        response = gardien.signed(
            "POST",
            "/v1/contact",
            {
                "form": "contact",
                "name": "Jeanne Martin",
                "email": email,
                "message": text,
                "ip": "203.0.113.7",
                "consent": True,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(send, texts))


def refused_with_conflict(site, gardien) -> dict:
    """Have the service refuse the one waiting outbox row for good: another body takes its
    webhook-id first (a 409), then the site's cron tries it. Returns the row, now failed."""
    [row] = site.cli("outbox")["rows"]
    ensure_running(gardien)
    other = {"form": "other", "name": "X", "email": "x@example.org", "message": "Autre",
             "consent": True}
    taken = gardien.signed("POST", "/v1/contact", other, msg_id=row["webhook_id"])
    assert taken.status_code == 201, taken.text
    site.cli("travel", {"seconds": 3600})
    site.cron()
    [row] = site.cli("outbox")["rows"]
    return row
