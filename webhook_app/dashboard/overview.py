"""The overview: what the manager should know first."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from webhook_app import clock
from webhook_app import overview as computed

from . import words  # noqa: F401  (the retention words of the templates)
from .blueprint import bp, in_nav, page, signed_in_manager

in_nav("dashboard.overview", _l("Overview"), 10)


def _held_messages_link() -> str | None:
    """The messages list filtered by legal hold, once that part of the dashboard exists."""
    if "dashboard.messages" not in current_app.view_functions:
        return None
    return url_for("dashboard.messages", held=1)


@bp.get("/")
def overview() -> str:
    """Counts, what ends soon, legal holds, purges, sites, what needs attention."""
    return page("overview.html", manager=signed_in_manager(),
                overview=computed.summary(clock.now()), kinds=computed,
                held_link=_held_messages_link())
