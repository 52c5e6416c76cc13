"""Intake of contact-form submissions."""

from __future__ import annotations

from . import clock
from .crypto import email_index
from .models import new_uuid
from .policy import Category

RETENTION = "contact"


def receive(site_id: int, submission: dict, retention: Category) -> dict:
    """The row of a validated submission, for the caller's transaction to insert.

    ``expires_at`` is fixed now, from the policy, so the purge is a range scan.
    """
    received = clock.now()
    ip = submission.get("ip")
    return dict(
        id=new_uuid(),
        site_id=site_id,
        email_index=email_index(submission["email"]),
        form=submission.get("form"),
        personal={
            "name": submission["name"],
            "email": submission["email"],
            "company": submission.get("company"),
            "message": submission["message"],
            "ip": None if ip is None else str(ip),
            "page": submission.get("page"),
            "fields": submission.get("fields"),
        },
        consent=submission.get("consent"),
        submitted_at=submission.get("submitted_at") or received,
        received_at=received,
        retention=retention.key,
        expires_at=retention.expires(received),
    )


def accepted(message: dict) -> dict:
    """The ``201`` answer for a stored submission."""
    return {
        "id": message["id"],
        "received_at": clock.format_rfc3339(message["received_at"]),
        "expires_at": clock.format_rfc3339(message["expires_at"]),
        "retention": message["retention"],
    }
