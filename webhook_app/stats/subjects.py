"""Visit statistics that name a person: rows whose path or search terms hold their address.

Redaction at derivation (:mod:`.redact`) keeps addresses out of what is stored now. Rows
stored before it, and whatever it missed (an address it does not read as one), may still
hold one in clear; an export lists them and an erase removes them: raw page views
(``stats_events``) and the page and search rollups (``stats_rollups``) of the site, with
the address found in any case, as typed or with its ``@`` encoded (``%40``).

Cost: no index finds a substring, so each lookup is a scan of the site's raw page views
(or of its page and search rollups), compared in the database (a cheap test for ``@`` and
``%40`` first), which returns only the matches, a page at most. It is bounded by what the
tables may hold, the retention period (25 months) of the site's visits, and runs only on
an export or erase request, never at ingest: 0.3 to 0.4 s per million raw page views,
about 0.1 s per 300,000 rollup rows, on SQLite and PostgreSQL on the 2-core development
machine. An export page counts and reads both tables, an erase page too.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.sql.elements import ColumnElement

from webhook_app import clock, policy, tombstones
from webhook_app.addresses import normalise_email
from webhook_app.extensions import db

from .models import StatsEvent, StatsRollup

# Rollup dimensions whose values come from what a visitor typed or followed.
TYPED = ("page", "search")


def _forms(address: str) -> tuple[str, ...]:
    normal = normalise_email(address)
    return (normal, normal.replace("@", "%40"))


def _holds(column, address: str) -> ColumnElement[bool]:
    # A row without "@" or "%40" holds no address: that test, case-blind and cheap, goes
    # first. Then the address in any case, "%" and "_" in it matching only themselves.
    may = or_(column.contains("@"), column.contains("%40", autoescape=True))
    holds = or_(*(column.icontains(form, autoescape=True) for form in _forms(address)))
    return and_(may, holds)


def event_mentions(site_id: int, address: str) -> Select:
    """Raw page views of the site whose path or search terms hold ``address``, oldest
    first."""
    return (
        select(StatsEvent)
        .where(
            StatsEvent.site_id == site_id,
            or_(_holds(StatsEvent.path, address), _holds(StatsEvent.search_terms, address)),
        )
        .order_by(StatsEvent.occurred_at, StatsEvent.id)
    )


def rollup_mentions(site_id: int, address: str) -> Select:
    """Page and search rollups of the site whose value holds ``address``, oldest first."""
    return (
        select(StatsRollup)
        .where(
            StatsRollup.site_id == site_id,
            StatsRollup.dimension.in_(TYPED),
            _holds(StatsRollup.value, address),
        )
        .order_by(StatsRollup.day, StatsRollup.id)
    )


def erase_mentions(site_id: int, address: str, limit: int) -> list[str]:
    """Delete up to ``limit`` rows that hold ``address`` (raw page views first); return
    their audit ids (``stats_event:12``, ``stats_rollup:7``). Nothing is committed.

    The day totals are left as they are: the visits happened, only what was typed goes.
    """
    removed: list[str] = []
    for model, name, query in (
        (StatsEvent, policy.STATS_EVENT, event_mentions(site_id, address)),
        (StatsRollup, policy.STATS_ROLLUP, rollup_mentions(site_id, address)),
    ):
        room = limit - len(removed)
        if room <= 0:
            break
        columns = (model.id, StatsRollup.day) if model is StatsRollup else (model.id,)
        rows = db.session.execute(query.with_only_columns(*columns).limit(room)).all()
        ids = [row[0] for row in rows]
        if ids:
            db.session.execute(
                delete(model).where(model.id.in_(ids))
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        # What a restore of an older backup must erase again (a day's totals by day too).
        for row in rows:
            tombstones.record(name, [row[0]], site_id, row[1] if len(row) > 1 else None)
        removed += [f"{name}:{row_id}" for row_id in ids]
    return removed


def event_item(event: StatsEvent, texts: dict) -> tuple[str, list[dict]]:
    """An export item for a raw page view: date, page, search terms, one visit."""
    data = [
        (texts["date"], clock.as_utc(event.occurred_at).date().isoformat()),
        (texts["page"], event.path),
        (texts["search_terms"], event.search_terms or ""),
        (texts["visits"], "1"),
    ]
    return f"visit-{event.id}", [{"name": name, "value": value} for name, value in data]


def rollup_item(rollup: StatsRollup, texts: dict) -> tuple[str, list[dict]]:
    """An export item for a day's rollup row: date, page or search terms, visits."""
    label = texts["page"] if rollup.dimension == "page" else texts["search_terms"]
    data = [
        (texts["date"], rollup.day.isoformat()),
        (label, rollup.value or ""),
        (texts["visits"], str(rollup.visits)),
    ]
    return f"visit-day-{rollup.id}", [{"name": name, "value": value} for name, value in data]
