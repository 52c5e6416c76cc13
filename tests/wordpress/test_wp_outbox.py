"""The outbox promise: nothing a visitor saw accepted is lost, nothing is stored twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from helpers import submit, visitor_message
from wp_stack import ensure_running


def test_outage_fifty_submissions_all_arrive_once_after_restart(site, gardien, stored):
    before = stored.count()
    gardien.stop()

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: submit(site, visitor_message()), range(50)))
    assert [r.status_code for r in responses] == [303] * 50, (
        "the visitor sees each message accepted"
    )

    outbox = site.cli("outbox")
    assert outbox["summary"]["pending"] == 50
    assert {row["attempts"] for row in outbox["rows"]} == {"1"}
    assert {row["last_error"] for row in outbox["rows"]} == {"network"}
    assert len({row["webhook_id"] for row in outbox["rows"]}) == 50
    assert all(row["payload"].startswith("g1:") for row in outbox["rows"])
    assert not any("example.fr" in row["payload"] for row in outbox["rows"])
    assert stored.count() == before

    ensure_running(gardien)
    site.cron()  # not due yet: the backoff keeps them waiting
    assert site.cli("outbox")["summary"]["pending"] == 50

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


def test_a_refused_message_is_kept_as_failed_and_shown_to_the_admin(site, stored):
    before = stored.count()
    wrong = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="  # 26 bytes, not the site's secret
    tag = "refused-" + requests.utils.quote("x")
    site.cli(
        "cf7",
        {
            "posted": {
                "your-name": "Eve",
                "your-email": "eve@example.fr",
                "your-message": f"Bonjour {tag}",
            },
            "tags": {"your-email": "email", "your-message": "textarea"},
        },
        GARDIEN_TEST_SECRET=wrong,
    )

    [row] = site.cli("outbox")["rows"]
    assert row["status"] == "failed"
    assert row["last_status"] == "401"
    assert row["last_error"] == "unauthorized"
    assert stored.count() == before

    site.cron()
    assert site.cli("outbox")["rows"][0]["attempts"] == "1", "a 4xx is not retried by cron"

    admin = site.login()
    page = admin.get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30)
    assert page.status_code == 200
    assert row["webhook_id"] in page.text
    assert "unauthorized" in page.text and ">401<" in page.text
    assert "refused by the Gardien service" in page.text, "the admin notice"
    assert "eve@example.fr" not in page.text and tag not in page.text
