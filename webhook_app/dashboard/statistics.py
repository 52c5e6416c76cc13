"""Visit statistics of a site: visits and unique visitors per day (a chart and its table),
channels, countries, top pages, referrer hosts and internal searches, for a date range and
compared with the period of the same length just before it.

Every number comes from :func:`webhook_app.stats.summary.summary`, the function behind
``GET /v1/stats/summary``: the page, its CSV downloads and the chart's JSON never count
anything themselves. Each table can be downloaded as CSV (the very rows shown, cells a
spreadsheet would run as a formula defused as in the audit CSV).

The chart is the only script of the dashboard: Chart.js (vendored under
``static/vendor/chart.js``) and ``static/statistics.js``, which fetches the chart's
numbers from :func:`statistics_data` and hands every label to Chart.js as data (drawn on
a canvas, never parsed as HTML). So this page alone is sent with a policy that allows
scripts and fetches from the service itself; never inline script, never ``eval``. The
tables beside the chart hold the same numbers, visible, for anyone who cannot see it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import babel
from flask import Response, abort, jsonify, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from webhook_app import clock
from webhook_app.extensions import db
from webhook_app.models import Site
from webhook_app.stats.summary import range_problems, summary

from .audit import _safe_cell
from .blueprint import SECURITY_HEADERS, bp, in_nav, page

in_nav("dashboard.statistics", _l("Statistics"), 35)

# The range shown when none is chosen: the last 30 days, today included.
DEFAULT_DAYS = 30
# The policy of the statistics page and its data: the dashboard's, plus its own scripts
# and fetches (same origin only).
CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"
)
CHANNELS: dict[str, Any] = {
    "search": _l("Search engines"),
    "social": _l("Social networks"),
    "website": _l("Other websites"),
    "direct": _l("Direct"),
    "internal": _l("Internal"),
}


class StatisticsForm(Form):
    """Which site and which days, read from the query string (a GET form)."""

    site = SelectField(_l("Site"), validators=[Optional()])
    start = DateField(_l("From (day, UTC)"), validators=[Optional()])
    end = DateField(_l("To (day, UTC, included)"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.start.data is None or self.end.data is None:
            return False  # the defaults fill both unless one is not a date
        problems = range_problems(self.start.data, self.end.data)
        if "from" in problems:
            self.end.errors = [_l("The last day must not be before the first.")]
        elif problems:
            self.end.errors = [_l("At most 400 days.")]
        return not problems


@dataclass
class Table:
    """A table of the page, as shown and as downloaded: ``rows`` of plain values."""

    name: str
    caption: Any
    headers: list[Any]
    rows: list[list[Any]]
    numeric: tuple[int, ...] = ()


@dataclass
class Statistics:
    """The chosen site and range, their summary and the previous period's."""

    site: Site
    start: date
    end: date
    current: dict
    previous: dict
    previous_start: date
    previous_end: date


def _sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.slug)))


def _form(sites: list[Site]) -> StatisticsForm:
    form = StatisticsForm(request.args)
    form.site.choices = [(site.slug, site.slug) for site in sites]
    today = clock.now().date()
    if form.end.data is None and not form.end.process_errors:
        form.end.data, form.end.raw_data = today, None
    if form.start.data is None and not form.start.process_errors:
        form.start.data = (form.end.data or today) - timedelta(days=DEFAULT_DAYS - 1)
        form.start.raw_data = None
    if not form.site.data and sites:
        # The first site added that is still enabled (usually the only one).
        enabled = [site for site in sites if site.disabled_at is None] or sites
        form.site.data = min(enabled, key=lambda site: site.id).slug
    return form


def _read() -> tuple[StatisticsForm, Statistics | None]:
    """The form of the request and, when it is valid, the statistics it asks for."""
    sites = _sites()
    form = _form(sites)
    if not sites or not form.validate():
        return form, None
    site = next((site for site in sites if site.slug == form.site.data), None)
    if site is None:
        form.site.errors = [_l("Not a valid choice.")]
        return form, None
    start, end = form.start.data, form.end.data
    assert start is not None and end is not None, "validated"
    length = end - start + timedelta(days=1)
    previous_start, previous_end = start - length, start - timedelta(days=1)
    return form, Statistics(
        site=site, start=start, end=end,
        current=summary(site.id, start, end),
        previous=summary(site.id, previous_start, previous_end),
        previous_start=previous_start, previous_end=previous_end,
    )


def _country(code: str | None, locale: babel.Locale) -> str:
    if code is None:
        return str(_l("Unknown"))
    return locale.territories.get(code, code)


def _change(now: int, before: int) -> str:
    if before == 0:
        return "" if now == 0 else "+"
    return f"{(now - before) * 100 / before:+.0f} %"


def tables(stats: Statistics) -> list[Table]:
    """Every table of the page, in its order, from the two summaries alone."""
    current, previous = stats.current, stats.previous
    locale = babel.Locale.parse(str(get_locale()))
    totals = Table(
        "totals", _l("This period compared with the previous one"),
        [_l("Measure"), _l("This period"), _l("Previous period"), _l("Change")],
        [[_l(label), current[key], previous[key], _change(current[key], previous[key])]
         for key, label in (("visits", "Visits"), ("visitors", "Unique visitors"))],
        numeric=(1, 2, 3),
    )
    days = Table(
        "days", _l("Visits and unique visitors per day"),
        [_l("Day"), _l("Visits"), _l("Unique visitors"), _l("Day of the previous period"),
         _l("Visits"), _l("Unique visitors")],
        [[day["date"], day["visits"], day["visitors"], before["date"], before["visits"],
          before["visitors"]]
         for day, before in zip(current["days"], previous["days"], strict=True)],
        numeric=(1, 2, 4, 5),
    )
    return [
        totals,
        days,
        Table("channels", _l("Channels"), [_l("Channel"), _l("Visits")],
              [[CHANNELS.get(row["channel"], row["channel"]), row["visits"]]
               for row in current["channels"]], numeric=(1,)),
        Table("countries", _l("Countries"), [_l("Country"), _l("Visits")],
              [[_country(row["country"], locale), row["visits"]]
               for row in current["countries"]], numeric=(1,)),
        Table("pages", _l("Top pages"), [_l("Page"), _l("Visits")],
              [[row["path"], row["visits"]] for row in current["pages"]], numeric=(1,)),
        Table("referrers", _l("Referring sites"), [_l("Host"), _l("Visits")],
              [[row["host"], row["visits"]] for row in current["referrers"]], numeric=(1,)),
        Table("searches", _l("Internal searches"), [_l("Search terms"), _l("Visits")],
              [[row["terms"], row["visits"]] for row in current["searches"]], numeric=(1,)),
    ]


def _query(stats: Statistics) -> dict[str, str]:
    return {"site": stats.site.slug, "start": stats.start.isoformat(),
            "end": stats.end.isoformat()}


def _scripted(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


@bp.get("/statistics")
def statistics() -> Response:
    """The statistics of a site for a range of days (the last 30 by default)."""
    form, stats = _read()
    body = page("statistics/index.html", form=form, stats=stats,
                tables=tables(stats) if stats else [], query=_query(stats) if stats else {},
                has_sites=bool(form.site.choices))
    return _scripted(Response(body, status=200 if stats or not form.errors else 400))


@bp.get("/statistics/data.json")
def statistics_data() -> Response:
    """The chart's numbers: per day, this period's visits and unique visitors and the
    previous period's visits, with their labels in the page's language."""
    form, stats = _read()
    if stats is None:
        response = jsonify({"errors": {name: [str(error) for error in errors]
                                       for name, errors in form.errors.items()}})
        response.status_code = 400
        return response
    current, previous = stats.current, stats.previous
    response = jsonify({
        "site": stats.site.slug,
        "from": current["from"],
        "to": current["to"],
        "labels": [day["date"] for day in current["days"]],
        "datasets": [
            {"key": "visits", "label": str(_l("Visits")),
             "data": [day["visits"] for day in current["days"]]},
            {"key": "visitors", "label": str(_l("Unique visitors")),
             "data": [day["visitors"] for day in current["days"]]},
            {"key": "previous_visits", "label": str(_l("Visits, previous period")),
             "data": [day["visits"] for day in previous["days"]]},
        ],
    })
    response.headers["Cache-Control"] = "no-store"
    return _scripted(response)


@bp.get("/statistics/<name>.csv")
def statistics_csv(name: str) -> Response:
    """One table of the page as CSV: its header row and the very rows shown."""
    form, stats = _read()
    if stats is None:
        abort(400)
    table = next((table for table in tables(stats) if table.name == name), None)
    if table is None:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe_cell(header) for header in table.headers])
    for row in table.rows:
        writer.writerow([_safe_cell(value) for value in row])
    filename = f"gardien-{stats.site.slug}-{name}-{stats.start}-{stats.end}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
