"""Signing in and out, first setup, invitation and reset links, the manager's account."""

from __future__ import annotations

import ipaddress

import segno
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from webhook_app import managers, ratelimit
from webhook_app.addresses import normalise_email
from webhook_app.extensions import db

from .blueprint import back_to as _back_to
from .blueprint import bp, done, page, sign_in, sign_out, signed_in_manager
from .forms import CodeForm, ConfirmForm, PasswordForm, SetupForm, SignInForm

# The pending sign-in of a manager who still has to give their code.
PENDING = "pending_manager"


def _per_account() -> ratelimit.Attempt:
    """The sign-in limit per account: the address typed, normalised."""
    typed = normalise_email(request.form.get("email", ""))[:254]
    return ratelimit.Attempt("account", typed, current_app.config["LOGIN_LIMIT_ACCOUNT"])


def _per_client() -> ratelimit.Attempt:
    """The sign-in limit per client: its address.

    Behind the reverse proxy of ``deploy/nginx.conf`` the connection comes from the
    loopback; the proxy's ``CLIENT_ADDRESS_HEADER`` is then believed, and only then.
    """
    address = request.remote_addr or ""
    header = current_app.config["CLIENT_ADDRESS_HEADER"]
    if header and _from_loopback(address) and request.headers.get(header):
        address = request.headers[header]
    return ratelimit.Attempt("client", address, current_app.config["LOGIN_LIMIT_CLIENT"])


def _from_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@bp.errorhandler(ratelimit.TooManyAttempts)
def too_many(error: ratelimit.TooManyAttempts) -> ResponseReturnValue:
    """The same answer whether the address exists or not: it reveals nothing."""
    return page("message.html", title=_("Too many attempts"),
                text=_("Too many attempts to sign in. Try again in a few minutes.")), 429, {
                    "Retry-After": str(error.retry_after)}


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError) -> tuple[str, int]:
    """A form sent without its token (or with an old one): refused, said plainly."""
    return page("message.html", title=_("The form has expired"),
                text=_("For your safety, this form can no longer be sent. Go back, reload "
                       "the page and try again.")), 400


@bp.get("/login")
def login() -> ResponseReturnValue:
    """The sign-in page."""
    return page("login.html", form=SignInForm(), next=request.args.get("next"))


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    """Check address and password; then the code, if the manager has a second factor."""
    ratelimit.count_attempt(_per_account(), _per_client())
    form = SignInForm()
    next_page = request.args.get("next")
    if form.validate_on_submit():
        manager = managers.authenticate(form.email.data or "", form.password.data or "")
        if manager is not None and manager.totp_secret is None:
            sign_in(manager)
            db.session.commit()
            return _back_to(next_page)
        if manager is not None:
            db.session.commit()  # a rehashed password
            session[PENDING] = [manager.id, manager.session_epoch]
            return redirect(url_for("dashboard.login_code", next=next_page))
        flash(_("This address and password do not match an active account."), "error")
    return page("login.html", form=form, next=next_page), 401


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """The second step of signing in: a code of the authenticator app."""
    if request.method == "POST":
        ratelimit.count_attempt(_per_client())
    pending = session.get(PENDING) or [0, None]
    manager = managers.get(pending[0])
    if manager is None or manager.session_epoch != pending[1] or manager.disabled_at:
        session.pop(PENDING, None)
        return redirect(url_for("dashboard.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if managers.verify_totp(manager, form.code.data or ""):
            sign_in(manager)
            db.session.commit()
            return _back_to(request.args.get("next"))
        db.session.rollback()
        flash(_("This code does not match. Wait for the next one and try again."), "error")
    return page("code.html", form=form, next=request.args.get("next"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session."""
    if ConfirmForm().validate_on_submit():
        sign_out()
    return redirect(url_for("dashboard.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> ResponseReturnValue:
    """The first manager's page: address and password, from the link `make run` printed."""
    return _use_link(token, SetupForm(), expected=managers.SETUP)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    """An invitation or a password reset: the manager chooses their password."""
    return _use_link(token, PasswordForm(), expected=None)


def _use_link(token: str, form: PasswordForm, expected: str | None) -> ResponseReturnValue:
    try:
        purpose, _manager = managers.read_token(token)
    except managers.ManagerError:
        return page("link_expired.html"), 410
    if expected is not None and purpose != expected:
        abort(404)
    if expected is None and purpose == managers.SETUP:
        abort(404)
    if form.validate_on_submit():
        address = form.email.data if isinstance(form, SetupForm) else None
        try:
            manager = managers.redeem(token, form.password.data or "", address)
        except managers.ManagerError as error:
            db.session.rollback()
            flash(_(str(error)), "error")
        else:
            sign_out()
            sign_in(manager)
            db.session.commit()
            flash(_("Your password is set. Welcome."), "success")
            return redirect(url_for("dashboard.overview"))
    return page("password.html", form=form, purpose=purpose)


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Switch the dashboard's language (remembered per manager)."""
    chosen = request.form.get("language")
    if ConfirmForm().validate_on_submit() and chosen in managers.LANGUAGES:
        session["language"] = chosen
        if _signed_in():
            done(lambda: managers.set_language(signed_in_manager(), chosen))
    return _back_to(request.form.get("back"))


def _signed_in() -> bool:
    from flask_login import current_user

    return bool(current_user.is_authenticated)


@bp.get("/account")
def account() -> str:
    """The manager's own account: language, second factor."""
    manager = signed_in_manager()
    secret, qr = None, None
    if not manager.totp_secret:
        # Shown on this page until confirmed; kept only once a code proves the app has it.
        secret = session.setdefault("totp_new", managers.new_totp_secret())
        qr = segno.make(managers.totp_uri(manager, secret), error="m").svg_data_uri(scale=4)
    return page("account.html", manager=manager, secret=secret, qr=qr, form=CodeForm(),
                confirm=ConfirmForm())


@bp.post("/account/totp")
def totp_on() -> ResponseReturnValue:
    """Turn the second factor on with a code of the new secret."""
    form = CodeForm()
    secret = session.get("totp_new")
    if form.validate_on_submit() and secret:
        if done(lambda: managers.enable_totp(signed_in_manager(), secret, form.code.data or ""),
                _("Two-step sign-in is on.")):
            session.pop("totp_new", None)
    return redirect(url_for("dashboard.account"))


@bp.post("/account/totp/off")
def totp_off() -> ResponseReturnValue:
    """Turn the second factor off."""
    if ConfirmForm().validate_on_submit():
        done(lambda: managers.disable_totp(signed_in_manager()), _("Two-step sign-in is off."))
    return redirect(url_for("dashboard.account"))
