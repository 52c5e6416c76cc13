"""Tools → Gardien and Settings → Gardien → Test connection against the real service: what
GET /v1/status and GET /v1/stats/summary answer is what the administrator reads."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

from helpers import BROWSER_AGENT, store_messages
from wp_stack import PHP_DIR

WRONG_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="  # 26 bytes, not the site's secret


def wordpress_moment(moment: datetime) -> str:
    """A UTC time in the site's default formats, "F j, Y g:i a" (the test site is on UTC)."""
    hour = moment.hour % 12 or 12
    return (
        f"{moment:%B} {moment.day}, {moment.year} {hour}:{moment:%M} "
        f"{'am' if moment.hour < 12 else 'pm'}"
    )


def wordpress_day(day: str) -> str:
    moment = datetime.fromisoformat(day)
    return f"{moment:%B} {moment.day}, {moment.year}"


def card(page: str, title: str) -> str:
    """The part of the screen from a card's title to the next card."""
    start = page.index(f'<h2 class="title">{title}</h2>')
    end = page.find('<div class="card">', start)
    return page[start : end if end != -1 else len(page)]


def test_tools_screen_shows_the_services_counts_and_last_week(site, gardien):
    store_messages(gardien, f"marc.{uuid.uuid4().hex[:8]}@example.fr", ["Bonjour, un devis ?"])
    now = datetime.now(UTC).replace(microsecond=0)
    events = gardien.signed(
        "POST",
        "/v1/stats/events",
        {
            "events": [
                {
                    "ts": now.isoformat().replace("+00:00", "Z"),
                    "url": f"{site.url}/",
                    "ip": "2.3.4.5",
                    "user_agent": BROWSER_AGENT,
                }
            ]
        },
    )
    assert events.status_code == 202 and events.json()["accepted"] == 1, events.text
    gardien.flask("purge", "--now", now.isoformat().replace("+00:00", "Z"))
    site.cli("travel", {"seconds": 3600})
    site.cron()  # the hourly refresh of the visits the card shows

    page = site.login().get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30).text

    status = gardien.signed("GET", "/v1/status").json()
    today = now.date()
    week = gardien.signed(
        "GET", f"/v1/stats/summary?from={today - timedelta(days=6)}&to={today}"
    ).json()
    service = card(page, "Service")
    rows = {
        html.unescape(label): html.unescape(value)
        for label, value in re.findall(
            r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', service
        )
    }
    assert status["messages"] >= 1 and status["stats_events"] >= 1
    assert rows["Version"] == status["version"]
    assert rows["Contact messages kept"] == f"{status['messages']:,}"
    assert rows["Of which under legal hold"] == f"{status['legal_holds']:,}"
    assert rows["Client records"] == f"{status['clients']:,}"
    assert rows["Page views kept"] == f"{status['stats_events']:,}"
    assert rows["Last purge"] == wordpress_moment(now)
    assert rows["Next purge"] == wordpress_moment(
        datetime.fromisoformat(status["next_purge_at"].replace("Z", "+00:00"))
    )

    visits = card(page, "Visits, last 7 days")
    assert f"{week['visits']:,} visits by {week['visitors']:,} visitors." in visits
    days = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", visits)
    assert days == [
        (wordpress_day(day["date"]), f"{day['visits']:,}", f"{day['visitors']:,}")
        for day in week["days"]
    ]
    assert len(days) == 7 and days[-1][0] == wordpress_day(today.isoformat())
    assert int(days[-1][1]) >= 1


def test_connection_test_reports_a_wrong_secret(site):
    admin = site.login()
    with site.secret_replaced(WRONG_SECRET):
        settings = admin.get(f"{site.url}/wp-admin/options-general.php?page=gardien", timeout=30)
        form = re.search(
            r'value="gardien_test_connection">.*?name="_wpnonce" value="([0-9a-f]+)"',
            settings.text,
            re.DOTALL,
        )
        assert form, "no Test connection form"
        result = admin.post(
            f"{site.url}/wp-admin/admin-post.php",
            data={"action": "gardien_test_connection", "_wpnonce": form[1]},
            headers={"Referer": settings.url},
            timeout=30,
        )
        tools = admin.get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30).text
    assert "gardien_tested=1" in result.url
    notice = re.search(r'<div class="notice notice-(\w+) is-dismissible"><p>(.*?)</p>', result.text)
    assert notice, "no result notice"
    assert notice[1] == "error"
    assert "refuses the signature: check the site slug and the webhook secret" in notice[2]
    assert "<td>Refused (HTTP 401 unauthorized)</td>" in tools
    # The visits card shows what WP-Cron fetched; a refresh with the wrong secret is refused.
    site.cli("travel", {"seconds": 3600})
    site.php(PHP_DIR / "cron.php", env=site.env(GARDIEN_TEST_SECRET=WRONG_SECRET))
    tools = admin.get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=30).text
    assert "could not be updated (HTTP 401 unauthorized)" in card(tools, "Visits, last 7 days")
