"""Dashboard → Gardien: visits of the last seven days from the service's summary, fetched by
WP-Cron into a cache the dashboard and Tools → Gardien only read; what waits in the outbox; the
link to the service's dashboard. In Chromium: the bars, the figures, the links, no serious
accessibility violation."""

from __future__ import annotations

import html
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import requests
from helpers import BROWSER_AGENT, refused_with_conflict, submit, visitor_message
from wp_stack import PHP_DIR, ROOT, ensure_running

AXE = ROOT / "tests" / "dashboard" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_ON_WIDGET = """async () => {
  const result = await axe.run('#gardien_dashboard_widget', {resultTypes: ['violations']});
  return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => v.id + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
}"""
# What a hanging service may add to the dashboard, at most.
EXTRA = 0.3


def tools(site, command: str, payload: object = None):
    """``php widget-tools.php COMMAND``: this suite's look into the widget's cache."""
    result = site.php(PHP_DIR / "widget-tools.php", command, input=payload or {})
    return json.loads(result.stdout.strip().splitlines()[-1])


def hourly_cron(site) -> None:
    """An hour passes, then WP-Cron runs: the hourly refresh is due."""
    site.cli("travel", {"seconds": 3600})
    site.cron()


def store_views(site, gardien, count: int) -> None:
    """``count`` page views of today by as many visitors, signed to the service."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    events = [
        {
            "ts": now,
            "url": f"{site.url}/?widget={uuid.uuid4().hex[:8]}",
            "ip": f"90.84.173.{10 + n}",
            "user_agent": BROWSER_AGENT,
        }
        for n in range(count)
    ]
    response = gardien.signed("POST", "/v1/stats/events", {"events": events})
    assert response.status_code == 202 and response.json()["accepted"] == count, response.text


def last_week(gardien) -> dict:
    today = datetime.now(UTC).date()
    response = gardien.signed(
        "GET", f"/v1/stats/summary?from={today - timedelta(days=6)}&to={today}"
    )
    assert response.status_code == 200, response.text
    return response.json()


def widget(page: str) -> str:
    """The widget's postbox in the dashboard's HTML."""
    match = re.search(
        r'<div id="gardien_dashboard_widget".*?<div class="gardien-widget">(.*?)'
        r'<p class="gardien-widget__links">',
        page,
        re.DOTALL,
    )
    assert match, "the Gardien widget is not on the dashboard"
    return html.unescape(match[1])


def bars(section: str) -> list[tuple[str, int]]:
    return [
        (date, int(visits))
        for date, visits in re.findall(r'data-date="([^"]+)" data-visits="(\d+)"', section)
    ]


@contextmanager
def hanging(gardien) -> Iterator[socket.socket]:
    """The service's port accepts connections (the kernel completes them) and never answers;
    the listener tells whether anyone connected."""
    gardien.stop()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", gardien.port))
    listener.listen(128)
    listener.setblocking(False)
    try:
        yield listener
    finally:
        listener.close()
        ensure_running(gardien)


def connected(listener: socket.socket) -> bool:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def timed_get(session: requests.Session, url: str) -> tuple[float, str]:
    started = time.monotonic()
    response = session.get(url, timeout=60)
    assert response.status_code == 200
    return time.monotonic() - started, response.text


def test_cron_fills_the_cache_with_the_services_last_seven_days(site, gardien):
    tools(site, "forget")
    store_views(site, gardien, 3)
    assert tools(site, "cache") is None

    hourly_cron(site)

    week = last_week(gardien)
    cache = tools(site, "cache")
    assert abs(cache["fetched_at"] - time.time()) < 60
    assert cache["error"] == ""
    summary = cache["summary"]
    assert (summary["from"], summary["to"]) == (week["from"], week["to"])
    assert (summary["visits"], summary["visitors"]) == (week["visits"], week["visitors"])
    assert summary["days"] == week["days"] and len(summary["days"]) == 7
    assert summary["days"][-1]["visits"] >= 3
    assert set(summary) == {"from", "to", "visits", "visitors", "days"}, (
        "only the totals are kept on the site, not the pages, referrers or search terms"
    )

    store_views(site, gardien, 2)
    site.cron()
    assert tools(site, "cache")["summary"]["visits"] == week["visits"], "hourly, not every run"
    hourly_cron(site)
    assert tools(site, "cache")["summary"]["visits"] == week["visits"] + 2


def test_the_dashboard_shows_the_cache_and_never_calls_the_service(site, gardien):
    store_views(site, gardien, 2)
    hourly_cron(site)
    week = last_week(gardien)
    admin = site.login()
    baseline, page = timed_get(admin, f"{site.url}/wp-admin/")
    shown = widget(page)
    assert (
        f"{week['visits']:,} visits by {week['visitors']:,} visitors over the last 7 days." in shown
    )
    assert bars(shown) == [(day["date"], day["visits"]) for day in week["days"]]
    assert "Last updated " in shown and "out of date" not in shown
    assert not tools(site, "asked")["stale"], "fresh figures: no refresh asked for"

    tools(site, "age", {"seconds": 3 * 3600})
    with hanging(gardien) as listener:
        elapsed, page = timed_get(admin, f"{site.url}/wp-admin/")
        assert elapsed < baseline + EXTRA, f"{elapsed:.2f} s against {baseline:.2f} s healthy"
        shown = widget(page)
        assert bars(shown) == [(day["date"], day["visits"]) for day in week["days"]]
        assert "Last updated 3 hours ago." in shown
        assert "These figures are out of date" in shown
        assert not connected(listener), "the dashboard connected to the service"
    assert tools(site, "asked")["stale"], "the stale figures asked WP-Cron for a refresh"

    store_views(site, gardien, 1)
    site.cron()  # the refresh the dashboard asked for; no hour has passed
    assert tools(site, "cache")["summary"]["visits"] == week["visits"] + 1
    assert not tools(site, "asked")["stale"]


def test_tools_screen_reads_the_same_cache(site, gardien):
    store_views(site, gardien, 1)
    hourly_cron(site)
    week = last_week(gardien)
    admin = site.login()
    gardien.stop()
    try:
        page = admin.get(f"{site.url}/wp-admin/tools.php?page=gardien-status", timeout=60).text
    finally:
        ensure_running(gardien)
    card = page[page.index('<h2 class="title">Visits, last 7 days</h2>') :]
    assert f"{week['visits']:,} visits by {week['visitors']:,} visitors." in card
    assert "Last updated " in card
    assert "Not available right now." not in card


def test_never_fetched_unreachable_and_not_configured(site, gardien):
    tools(site, "forget")
    admin = site.login()
    shown = widget(admin.get(f"{site.url}/wp-admin/", timeout=60).text)
    assert "Not fetched yet: the visit figures appear after the next WP-Cron run." in shown
    assert bars(shown) == []
    assert tools(site, "asked")["stale"]

    gardien.stop()
    try:
        site.cron()
    finally:
        ensure_running(gardien)
    shown = widget(admin.get(f"{site.url}/wp-admin/", timeout=60).text)
    assert "The visit figures could not be updated (network)" in shown
    assert bars(shown) == []
    assert not tools(site, "asked")["stale"], "after a failure, ten minutes before asking again"

    hourly_cron(site)
    shown = widget(admin.get(f"{site.url}/wp-admin/", timeout=60).text)
    assert len(bars(shown)) == 7 and "could not be updated" not in shown

    gardien.stop()
    try:
        hourly_cron(site)
    finally:
        ensure_running(gardien)
    shown = widget(admin.get(f"{site.url}/wp-admin/", timeout=60).text)
    assert len(bars(shown)) == 7, "the last figures stay"
    assert "(network)" in shown and "The figures shown are those of the last update." in shown

    with site.secret_replaced("not-a-secret"):
        shown = widget(admin.get(f"{site.url}/wp-admin/", timeout=60).text)
    assert "Gardien is not configured yet." in shown and bars(shown) == []


def test_the_widget_speaks_french(site, gardien):
    store_views(site, gardien, 1)
    hourly_cron(site)
    site.cli("site-language", {"locale": "fr_FR"})
    shown = widget(site.login().get(f"{site.url}/wp-admin/", timeout=60).text)
    assert "visiteurs sur les 7 derniers jours." in shown
    assert '<title id="gardien-widget-chart-title">Visites par jour du ' in shown
    assert "Mis à jour il y a " in shown
    assert "Aucun message en attente d’envoi au service." in shown


def test_only_administrators_see_the_widget(site):
    password = uuid.uuid4().hex
    tools(site, "editor", {"login": "widget-editor", "password": password})
    editor = requests.Session()
    editor.cookies.set("wordpress_test_cookie", "WP Cookie check", domain="127.0.0.1", path="/")
    editor.post(
        f"{site.url}/wp-login.php",
        data={
            "log": "widget-editor",
            "pwd": password,
            "testcookie": "1",
            "redirect_to": f"{site.url}/wp-admin/",
        },
        timeout=30,
    )
    page = editor.get(f"{site.url}/wp-admin/", timeout=60).text
    assert 'id="dashboard-widgets"' in page, "the editor sees the dashboard"
    assert "gardien_dashboard_widget" not in page
    assert "gardien_dashboard_widget" in site.login().get(f"{site.url}/wp-admin/", timeout=60).text


def test_deactivation_and_uninstall_remove_the_refresh_and_the_cache(wordpress, gardien):
    ensure_running(gardien)
    # A site in a database of its own, so the suite's site keeps its plugin.
    database = "wordpress_widget_removal"
    wordpress.database.sql(f"CREATE DATABASE {database} CHARACTER SET utf8mb4")
    env = wordpress.env(GARDIEN_TEST_DB=database)
    wordpress.php(PHP_DIR / "install.php", env=env)
    result = wordpress.php(PHP_DIR / "widget-tools.php", "remove", input={}, env=env)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["before"] == {"cache": True, "hourly": True, "stale": True}
    assert report["deactivated"] == {"cache": True, "hourly": False, "stale": False}
    assert report["uninstalled"] == {"cache": False, "hourly": False, "stale": False}


def test_widget_in_chromium(site, gardien, admin_page, tmp_path):
    page, errors = admin_page
    store_views(site, gardien, 4)
    assert submit(site, visitor_message()).status_code == 303
    refused_with_conflict(site, gardien)  # its cron run also refreshes the visits
    assert submit(site, visitor_message()).status_code == 303
    week = last_week(gardien)

    page.goto(f"{site.url}/wp-admin/")
    box = page.locator("#gardien_dashboard_widget")
    assert box.is_visible()
    assert box.locator("h2").first.inner_text() == "Gardien"
    chart = box.get_by_role("img", name=re.compile(r"^Visits per day from "))
    assert chart.is_visible()
    assert chart.locator("rect.gardien-widget__bar").count() == 7
    assert chart.locator("rect.gardien-widget__bar").last.get_attribute("data-visits") == str(
        week["days"][-1]["visits"]
    )
    assert box.get_by_text(
        f"{week['visits']:,} visits by {week['visitors']:,} visitors over the last 7 days."
    ).is_visible()
    assert box.get_by_text("1 message waiting to be sent to the service.").is_visible()
    refused = box.locator(".gardien-widget__refused")
    assert "1 message was refused by the Gardien service" in refused.inner_text()
    assert (
        refused.get_by_role("link").get_attribute("href").endswith("tools.php?page=gardien-status")
    )
    dashboard = box.get_by_role("link", name="Open the Gardien dashboard")
    assert dashboard.get_attribute("href") == f"{gardien.url}/"
    hidden = box.locator("div.screen-reader-text")
    assert hidden.locator("table tbody tr").count() == 7
    assert hidden.bounding_box()["width"] <= 1, "the table is for screen readers only"

    box.scroll_into_view_if_needed()
    box.screenshot(path=str(tmp_path / "dashboard-widget.png"))
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard-widget.png").stat().st_size > 1000

    assert AXE.exists(), f"{AXE} is missing (axe-core of tests/dashboard/browser)"
    page.evaluate(AXE.read_text())
    assert page.evaluate(AXE_ON_WIDGET) == []
    assert errors == [], errors

    box.get_by_role("link", name="See Tools → Gardien").click()
    page.wait_for_url("**tools.php?page=gardien-status**")
    assert page.locator("h1").inner_text() == "Gardien status"
