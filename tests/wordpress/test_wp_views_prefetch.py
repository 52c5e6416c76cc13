"""A page the browser only fetches ahead (prefetch, prerender) is not a page view: nobody has
read it. The same page read normally still counts."""

from __future__ import annotations

import pytest
import requests
from helpers import BROWSER_AGENT


def visits(site) -> int:
    return site.cli("outbox")["visits"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"Sec-Purpose": "prefetch; anonymous-client-ip"},
        {"Purpose": "prefetch"},
        {"X-Purpose": "preview"},
        {"X-Moz": "prefetch"},
    ],
    ids=lambda headers: "-".join(f"{k}:{v}" for k, v in headers.items()),
)
def test_prefetched_and_prerendered_pages_are_not_counted(site, headers):
    site.cli("reset", {"stats_enabled": True})
    response = requests.get(
        site.url + "/", headers={"User-Agent": BROWSER_AGENT, **headers}, timeout=30
    )
    assert response.status_code == 200
    assert visits(site) == 0
    requests.get(site.url + "/", headers={"User-Agent": BROWSER_AGENT}, timeout=30)
    assert visits(site) == 1, "the page read normally counts"
