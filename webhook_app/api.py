"""The ``/v1`` blueprint (signed JSON for the WordPress plugin) and ``/healthz``.

A view parses, calls one domain function, and answers; :func:`signed` does the rest
in the order the contract fixes: size and media type, signature, rate limit,
idempotency, JSON, validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, g, request
from sqlalchemy import text
from sqlalchemy.engine import Connection
from werkzeug.exceptions import RequestEntityTooLarge

from . import contact, notice, policy, privacy, schemas, signing, status
from .errors import RETRY_AFTER_UNAVAILABLE, ApiError, error_response
from .extensions import db
from .models import core_transaction, orm_transaction
from .ratelimit import check_rate

bp = Blueprint("api", __name__, url_prefix="/v1")
health = Blueprint("health", __name__)

KIB = 1024


def read_body(limit: int) -> bytes:
    """The raw body, after the checks the contract allows before the signature (413, 415).

    A GET has an empty body (it signs the empty string): anything more is too large.
    """
    if request.method != "POST":
        limit = 0
    elif request.mimetype != "application/json":
        raise ApiError(415)
    # One byte of slack: a chunked body longer than the limit is cut at limit + 1 by the
    # stream, and that extra byte is how it is told apart from one exactly at the limit.
    request.max_content_length = limit + 1
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413) from None
    except Exception:
        # The server could not read the body as framed (a broken chunk size, the sender
        # gone): whatever the server's own exception, the body is not the JSON it claims.
        raise ApiError(400) from None
    if len(body) > limit:
        raise ApiError(413)
    return body


def parse_json(body: bytes) -> object:
    """Decode strict UTF-8 JSON or raise 400.

    Strict means: no NaN or Infinity, no integer too long to convert, and no lone
    surrogate escapes (text that is not Unicode cannot be stored or compared).
    """
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
        # Strict UTF-8 holds no surrogates: only a \u escape can have made one.
        if b"\\u" in body:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        # JSONDecodeError and the int-conversion limit are ValueErrors.
        raise ApiError(400) from None
    return value


def _no_constants(name: str) -> None:
    raise ValueError("NaN and Infinity are not JSON")


def signed(
    limit: int, keep_answer: bool = True, transaction: Callable = orm_transaction
) -> Callable:
    """Wrap a view taking ``(signed_request, payload, connection)`` and returning
    ``(answer, status)``. A GET view gets no payload and no connection (both None).

    A POST view runs in ``transaction`` (the ORM session's, unless it only inserts) and
    gets its connection. ``keep_answer=False`` keeps only the idempotency key, not the
    answer (personal data).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**kwargs):
            body = read_body(limit)
            target = f"{request.method} {request.path}"
            request_signed = signing.verify(request.headers, body, target)
            g.site_slug = request_signed.site.slug
            check_rate(request_signed.site.slug)
            if request.method != "POST":
                return view(request_signed, None, None, **kwargs)
            payload = parse_json(body)
            return signing.once(
                request_signed,
                lambda connection: view(request_signed, payload, connection, **kwargs),
                policy.current()["idempotency_key"],
                keep_answer,
                transaction,
            )

        return wrapper

    return decorator


@bp.post("/contact")
@signed(limit=64 * KIB, transaction=core_transaction)
def post_contact(request_signed: signing.SignedRequest, payload: object, connection: Connection):
    """Store a contact-form submission, encrypted, with its expiry date."""
    submission = schemas.load(schemas.contact_submission, payload)
    message = contact.receive(connection, request_signed.site.id, submission)
    return contact.accepted(message), 201


@bp.post("/privacy/export")
@signed(limit=16 * KIB, keep_answer=False)
def post_privacy_export(request_signed: signing.SignedRequest, payload: object, _: Connection):
    """One page of a WordPress personal-data export for an address on this site."""
    return _privacy_page(privacy.export_page, request_signed, payload), 200


@bp.post("/privacy/erase")
@signed(limit=16 * KIB)
def post_privacy_erase(request_signed: signing.SignedRequest, payload: object, _: Connection):
    """One page of a WordPress personal-data erasure for an address on this site."""
    return _privacy_page(privacy.erase_page, request_signed, payload), 200


def _privacy_page(answer_page: Callable, request_signed: signing.SignedRequest, payload) -> dict:
    query = schemas.load(schemas.privacy_request, payload)
    return answer_page(
        request_signed.site.id, query["email"], query["page"], actor=_actor(request_signed)
    )


@bp.get("/policy")
@signed(limit=0)
def get_policy(request_signed: signing.SignedRequest, payload: None, _: None):
    """The retention policy as published, in French or English (``?lang=en``)."""
    query = schemas.load(schemas.policy_query, request.args.to_dict())
    chosen = query.get("lang") or notice.default_language()
    return notice.published(policy.current(), chosen), 200


@bp.get("/status")
@signed(limit=0)
def get_status(request_signed: signing.SignedRequest, payload: None, _: None):
    """Counts and purge times for the plugin's admin page."""
    return status.site_status(request_signed.site.id, request_signed.site.slug), 200


def _actor(request_signed: signing.SignedRequest) -> str:
    return f"site:{request_signed.site.slug}"


@health.get("/healthz")
def healthz():
    """Unsigned liveness: ok when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure of the database means "not healthy"
        db.session.rollback()
        return error_response(503, retry_after=RETRY_AFTER_UNAVAILABLE)
    return {"status": "ok"}
