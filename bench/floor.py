"""The floor of contact intake: the work the contract requires, and nothing around it.

The signature (``standardwebhooks``), Gardien's own marshmallow schema, one Fernet token,
the blind index, two inserts and a commit with the ``sqlite3`` module on the migrated
schema, under the same gunicorn settings. No SQLAlchemy, no error table, no log line, no
replay or conflict handling, no rate limit: what the required parts cost by themselves,
next to which the real endpoint is measured. Not a service: valid requests only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from flask import Flask, request
from standardwebhooks.webhooks import hmac_data

from webhook_app.config import DEFAULTS
from webhook_app.schemas import contact_submission

YEAR = timedelta(days=365)
WEEK = timedelta(days=7)


def create_app() -> Flask:
    """The floor app, configured from the same ``GARDIEN_*`` variables as the service."""
    app = Flask(__name__)
    # What deploy/gunicorn.conf.py's worker reads from the app it serves.
    app.config["DB_TIMEOUT_SECONDS"] = DEFAULTS["DB_TIMEOUT_SECONDS"]
    webhook_key = base64.b64decode(os.environ["GARDIEN_WEBHOOK_SECRET"].removeprefix("whsec_"))
    fernet = Fernet(os.environ["GARDIEN_DATA_KEYS"].split(",")[0])
    index_key = os.environ["GARDIEN_INDEX_KEY"].encode()
    database = sqlite3.connect(os.environ["GARDIEN_DATABASE_URL"].removeprefix("sqlite:///"))
    # The service's own settings (webhook_app/extensions.py); its contact messages are
    # committed with synchronous=FULL (webhook_app/durability.py). FLOOR_SYNCHRONOUS=NORMAL
    # measures the floor without the sync of each commit.
    synchronous = os.environ.get("FLOOR_SYNCHRONOUS", "FULL")
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON",
                   f"synchronous={synchronous}", "cache_size=-32768", "secure_delete=ON"):
        database.execute(f"PRAGMA {pragma}")

    @app.post("/v1/contact")
    def contact():
        body = request.get_data()
        headers = request.headers
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        offered = base64.b64decode(headers["webhook-signature"].partition(",")[2])
        if not hmac.compare_digest(hmac_data(webhook_key, signed), offered):
            return {"error": "unauthorized"}, 401
        submission = contact_submission.load(json.loads(body))
        now = datetime.now(UTC).replace(tzinfo=None)
        received, expires, forgotten = (
            moment.isoformat(" ") for moment in (now, now + YEAR, now + WEEK)
        )
        personal = json.dumps({key: str(value) for key, value in submission.items()})
        address = submission["email"].strip().lower().encode()
        answer = {
            "id": str(uuid.uuid4()),
            "received_at": now.isoformat(),
            "expires_at": (now + YEAR).isoformat(),
            "retention": "contact",
        }
        database.execute(
            "INSERT INTO contact_messages (id, site_id, email_index, form, personal, consent,"
            " submitted_at, received_at, retention, expires_at) VALUES (?,1,?,?,?,?,?,?,?,?)",
            (
                answer["id"],
                hmac.new(index_key, address, hashlib.sha256).hexdigest(),
                submission.get("form"),
                fernet.encrypt(personal.encode()).decode(),
                submission.get("consent"),
                received,
                received,
                "contact",
                expires,
            ),
        )
        database.execute(
            "INSERT INTO idempotency_keys (site_id, webhook_id, body_digest, status, response,"
            " created_at, expires_at) VALUES (1,?,?,201,?,?,?)",
            (
                headers["webhook-id"],
                hmac.new(index_key, body, hashlib.sha256).hexdigest(),
                json.dumps(answer),
                received,
                forgotten,
            ),
        )
        database.commit()
        return answer, 201

    return app
