"""Intake of contact-form submissions."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from . import clock, policy
from .crypto import email_index
from .models import ContactMessage, insert_row, new_uuid

RETENTION = "contact"


def receive(connection: Connection, site_id: int, submission: dict) -> dict:
    """Store a validated submission in ``connection``'s transaction; return its row.

    ``expires_at`` is fixed now, from the policy, so the purge is a range scan.
    """
    retention = policy.current()[RETENTION]
    received = clock.now()
    ip = submission.get("ip")
    row = dict(
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
    insert_row(connection, ContactMessage, **row)
    return row


def accepted(message: dict) -> dict:
    """The ``201`` answer for a stored submission."""
    return {
        "id": message["id"],
        "received_at": clock.format_rfc3339(message["received_at"]),
        "expires_at": clock.format_rfc3339(message["expires_at"]),
        "retention": message["retention"],
    }
