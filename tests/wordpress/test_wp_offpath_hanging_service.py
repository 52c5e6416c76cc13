"""Off the visitor's path: a service that accepts connections and never answers delays neither a
form submission, nor a page view, nor a page that needs the retention policy. The visitor's
request only queues; WP-Cron delivers and refreshes once the service answers again."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from helpers import BROWSER_AGENT, form_page, visitor_message
from wp_stack import PHP_DIR, ensure_running

# What a hanging service may add to a visitor's request, at most.
EXTRA = 0.3
# Shorter than any remote call of the plugin may wait (its shortest time-out is 5 s): a
# visitor's request that waited for the service at all takes longer than this.
BLOCKED = 1.0


@contextmanager
def hanging(gardien) -> Iterator[None]:
    """The service's port accepts connections (the kernel completes them) and never answers."""
    gardien.stop()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", gardien.port))
    listener.listen(128)
    try:
        yield
    finally:
        listener.close()
        ensure_running(gardien)


def views_tools(site, command: str, payload: object = None):
    """``php views-tools.php COMMAND``: this suite's look into the plugin's state."""
    result = site.php(PHP_DIR / "views-tools.php", command, input=payload or {})
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed(call) -> tuple[float, requests.Response]:
    started = time.monotonic()
    response = call()
    return time.monotonic() - started, response


def timed_post(site) -> tuple[float, requests.Response, dict[str, str]]:
    """Fetch the contact form, then time its POST alone."""
    http = requests.Session()
    action, hidden, _ = form_page(site, http)
    fields = visitor_message()
    elapsed, response = timed(
        lambda: http.post(action, data={**hidden, **fields}, allow_redirects=False, timeout=60)
    )
    return elapsed, response, fields


def test_a_hanging_service_does_not_delay_the_contact_form(site, gardien, stored):
    baseline, response, _ = timed_post(site)
    assert response.status_code == 303
    site.cron()  # the baseline's message leaves
    assert site.cli("outbox")["rows"] == []
    before = stored.count()

    with hanging(gardien):
        elapsed, response, fields = timed_post(site)
        assert response.status_code == 303, "the visitor sees the message accepted"
        assert elapsed < baseline + EXTRA, f"{elapsed:.2f} s against {baseline:.2f} s healthy"
        [row] = site.cli("outbox")["rows"]
        assert (row["status"], row["attempts"]) == ("pending", "0"), "it waits in the outbox"
        [queued] = site.cli("open-outbox")
        assert queued["body"]["email"] == fields["gardien_email"]

    site.cron()
    assert site.cli("outbox")["rows"] == []
    assert stored.count() == before + 1


def test_a_hanging_service_does_not_delay_a_page_view(site, gardien):
    site.cli("reset", {"stats_enabled": True})
    headers = {"User-Agent": BROWSER_AGENT}
    home = f"{site.url}/?page_id={site.pages['privacy_page']}"


    def three_views() -> list[float]:
        times = []
        for _ in range(3):
            elapsed, response = timed(lambda: requests.get(home, headers=headers, timeout=60))
            assert response.status_code == 200
            times.append(elapsed)
        return times

    # Three of each, as the other test worker shares the cores: the fastest of each is
    # compared, and none of them may have waited for the service.
    healthy = three_views()
    with hanging(gardien):
        times = three_views()
    assert min(times) < min(healthy) + EXTRA, f"{times} s against {healthy} s healthy"
    assert max(times) < BLOCKED, f"{times} s: a page view waited for the service"
    assert site.cli("outbox")["visits"] == 6
    site.cli("travel", {"seconds": 600})  # the five-minute delivery event is due
    site.cron()
    outbox = site.cli("outbox")
    assert (outbox["visits"], outbox["rows"]) == (0, []), "counted and delivered by cron"


def test_a_stale_policy_is_refreshed_by_cron_not_by_the_page(site, gardien):
    contact = f"{site.url}/?page_id={site.pages['contact_page']}"
    # Healthy baseline: the policy is fetched (by cron) and cached.
    requests.get(contact, timeout=60)
    site.cron()
    baseline, page = timed(lambda: requests.get(contact, timeout=60))
    assert page.status_code == 200
    assert site.cli("age-policy-cache", {"seconds": 13 * 3600})["languages"] == ["en"]

    with hanging(gardien):
        elapsed, page = timed(lambda: requests.get(contact, timeout=60))
        assert page.status_code == 200
        assert elapsed < baseline + EXTRA, f"{elapsed:.2f} s against {baseline:.2f} s healthy"
        assert "gardien-contact__consent" in page.text, "the last known policy is still shown"

    before = views_tools(site, "policy-fetched")
    site.cron()
    after = views_tools(site, "policy-fetched")
    assert after["en"] > before["en"], "the next cron run fetched it again"
