"""Command line: ``flask --app webhook_app stats rollup``."""

from __future__ import annotations

from datetime import date, datetime

import click

from webhook_app import clock
from webhook_app.cli import GardienGroup

from .rollup import rollup


def _moment(value: str) -> datetime:
    try:
        return clock.parse_rfc3339(value)
    except ValueError:
        raise click.BadParameter("expected an RFC 3339 time with a zone") from None


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected a date, YYYY-MM-DD") from None


# Rollups read no encrypted value: a key problem does not hold them back.
@click.group("stats", cls=GardienGroup, check_keys=False)
def stats_group() -> None:
    """Visit statistics: daily rollups."""


@stats_group.command("rollup")
@click.option("--day", type=_day, help="Only this day (YYYY-MM-DD, UTC).")
@click.option("--now", "at", type=_moment, help="Act as if it were this time (RFC 3339).")
def rollup_command(day: date | None, at: datetime | None) -> str:
    """Sum the days that are over into the daily rollups."""
    moment = at or clock.now()
    with clock.frozen(moment):
        count = rollup(moment, day)
    return f"rolled up {count} site-day(s)"
