"""Privacy requests: the exports and erasures asked by the WordPress sites or run here,
as :mod:`webhook_app.privacy_requests` records them.

The list names the person by a prefix of the blind index of their address; the detail
page decrypts the address (audited as an access) while the record still holds it. A
manager runs an export (downloaded as JSON or as an HTML page) or an erasure for an
address received by e-mail or letter, through the same functions as WordPress's calls.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import Length

from webhook_app import clock, managers, privacy, privacy_requests, sites
from webhook_app.addresses import MAX_EMAIL, is_email
from webhook_app.crypto import email_indexes
from webhook_app.extensions import db

from .blueprint import bp, done, in_nav, page, signed_in_manager
from .messages import PAGE_SIZE, cursor, position, subjects_of

in_nav("dashboard.requests", _l("Privacy requests"), 40)

KIND_LABELS = {privacy_requests.EXPORT: _l("Export"), privacy_requests.ERASE: _l("Erasure")}
FORMATS = [SelectChoice("json", "JSON"), SelectChoice("html", "HTML")]


class RequestForm(FlaskForm):
    """The site and the address of a request received by e-mail or letter."""

    site = SelectField(_l("Site"), coerce=int)
    email = StringField(_l("E-mail address"), validators=[Length(max=MAX_EMAIL)],
                        render_kw={"type": "email", "autocomplete": "off"})


class ExportForm(RequestForm):
    """An export, downloaded as a file."""

    format = SelectField(_l("File format"), choices=FORMATS)


class ErasureForm(RequestForm):
    """An erasure: said twice."""

    confirm = BooleanField(_l("I confirm: erase what the policy allows, for good"))


class SearchForm(FlaskForm):
    """An exact address, looked up by its blind index."""

    email = StringField(_l("E-mail address"), validators=[Length(max=MAX_EMAIL)],
                        render_kw={"type": "email", "autocomplete": "off"})


def _actor() -> str:
    return managers.actor(signed_in_manager())


def _with_sites(form: RequestForm) -> RequestForm:
    form.site.choices = [SelectChoice(str(site_id), slug)
                         for site_id, slug in sites.slugs().items()]
    return form


@bp.get("/requests")
def requests() -> str:
    """Export and erasure requests, newest first, 50 a page; no address is decrypted."""
    site, kind = request.args.get("site", ""), request.args.get("kind", "")
    site_id = int(site) if site.isdigit() else None
    chosen = kind if kind in privacy_requests.KINDS else None
    subjects = subjects_of(request.args)
    after = position(request.args.get("after"))
    rows = privacy_requests.listing(
        site_id, chosen, subjects,
        (after[0], int(after[1])) if after and after[1].isdigit() else None, PAGE_SIZE + 1,
    )
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    kept: dict[str, Any] = {"site": site_id, "kind": chosen, "subject": list(subjects) or None}
    kept = {key: value for key, value in kept.items() if value is not None}
    everyone = {key: value for key, value in kept.items() if key != "subject"}
    return page(
        "requests/list.html", rows=rows, slugs=sites.slugs(), kinds=KIND_LABELS,
        filters={"site": site_id, "kind": chosen, "subject": list(subjects)},
        search=SearchForm(),
        next_page=(url_for("dashboard.requests", **kept,
                           after=cursor(rows[-1].started_at, rows[-1].id)) if more else None),
        first_page=url_for("dashboard.requests", **kept) if after else None,
        everyone=url_for("dashboard.requests", **everyone),
    )


@bp.post("/requests/search")
def requests_search() -> ResponseReturnValue:
    """Find a person's requests by exact address (redirected by its blind indexes)."""
    form = SearchForm()
    address = (form.email.data or "").strip()
    if not form.validate_on_submit() or not is_email(address):
        flash(_("Enter a complete e-mail address."), "error")
        return redirect(url_for("dashboard.requests"))
    return redirect(url_for("dashboard.requests", subject=email_indexes(address)))


@bp.get("/requests/<int:request_id>")
def requests_detail(request_id: int) -> str:
    """One request, its address decrypted while the record holds it: an access, audited."""
    try:
        shown = privacy_requests.read(request_id, _actor())
    except privacy_requests.PrivacyRequestError:
        abort(404)
    html = page("requests/detail.html", row=shown, personal=shown.personal,
                site=sites.slugs().get(shown.site_id, ""), kinds=KIND_LABELS)
    db.session.commit()  # the access is recorded before anything is sent
    return html


@bp.get("/requests/new")
def requests_new() -> str:
    """Run an export or an erasure for an address received by e-mail or letter."""
    return page("requests/new.html", export=_with_sites(ExportForm(prefix="export")),
                erasure=_with_sites(ErasureForm(prefix="erasure")))


@bp.post("/requests/export")
def requests_export() -> ResponseReturnValue:
    """Run every page of an export and send it as a file (JSON or an HTML page)."""
    form = _with_sites(ExportForm(prefix="export"))
    if not form.validate_on_submit():
        flash(_("The form was not filled in correctly."), "error")
        return redirect(url_for("dashboard.requests_new"))
    runs: list[privacy.Run] = []
    if not done(lambda: runs.append(
            privacy.run_export(form.site.data, form.email.data or "", _actor()))):
        return redirect(url_for("dashboard.requests_new"))
    run, slug = runs[0], sites.slugs().get(form.site.data, "")
    exported = {"site": slug, "request": run.request.id,
                "exported_at": clock.format_rfc3339(clock.now()), "data": run.items}
    name = f"gardien-export-{slug}-{run.request.id}"
    if form.format.data == "html":
        body, mimetype, name = page("requests/export.html", exported=exported), "text/html", \
            f"{name}.html"
    else:
        body, mimetype, name = (json.dumps(exported, ensure_ascii=False, indent=2),
                                "application/json", f"{name}.json")
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/requests/erase")
def requests_erase() -> ResponseReturnValue:
    """Run every page of an erasure, then show its record."""
    form = _with_sites(ErasureForm(prefix="erasure"))
    if not form.validate_on_submit():
        flash(_("The form was not filled in correctly."), "error")
        return redirect(url_for("dashboard.requests_new"))
    if not form.confirm.data:
        flash(_("Tick the box to confirm the erasure."), "error")
        return redirect(url_for("dashboard.requests_new"))
    runs: list[privacy.Run] = []
    if not done(lambda: runs.append(
            privacy.run_erasure(form.site.data, form.email.data or "", _actor())),
            _("The erasure is done. What the policy keeps is listed below.")):
        return redirect(url_for("dashboard.requests_new"))
    return redirect(url_for("dashboard.requests_detail", request_id=runs[0].request.id))
