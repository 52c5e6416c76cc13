"""The statistics page: the numbers of ``GET /v1/stats/summary`` for the same range, its
CSV downloads equal to its tables, the chart's JSON, and the only policy that lets scripts
run (on this page and its data alone)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from markupsafe import escape

from webhook_app import clock, sites
from webhook_app.dashboard.blueprint import SECURITY_HEADERS

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TABLES = ("totals", "days", "channels", "countries", "pages", "referrers", "searches")
FORMULA = "=HYPERLINK(\"https://evil.example/\")"


def view(url: str, at: datetime, ip: str | None = "90.0.0.1", agent: str = CHROME,
         referrer: str | None = None) -> dict:
    event = {"ts": (at - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "url": url,
             "user_agent": agent}
    if ip:
        event["ip"] = ip
    if referrer:
        event["referrer"] = referrer
    return event


def seed(send) -> None:
    """Page views on several days of this period and the previous one, on site default."""
    batches = {
        NOW: [view("https://example.fr/", NOW, referrer="https://www.google.fr/"),
              view("https://example.fr/services/", NOW, ip="2003::1", agent=FIREFOX,
                   referrer="https://m.facebook.com/story.php?id=1"),
              view("https://example.fr/?s=" + FORMULA, NOW),
              view("https://example.fr/contact/", NOW, ip=None)],
        NOW - 3 * DAY: [view("https://example.fr/services/", NOW - 3 * DAY),
                        view("https://example.fr/", NOW - 3 * DAY, ip="2003::1",
                             referrer="https://blog.exemple.fr/billet/")],
        NOW - 30 * DAY: [view("https://example.fr/", NOW - 30 * DAY)],
    }
    for at, events in batches.items():
        with clock.frozen(at):
            response = send("/v1/stats/events", {"events": events})
            assert response.status_code == 202, response.get_data(as_text=True)


def api_summary(send, start: date, end: date) -> dict:
    with clock.frozen(NOW):
        response = send(f"/v1/stats/summary?from={start}&to={end}", method="GET")
    assert response.status_code == 200
    return response.get_json()


def table_cells(body: str, name: str) -> list[list[str]]:
    """The header and body rows of a table of the page, as its cells' text."""
    found = re.search(rf'<table class="stats" id="table-{name}".*?</table>', body, re.S)
    assert found, f"no table {name}"
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([html.unescape(cell.strip()) for cell in cells])
    return rows


@pytest.fixture
def manager_client(client, make_manager, sign_in):
    sign_in(client, make_manager())
    return client


def get(client, path: str):
    with clock.frozen(NOW):
        return client.get(path)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/statistics", "/statistics/data.json", "/statistics/days.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_page_shows_the_numbers_of_the_api_for_the_same_range(manager_client, send):
    seed(send)
    response = get(manager_client, "/statistics?site=default&start=2026-11-01&end=2026-11-20")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    api = api_summary(send, date(2026, 11, 1), date(2026, 11, 20))
    previous = api_summary(send, date(2026, 10, 12), date(2026, 10, 31))
    assert api["visits"] == 6 and previous["visits"] == 1, "the seed is what the test thinks"

    totals = table_cells(body, "totals")
    assert totals[1][1:3] == [str(api["visits"]), str(previous["visits"])]
    assert totals[2][1:3] == [str(api["visitors"]), str(previous["visitors"])]
    days = table_cells(body, "days")[1:]
    assert [[row[0], int(row[1]), int(row[2])] for row in days] == [
        [day["date"], day["visits"], day["visitors"]] for day in api["days"]]
    assert [[row[3], int(row[4])] for row in days] == [
        [day["date"], day["visits"]] for day in previous["days"]]
    assert [[row[0], int(row[1])] for row in table_cells(body, "pages")[1:]] == [
        [page["path"], page["visits"]] for page in api["pages"]]
    assert [[row[0], int(row[1])] for row in table_cells(body, "referrers")[1:]] == [
        [entry["host"], entry["visits"]] for entry in api["referrers"]]
    assert [[row[0], int(row[1])] for row in table_cells(body, "searches")[1:]] == [
        [entry["terms"], entry["visits"]] for entry in api["searches"]]
    assert [int(row[1]) for row in table_cells(body, "channels")[1:]] == [
        entry["visits"] for entry in api["channels"]]
    # Countries by their name in the page's language (French by default).
    countries = {row[0]: int(row[1]) for row in table_cells(body, "countries")[1:]}
    names = {"FR": "France", "DE": "Allemagne", None: "Inconnu"}
    assert countries == {names[entry["country"]]: entry["visits"]
                         for entry in api["countries"]}
    # What a visitor typed is shown escaped, never as markup.
    terms = api["searches"][0]["terms"]
    assert terms.startswith("=hyperlink(")
    assert str(escape(terms)) in body and terms not in body


def test_the_default_range_is_the_last_30_days(manager_client, send):
    seed(send)
    body = get(manager_client, "/statistics").get_data(as_text=True)
    days = table_cells(body, "days")[1:]
    assert len(days) == 30
    assert days[0][0] == "2026-10-22" and days[-1][0] == "2026-11-20"
    assert days[0][3] == "2026-09-22", "the previous period has the same length"


def test_each_csv_equals_its_table(manager_client, send):
    seed(send)
    query = "site=default&start=2026-11-01&end=2026-11-20"
    body = get(manager_client, f"/statistics?{query}").get_data(as_text=True)
    for name in TABLES:
        assert f'href="/statistics/{name}.csv?{query.replace("&", "&amp;")}" download' in body
        response = get(manager_client, f"/statistics/{name}.csv?{query}")
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        shown = table_cells(body, name)
        # The cell a spreadsheet would run as a formula is defused, as in the audit CSV.
        assert rows == [["'" + cell if cell[:1] in "=+-@" and cell else cell
                         for cell in row] for row in shown]
    searches = list(csv.reader(io.StringIO(
        get(manager_client, f"/statistics/searches.csv?{query}").get_data(as_text=True))))
    assert searches[1][0].startswith("'="), searches
    assert get(manager_client, f"/statistics/nothing.csv?{query}").status_code == 404


def test_the_chart_data_is_the_summary(manager_client, send):
    seed(send)
    response = get(manager_client,
                   "/statistics/data.json?site=default&start=2026-11-01&end=2026-11-20")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    api = api_summary(send, date(2026, 11, 1), date(2026, 11, 20))
    previous = api_summary(send, date(2026, 10, 12), date(2026, 10, 31))
    assert data["labels"] == [day["date"] for day in api["days"]]
    sets = {entry["key"]: entry["data"] for entry in data["datasets"]}
    assert sets["visits"] == [day["visits"] for day in api["days"]]
    assert sets["visitors"] == [day["visitors"] for day in api["days"]]
    assert sets["previous_visits"] == [day["visits"] for day in previous["days"]]
    bad = get(manager_client, "/statistics/data.json?site=default&start=2026-11-20&end=2026-11-01")
    assert bad.status_code == 400
    assert "end" in bad.get_json()["errors"]


def test_only_the_statistics_page_may_run_scripts(manager_client, send):
    seed(send)
    csp = get(manager_client, "/statistics").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe" not in csp
    assert "default-src 'none'" in csp and "style-src 'self';" in csp
    data = get(manager_client, "/statistics/data.json").headers["Content-Security-Policy"]
    assert data == csp
    for path in ("/", "/audit", "/sites", "/statistics/days.csv"):
        other = get(manager_client, path).headers["Content-Security-Policy"]
        assert other == SECURITY_HEADERS["Content-Security-Policy"], path
        assert "script-src" not in other
    body = get(manager_client, "/statistics").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts == [
        '<script src="/static/vendor/chart.js/chart.umd.min.js" defer>',
        '<script src="/static/statistics.js" defer>',
    ], "only files of the service, no inline script"
    assert re.search(r"<script[^>]*>\s*[^<\s]", body) is None
    assert " style=" not in body
    assert 'role="img"' in body and "aria-label=" in body
    assert get(manager_client, "/static/vendor/chart.js/chart.umd.min.js").status_code == 200


def test_a_wrong_range_or_site_is_refused(manager_client, send):
    seed(send)
    reversed_range = get(manager_client, "/statistics?start=2026-11-20&end=2026-11-01")
    assert reversed_range.status_code == 400
    assert "The last day must not be before the first." in html.unescape(
        reversed_range.get_data(as_text=True)) or "avant le premier" in html.unescape(
        reversed_range.get_data(as_text=True))
    assert get(manager_client, "/statistics?start=2025-01-01&end=2026-11-20").status_code == 400
    assert get(manager_client, "/statistics?site=nowhere").status_code == 400
    assert get(manager_client, "/statistics/days.csv?start=nonsense").status_code == 400


def test_the_site_selector_shows_another_site(app, manager_client, send):
    seed(send)
    with app.app_context():
        sites.add("atelier")
        from webhook_app.extensions import db
        db.session.commit()
    body = get(manager_client, "/statistics?site=atelier").get_data(as_text=True)
    assert '<option selected value="atelier">' in body or \
        '<option value="atelier" selected>' in body
    totals = table_cells(body, "totals")
    assert totals[1][1] == "0", "the other site's visits are not counted"
