"""The outbox promise: nothing a visitor saw accepted is lost, nothing is stored twice."""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor

from helpers import submit, visitor_message
from wp_stack import ensure_running


def test_outage_fifty_submissions_all_arrive_once_after_restart(site, gardien, stored):
    # What is already due runs now, service up: on a WordPress just set up (this test run
    # alone or first) the hourly delivery is due too, and would make a second attempt below.
    site.cron()
    before = stored.count()
    gardien.stop()

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: submit(site, visitor_message()), range(50)))
    assert [r.status_code for r in responses] == [303] * 50, (
        "the visitor sees each message accepted"
    )

    outbox = site.cli("outbox")
    assert outbox["summary"]["pending"] == 50
    assert {row["attempts"] for row in outbox["rows"]} == {"0"}, "the visitor's request only queues"
    assert len({row["webhook_id"] for row in outbox["rows"]}) == 50
    assert all(row["payload"].startswith("g1:") for row in outbox["rows"])
    assert not any("example.fr" in row["payload"] for row in outbox["rows"])
    assert stored.count() == before

    site.cron()  # the service is down: one attempt tells, the backoff keeps them waiting
    outbox = site.cli("outbox")
    assert outbox["summary"]["pending"] == 50
    assert sorted(row["attempts"] for row in outbox["rows"]) == ["0"] * 49 + ["1"]
    assert {row["last_error"] for row in outbox["rows"]} == {None, "network"}
    assert stored.count() == before

    ensure_running(gardien)
    site.cli("travel", {"seconds": 3600})
    site.cron()
    site.cron()  # a second run finds nothing left to send

    assert site.cli("outbox")["rows"] == []
    assert stored.count() == before + 50


def test_a_retry_with_the_same_id_is_not_stored_twice(site, gardien, stored):
    """The service answered but the plugin did not hear it: the retry reuses the webhook-id."""
    before = stored.count()
    gardien.stop()
    submit(site, visitor_message())
    [row] = site.cli("outbox")["rows"]
    [queued] = site.cli("open-outbox")
    ensure_running(gardien)
    first = gardien.signed("POST", "/v1/contact", queued["raw"].encode(), msg_id=row["webhook_id"])
    assert first.status_code == 201
    site.cli("travel", {"seconds": 3600})
    site.cron()
    assert site.cli("outbox")["rows"] == []
    assert stored.count() == before + 1


def test_a_refused_signature_keeps_messages_waiting_and_alerts_the_admin(site, stored):
    """A 401 (a typo in the secret or the site slug, a clock that drifted) refuses every message at
    once: they wait and are retried with backoff, the administrator is told why, and they go out
    as soon as the settings are right again."""
    before = stored.count()
    wrong = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="  # 26 bytes, not the site's secret
    fields = visitor_message()
    with site.secret_replaced(wrong):
        assert submit(site, fields).status_code == 303
        site.cron()  # WP-Cron makes the first attempt
        [row] = site.cli("outbox")["rows"]
        assert (row["status"], row["last_status"], row["last_error"]) == (
            "pending",
            "401",
            "unauthorized",
        )
        site.cron()
        assert site.cli("outbox")["rows"][0]["attempts"] == "1", "backoff: not due yet"
        site.cli("travel", {"seconds": 3600})
        site.cron()
        [row] = site.cli("outbox")["rows"]
        assert (row["status"], row["attempts"]) == ("pending", "2")

        admin = site.login()
        page = admin.get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30).text
        notice = re.search(r'<div class="notice notice-error"><p>(.*?)</p>', page, re.DOTALL)
        assert notice, "the admin notice"
        assert "The Gardien service refuses this site's signature (HTTP 401 unauthorized)" in (
            html.unescape(notice[1])
        )
        assert "refused by the Gardien service and" not in page, "nothing is failed"
        assert "Signature refused since" in page, "the status page says it too"
        assert fields["gardien_email"] not in page

    site.cli("travel", {"seconds": 3600})
    site.cron()
    assert site.cli("outbox")["rows"] == []
    assert stored.count() == before + 1
    page = site.login().get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30).text
    assert "refuses this site's signature" not in page and "Signature refused since" not in page
