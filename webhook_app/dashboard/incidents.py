"""Data breaches: the register (GDPR article 33(5)) and the seed's three steps.

Every action calls :mod:`webhook_app.incidents` (as ``flask … incidents`` does). The
72-hour countdown is computed on the service clock when the page is sent, with the
deadline as an absolute time and a link to refresh: no script (the CSP forbids it) and no
automatic refresh (WCAG 2.2.1). Containment ends the manager's own session too: its
answer shows the new secrets and every manager's reset link once, and the next request
goes to the sign-in page. The people's addresses are decrypted only into the CSV asked
for by a POST, audited with their count.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from webhook_app import clock, incidents, managers, sites
from webhook_app.extensions import db

from .audit import _safe_cell
from .blueprint import bp, done, in_nav, page, signed_in_manager

in_nav("dashboard.incidents", _l("Data breaches"), 65)

STATUS_LABELS = {
    incidents.DETECTED: _l("detected"),
    incidents.ASSESSED: _l("assessed"),
    incidents.CONTAINED: _l("contained"),
    incidents.AUTHORITY_NOTIFIED: _l("authority notified"),
    incidents.AUTHORITY_NOT_NOTIFIED: _l("authority not notified"),
    incidents.PEOPLE_NOTIFIED: _l("people notified"),
    incidents.PEOPLE_NOT_NOTIFIED: _l("people not notified"),
    incidents.CLOSED: _l("closed"),
}
STEP_LABELS = {
    incidents.CONTAIN: _l("1. Strengthen security to block any unwanted access"),
    incidents.PEOPLE: _l("2. Warn the people whose data leaked"),
    incidents.AUTHORITY: _l("3. Contact the competent authority (CNIL, gendarmerie, justice…)"),
}
FIELD_LABELS = {
    "nature": _l("Nature of the breach"), "categories": _l("Data categories"),
    "people_count": _l("Approximate number of people"),
    "records_count": _l("Approximate number of records"),
    "consequences": _l("Likely consequences"), "measures": _l("Measures taken or proposed"),
    "contact": _l("Contact point"), "detected_at": _l("Detected at"),
}
ACTION_LABELS = {
    "record": _l("recorded"), "edit": _l("facts changed"), "status": _l("status changed"),
    "step": _l("step ticked"), "contain": _l("contained"),
    "people_export": _l("addresses of the people exported"),
}
PEOPLE_CATEGORY_LABELS = {
    "contact": _l("Contact messages"), "legal_hold": _l("Messages under legal hold"),
    "client": _l("Client records"),
}
TIME_FORMAT = "%Y-%m-%dT%H:%M"
# The people form's first guess of the exposed period: four weeks before the detection
# (a default the manager changes, not a retention period).
EXPOSED_BEFORE = timedelta(weeks=4)


def _actor() -> str:
    return managers.actor(signed_in_manager())


def _when(text: str | None) -> datetime | None:
    """A ``datetime-local`` value, read as UTC (the dashboard's times are UTC)."""
    try:
        return datetime.strptime((text or "").strip(), TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _incident(incident_id: int):
    found = db.session.get(incidents.Incident, incident_id)
    if found is None:
        abort(404)
    return found


def _to(incident_id: int) -> ResponseReturnValue:
    return redirect(url_for("dashboard.incident", incident_id=incident_id))


def _facts(form: MultiDict) -> dict[str, object]:
    return {
        "nature": form.get("nature", ""), "categories": form.getlist("categories"),
        "people_count": form.get("people_count", ""),
        "records_count": form.get("records_count", ""),
        "consequences": form.get("consequences", ""), "measures": form.get("measures", ""),
        "contact": form.get("contact", ""), "detected_at": _when(form.get("detected_at")),
    }


def _common() -> dict[str, object]:
    return {"status_labels": STATUS_LABELS, "step_labels": STEP_LABELS,
            "field_labels": FIELD_LABELS, "categories": incidents.categories(),
            "time_format": TIME_FORMAT}


@bp.get("/incidents", endpoint="incidents")
def incident_list() -> str:
    """The register: open incidents first, with their deadline and what is left of it."""
    now = clock.now()
    rows = [(incident, incidents.deadline(incident), incidents.countdown(incident, now),
             incidents.late(incident, now)) for incident in incidents.listing()]
    return page("incidents/list.html", rows=rows, now=now, **_common())


@bp.get("/incidents/new", endpoint="incidents_new")
def incident_new() -> str:
    """The form that records a new incident."""
    return page("incidents/form.html", incident=None, values={
        "detected_at": clock.now().strftime(TIME_FORMAT), "categories": []}, **_common())


@bp.post("/incidents/new", endpoint="incidents_record")
def incident_record() -> ResponseReturnValue:
    """Record an incident (status ``detected``); the countdown starts at its detection."""
    made = []
    facts = _facts(request.form)
    if done(lambda: made.append(incidents.record(facts, _actor())),
            _("The incident is recorded.")):
        return _to(made[0].id)
    values = {**request.form.to_dict(), "categories": request.form.getlist("categories")}
    return page("incidents/form.html", incident=None, values=values, **_common()), 400


@bp.get("/incidents/<int:incident_id>", endpoint="incident")
def incident_page(incident_id: int) -> str:
    """An incident: facts, countdown, checklist, next status, the three steps, history."""
    incident = _incident(incident_id)
    now = clock.now()
    return page(
        "incidents/incident.html", incident=incident, now=now,
        deadline=incidents.deadline(incident), countdown=incidents.countdown(incident, now),
        late=incidents.late(incident, now), next_statuses=incidents.NEXT[incident.status],
        steps=incidents.STEPS, sites=sites.slugs().values(),
        people_categories=PEOPLE_CATEGORY_LABELS, action_labels=ACTION_LABELS,
        period_start=(clock.as_utc(incident.detected_at) - EXPOSED_BEFORE)
        .strftime(TIME_FORMAT),
        period_end=now.strftime(TIME_FORMAT), max_grace=incidents.MAX_GRACE_HOURS,
        **_common(),
    )


@bp.get("/incidents/<int:incident_id>/edit", endpoint="incident_edit")
def incident_edit(incident_id: int) -> str:
    """The form that corrects or completes the facts."""
    incident = _incident(incident_id)
    values = {name: getattr(incident, name) for name in incidents.EDITABLE}
    values["detected_at"] = clock.as_utc(incident.detected_at).strftime(TIME_FORMAT)
    return page("incidents/form.html", incident=incident, values=values, **_common())


@bp.post("/incidents/<int:incident_id>/edit", endpoint="incident_save")
def incident_save(incident_id: int) -> ResponseReturnValue:
    """Save the facts; the history names the fields changed."""
    incident = _incident(incident_id)
    facts = _facts(request.form)
    if done(lambda: incidents.edit(incident.id, facts, _actor()), _("The incident is saved.")):
        return _to(incident_id)
    values = {**request.form.to_dict(), "categories": request.form.getlist("categories")}
    return page("incidents/form.html", incident=incident, values=values, **_common()), 400


@bp.post("/incidents/<int:incident_id>/status", endpoint="incident_status")
def incident_status(incident_id: int) -> ResponseReturnValue:
    """Move the incident to its next status (with its reference, date or reasoning)."""
    form = request.form
    done(lambda: incidents.advance(
        incident_id, form.get("status", ""), _actor(), reference=form.get("reference"),
        notified_at=_when(form.get("notified_at")), reasoning=form.get("reasoning"),
        delay_reasons=form.get("delay_reasons"),
    ), _("The status is changed."))
    return _to(incident_id)


@bp.post("/incidents/<int:incident_id>/step", endpoint="incident_step")
def incident_step(incident_id: int) -> ResponseReturnValue:
    """Tick a step of the checklist by hand (who and when are recorded)."""
    done(lambda: incidents.check_step(incident_id, request.form.get("step", ""), _actor()),
         _("The step is ticked."))
    return _to(incident_id)


@bp.post("/incidents/<int:incident_id>/contain", endpoint="incident_contain")
def incident_contain(incident_id: int) -> ResponseReturnValue:
    """Step 1 in one transaction; the answer shows the secrets and reset links once."""
    form = request.form
    grace = form.get("grace_hours", "0").strip() or "0"
    if not grace.isdigit():
        flash(_("The grace period is a whole number of hours."), "error")
        return _to(incident_id)
    result: list[incidents.Containment] = []
    if not done(lambda: result.append(incidents.contain(
            incident_id, _actor(), rotate=form.getlist("rotate"), grace_hours=int(grace),
            disable=form.getlist("disable")))):
        return _to(incident_id)
    base = current_app.config["BASE_URL"].rstrip("/")
    links = [(manager, None if token is None else base + url_for("dashboard.reset", token=token))
             for manager, token in result[0].resets]
    return page("incidents/contained.html", incident_id=incident_id, done=result[0],
                links=links, grace=int(grace))


def _selection(form: MultiDict) -> incidents.Selection | None:
    start, end = _when(form.get("start")), _when(form.get("end"))
    if start is None or end is None:
        return None
    return incidents.Selection(tuple(form.getlist("categories")), tuple(form.getlist("sites")),
                               start, end)


@bp.post("/incidents/<int:incident_id>/people.csv", endpoint="incident_people")
def incident_people(incident_id: int) -> ResponseReturnValue:
    """Step 2: the addresses of the people whose records match, as CSV (audited)."""
    selection = _selection(request.form)
    if selection is None:
        flash(_("Give the start and the end of the period."), "error")
        return _to(incident_id)
    found: list[list[incidents.Person]] = []
    if not done(lambda: found.append(incidents.export_people(incident_id, selection,
                                                             _actor()))):
        return _to(incident_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "categories", "sites"])
    for person in found[0]:
        writer.writerow([_safe_cell(person.email), _safe_cell(" ".join(sorted(person.categories))),
                         _safe_cell(" ".join(sorted(person.sites)))])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="gardien-incident-{incident_id}-people.csv"'
    })


@bp.get("/incidents/<int:incident_id>/letter", endpoint="incident_letter")
def incident_letter(incident_id: int) -> str:
    """Step 2: the letter to the people concerned, in French and in English."""
    incident = _incident(incident_id)
    return page("incidents/letter.html", incident=incident,
                french=incidents.notification_text(incident, "fr"),
                english=incidents.notification_text(incident, "en"))


@bp.get("/incidents/<int:incident_id>/authority", endpoint="incident_authority")
def incident_authority(incident_id: int) -> str:
    """Step 3: a printable summary with what the CNIL's online notification asks for."""
    incident = _incident(incident_id)
    now = clock.now()
    return page("incidents/authority.html", incident=incident, now=now,
                deadline=incidents.deadline(incident), late=incidents.late(incident, now),
                **_common())


def _register() -> list[dict[str, object]]:
    rows = incidents.register(_actor())
    db.session.commit()
    return rows


@bp.get("/incidents.json", endpoint="incidents_json")
def incidents_json() -> Response:
    """The register and every incident's history, as JSON (audited ``incident.export``)."""
    body = json.dumps({"incidents": _register()}, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="gardien-incidents.json"'})


@bp.get("/incidents.csv", endpoint="incidents_csv")
def incidents_csv() -> Response:
    """The register as CSV: one row per incident, then one row per event of its history."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["record", *incidents.EXPORTED, "at", "actor", "action", "fields"])
    blank = [""] * len(incidents.EXPORTED)
    for row in _register():
        values = ["" if row[name] is None else row[name] for name in incidents.EXPORTED]
        values[incidents.EXPORTED.index("categories")] = " ".join(row["categories"] or [])  # type: ignore[arg-type]
        writer.writerow([_safe_cell(value) for value in ["incident", *values, "", "", "", ""]])
        for event in row["history"]:  # type: ignore[attr-defined]
            event_row = ["event", *blank, event["at"], event["actor"], event["action"],
                         " ".join(event["fields"])]
            event_row[1] = row["id"]
            writer.writerow([_safe_cell(value) for value in event_row])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="gardien-incidents.csv"'})
