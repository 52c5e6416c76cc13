"""The site registry: which WordPress sites may send, and with which secrets."""

from __future__ import annotations

from flask import current_app

from .config import new_webhook_secret
from .extensions import db
from .models import Site, SiteSecret
from .signing import DEFAULT_SITE, SITE_SLUG, fingerprint, forget_sites


class SiteError(ValueError):
    """A site operation that cannot be done (unknown slug, last secret, …)."""


def get(slug: str) -> Site:
    """The site named ``slug``, or :class:`SiteError`."""
    site = db.session.scalar(db.select(Site).where(Site.slug == slug))
    if site is None:
        raise SiteError(f"no site {slug!r}")
    return site


def add(slug: str, secret: str | None = None) -> str:
    """Create a site with one secret (generated if not given); return the secret."""
    if not SITE_SLUG.match(slug):
        raise SiteError("a slug is 1-64 lower-case letters, digits, '-' or '_'")
    if db.session.scalar(db.select(Site.id).where(Site.slug == slug)) is not None:
        raise SiteError(f"site {slug!r} exists already")
    secret = secret or new_webhook_secret()
    site = Site(slug=slug)
    site.secrets.append(SiteSecret(secret=secret, fingerprint=fingerprint(secret)))
    db.session.add(site)
    db.session.commit()
    forget_sites()
    return secret


def rotate(slug: str, secret: str | None = None) -> str:
    """Give a site one more valid secret; return it."""
    site = get(slug)
    secret = secret or new_webhook_secret()
    site.secrets.append(SiteSecret(secret=secret, fingerprint=fingerprint(secret)))
    db.session.commit()
    forget_sites()
    return secret


def remove_secret(slug: str, print_: str) -> None:
    """Remove the stored secret with this fingerprint; a site keeps at least one."""
    site = get(slug)
    matching = [entry for entry in site.secrets if entry.fingerprint == print_]
    if not matching:
        raise SiteError(f"site {slug!r} has no stored secret {print_}")
    if len(site.secrets) == 1 and slug != DEFAULT_SITE:
        raise SiteError("a site keeps at least one secret: rotate first")
    site.secrets.remove(matching[0])
    db.session.commit()
    forget_sites()


def listing() -> list[tuple[str, list[str]]]:
    """Each site with the fingerprints of its valid secrets (configured one marked)."""
    rows = []
    for site in db.session.scalars(db.select(Site).order_by(Site.slug)):
        prints = [entry.fingerprint for entry in site.secrets]
        if site.slug == DEFAULT_SITE:
            prints.insert(0, fingerprint(current_app.config["WEBHOOK_SECRET"]) + "(config)")
        rows.append((site.slug, prints))
    return rows
