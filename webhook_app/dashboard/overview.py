"""The overview: what the manager should know first."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .blueprint import bp, in_nav, page, signed_in_manager

in_nav("dashboard.overview", _l("Overview"))


@bp.get("/")
def overview() -> str:
    """Counts, what ends soon, legal holds, purges, sites, what needs attention."""
    return page("overview.html", manager=signed_in_manager())
