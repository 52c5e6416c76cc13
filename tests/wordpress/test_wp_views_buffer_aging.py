"""No visitor address stays long on the WordPress side: a page view buffered more than a day ago
leaves without its address and user agent, and the visit buffer has a cap that drops the oldest
page views first, never a contact message."""

from __future__ import annotations

import json

from helpers import submit, visitor_message
from wp_stack import PHP_DIR, ensure_running

DAY = 24 * 3600


def views_tools(site, command: str, payload: object = None):
    result = site.php(PHP_DIR / "views-tools.php", command, input=payload or {})
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_page_views_buffered_over_a_day_ago_are_sent_without_address_or_agent(site):
    site.cli("reset", {"stats_enabled": True})
    views_tools(site, "add-old-visits", {"count": 3, "age": DAY + 600, "tag": "old"})
    views_tools(site, "add-old-visits", {"count": 2, "age": DAY - 600, "tag": "recent"})

    sent = views_tools(site, "deliver")

    [batch] = [request for request in sent if request["url"].endswith("/v1/stats/events")]
    assert batch["status"] == 202, "the real service took the batch"
    events = {event["url"].rsplit("/", 1)[1]: event for event in batch["body"]["events"]}
    assert sorted(events) == ["?old=0", "?old=1", "?old=2", "?recent=0", "?recent=1"]
    for key, event in events.items():
        if key.startswith("?old="):
            assert "ip" not in event and "user_agent" not in event, event
        else:
            assert event["ip"].startswith("203.0.113.") and event["user_agent"], event
    assert site.cli("outbox")["visits"] == 0


def test_the_buffer_cap_drops_the_oldest_page_views_and_never_a_message(site):
    site.cli("reset", {"stats_enabled": False})  # the form page itself is not a page view here
    # A contact message waits in the outbox (the service is not asked before cron runs).
    assert submit(site, visitor_message()).status_code == 303
    views_tools(site, "add-old-visits", {"count": 4, "age": 7200, "tag": "first"})
    views_tools(site, "add-old-visits", {"count": 3, "age": 60, "tag": "later", "max_rows": 5})
    buffered = [row["event"]["url"].rsplit("/", 1)[1] for row in views_tools(site, "buffer")]
    assert buffered == ["?first=2", "?first=3", "?later=0", "?later=1", "?later=2"]

    # A cap lowered later is applied by the next cron run before anything leaves.
    assert views_tools(site, "flush-visits", {"max_rows": 2})["batches"] == 1
    bodies = [row["body"] for row in site.cli("open-outbox")]
    [message] = [body for body in bodies if "message" in body]
    assert message["consent"] is True
    [batch] = [body for body in bodies if "events" in body]
    assert [e["url"].rsplit("/", 1)[1] for e in batch["events"]] == ["?later=1", "?later=2"]


def waiting_batches(site) -> dict[str, list[dict]]:
    """The page views of each batch waiting in the outbox, by their tag, opened with the key."""
    batches = [row["body"]["events"] for row in site.cli("open-outbox") if "events" in row["body"]]
    return {events[0]["url"].rsplit("/?", 1)[1].split("=")[0]: events for events in batches}


def test_page_views_waiting_in_the_outbox_lose_address_and_agent_after_a_day(site, gardien):
    site.cli("reset", {"stats_enabled": False})
    views_tools(site, "queue-batch", {"count": 2, "age": DAY + 600, "tag": "old"})
    views_tools(site, "queue-batch", {"count": 2, "age": DAY - 600, "tag": "recent"})
    gardien.stop()
    try:
        assert views_tools(site, "deliver") != [], "the cron run tried the service"
        at_rest = waiting_batches(site)
    finally:
        ensure_running(gardien)
    assert sorted(at_rest) == ["old", "recent"], "nothing was delivered or lost"
    assert all("ip" not in e and "user_agent" not in e for e in at_rest["old"]), at_rest["old"]
    assert all(e["ip"].startswith("198.51.100.") and e["user_agent"] for e in at_rest["recent"])

    site.cli("travel", {"seconds": 3600})
    sent = [r for r in views_tools(site, "deliver") if r["url"].endswith("/v1/stats/events")]
    assert [r["status"] for r in sent] == [202, 202], "the real service took both batches"
    assert site.cli("outbox")["rows"] == []


def test_an_aged_batch_the_service_took_before_its_answer_was_lost_is_not_kept(site, gardien):
    """The first attempt reached the service but its answer was lost; the batch then aged, so
    the retry's body differs under the same webhook-id: the service's 409 means delivered."""
    site.cli("reset", {"stats_enabled": False})
    views_tools(site, "queue-batch", {"count": 3, "age": DAY + 600, "tag": "old", "attempts": 1})
    [row] = site.cli("outbox")["rows"]
    [queued] = site.cli("open-outbox")
    assert all("ip" in event for event in queued["body"]["events"]), "queued before it aged"
    first = gardien.signed(
        "POST", "/v1/stats/events", queued["raw"].encode(), msg_id=row["webhook_id"]
    )
    assert first.status_code == 202, first.text

    [retry] = [r for r in views_tools(site, "deliver") if r["url"].endswith("/v1/stats/events")]

    assert retry["status"] == 409, "the service had the batch under this id"
    assert all("ip" not in event for event in retry["body"]["events"]), "sent aged"
    assert site.cli("outbox")["rows"] == [], "delivered, not kept as refused"
