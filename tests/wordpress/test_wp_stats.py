"""Page views: which requests count, what the event holds, and batching into the outbox.
(Delivery to /v1/stats/events is not exercised: that endpoint is not in the service yet.)"""

from __future__ import annotations

import requests
from helpers import visitor_message


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
