"""``GET /v1/status``: what the plugin's admin page shows about the service."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from . import __version__, clock
from .extensions import db
from .models import AuditEntry, Client, ContactMessage
from .retention import PURGE_RUN
from .stats.models import StatsEvent


def next_purge(now: datetime, at: str) -> datetime:
    """The next daily purge after ``now``, at ``at`` (``HH:MM`` UTC, like the systemd timer)."""
    hour, minute = (int(part) for part in at.split(":"))
    today = datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)


def site_status(site_id: int, slug: str) -> dict:
    """Counts of what is held for a site, and when the purge last ran and runs next."""
    def count(model, *conditions) -> int:
        query = select(func.count()).select_from(model).where(*conditions)
        return db.session.execute(query).scalar_one()

    last = db.session.scalar(
        select(func.max(AuditEntry.at)).where(AuditEntry.action == PURGE_RUN)
    )
    now = clock.now()
    return {
        "version": __version__,
        "site": slug,
        "messages": count(ContactMessage, ContactMessage.site_id == site_id),
        "legal_holds": count(
            ContactMessage, ContactMessage.site_id == site_id,
            ContactMessage.legal_hold_at.is_not(None),
        ),
        "clients": count(Client, Client.site_id == site_id, Client.anonymised_at.is_(None)),
        "stats_events": count(StatsEvent, StatsEvent.site_id == site_id),
        "last_purge_at": None if last is None else clock.format_rfc3339(last),
        "next_purge_at": clock.format_rfc3339(
            next_purge(now, current_app.config["PURGE_AT"])
        ),
    }
