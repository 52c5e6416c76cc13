"""Signed requests (CONTRACT §1): Standard Webhooks verification and idempotency.

The HMAC primitive is the ``standardwebhooks`` package's, computed over the raw body
bytes as the specification says (its ``Webhook`` class only signs text); this module
finds the site, checks the timestamp against :mod:`clock`, and compares signatures in
constant time. Tests check every signature against the package's own ``Webhook.sign``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from standardwebhooks.webhooks import hmac_data

from . import clock
from .crypto import keys
from .errors import ApiError
from .extensions import db
from .models import IdempotencyKey, Site, insert_row, orm_transaction
from .policy import Category
from .sites import DEFAULT_SITE, SITE_SLUG, SiteKeys, site_keys

WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
# What an unknown or disabled site is checked against: a key nobody has (random, per
# process), so its 401 costs the HMAC work of a known site's.
NOBODYS_KEYS = (secrets.token_bytes(32),)


@dataclass(frozen=True)
class SignedRequest:
    """A request whose signature verified: its site, message id, target and raw body."""

    site: SiteKeys
    webhook_id: str
    target: str  # "POST /v1/contact": a message id names one request to one endpoint
    body: bytes


def verify(headers, body: bytes, target: str) -> SignedRequest:
    """Check the Standard Webhooks headers of ``body``; raise a 401 :class:`ApiError` if not.

    Every failure gives the same answer, so the caller learns nothing about which part
    (site, timestamp, signature) was wrong; an unknown or disabled site costs the same
    work and no query (:func:`~webhook_app.sites.site_keys`), so the time of the answer
    does not tell either. The signature covers the raw bytes, so a body that is not UTF-8
    is rejected as unsigned or, once signed, as malformed JSON.
    """
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    offered = headers.get("webhook-signature", "")
    slug = headers.get("X-WP-Site") or DEFAULT_SITE
    if not (WEBHOOK_ID.fullmatch(msg_id) and TIMESTAMP.fullmatch(stamp) and offered
            and SITE_SLUG.fullmatch(slug)):
        raise ApiError(401)
    signed_at = int(stamp)
    tolerance = current_app.config["SIGNATURE_TOLERANCE_SECONDS"]
    if abs(clock.now().timestamp() - signed_at) > tolerance:
        raise ApiError(401)
    site = site_keys(slug)
    keys = site.keys if site is not None and site.keys else NOBODYS_KEYS
    candidates = _offered_signatures(offered)
    signed_content = f"{msg_id}.{signed_at}.".encode() + body
    for key in keys:
        expected = hmac_data(key, signed_content)
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            if site is not None:
                return SignedRequest(site=site, webhook_id=msg_id, target=target, body=body)
    raise ApiError(401)


def _offered_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` header; junk is ignored."""
    found = []
    for part in header.split(" "):
        version, _, value = part.partition(",")
        if version != "v1" or not value:
            continue
        try:
            found.append(base64.b64decode(value, validate=True))
        except binascii.Error:
            continue
    return found


def _removed(site: SiteKeys) -> bool:
    """Whether ``site`` was removed since this worker's registry was loaded (its rows then
    break their foreign key)."""
    return db.session.scalar(db.select(Site.id).where(Site.id == site.id)) is None


def request_digest(signed: SignedRequest, key: bytes | None = None) -> str:
    """Keyed hash of endpoint and body: tells a replay from another use of the same id.

    Keyed (the first blind-index key unless ``key`` is given), because a body can be as
    guessable as an address.
    """
    content = signed.target.encode() + b"\n" + signed.body
    return hmac.new(key or keys().index_key, content, hashlib.sha256).hexdigest()


def _same_request(key: IdempotencyKey, signed: SignedRequest) -> bool:
    """Whether ``key`` was stored for this very request, under any configured index key
    (a key stored before a rotation of the index key was digested with an older one)."""
    return any(
        hmac.compare_digest(key.body_digest, request_digest(signed, index_key))
        for index_key in keys().index_keys
    )


def previous_answer(signed: SignedRequest) -> IdempotencyKey | None:
    """The stored key of this message id, or None; raise 409 if it was another request."""
    key = db.session.get(IdempotencyKey, (signed.site.id, signed.webhook_id))
    if key is None:
        return None
    if key.expires_at <= clock.now():
        # Past its retention the key is forgotten, exactly as if the purge had run.
        db.session.delete(key)
        db.session.commit()
        return None
    if not _same_request(key, signed):
        raise ApiError(409)
    return key


def once(
    signed: SignedRequest,
    work: Callable[[Connection], tuple[dict, int]],
    retention: Category,
    keep_answer: bool = True,
    transaction: Callable[[], AbstractContextManager[Connection]] = orm_transaction,
) -> tuple[dict, int]:
    """Run ``work`` and commit it with its answer, unless this message id was seen before.

    ``work`` gets the connection of the ``transaction`` it runs in. The common case (a
    new id) costs no lookup: the answer's key is inserted in the same transaction as the
    work, and its primary key is what detects a replay or a race with another worker;
    the repeated work is then rolled back and the first answer returned (or 409).
    Without ``keep_answer`` (an export page, which is personal data that must not
    outlive an erasure) only the key is kept and a replay is answered afresh.
    """
    for _ in range(2):
        try:
            with transaction() as connection:
                answer, status = work(connection)
                received = clock.now()
                insert_row(
                    connection,
                    IdempotencyKey,
                    site_id=signed.site.id,
                    webhook_id=signed.webhook_id,
                    body_digest=request_digest(signed),
                    status=status,
                    response=answer if keep_answer else None,
                    created_at=received,
                    expires_at=retention.expires(received),
                )
            return answer, status
        except ApiError as error:
            if error.status == 422:
                previous_answer(signed)  # a reused id with another, invalid body is a 409
            raise
        except IntegrityError:
            if db.session.get(IdempotencyKey, (signed.site.id, signed.webhook_id)) is None:
                if _removed(signed.site):
                    raise ApiError(401) from None  # as for any unknown site
                raise  # the work itself broke a constraint: not a replay
        earlier = previous_answer(signed)
        if earlier is not None and earlier.response is not None:
            return earlier.response, earlier.status
        if earlier is not None:
            with transaction() as connection:
                return work(connection)
    raise RuntimeError("the idempotency key of this message keeps conflicting")
