"""The audit log: every entry, newest first, filtered by action, actor, site and dates.

It shows what the log holds and nothing more: actors by role and number
(``manager:3``), people at most by the start of a blind index, never an address or a
name (nothing here decrypts). Also downloadable as CSV, with the same filters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Response, request, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional

from webhook_app import audit as audit_log
from webhook_app import backup, clock, managers, policy, retention
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Site

from .blueprint import bp, in_nav, page
from .words import rule_label

in_nav("dashboard.audit", _l("Audit log"), 70)

# Characters of a blind index shown: enough to tell entries of one person apart.
SUBJECT_SHOWN = 12
# Record ids shown per entry (a purge chunk names thousands).
RECORDS_SHOWN = 3

ACTIONS: dict[str, Any] = {
    "message.read": _l("Message read"),
    "message.flag": _l("Message flagged as illegal content (legal hold)"),
    "message.unflag": _l("Legal hold lifted"),
    "message.to_client": _l("Message converted to a client"),
    "message.rectify": _l("Message corrected"),
    "client.read": _l("Client record read"),
    "client.rectify": _l("Client record corrected"),
    "privacy.export": _l("Export of a person's data"),
    "privacy.erase": _l("Erasure of a person's data"),
    "privacy_request.read": _l("Privacy request read"),
    "legal_hold.export": _l("Bundle for the authorities exported"),
    "legal_hold.key_made": _l("Bundle signing key made"),
    "site.disable": _l("Site disabled"),
    "site.enable": _l("Site enabled"),
    "site.remove": _l("Site removed with its data"),
    "manager.add": _l("Manager added"),
    "manager.disable": _l("Manager disabled"),
    "manager.enable": _l("Manager enabled"),
    f"manager.{managers.SETUP}": _l("First manager set up"),
    f"manager.{managers.INVITE}": _l("Invitation used"),
    f"manager.{managers.RESET}": _l("Password reset"),
    "manager.login": _l("Manager signed in"),
    "manager.totp_on": _l("Two-step sign-in turned on"),
    "manager.totp_off": _l("Two-step sign-in turned off"),
    "manager.force_reset": _l("Password voided after a breach"),
    "incident.record": _l("Data breach recorded"),
    "incident.edit": _l("Data breach facts changed"),
    "incident.status": _l("Data breach status changed"),
    "incident.step": _l("Data breach procedure step ticked"),
    "incident.contain": _l("Data breach contained (sessions, passwords, secrets)"),
    "incident.people_export": _l("Addresses of the people of a breach exported"),
    "incident.export": _l("Breach register exported"),
    "keys.rotate_data": _l("Data keys rotated"),
    "keys.rotate_index": _l("Blind-index keys rotated"),
    retention.PURGE_RUN: _l("Purge run"),
    backup.BACKUP: _l("Backup taken"),
    backup.RESTORE: _l("Backup restored, later erasures applied again"),
}
# One entry per chunk of each purge rule: "purge.contact", "purge.stats_rollup", …
PURGE_RULES = [rule.name for rule in retention.RULES] + [policy.STATS_ROLLUP]


def action_label(action: str) -> Any:
    """An action in words; an action this page does not know, as it is written."""
    if action in ACTIONS:
        return ACTIONS[action]
    prefix, _, rule = action.partition(".")
    if prefix == "purge" and rule in PURGE_RULES:
        return _l("Purge: %(rule)s", rule=rule_label(rule))
    return action


def known_actions() -> list[tuple[str, Any]]:
    """Every action the filter offers, with its label."""
    return [(action, action_label(action))
            for action in [*ACTIONS, *(f"purge.{rule}" for rule in PURGE_RULES)]]


class AuditFilterForm(Form):
    """The filters, read from the query string (a GET form: nothing changes)."""

    action = SelectField(_l("Action"), validators=[Optional()])
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=100)],
                        description=_l("Exactly as shown, for example manager:3, purge or "
                                      "site:default."))
    site = SelectField(_l("Site"), validators=[Optional()])
    start = DateField(_l("From (day, UTC)"), validators=[Optional()])
    end = DateField(_l("To (day, UTC, included)"), validators=[Optional()])


FILTERS = ("action", "actor", "site", "start", "end")


def _sites() -> dict[int, str]:
    return dict(db.session.execute(select(Site.id, Site.slug).order_by(Site.slug)).all())


def _form(sites: dict[int, str]) -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.action.choices = [("", _l("Any action")), *known_actions()]
    form.site.choices = [("", _l("Any site")),
                         *((slug, slug) for slug in sorted(sites.values()))]
    return form


def _day_start(day) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


def _filter(form: AuditFilterForm, sites: dict[int, str]) -> audit_log.Filter:
    by_slug = {slug: site_id for site_id, slug in sites.items()}
    end = _day_start(form.end.data)
    return audit_log.Filter(
        action=form.action.data or None,
        actor=(form.actor.data or "").strip() or None,
        site_id=by_slug.get(form.site.data or ""),
        start=_day_start(form.start.data),
        end=None if end is None else end + timedelta(days=1),
    )


def _query(**cursor: str) -> dict[str, str]:
    """The current filters (non-empty only) with a cursor, for a link to another page."""
    kept = {key: value for key, value in request.args.items()
            if key in FILTERS and value}
    return {**kept, **cursor}


@bp.get("/audit")
def audit() -> tuple[str, int] | str:
    """The audit log, newest first, 50 entries a page."""
    sites = _sites()
    form = _form(sites)
    if not form.validate():
        return page("audit.html", form=form, log=None, sites=sites, query=_query), 400
    log = audit_log.read(
        _filter(form, sites),
        before=audit_log.Cursor.read(request.args.get("before")),
        after=audit_log.Cursor.read(request.args.get("after")),
    )
    return page("audit.html", form=form, log=log, sites=sites, query=_query,
                subject_shown=SUBJECT_SHOWN, records_shown=RECORDS_SHOWN,
                action_label=action_label)


def _safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/audit.csv")
def audit_csv() -> Response | tuple[str, int]:
    """The filtered audit log as CSV (same columns, every record id, newest first)."""
    sites = _sites()
    form = _form(sites)
    if not form.validate():
        return page("audit.html", form=form, log=None, sites=sites, query=_query), 400
    chosen = _filter(form, sites)

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["at", "actor", "action", "site", "count", "subject", "record_ids",
                         "detail"])
        for entry in audit_log.every(chosen):
            writer.writerow([_safe_cell(value) for value in _csv_row(entry, sites)])
            if out.tell() > 64_000:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(
        stream_with_context(rows()), mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="gardien-audit.csv"'},
    )


def _csv_row(entry: AuditEntry, sites: dict[int, str]) -> list[object]:
    return [
        clock.format_rfc3339(entry.at), entry.actor, entry.action,
        "" if entry.site_id is None else sites.get(entry.site_id, entry.site_id),
        entry.count, entry.subject or "", " ".join(map(str, entry.record_ids or [])),
        entry.detail or "",
    ]
