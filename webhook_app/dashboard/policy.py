"""The retention policy as the public notice states it, the last and next purge, and what
the purge would do now (a dry run: nothing changes)."""

from __future__ import annotations

from flask import flash, redirect, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webhook_app import clock, notice, retention
from webhook_app import overview as computed
from webhook_app import policy as retention_policy

from . import words
from .blueprint import bp, in_nav, page
from .forms import ConfirmForm

in_nav("dashboard.policy", _l("Retention policy"), 50)

# The last dry run's counts, shown once on the page it redirects to (numbers only).
DRY_RUN = "policy_dry_run"


@bp.get("/policy")
def policy() -> str:
    """Every rule with the notice's wording, the purges, and the last dry run."""
    current = retention_policy.current()
    language = words.language()
    now = clock.now()
    dry_run = session.pop(DRY_RUN, None)
    if dry_run is not None:
        dry_run = {"at": clock.parse_rfc3339(dry_run["at"]), "counts": dry_run["counts"]}
    return page(
        "policy.html",
        rules=notice.entries(current, language, unpublished=True),
        published={key for key, category in current.categories.items() if category.published},
        headings=notice.HEADINGS[language],
        starts=notice.STARTS[language],
        last_purge=computed.last_purge(),
        next_purge=computed.coming_purge(now),
        dry_run=dry_run,
        form=ConfirmForm(),
    )


@bp.post("/policy/dry-run")
def policy_dry_run() -> ResponseReturnValue:
    """Count what the purge would delete or anonymise now; change nothing."""
    if ConfirmForm().validate_on_submit():
        now = clock.now()
        counts = retention.purge(now, dry_run=True)
        if counts is None:
            flash(_("A purge is running right now; try again in a moment."), "error")
        else:
            session[DRY_RUN] = {"at": clock.format_rfc3339(now), "counts": list(counts.items())}
            flash(_("Dry run done: nothing was deleted."), "success")
    return redirect(url_for("dashboard.policy"))
