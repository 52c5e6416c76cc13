"""Pages served by a page cache: with the beacon setting on, the page carries a small cookie-less
script that counts the view through the plugin's REST route, and the server does not count the
same view again. Global Privacy Control set in the browser sends nothing."""

from __future__ import annotations

import json
import time

import requests
from wp_stack import PHP_DIR

GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"


def views_tools(site, command: str, payload: object = None):
    result = site.php(PHP_DIR / "views-tools.php", command, input=payload or {})
    return json.loads(result.stdout.strip().splitlines()[-1])


def visits(site) -> int:
    return site.cli("outbox")["visits"]


def is_beacon(request) -> bool:
    return request.method == "POST" and "gardien" in request.url and "view" in request.url


def load(chromium, url: str, gpc_script: bool = False, **context_options) -> tuple[list, list]:
    """Open ``url`` in a fresh browser context: (beacon requests, cookies the context holds)."""
    context = chromium.new_context(**context_options)
    if gpc_script:
        context.add_init_script(GPC)
    page = context.new_page()
    beacons: list = []
    page.on("request", lambda request: beacons.append(request) if is_beacon(request) else None)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    time.sleep(0.5)  # a beacon outlives the page; give it time to land
    cookies = context.cookies()
    context.close()
    return beacons, cookies


def test_the_beacon_counts_each_page_load_once_and_sets_no_cookie(site, chromium):
    site.cli("reset", {"stats_enabled": True, "stats_beacon": True})
    privacy = f"{site.url}/?page_id={site.pages['privacy_page']}"

    assert "assets/beacon.js" in requests.get(privacy, timeout=30).text
    assert visits(site) == 0, "the server does not count a page that carries the beacon"

    beacons, cookies = load(chromium, privacy)
    assert len(beacons) == 1
    assert cookies == []
    deadline = time.monotonic() + 10
    while visits(site) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    [row] = views_tools(site, "buffer")
    event = row["event"]
    assert event["url"] == privacy
    assert event["ip"] == "127.0.0.1"
    assert "Chrome" in event["user_agent"]
    assert "referrer" not in event


def test_global_privacy_control_in_the_browser_sends_no_beacon(site, chromium):
    site.cli("reset", {"stats_enabled": True, "stats_beacon": True})
    privacy = f"{site.url}/?page_id={site.pages['privacy_page']}"
    # The page itself may come from a page cache: it carries the script whoever asked first.
    assert "assets/beacon.js" in requests.get(privacy, headers={"Sec-GPC": "1"}, timeout=30).text
    beacons, _ = load(chromium, privacy, gpc_script=True, extra_http_headers={"Sec-GPC": "1"})
    assert beacons == [], "the script sees navigator.globalPrivacyControl"
    beacons, _ = load(chromium, privacy, gpc_script=True)
    assert beacons == []
    beacons, _ = load(chromium, privacy, extra_http_headers={"Sec-GPC": "1"})
    assert len(beacons) == 1, "only the header: the route sees it"
    time.sleep(0.5)
    assert visits(site) == 0


def test_the_route_ignores_pages_of_other_sites_and_opted_out_requests(site):
    site.cli("reset", {"stats_enabled": True, "stats_beacon": True})
    route = f"{site.url}/?rest_route=/gardien/v1/view"
    page = f"{site.url}/?page_id={site.pages['privacy_page']}"
    assert (
        requests.post(route, data={"url": "https://elsewhere.example/"}, timeout=30).status_code
        == 204
    )
    assert (
        requests.post(route, data={"url": page}, headers={"Sec-GPC": "1"}, timeout=30).status_code
        == 204
    )
    assert visits(site) == 0
    site.cli("settings", {"stats_beacon": False})
    requests.post(route, data={"url": page}, timeout=30)
    assert visits(site) == 0, "without the beacon the server counts; the route adds nothing"
