"""The retention policy the service publishes (GET /v1/policy) on the site: the consent line of the
contact form and the [gardien_retention_table] shortcode, and the cached copy when the service is
down."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
import requests


class TableText(HTMLParser):
    """The text of each cell of the first table, row by row (markup and entities left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr" and self.tables == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self.tables == 1:
            self.cell = []
        elif tag == "li" and self.cell is not None:
            self.cell.append(" • ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_text(markup: str) -> list[list[str]]:
    parser = TableText()
    parser.feed(markup)
    return parser.rows


def published(gardien, language: str) -> dict:
    response = gardien.signed("GET", f"/v1/policy?lang={language}")
    assert response.status_code == 200, response.text
    return response.json()


def consent_line(page: str) -> str:
    line = re.search(r'<p class="gardien-contact__consent">(.*?)</p>', page, re.DOTALL)
    assert line, "no consent line on the contact page"
    return html.unescape(re.sub(r"<[^>]+>", "", line[1]))


def retention_table(page: str) -> str:
    table = re.search(r'<div class="gardien-retention-table">(.*?)</div>', page, re.DOTALL)
    assert table, "no retention table on the privacy page"
    return table[1]


@contextmanager
def in_french(site) -> Iterator[None]:
    """The site's language is French (Settings → General) within the block."""
    site.cli("site-language", {"locale": "fr_FR"})
    try:
        yield
    finally:
        site.cli("site-language", {"locale": ""})


@pytest.fixture
def french_site(site):
    with in_french(site):
        yield site


def test_consent_line_states_the_period_the_service_publishes(site, gardien):
    contact = f"{site.url}/?page_id={site.pages['contact_page']}"
    [english] = [c for c in published(gardien, "en")["categories"] if c["key"] == "contact"]
    assert english["period_label"] == "1 year"
    requests.get(contact, timeout=30)
    site.cron()  # WP-Cron fetches the policy, never the visitor's request
    line = consent_line(requests.get(contact, timeout=30).text)
    assert "keeps my name, e-mail address, company, IP address and message for 1 year" in line

    with in_french(site):
        requests.get(contact, timeout=30)
        site.cron()
        line = consent_line(requests.get(contact, timeout=30).text)
    assert "J’accepte que Atelier Test conserve mon nom" in line
    assert "pendant 1 an pour répondre à ma demande" in line


def test_retention_table_is_the_services_and_survives_an_outage(french_site, gardien):
    site = french_site
    privacy = f"{site.url}/?page_id={site.pages['privacy_page']}"
    expected = table_text(published(gardien, "fr")["html"])
    assert len(expected) == 8 and expected[0][1] == "Données", "header and seven categories"
    assert expected[1][0] == "Messages de contact" and "1 an" in expected[1]

    requests.get(privacy, timeout=30)
    site.cron()  # WP-Cron fetches the policy, never the visitor's request
    online = retention_table(requests.get(privacy, timeout=30).text)
    assert table_text(online) == expected
    assert '<table class="gardien-retention">' in online

    gardien.stop()
    site.cli("age-policy-cache", {"seconds": 13 * 3600})  # stale: the plugin asks the service again
    page = requests.get(privacy, timeout=30).text
    assert "gardien-retention-table--unavailable" not in page
    assert table_text(retention_table(page)) == expected, "the last copy, while the service is down"
    site.cron()  # the refresh the page asked for
    assert site.cli("transient", {"name": "gardien_policy_retry_fr"})["value"], "it did ask"
    contact = requests.get(f"{site.url}/?page_id={site.pages['contact_page']}", timeout=30).text
    assert "pendant 1 an pour répondre à ma demande" in consent_line(contact)
