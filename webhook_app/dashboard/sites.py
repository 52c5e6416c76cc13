"""Sites: the WordPress sites allowed to send, their secrets and their last delivery, and
what the CLI's ``sites`` commands do (the same functions of :mod:`webhook_app.sites`).

A new secret (of a new site or a rotation) is shown once, in the answer to the form that
made it: it is never put in the session or a flashed notice, and the page, like every
dashboard page, is sent with ``Cache-Control: no-store``. Removing a site deletes all it
holds, so it is offered only after a page of counts and with the slug typed again.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webhook_app import clock, managers, sites

from .blueprint import bp, done, in_nav, page, signed_in_manager

in_nav("dashboard.sites", _l("Sites"), 60)

HOLDINGS = {
    "messages": _l("Contact messages"), "legal_holds": _l("of which under legal hold"),
    "clients": _l("Client records"), "quotes": _l("Quotes"), "invoices": _l("Invoices"),
    "invoices_in_period": _l("of which still in their accounting period"),
    "stats_events": _l("Visit events"), "stats_rollups": _l("Visit statistics (rolled up)"),
    "stats_day_visitors": _l("Daily visitor hashes (days not yet rolled up)"),
    "stats_days": _l("Days of visit statistics"),
    "idempotency_keys": _l("Recent request keys"), "secrets": _l("Secrets"),
    "erasure_tombstones": _l("Erasure records for backups (ids only)"),
}


def _actor() -> str:
    return managers.actor(signed_in_manager())


def _to_sites() -> ResponseReturnValue:
    return redirect(url_for("dashboard.sites"))


@bp.get("/sites", endpoint="sites")
def site_list() -> str:
    """Every site: state, fingerprints of its secrets, last delivery."""
    return page("sites/list.html", sites=sites.listing(), last=sites.last_deliveries(),
                configured=sites.CONFIGURED, seconds=current_app.config["SITE_CACHE_SECONDS"],
                now=clock.now())


@bp.post("/sites", endpoint="sites_add")
def site_add() -> ResponseReturnValue:
    """Add a site (``sites add``); its secret is shown once, on the answer."""
    slug = request.form.get("slug", "").strip()
    return _secret_shown(lambda: sites.add(slug), slug, new_site=True)


@bp.post("/sites/<slug>/rotate", endpoint="sites_rotate")
def site_rotate(slug: str) -> ResponseReturnValue:
    """Give a site a new secret (``sites rotate``), shown once; the old one stays valid."""
    return _secret_shown(lambda: sites.rotate(slug), slug, new_site=False)


def _secret_shown(make: Callable[[], str], slug: str, new_site: bool) -> ResponseReturnValue:
    made: list[str] = []
    if not done(lambda: made.append(make())):
        return _to_sites()
    return page("sites/secret.html", slug=slug, secret=made[0], new_site=new_site)


@bp.post("/sites/<slug>/remove-secret", endpoint="sites_remove_secret")
def site_remove_secret(slug: str) -> ResponseReturnValue:
    """Retire a secret after a rotation (``sites remove-secret``); one always stays."""
    done(lambda: sites.remove_secret(slug, request.form.get("fingerprint", "")),
         _("The secret is removed: it no longer signs for this site."))
    return _to_sites()


@bp.post("/sites/<slug>/disable", endpoint="sites_disable")
def site_disable(slug: str) -> ResponseReturnValue:
    """Refuse a site's requests, as for an unknown site (``sites disable``); keep its data."""
    done(lambda: sites.disable(slug, _actor()), _("The site is disabled."))
    return _to_sites()


@bp.post("/sites/<slug>/enable", endpoint="sites_enable")
def site_enable(slug: str) -> ResponseReturnValue:
    """Accept a disabled site's requests again (``sites enable``)."""
    done(lambda: sites.enable(slug, _actor()), _("The site is enabled."))
    return _to_sites()


@bp.get("/sites/<slug>/remove", endpoint="sites_confirm_remove")
def site_confirm_remove(slug: str) -> ResponseReturnValue:
    """What removing a site would delete, and the form that asks for its slug again."""
    counts: dict[str, int] = {}
    if not done(lambda: counts.update(sites.holdings(slug))):
        return _to_sites()
    return page("sites/remove.html", slug=slug, counts=counts, labels=HOLDINGS)


@bp.post("/sites/<slug>/remove", endpoint="sites_remove")
def site_remove(slug: str) -> ResponseReturnValue:
    """Delete a site and all it holds (``sites remove``), once its slug is typed again."""
    if request.form.get("confirm", "").strip() != slug:
        flash(_("The name typed is not the site's: nothing was deleted."), "error")
        return redirect(url_for("dashboard.sites_confirm_remove", slug=slug))
    done(lambda: sites.remove(slug, _actor()), _("The site and all it held are deleted."))
    return _to_sites()
