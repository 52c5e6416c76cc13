"""The ``/v1/stats`` blueprint: page views in, the visit summary out (both signed)."""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy.engine import Connection

from webhook_app import durability
from webhook_app import schemas as wire_schemas
from webhook_app.signing import SignedRequest
from webhook_app.wire import KIB, signed

from . import ingest, schemas, summary

bp = Blueprint("stats", __name__, url_prefix="/v1/stats")


@bp.post("/events")
@durability.relaxed
@signed(limit=1024 * KIB)
def post_events(request_signed: SignedRequest, payload: object, _: Connection):
    """Store the visits of a batch of page views; list the ones refused, count the bots.

    Answered without waiting for the disk: a power cut may lose the last batches.
    """
    batch = wire_schemas.load(schemas.event_batch, payload)
    return ingest.receive(request_signed.site.id, batch["events"]), 202


@bp.get("/summary")
@signed(limit=0)
def get_summary(request_signed: SignedRequest, payload: None, _: None):
    """Visits and visitors of the site between two dates (inclusive, UTC)."""
    query = wire_schemas.load(schemas.summary_query, request.args.to_dict())
    return summary.summary(request_signed.site.id, query["from"], query["to"]), 200
