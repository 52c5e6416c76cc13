"""The ``/v1`` blueprint (signed JSON for the WordPress plugin) and ``/healthz``.

A view parses, calls one domain function, and answers; :func:`webhook_app.wire.signed`
does the rest in the order the contract fixes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, request
from sqlalchemy import text
from sqlalchemy.engine import Connection

from . import intake, messages, notice, policy, privacy, schemas, signing, status
from .errors import RETRY_AFTER_UNAVAILABLE, error_response
from .extensions import db
from .wire import KIB, signed

bp = Blueprint("api", __name__, url_prefix="/v1")
health = Blueprint("health", __name__)


@bp.post("/contact")
@signed(limit=64 * KIB, transaction=intake.transaction)
def post_contact(request_signed: signing.SignedRequest, payload: object, connection: Connection):
    """Store a contact-form submission, encrypted, with its expiry date."""
    submission = schemas.load(schemas.contact_submission, payload)
    message = messages.receive(connection, request_signed.site.id, submission)
    return messages.accepted(message), 201


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
