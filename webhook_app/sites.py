"""The site registry: which WordPress sites may send, and with which secrets.

Verification (:mod:`webhook_app.signing`) reads a site's keys through :func:`site_keys`,
cached per worker. The functions that change sites add to the caller's transaction and
never commit.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from flask import current_app

from .config import new_webhook_secret, webhook_key
from .errors import DomainError
from .extensions import db
from .models import Site, SiteSecret

DEFAULT_SITE = "default"
SITE_SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
SITE_CACHE = "gardien.site_keys"


class SiteError(DomainError):
    """A site operation that cannot be done (unknown slug, last secret, …)."""


@dataclass(frozen=True)
class SiteKeys:
    """What verification needs of a site: its id, slug and the HMAC key of each secret."""

    id: int
    slug: str
    keys: tuple[bytes, ...]


def site_secrets(site: Site) -> list[str]:
    """Every secret that currently signs for ``site`` (configured one first for `default`)."""
    stored = [entry.secret for entry in site.secrets]
    if site.slug == DEFAULT_SITE:
        return [current_app.config["WEBHOOK_SECRET"], *stored]
    return stored


def fingerprint(secret: str) -> str:
    """A short, non-secret name for a secret, to tell rotated secrets apart in listings."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def site_keys(slug: str) -> SiteKeys | None:
    """The keys of site ``slug``, from this worker's cache for up to SITE_CACHE_SECONDS.

    Decrypting secrets and querying the site on every request would dominate the cost
    of intake; a rotation or removal reaches every worker within the cache period.
    """
    cache: dict = current_app.extensions.setdefault(SITE_CACHE, {})
    cached = cache.get(slug)
    if cached is not None and time.monotonic() < cached[0]:
        return cached[1]
    site = db.session.scalar(db.select(Site).where(Site.slug == slug))
    if site is None:
        return None  # unknown slugs are not cached: anyone can invent them
    keys = SiteKeys(
        id=site.id, slug=site.slug, keys=tuple(webhook_key(s) for s in site_secrets(site))
    )
    cache[slug] = (time.monotonic() + current_app.config["SITE_CACHE_SECONDS"], keys)
    return keys


def forget_sites() -> None:
    """Drop this worker's cached site keys (after a change made in this process)."""
    current_app.extensions.pop(SITE_CACHE, None)


def get(slug: str) -> Site:
    """The site named ``slug``, or :class:`SiteError`."""
    site = db.session.scalar(db.select(Site).where(Site.slug == slug))
    if site is None:
        raise SiteError(f"no site {slug!r}")
    return site


def add(slug: str, secret: str | None = None) -> str:
    """Create a site with one secret (generated if not given); return the secret."""
    if not SITE_SLUG.fullmatch(slug):
        raise SiteError("a slug is 1-64 lower-case letters, digits, '-' or '_'")
    if db.session.scalar(db.select(Site.id).where(Site.slug == slug)) is not None:
        raise SiteError(f"site {slug!r} exists already")
    secret = secret or new_webhook_secret()
    site = Site(slug=slug)
    site.secrets.append(SiteSecret(secret=secret, fingerprint=fingerprint(secret)))
    db.session.add(site)
    forget_sites()
    return secret


def rotate(slug: str, secret: str | None = None) -> str:
    """Give a site one more valid secret; return it."""
    site = get(slug)
    secret = secret or new_webhook_secret()
    site.secrets.append(SiteSecret(secret=secret, fingerprint=fingerprint(secret)))
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
