"""Page views: which requests count, what the event holds, batching into the outbox, and what
the service makes of them once WP-Cron has delivered the batch."""

from __future__ import annotations

import ipaddress
import uuid
from collections import Counter
from datetime import UTC, datetime

import requests
from helpers import BROWSER_AGENT, visitor_message


def visits(site) -> int:
    return site.cli("outbox")["visits"]


def test_a_front_end_page_view_is_buffered_with_url_referrer_and_address(site):
    site.cli("reset", {"stats_enabled": True})
    response = requests.get(
        f"{site.url}/?s=d%C3%A9pannage+imprimante",
        timeout=30,
        headers={"Referer": "https://www.google.fr/", "User-Agent": "Mozilla/5.0 Test"},
    )
    assert response.status_code == 200
    assert visits(site) == 1

    assert site.cli("flush-visits")["batches"] == 1
    [batch] = site.cli("open-outbox")
    assert batch["endpoint"] == "/v1/stats/events"
    [event] = batch["body"]["events"]
    assert event["url"] == f"{site.url}/?s=d%C3%A9pannage+imprimante"
    assert event["referrer"] == "https://www.google.fr/"
    assert event["ip"] == "127.0.0.1"
    assert event["user_agent"] == "Mozilla/5.0 Test"
    assert event["ts"].endswith("Z")
    assert visits(site) == 0


def test_requests_that_are_not_page_reads_are_not_counted(site):
    site.cli("reset", {"stats_enabled": True})
    for path in (
        "/?feed=rss2",
        "/?rest_route=/",
        "/wp-login.php",
        "/?p=987654",
        "/?robots=1",
        "/?p=1&embed=true",
        "/wp-cron.php",
        "/favicon.ico",
    ):
        requests.get(site.url + path, timeout=30)
    requests.post(
        f"{site.url}/?page_id={site.pages['contact_page']}", data=visitor_message(), timeout=30
    )
    assert visits(site) == 0


def test_do_not_track_and_global_privacy_control_are_honoured(site):
    site.cli("reset", {"stats_enabled": True, "stats_honour_dnt": True})
    requests.get(site.url + "/", headers={"DNT": "1"}, timeout=30)
    requests.get(site.url + "/", headers={"Sec-GPC": "1"}, timeout=30)
    assert visits(site) == 0
    site.cli("reset", {"stats_enabled": True, "stats_honour_dnt": False})
    requests.get(site.url + "/", headers={"DNT": "1"}, timeout=30)
    assert visits(site) == 1


def test_logged_in_editors_and_404s_count_only_when_asked(site):
    site.cli("reset", {"stats_enabled": True})
    admin = site.login()
    admin.get(site.url + "/", timeout=30)
    requests.get(site.url + "/?p=987654", timeout=30)
    assert visits(site) == 0
    site.cli("reset", {"stats_enabled": True, "stats_track_editors": True, "stats_track_404": True})
    admin.get(site.url + "/", timeout=30)
    requests.get(site.url + "/?p=987654", timeout=30)
    assert visits(site) == 2
    preview = admin.get(f"{site.url}/?page_id={site.pages['draft_page']}&preview=true", timeout=30)
    assert "Not published yet." in preview.text
    admin.get(f"{site.url}/wp-admin/", timeout=30)
    assert visits(site) == 2, "previews and admin screens are never page views"


def test_stats_off_counts_nothing(site):
    site.cli("reset", {"stats_enabled": False})
    requests.get(site.url + "/", timeout=30)
    assert visits(site) == 0


def test_the_visitor_address_comes_from_a_header_only_behind_a_trusted_proxy(site):
    forwarded = {"X-Forwarded-For": "192.0.2.1, 203.0.113.9"}
    site.cli(
        "reset",
        {
            "stats_enabled": True,
            "ip_header": "HTTP_X_FORWARDED_FOR",
            "trusted_proxies": ["127.0.0.1"],
        },
    )
    requests.get(site.url + "/", headers=forwarded, timeout=30)
    site.cli("settings", {"trusted_proxies": ["10.0.0.0/8"]})
    requests.get(site.url + "/", headers=forwarded, timeout=30)
    site.cli("flush-visits")
    [batch] = site.cli("open-outbox")
    assert [event["ip"] for event in batch["body"]["events"]] == ["203.0.113.9", "127.0.0.1"]


def test_buffered_visits_go_out_in_batches_of_at_most_500(site):
    site.cli("reset", {"stats_enabled": True})
    assert site.cli("add-visits", {"count": 1201})["visits"] == 1201
    assert site.cli("flush-visits")["batches"] == 3
    batches = site.cli("open-outbox")
    assert [len(batch["body"]["events"]) for batch in batches] == [500, 500, 201]
    urls = [event["url"] for batch in batches for event in batch["body"]["events"]]
    assert len(set(urls)) == 1201, "every visit exactly once"
    rows = site.cli("outbox")["rows"]
    assert len({row["webhook_id"] for row in rows}) == 3
    assert visits(site) == 0


def summary_of_today(gardien) -> dict:
    today = datetime.now(UTC).date().isoformat()
    response = gardien.signed("GET", f"/v1/stats/summary?from={today}&to={today}")
    assert response.status_code == 200, response.text
    return response.json()


def ranking(summary: dict, name: str, key: str) -> Counter:
    return Counter({entry[key]: entry["visits"] for entry in summary[name]})


def address_forms(text: str) -> list[bytes]:
    """An IP address as text (short, long, upper case, IPv4-mapped), integer, hex and packed."""
    address = ipaddress.ip_address(text)
    forms = [address.packed, address.packed.hex().encode(), str(int(address)).encode()]
    texts = [address.compressed, address.exploded, address.reverse_pointer]
    if address.version == 4:
        mapped = ipaddress.IPv6Address(f"::ffff:{text}")
        forms.append(mapped.packed)
        texts += [f"::ffff:{text}", mapped.exploded]
    for value in texts:
        forms += [value.encode(), value.upper().encode(), value.encode("utf-16-le")]
    return forms


def test_page_views_reach_the_service_which_forgets_the_address(site, gardien):
    site.cli(
        "reset",
        {
            "stats_enabled": True,
            "ip_header": "HTTP_X_FORWARDED_FOR",
            "trusted_proxies": ["127.0.0.1"],
        },
    )
    marker = uuid.uuid4().hex[:12]
    agent = f"{BROWSER_AGENT} Gardien{marker}"
    # Two visitors behind the proxy, both in France (the service derives the country offline).
    first, second = "90.84.173.21", "2a01:cb00:871:3f00:5d1c:9a2e:4b7f:e031"
    views = [
        (f"/?page_id={site.pages['privacy_page']}", first, None),
        ("/?s=d%C3%A9pannage+imprimante", first, None),
        ("/", second, "https://www.google.fr/"),
        ("/", second, "https://blog.example.org/2026/11/artisans-de-lyon/"),
    ]
    before = summary_of_today(gardien)
    for path, address, referrer in views:
        headers = {"User-Agent": agent, "X-Forwarded-For": address}
        if referrer:
            headers["Referer"] = referrer
        assert requests.get(site.url + path, headers=headers, timeout=30).status_code == 200
    assert visits(site) == 4

    site.cli("travel", {"seconds": 600})  # the five-minute delivery event is due
    site.cron()

    outbox = site.cli("outbox")
    assert outbox["rows"] == [] and outbox["visits"] == 0, "flushed and delivered"
    after = summary_of_today(gardien)
    assert after["visits"] - before["visits"] == 4
    assert after["visitors"] - before["visitors"] == 2

    def gained(name: str, key: str) -> Counter:
        return ranking(after, name, key) - ranking(before, name, key)

    assert gained("channels", "channel") == Counter(direct=2, search=1, website=1)
    assert gained("searches", "terms") == Counter({"dépannage imprimante": 1})
    assert gained("referrers", "host") == Counter({"google.fr": 1, "blog.example.org": 1})
    assert gained("countries", "country") == Counter(FR=4)

    files = [
        gardien.database_path.with_name(gardien.database_path.name + suffix)
        for suffix in ("", "-wal", "-journal")
    ]
    kept = b"".join(path.read_bytes() for path in files if path.exists())
    kept += gardien.log_path.read_bytes()
    assert len(kept) > 10_000
    for address in (first, second):
        found = [form for form in address_forms(address) if form in kept]
        assert found == [], f"{address} is in the service's files as {found}"
    assert marker.encode() not in kept, "the user agent is not kept either"
