"""The dashboard's blueprint and what every page shares: who is signed in, for how long,
in which language, under which headers.

A session carries the manager's id, their ``session_epoch``, when it started and when it
was last used, all on the service clock. It ends after ``SESSION_IDLE_MINUTES`` without a
request, ``SESSION_MAX_HOURS`` after sign-in, or as soon as the manager is disabled or
their epoch moves (a new password, ``managers disable``). Anonymous visitors reach the
sign-in, setup and reset pages only.

Every page is sent with a Content-Security-Policy that allows no inline script or style
(there is no script at all), no framing, no referrer to other sites, no MIME sniffing,
and ``Cache-Control: no-store`` (pages show personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale, gettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response as WerkzeugResponse

from webhook_app import clock, managers
from webhook_app.errors import DomainError
from webhook_app.extensions import db
from webhook_app.models import Manager

bp = Blueprint(
    "dashboard", __name__, template_folder="templates", static_folder="static",
    static_url_path="/static",
)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

LANGUAGES = managers.LANGUAGES
# Each language's name in itself, for the switch.
LANGUAGE_NAMES = (("fr", "Français"), ("en", "English"))
# The main navigation: (endpoint, label), sorted by each part's order key (see in_nav).
NAV: list[tuple[str, Any]] = []
_NAV_ORDER: dict[str, int] = {}
# Endpoints an anonymous visitor may reach.
PUBLIC = {"dashboard.login", "dashboard.login_post", "dashboard.login_code", "dashboard.setup",
          "dashboard.reset", "dashboard.language", "dashboard.static"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SignedIn(UserMixin):
    """The signed-in manager, as Flask-Login sees them."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    def get_id(self) -> str:
        return str(self.manager.id)


@login_manager.user_loader
def _load(manager_id: str) -> SignedIn | None:
    manager = managers.get(int(manager_id)) if manager_id.isdigit() else None
    return None if manager is None else SignedIn(manager)


def sign_in(manager: Manager) -> None:
    """Start a session for ``manager`` (a fresh one: nothing of the anonymous one is kept)."""
    language = session.get("language")
    session.clear()
    now = clock.now().timestamp()
    session.update(epoch=manager.session_epoch, started=now, seen=now)
    if language and not manager.language:
        managers.set_language(manager, language)
    login_user(SignedIn(manager))
    managers.signed_in(manager)


def sign_out() -> None:
    """End the session."""
    logout_user()
    session.clear()


def signed_in_manager() -> Manager:
    """The manager of this request (the gate has let only signed-in ones through)."""
    return current_user.manager


def _session_ended(manager: Manager) -> bool:
    now = clock.now().timestamp()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    longest = timedelta(hours=current_app.config["SESSION_MAX_HOURS"]).total_seconds()
    return (
        manager.disabled_at is not None
        or session.get("epoch") != manager.session_epoch
        or now - session.get("seen", 0) > idle
        or now - session.get("started", 0) > longest
    )


@bp.before_request
def gate() -> ResponseReturnValue | None:
    """Let anonymous visitors reach the public pages only; end expired sessions."""
    if current_user.is_authenticated:
        if _session_ended(current_user.manager):
            sign_out()
        else:
            session["seen"] = clock.now().timestamp()
            return None
    if request.endpoint in PUBLIC:
        return None
    return redirect(f"/login?next={_local(request.full_path)}")


def _local(target: str | None) -> str:
    """``target`` if it is a path of this service, else the overview (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target.rstrip("?") or "/"


def back_to(target: str | None) -> WerkzeugResponse:
    """A redirect to a local path (``next``, a page's own address), never elsewhere."""
    return redirect(_local(target))


@bp.after_request
def security_headers(response: Response) -> Response:
    """The headers of every dashboard page (and its stylesheet)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def select_locale() -> str:
    """The manager's language, else the one chosen before signing in, else the browser's
    (``Accept-Language``), else French."""
    if current_user and current_user.is_authenticated and current_user.manager.language:
        return current_user.manager.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def in_nav(endpoint: str, label: Any, order: int = 100) -> None:
    """Put a part of the dashboard in the main navigation, at ``order`` (smaller first;
    equal orders keep the order of registration): the menu does not depend on the order
    in which the parts' modules happen to be imported."""
    _NAV_ORDER[endpoint] = order
    NAV.append((endpoint, label))
    NAV.sort(key=lambda item: _NAV_ORDER[item[0]])


@bp.context_processor
def shared() -> dict[str, Any]:
    """What every template of the dashboard reads."""
    return {"locale": str(get_locale()), "languages": LANGUAGE_NAMES, "nav": NAV}


def page(template: str, **context: Any) -> str:
    """Render a dashboard page."""
    return render_template(f"dashboard/{template}", **context)


def local_time(value: datetime | None) -> str:
    """A time as the dashboard shows it (UTC, to the minute); empty for None."""
    return "" if value is None else clock.as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def done(work: Callable[[], Any], success: str | None = None) -> bool:
    """Run ``work`` (a domain call), commit, and flash ``success``; on a refusal roll
    back and flash its sentence, translated. Returns whether it was done.

    The same rule as the CLI: the domain function never commits, the page does, once the
    whole action succeeded.
    """
    try:
        work()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(gettext(str(error)), "error")
        return False
    if success:
        flash(success, "success")
    return True
