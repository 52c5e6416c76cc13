"""The statistics page in Chromium, under its real CSP: Chart.js draws the chart from the
dashboard's JSON, and the numbers it holds (read from the page with ``Chart.getChart``) are
those of ``GET /v1/stats/summary`` for the same range, and those of the table beside it.
Every page on the way is checked (axe-core, phone width, no console error) and photographed
(test-output/dashboard/test_statistics_browser/).

The seeded service holds page views whose paths, searches and referrers carry the XSS
payloads (payloads.store): their labels reach the chart only as data.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from webhook_app import clock

from .harness import Pages, new_context, output_folder, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHART_DATA_JS = """() => {
  const chart = Chart.getChart(document.getElementById('stats-chart'));
  return chart ? {labels: chart.data.labels,
                  datasets: chart.data.datasets.map((set) => ({label: set.label,
                                                               data: set.data}))} : null;
}"""
TABLE_JS = """(name) => [...document.querySelectorAll(`#table-${name} tbody tr`)].map(
  (row) => [...row.cells].map((cell) => cell.textContent.trim()))"""


def drawn(pages: Pages) -> None:
    # A locator, not wait_for_function: the page's CSP refuses the eval that one uses.
    pages.page.locator("#stats-chart[data-drawn='true']").wait_for(state="attached")


def summary(seeded, start: date, end: date) -> dict:
    answer = seeded.service.signed("GET", f"/v1/stats/summary?from={start}&to={end}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def compare(pages: Pages, seeded, start: date, end: date) -> dict:
    """The chart's data and the day table against the API's summary of the same range."""
    chart = pages.page.evaluate(CHART_DATA_JS)
    assert chart is not None, "no chart drawn"
    api = summary(seeded, start, end)
    length = end - start + timedelta(days=1)
    previous = summary(seeded, start - length, start - timedelta(days=1))
    assert chart["labels"] == [day["date"] for day in api["days"]]
    assert [set_["label"] for set_ in chart["datasets"]] == [
        "Visits", "Unique visitors", "Visits, previous period"]
    assert chart["datasets"][0]["data"] == [day["visits"] for day in api["days"]]
    assert chart["datasets"][1]["data"] == [day["visitors"] for day in api["days"]]
    assert chart["datasets"][2]["data"] == [day["visits"] for day in previous["days"]]
    table = pages.page.evaluate(TABLE_JS, "days")
    assert [[row[0], int(row[1]), int(row[2])] for row in table] == [
        [day["date"], day["visits"], day["visitors"]] for day in api["days"]]
    return api


def test_statistics_browser(browser, axe_source, seeded, request):
    manager = seeded.manager()
    context = new_context(browser)
    page = context.new_page()
    pages = Pages(page, seeded.origin, seeded.app.url_map, output_folder(request.node.name),
                  axe_source)
    sign_in(pages, manager.email, manager.password)

    # From the navigation: the last 30 days, today (with the seeded visits) included.
    with page.expect_navigation() as opened:
        page.get_by_role("navigation").get_by_role("link", name="Statistics").click()
    drawn(pages)
    pages.check(opened.value)
    assert urlsplit(page.url).path == "/statistics"
    today = clock.now().date()
    api = compare(pages, seeded, today - timedelta(days=29), today)
    assert api["visits"] > 0, "the seeded page views are counted"
    canvas = page.locator("#stats-chart")
    assert canvas.get_attribute("role") == "img"
    assert "table below" in (canvas.get_attribute("aria-label") or "")
    assert page.locator("#table-days").is_visible(), "the table is shown, not hidden"
    for name in ("channels", "countries", "pages", "referrers", "searches"):
        assert page.locator(f"a[download][href^='/statistics/{name}.csv?']").count() == 1, name
    # The payloads in paths, searches and referrers are text in the tables.
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("#table-pages tbody img").count() == 0

    # Another range through the form: a week ending yesterday, and its previous week.
    start, end = today - timedelta(days=7), today - timedelta(days=1)
    page.get_by_label("From (day, UTC)").fill(start.isoformat())
    page.get_by_label("To (day, UTC, included)").fill(end.isoformat())
    with page.expect_navigation() as shown:
        page.get_by_role("button", name="Show").click()
    drawn(pages)
    pages.check(shown.value)
    compare(pages, seeded, start, end)

    # French: the labels of the chart follow the page's language.
    pages.switch_language("Français")
    drawn(pages)
    pages.check()
    labels = [set_["label"] for set_ in page.evaluate(CHART_DATA_JS)["datasets"]]
    assert labels == ["Visites", "Visiteurs uniques", "Visites, période précédente"]

    context.close()
    pages.assert_clean()
