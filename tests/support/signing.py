"""Sign requests the way the WordPress plugin does, with the reference package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def body_bytes(payload: object) -> bytes:
    """JSON-encode a payload as a sender would (bytes pass through)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False).encode()


def signed_headers(
    secret: str,
    body: bytes,
    *,
    msg_id: str | None = None,
    at: datetime | None = None,
    site: str | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` (text) signed with ``secret``."""
    msg_id = msg_id or str(uuid.uuid4())
    at = at or datetime.now(UTC)
    try:
        signature = Webhook(secret).sign(msg_id, at, body.decode("utf-8"))
    except UnicodeDecodeError:
        # The package signs text only; the specification signs the raw bytes.
        key = base64.b64decode(secret.removeprefix("whsec_"))
        content = f"{msg_id}.{int(at.timestamp())}.".encode() + body
        digest = hmac.new(key, content, hashlib.sha256).digest()
        signature = "v1," + base64.b64encode(digest).decode()
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": content_type,
    }
    if site is not None:
        headers["X-WP-Site"] = site
    return headers
