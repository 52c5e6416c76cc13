"""The site registry: which WordPress sites may send, with which secrets, and their lifecycle.

Verification (:mod:`webhook_app.signing`) asks :func:`site_keys` for a site's HMAC keys.
Each worker holds the whole registry in memory (the enabled sites and their decrypted
keys) and reloads it when it is older than ``SITE_CACHE_SECONDS``: looking up any slug,
known, disabled or made up, is a dictionary lookup and no query, so neither the time of
an answer nor the load on the database tells which sites exist. A change made by the
command line (add, rotate, remove a secret, disable, enable, remove a site) therefore
reaches every worker within that period.

A site is enabled or disabled; a disabled site is answered exactly as an unknown one
(401), and its data is kept and purged on time. Removing a site deletes everything stored
for it. The site ``default`` takes its first secret from the configuration
(``GARDIEN_WEBHOOK_SECRET``), so it can be disabled but not removed.

The functions that change sites add to the caller's transaction and never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select, update

from . import audit, clock, service_keys, tombstones
from .config import ConfigError, new_webhook_secret, webhook_key
from .errors import DomainError
from .extensions import Model, db, rowcount
from .models import (
    AuditEntry,
    Client,
    ContactMessage,
    ErasureTombstone,
    IdempotencyKey,
    Invoice,
    PrivacyRequest,
    Quote,
    Site,
    SiteSecret,
)
from .stats.models import StatsDay, StatsDayVisitor, StatsEvent, StatsRollup

log = logging.getLogger(__name__)

DEFAULT_SITE = "default"
SITE_SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
SITE_CACHE = "gardien.site_registry"
FINGERPRINT_KEY = "sites.fingerprint"
# Characters of a fingerprint shown by `sites list` and accepted by `remove-secret`.
SHOWN_FINGERPRINT = 12
# How the listing marks the fingerprint of default's configured secret (not removable).
CONFIGURED = "(config)"


class SiteError(DomainError):
    """A site operation that cannot be done (unknown slug, last secret, …)."""


@dataclass(frozen=True)
class SiteKeys:
    """What verification needs of a site: its id, slug and the HMAC key of each secret
    (with, for a secret in its grace period after a rotation, when it stops signing)."""

    id: int
    slug: str
    keys: tuple[bytes, ...]
    expires: tuple[datetime | None, ...] = ()

    def at(self, now: datetime) -> SiteKeys:
        """The keys still valid at ``now`` (a secret past its grace period is refused)."""
        if not any(self.expires):
            return self
        valid = tuple(key for key, end in zip(self.keys, self.expires, strict=True)
                      if end is None or now < end)
        return SiteKeys(self.id, self.slug, valid)


@dataclass(frozen=True)
class Registry:
    """Every enabled site's keys by slug, as read from the database at ``loaded_at``."""

    sites: dict[str, SiteKeys]
    loaded_at: datetime


@dataclass(frozen=True)
class Listed:
    """A site as ``sites list`` shows it: slug, state, fingerprints of its secrets (and its
    id, which :func:`last_deliveries` answers by)."""

    slug: str
    enabled: bool
    fingerprints: list[str]
    id: int
    # When a secret retired with a grace period stops signing (by shown fingerprint).
    ends: dict[str, datetime] = field(default_factory=dict)


def site_keys(slug: str) -> SiteKeys | None:
    """The keys of the enabled site ``slug`` valid now (on the service clock, so an
    expired secret is refused at once, not at the registry's next reload); None for an
    unknown or disabled one."""
    found = _registry().sites.get(slug)
    return None if found is None else found.at(clock.now())


def forget_sites() -> None:
    """Drop this worker's registry (after a change made in this process)."""
    current_app.extensions.pop(SITE_CACHE, None)


def _registry() -> Registry:
    registry = current_app.extensions.get(SITE_CACHE)
    now = clock.now()
    period = timedelta(seconds=current_app.config["SITE_CACHE_SECONDS"])
    # A clock that went back (a test's, or the host's) reloads too: never a stale registry.
    if registry is None or not registry.loaded_at <= now < registry.loaded_at + period:
        registry = _load(now)
        current_app.extensions[SITE_CACHE] = registry
    return registry


def _load(now: datetime) -> Registry:
    """Read every enabled site and its secrets in one query; decrypt and decode the keys."""
    configured = webhook_key(current_app.config["WEBHOOK_SECRET"])
    rows = db.session.execute(
        select(Site.id, Site.slug, SiteSecret.secret, SiteSecret.expires_at)
        .outerjoin(SiteSecret, SiteSecret.site_id == Site.id)
        .where(Site.disabled_at.is_(None))
        .order_by(Site.id, SiteSecret.id)
    )
    keys: dict[tuple[int, str], list[tuple[bytes, datetime | None]]] = {}
    for site_id, slug, secret, expires_at in rows:
        found = keys.setdefault(
            (site_id, slug), [(configured, None)] if slug == DEFAULT_SITE else []
        )
        if secret is None or (expires_at is not None and clock.as_utc(expires_at) <= now):
            continue
        key = webhook_key(secret)
        if key == configured and slug != DEFAULT_SITE:
            # GARDIEN_WEBHOOK_SECRET was later set to a secret stored for another site: one
            # secret never signs for two sites, and the configuration says it is default's.
            log.error("a stored secret is also GARDIEN_WEBHOOK_SECRET; it signs for default "
                      "only: rotate this site's secret", extra={"site": slug})
            continue
        found.append((key, None if expires_at is None else clock.as_utc(expires_at)))
    sites = {
        slug: SiteKeys(site_id, slug, tuple(key for key, _ in found),
                       tuple(end for _, end in found))
        for (site_id, slug), found in keys.items()
    }
    return Registry(sites, now)


def fingerprint(secret: str) -> str:
    """A keyed hash (HMAC-SHA256, hex) of a secret's HMAC key: names it, never reveals it.

    Keyed with a random key kept encrypted in the database (:mod:`service_keys`): neither
    a listing, nor a log, nor a dump without the data keys lets anyone check a guessed
    secret, however weak; and as no configured key enters it, stored fingerprints stay
    valid whatever is rotated. Computed on the decoded key, because base64 has several
    spellings of one key, and they are one secret.
    """
    key, _ = service_keys.get_or_create(
        FINGERPRINT_KEY, lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
    return hmac.new(base64.b64decode(key), webhook_key(secret), hashlib.sha256).hexdigest()


def get(slug: str) -> Site:
    """The site named ``slug``, or :class:`SiteError`."""
    site = db.session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise SiteError(f"no site {slug!r}")
    return site


def add(slug: str, secret: str | None = None) -> str:
    """Create a site with one secret (generated if not given); return the secret."""
    if not SITE_SLUG.fullmatch(slug):
        raise SiteError("a slug is 1-64 lower-case letters, digits, '-' or '_'")
    if db.session.scalar(select(Site.id).where(Site.slug == slug)) is not None:
        raise SiteError(f"site {slug!r} exists already")
    site = Site(slug=slug)
    db.session.add(site)
    return _give_secret(site, secret)


def rotate(slug: str, secret: str | None = None, grace: timedelta | None = None) -> str:
    """Give a site one more valid secret; return it.

    With ``grace``, every older stored secret of the site stops signing that long from
    now (on the service clock), so WordPress keeps delivering while it is updated; without
    it they stay valid until removed. The configured secret of ``default`` cannot expire:
    only a change of ``GARDIEN_WEBHOOK_SECRET`` retires it.
    """
    site = get(slug)
    if grace is not None:
        if grace < timedelta(0):
            raise SiteError("the grace period cannot be negative")
        end = clock.now() + grace
        for entry in site.secrets:
            if entry.expires_at is None or clock.as_utc(entry.expires_at) > end:
                entry.expires_at = end
    return _give_secret(site, secret)


def _give_secret(site: Site, secret: str | None) -> str:
    """Add ``secret`` (or a new one) to ``site``, unless a site already signs with it."""
    secret = secret or new_webhook_secret()
    try:
        print_ = fingerprint(secret)
    except ConfigError as error:
        raise SiteError(str(error)) from None
    taken = db.session.scalar(select(SiteSecret.id).where(SiteSecret.fingerprint == print_))
    if taken is not None or print_ == fingerprint(current_app.config["WEBHOOK_SECRET"]):
        # The unique fingerprint column refuses it too; this says why, naming no secret.
        raise SiteError("this secret already signs for a site; each site needs its own "
                        "(leave out --secret to generate one)")
    site.secrets.append(SiteSecret(secret=secret, fingerprint=print_))
    forget_sites()
    return secret


def remove_secret(slug: str, shown: str) -> None:
    """Remove the stored secret whose fingerprint starts with ``shown`` (as listed);
    a site keeps at least one."""
    site = get(slug)
    matching = [entry for entry in site.secrets
                if len(shown) >= SHOWN_FINGERPRINT and entry.fingerprint.startswith(shown)]
    if not matching:
        raise SiteError(f"site {slug!r} has no stored secret {shown}")
    if len(site.secrets) == 1 and slug != DEFAULT_SITE:
        raise SiteError("a site keeps at least one secret: rotate first")
    site.secrets.remove(matching[0])
    forget_sites()


def listing() -> list[Listed]:
    """Each site, enabled or not, with the fingerprints of its secrets (configured one marked)."""
    rows = []
    for site in db.session.scalars(select(Site).order_by(Site.slug)):
        prints = [entry.fingerprint[:SHOWN_FINGERPRINT] for entry in site.secrets]
        ends = {entry.fingerprint[:SHOWN_FINGERPRINT]: entry.expires_at
                for entry in site.secrets if entry.expires_at is not None}
        if site.slug == DEFAULT_SITE:
            configured = fingerprint(current_app.config["WEBHOOK_SECRET"])
            prints.insert(0, configured[:SHOWN_FINGERPRINT] + CONFIGURED)
        rows.append(Listed(site.slug, site.disabled_at is None, prints, site.id, ends))
    return rows


def slugs() -> dict[int, str]:
    """Each site's slug by id, enabled or not (what the dashboard's lists show)."""
    return {site_id: slug for site_id, slug in
            db.session.execute(select(Site.id, Site.slug).order_by(Site.slug))}


def last_deliveries() -> dict[int, datetime]:
    """When each site last delivered something (a message, page views, a privacy call).

    Read from the idempotency keys, which every signed POST leaves and which last a week
    (``idempotency_key`` in the policy): nothing is written on the hot path for it, and a
    site absent from the answer has delivered nothing for that long.
    """
    rows = db.session.execute(
        select(IdempotencyKey.site_id, func.max(IdempotencyKey.created_at))
        .group_by(IdempotencyKey.site_id)
    )
    return {site_id: clock.as_utc(last) for site_id, last in rows if last is not None}


def disable(slug: str, actor: str) -> Site:
    """Stop accepting a site's requests (answered as for an unknown site); keep its data."""
    site = get(slug)
    if site.disabled_at is not None:
        raise SiteError(f"site {slug!r} is disabled already")
    site.disabled_at = clock.now()
    audit.record("site.disable", actor=actor, record_ids=[site.id], site_id=site.id,
                 detail=f"slug={slug}")
    forget_sites()
    return site


def enable(slug: str, actor: str) -> Site:
    """Accept a disabled site's requests again."""
    site = get(slug)
    if site.disabled_at is None:
        raise SiteError(f"site {slug!r} is enabled already")
    site.disabled_at = None
    audit.record("site.enable", actor=actor, record_ids=[site.id], site_id=site.id,
                 detail=f"slug={slug}")
    forget_sites()
    return site


def stored_for(site_id: int) -> list[tuple[str, type[Model], ColumnElement[bool]]]:
    """What a site holds, kind by kind, children before their parents."""
    clients = select(Client.id).where(Client.site_id == site_id)
    return [
        ("quotes", Quote, Quote.client_id.in_(clients)),
        ("invoices", Invoice, Invoice.client_id.in_(clients)),
        ("messages", ContactMessage, ContactMessage.site_id == site_id),
        ("clients", Client, Client.site_id == site_id),
        ("privacy_requests", PrivacyRequest, PrivacyRequest.site_id == site_id),
        ("stats_events", StatsEvent, StatsEvent.site_id == site_id),
        ("stats_rollups", StatsRollup, StatsRollup.site_id == site_id),
        ("stats_day_visitors", StatsDayVisitor, StatsDayVisitor.site_id == site_id),
        ("stats_days", StatsDay, StatsDay.site_id == site_id),
        ("idempotency_keys", IdempotencyKey, IdempotencyKey.site_id == site_id),
        ("secrets", SiteSecret, SiteSecret.site_id == site_id),
        ("erasure_tombstones", ErasureTombstone, ErasureTombstone.site_id == site_id),
    ]


def holdings(slug: str) -> dict[str, int]:
    """How many records of each kind :func:`remove` would delete, and how many of them the
    law would otherwise keep (``legal_holds``, ``invoices_in_period``)."""
    _refuse_default(slug)
    site = get(slug)
    counts = {
        kind: db.session.execute(
            select(func.count()).select_from(model).where(condition)
        ).scalar_one()
        for kind, model, condition in stored_for(site.id)
    }
    counts["legal_holds"] = db.session.execute(
        select(func.count()).select_from(ContactMessage).where(
            ContactMessage.site_id == site.id, ContactMessage.legal_hold_at.is_not(None)
        )
    ).scalar_one()
    counts["invoices_in_period"] = db.session.execute(
        select(func.count()).select_from(Invoice).join(Client).where(
            Client.site_id == site.id, Invoice.expires_at > clock.now()
        )
    ).scalar_one()
    return counts


def remove(slug: str, actor: str) -> dict[str, int]:
    """Delete a site and everything stored for it; return how many records of each kind.

    Set-based deletes in the caller's single transaction: memory stays flat however large
    the site, nothing is half-removed if it fails, and the audit entry (slug and counts
    in its detail, as the site id is gone with the site) commits with the deletion. On
    SQLite other writers wait for that transaction (the busy timeout); see README.
    """
    _refuse_default(slug)
    site_id = _lock_for_removal(slug)
    counts = delete_site(site_id)
    assert counts is not None, "the site is locked"
    # Its own tombstone (the erasure tombstones of its records went with it: this one
    # covers them), so that a restore of an older backup removes the site again. It
    # belongs to no site: a later site given the same id does not take it with it.
    tombstones.record(tombstones.SITE, [site_id], None)
    summary = " ".join(f"{kind}={count}" for kind, count in counts.items())
    audit.record("site.remove", actor=actor, count=sum(counts.values()),
                 detail=f"slug={slug} {summary}")
    forget_sites()
    return counts


def delete_site(site_id: int) -> dict[str, int] | None:
    """Delete the site ``site_id`` and everything stored for it (counts per kind), or
    return None if there is no such site. The caller audits (and locks, see :func:`remove`).
    """
    if db.session.scalar(select(Site.id).where(Site.id == site_id)) is None:
        return None
    counts: dict[str, int] = {}
    for kind, model, condition in stored_for(site_id):
        deleted = db.session.execute(
            delete(model).where(condition).execution_options(synchronize_session=False)
        )
        counts[kind] = rowcount(deleted)
    # What the foreign key's ON DELETE SET NULL does, said here so it holds even on a
    # SQLite connection without foreign keys.
    db.session.execute(
        update(AuditEntry).where(AuditEntry.site_id == site_id).values(site_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(Site).where(Site.id == site_id).execution_options(synchronize_session=False)
    )
    return counts


def _lock_for_removal(slug: str) -> int:
    """The id of site ``slug``, locked against new rows until the transaction ends.

    A write comes first: on SQLite it takes the database's write lock, so nothing lands
    between the deletes. On PostgreSQL ``FOR UPDATE`` makes an insert that references the
    site wait (its foreign-key check needs a share lock on the row), then fail.
    """
    db.session.execute(
        update(Site).where(Site.slug == slug).values(disabled_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    site_id = db.session.scalar(select(Site.id).where(Site.slug == slug).with_for_update())
    if site_id is None:
        raise SiteError(f"no site {slug!r}")
    return site_id


def _refuse_default(slug: str) -> None:
    if slug == DEFAULT_SITE:
        raise SiteError("the site default cannot be removed: its secret is configuration. "
                        "`sites disable default` stops its requests")
