"""Messages: the list (nothing decrypted), search by exact address through the blind
index, the detail page (decrypted, audited as an access), and the actions of
:mod:`webhook_app.messages`: flag, unflag, convert to a client, correct, erase.

An address searched for is POSTed and never put in a URL: the list is then addressed by
its blind indexes (``?subject=…``), which name no one.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import Length

from webhook_app import clock, managers, policy, sites
from webhook_app import messages as lifecycle
from webhook_app.addresses import MAX_EMAIL, is_email
from webhook_app.crypto import email_indexes
from webhook_app.extensions import db
from webhook_app.notice import period_label

from .blueprint import bp, done, in_nav, page, signed_in_manager
from .forms import ConfirmForm

in_nav("dashboard.messages", _l("Messages"), 20)

PAGE_SIZE = 50
INDEX = re.compile(r"[0-9a-f]{64}")
# At most one index per configured index key (a rotation may be under way).
MAX_SUBJECTS = 4
EPOCH = datetime(1970, 1, 1)


class SearchForm(FlaskForm):
    """An exact address, looked up by its blind index."""

    email = StringField(_l("E-mail address"), validators=[Length(max=MAX_EMAIL)],
                        render_kw={"type": "email", "autocomplete": "off"})


class HoldForm(FlaskForm):
    """Why a message is kept for the authorities."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)],
                           description=_l("Required. Shown to managers and in legal-hold "
                                          "bundles; not to the author."))


class ClientForm(FlaskForm):
    """Fields the message lacks, for the new client record (all optional)."""

    siret = StringField(_l("SIRET number"), validators=[Length(max=20)])
    role = StringField(_l("Role"), validators=[Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=50)],
                        render_kw={"type": "tel"})
    address = TextAreaField(_l("Postal address"), validators=[Length(max=500)])


FIELD_LABELS = {
    "name": _l("Name"), "email": _l("E-mail address"), "company": _l("Company"),
    "message": _l("Message"),
}


class RectifyForm(FlaskForm):
    """One field of the message, corrected at its author's request."""

    field = SelectField(_l("Field"), choices=[SelectChoice(key, FIELD_LABELS[key])
                                              for key in lifecycle.RECTIFIABLE])
    value = TextAreaField(_l("Corrected value"), validators=[Length(max=20_000)])


class EraseForm(FlaskForm):
    """Erasing a message: said twice."""

    confirm = BooleanField(_l("I confirm: delete this message for good"))


def _actor() -> str:
    return managers.actor(signed_in_manager())


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _midnight(day: date) -> datetime:
    return clock.as_utc(datetime.combine(day, time()))


def position(value: str | None) -> tuple[datetime, str] | None:
    """A keyset cursor ``<microseconds since the epoch>.<key>`` read back (None if it is
    not one: the first page)."""
    stamp, _dot, key = (value or "").partition(".")
    if not stamp.isdigit() or not key or len(stamp) > 20:
        return None
    return clock.as_utc(EPOCH + timedelta(microseconds=int(stamp))), key[:36]


def cursor(at: datetime, key: object) -> str:
    """The keyset cursor of a row listed at ``at`` with primary key ``key``."""
    since = clock.as_utc(at).replace(tzinfo=None) - EPOCH
    return f"{since // timedelta(microseconds=1)}.{key}"


def subjects_of(args: MultiDict) -> tuple[str, ...]:
    """The blind indexes a list is narrowed to (``?subject=…``, one per index key)."""
    return tuple(s for s in args.getlist("subject") if INDEX.fullmatch(s))[:MAX_SUBJECTS]


def _filters(args: MultiDict) -> tuple[lifecycle.Filters, dict[str, Any]]:
    """The list's filters from the query string; what the filter form shows again."""
    site = args.get("site", "")
    received_from, received_to = _day(args.get("from")), _day(args.get("to"))
    subjects = subjects_of(args)
    filters = lifecycle.Filters(
        site_id=int(site) if site.isdigit() else None,
        received_from=_midnight(received_from) if received_from else None,
        received_before=_midnight(received_to + timedelta(days=1)) if received_to else None,
        held=args.get("held") == "1",
        subjects=subjects,
    )
    shown = {
        "site": filters.site_id,
        "from": received_from.isoformat() if received_from else "",
        "to": received_to.isoformat() if received_to else "",
        "held": filters.held,
        "subject": list(subjects),
        "bad_dates": [name for name in ("from", "to")
                      if args.get(name) and _day(args.get(name)) is None],
    }
    return filters, shown


def _query(shown: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The query string of the list with these filters (empty ones left out)."""
    values = {"site": shown["site"], "from": shown["from"], "to": shown["to"],
              "held": "1" if shown["held"] else None, "subject": shown["subject"] or None,
              **changes}
    return {key: value for key, value in values.items() if value not in (None, "")}


def _labels() -> dict[str, str]:
    """Each category's label in the dashboard's language."""
    language = str(get_locale())
    return {key: category.label.get(language, category.label["fr"])
            for key, category in policy.current().categories.items()}


@bp.get("/messages")
def messages() -> str:
    """Messages, newest first, 50 a page (keyset), filtered; nothing is decrypted."""
    filters, shown = _filters(request.args)
    rows = lifecycle.listing(filters, position(request.args.get("after")), PAGE_SIZE + 1)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    next_page = (url_for("dashboard.messages", **_query(shown, after=cursor(*rows[-1].position)))
                 if more else None)
    first_page = (url_for("dashboard.messages", **_query(shown))
                  if request.args.get("after") else None)
    return page("messages/list.html", rows=rows, shown=shown, slugs=sites.slugs(),
                labels=_labels(), search=SearchForm(), next_page=next_page,
                first_page=first_page,
                all_people=url_for("dashboard.messages", **_query(shown, subject=None)))


@bp.post("/messages/search")
def messages_search() -> ResponseReturnValue:
    """Find a person's messages by exact address: redirected to the list by its blind
    indexes, so the address is in no URL, log or page."""
    form = SearchForm()
    address = (form.email.data or "").strip()
    site = request.form.get("site", "")
    if not form.validate_on_submit() or not is_email(address):
        flash(_("Enter a complete e-mail address."), "error")
        return redirect(url_for("dashboard.messages"))
    target: dict[str, Any] = {"subject": email_indexes(address)}
    if site.isdigit():
        target["site"] = site
    return redirect(url_for("dashboard.messages", **target))


@bp.get("/messages/<message_id>")
def messages_detail(message_id: str) -> str:
    """One message, decrypted: an access, written to the audit log before it is shown."""
    try:
        shown = lifecycle.read(message_id, _actor())
    except lifecycle.MessageError:
        abort(404)
    retention = policy.current()[shown.retention]
    html = page(
        "messages/detail.html", message=shown, personal=shown.personal,
        site=sites.slugs().get(shown.site_id, ""), labels=_labels(),
        period=period_label(retention.period, str(get_locale())),
        hold=HoldForm(), client=ClientForm(), rectify=RectifyForm(), erase=EraseForm(),
        confirm=ConfirmForm(),
    )
    db.session.commit()  # the access is recorded before anything is sent
    return html


def _back(message_id: str) -> ResponseReturnValue:
    return redirect(url_for("dashboard.messages_detail", message_id=message_id))


def _invalid() -> None:
    flash(_("The form was not filled in correctly."), "error")


@bp.post("/messages/<message_id>/hold")
def messages_hold(message_id: str) -> ResponseReturnValue:
    """Flag a message as illegal content: kept for the authorities (a reason is required)."""
    form = HoldForm()
    if form.validate_on_submit():
        done(lambda: lifecycle.hold(message_id, form.reason.data or "", _actor()),
             _("The message is under legal hold."))
    else:
        _invalid()
    return _back(message_id)


@bp.post("/messages/<message_id>/release")
def messages_release(message_id: str) -> ResponseReturnValue:
    """Lift a legal hold: the message ends as any contact message would."""
    if ConfirmForm().validate_on_submit():
        done(lambda: lifecycle.release(message_id, _actor()), _("The legal hold is lifted."))
    return _back(message_id)


@bp.post("/messages/<message_id>/client")
def messages_client(message_id: str) -> ResponseReturnValue:
    """Convert a message to a client record (or attach it to the author's)."""
    form = ClientForm()
    if form.validate_on_submit():
        extra = {name: value.strip() for name, value in (
            ("siret", form.siret.data), ("role", form.role.data), ("phone", form.phone.data),
            ("address", form.address.data),
        ) if value and value.strip()}
        client_ids: list[str] = []
        if done(lambda: client_ids.append(
                lifecycle.attach_to_client(message_id, _actor(), extra).id),
                _("The message now belongs to a client record.")):
            return redirect(url_for("dashboard.clients_detail", client_id=client_ids[0]))
    else:
        _invalid()
    return _back(message_id)


@bp.post("/messages/<message_id>/rectify")
def messages_rectify(message_id: str) -> ResponseReturnValue:
    """Correct one field at the author's request."""
    form = RectifyForm()
    if form.validate_on_submit():
        changes = {form.field.data: form.value.data or ""}
        done(lambda: lifecycle.rectify(message_id, changes, _actor()),
             _("The message is corrected."))
    else:
        _invalid()
    return _back(message_id)


@bp.post("/messages/<message_id>/erase")
def messages_erase(message_id: str) -> ResponseReturnValue:
    """Erase one message now (not a held one, nor a client's); back to the list."""
    form = EraseForm()
    if not form.validate_on_submit() or not form.confirm.data:
        flash(_("Tick the box to confirm the erasure."), "error")
        return _back(message_id)
    if done(lambda: lifecycle.erase_one(message_id, _actor()), _("The message is erased.")):
        return redirect(url_for("dashboard.messages"))
    return _back(message_id)
