"""Messages the service refuses for good (a 4xx other than 401): the administrator sees each one
(what form, when, which error; never what the visitor wrote), retries or deletes it, and since
they hold personal data they are deleted after a retention period, with a notice before."""

from __future__ import annotations

import html
import json
import re
import uuid

import requests
from helpers import refused_with_conflict
from wp_stack import PHP_DIR

STATUS_PAGE = "/wp-admin/tools.php?page=gardien-status"
ROW_FORM = re.compile(
    r'<form method="post" action="[^"]*admin-post\.php" class="gardien-failed-row">\s*'
    r'<input type="hidden" name="action" value="gardien_failed_row">\s*'
    r'<input type="hidden" name="row" value="(?P<row>\d+)">\s*'
    r'<input type="hidden" name="_wpnonce" value="(?P<nonce>[0-9a-f]+)">'
)


def tools(site, command: str, payload: object = None):
    result = site.php(PHP_DIR / "outbox-tools.php", command, input=payload or {})
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused_message(site, gardien) -> tuple[dict, str]:
    """A CF7 entry the service refuses for good: its webhook-id was already used for another
    body (409 idempotency_conflict). Returns the outbox row and the entry's marker."""
    tag = uuid.uuid4().hex[:10]
    gardien.stop()
    site.cli(
        "cf7",
        {
            "posted": {
                "your-name": "Eve Marchand",
                "your-email": f"eve.{tag}@example.fr",
                "your-message": f"Bonjour {tag}",
            },
            "tags": {"your-name": "text", "your-email": "email", "your-message": "textarea"},
        },
    )
    row = refused_with_conflict(site, gardien)
    assert (row["status"], row["last_status"], row["last_error"]) == (
        "failed",
        "409",
        "idempotency_conflict",
    )
    return row, tag


def failed_table(page: str) -> str:
    start = page.index('<table class="widefat striped gardien-failed">')
    return page[start : page.index("</table>", start)]


def test_each_refused_message_is_listed_and_can_be_retried_or_deleted(site, gardien, stored):
    before = stored.count()
    row, tag = refused_message(site, gardien)
    site.cron()
    assert site.cli("outbox")["rows"][0]["attempts"] == row["attempts"], "cron does not retry it"

    admin = site.login()
    page = admin.get(site.url + STATUS_PAGE, timeout=30).text
    assert "refused by the Gardien service" in page, "the admin notice"
    table = failed_table(page)
    cells = [
        html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td>(.*?)</td>", table, re.DOTALL)
    ]
    assert cells[0] == "Contact message, form cf7-7"
    assert "409 idempotency_conflict" in cells
    assert any(cell.startswith("Deleted on ") for cell in cells)
    assert tag not in page and "eve." not in page and "Eve Marchand" not in page

    [form] = ROW_FORM.finditer(table)
    assert form["row"] == row["id"]

    retried = admin.post(
        f"{site.url}/wp-admin/admin-post.php",
        data={
            "action": "gardien_failed_row",
            "row": row["id"],
            "_wpnonce": form["nonce"],
            "do": "retry",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert retried.status_code in (302, 303)
    assert retried.headers["Location"].startswith(site.url + STATUS_PAGE)
    [again] = site.cli("outbox")["rows"]
    assert (again["status"], int(again["attempts"])) == ("failed", int(row["attempts"]) + 1), (
        "sent again, refused again"
    )
    shown = admin.get(retried.headers["Location"], timeout=30).text
    assert "Sent again: the service refused it again (HTTP 409 idempotency_conflict)." in shown

    deleted = admin.post(
        f"{site.url}/wp-admin/admin-post.php",
        data={
            "action": "gardien_failed_row",
            "row": row["id"],
            "_wpnonce": form["nonce"],
            "do": "delete",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert deleted.status_code in (302, 303)
    assert site.cli("outbox")["rows"] == []
    shown = admin.get(deleted.headers["Location"], timeout=30).text
    assert "The refused message was deleted from this site." in shown
    assert "gardien-failed" not in shown and "refused by the Gardien service" not in shown
    assert stored.count() == before + 1, "only the other body took that webhook-id"


def test_a_row_action_needs_the_nonce_and_the_capability(site, gardien):
    row, _ = refused_message(site, gardien)
    admin = site.login()
    page = admin.get(site.url + STATUS_PAGE, timeout=30).text
    [form] = ROW_FORM.finditer(failed_table(page))
    url = f"{site.url}/wp-admin/admin-post.php"
    data = {"action": "gardien_failed_row", "row": row["id"], "do": "delete"}

    anonymous = requests.post(url, data={**data, "_wpnonce": form["nonce"]}, timeout=30)
    no_nonce = admin.post(url, data=data, timeout=30)
    foreign_nonce = admin.post(
        url, data={**data, "row": str(int(row["id"]) + 1), "_wpnonce": form["nonce"]}, timeout=30
    )
    by_get = admin.get(url, params={**data, "_wpnonce": form["nonce"]}, timeout=30)

    assert anonymous.status_code != 200 or "wp-login.php" in anonymous.url
    assert no_nonce.status_code == 403 and foreign_nonce.status_code == 403
    assert by_get.status_code in (400, 403, 405)
    assert [r["id"] for r in site.cli("outbox")["rows"]] == [row["id"]], "still there"


def test_refused_messages_are_deleted_after_thirty_days_with_a_notice_before(site, gardien):
    row, _ = refused_message(site, gardien)
    admin = site.login()
    page = admin.get(site.url + STATUS_PAGE, timeout=30).text
    assert "will be deleted" not in page

    tools(site, "age-failed", {"seconds": 25 * 86400})
    site.cli("travel", {"seconds": 600})  # the five-minute delivery event is due
    site.cron()
    assert len(site.cli("outbox")["rows"]) == 1
    page = admin.get(f"{site.url}/wp-admin/", timeout=30).text
    notice = re.search(r'<div class="notice notice-warning"><p>(.*?)</p>', page, re.DOTALL)
    assert notice, "a notice before the deletion"
    assert "1 refused message will be deleted on " in html.unescape(notice[1])

    tools(site, "age-failed", {"seconds": 6 * 86400})
    site.cli("travel", {"seconds": 600})
    site.cron()
    assert site.cli("outbox")["rows"] == []
    page = admin.get(f"{site.url}/wp-admin/", timeout=30).text
    assert "will be deleted" not in page and "refused by the Gardien service" not in page
