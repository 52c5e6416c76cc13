"""Small helpers shared by the plugin's tests."""

from __future__ import annotations

import html
import re
import uuid

import requests

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
