"""A new webhook secret in wp-config.php: what waits in the outbox, sealed under the old
secret's key, is still delivered, and the old key is forgotten once nothing needs it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import requests
from helpers import BROWSER_AGENT, submit, visitor_message
from wp_stack import PHP_DIR


def outbox_key(secret: str) -> bytes:
    """The plugin's sealing key of a secret (Cipher::fromSecret: HKDF-SHA256, no salt)."""
    material = base64.b64decode(secret.removeprefix("whsec_"))
    prk = hmac.new(b"\0" * 32, material, hashlib.sha256).digest()
    return hmac.new(prk, b"gardien outbox v1\x01", hashlib.sha256).digest()


def key_forms(key: bytes) -> list[str]:
    return [key.hex(), base64.b64encode(key).decode(), base64.b64encode(key).decode().rstrip("=")]


def tools(site, command: str, payload: object = None):
    """``php outbox-tools.php COMMAND``; its JSON answer."""
    result = site.php(PHP_DIR / "outbox-tools.php", command, input=payload or {})
    return json.loads(result.stdout.strip().splitlines()[-1])


def options(site) -> dict[str, str]:
    return {row["option_name"]: row["option_value"] for row in tools(site, "options")}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@contextmanager
def service_secret(gardien, secret: str) -> Iterator[None]:
    """The service restarted with ``secret`` as GARDIEN_WEBHOOK_SECRET, then put back."""
    old = gardien.env["GARDIEN_WEBHOOK_SECRET"]
    gardien.stop()
    gardien.env["GARDIEN_WEBHOOK_SECRET"] = secret
    try:
        gardien.start()
        yield
    finally:
        gardien.stop()
        gardien.env["GARDIEN_WEBHOOK_SECRET"] = old
        gardien.start()


def visits_today(gardien) -> int:
    today = datetime.now(UTC).date().isoformat()
    response = gardien.signed("GET", f"/v1/stats/summary?from={today}&to={today}")
    assert response.status_code == 200, response.text
    return response.json()["visits"]


def test_a_new_secret_in_wp_config_delivers_every_waiting_row(site, gardien, stored):
    site.cli("reset", {"stats_enabled": True})
    old = gardien.webhook_secret
    before_messages = stored.count()
    before_visits = visits_today(gardien)
    gardien.stop()

    # Messages and page views wait while the service is down, sealed under the old key: some
    # as outbox batches already, some still in the visit buffer.
    for _ in range(3):
        assert submit(site, visitor_message()).status_code == 303
    agent = f"{BROWSER_AGENT} Gardien{uuid.uuid4().hex[:8]}"
    for path in ("/", f"/?page_id={site.pages['privacy_page']}"):
        requests.get(site.url + path, headers={"User-Agent": agent}, timeout=30)
    site.cli("flush-visits")
    requests.get(site.url + "/?s=atelier", headers={"User-Agent": agent}, timeout=30)
    outbox = site.cli("outbox")
    assert outbox["summary"]["pending"] == 4 and outbox["visits"] == 1

    secret = new_secret()
    with site.secret_replaced(secret), service_secret(gardien, secret):
        site.cli("travel", {"seconds": 3600})
        site.cron()

        outbox = site.cli("outbox")
        assert outbox["rows"] == [] and outbox["visits"] == 0, outbox["rows"]
        assert stored.count() == before_messages + 3
        assert visits_today(gardien) - before_visits == 3

        kept = options(site)
        dump = json.dumps(kept)
        assert old not in dump and secret not in dump, "never a secret in the options"
        for form in key_forms(outbox_key(old)) + key_forms(outbox_key(secret)):
            assert form not in dump, "never a sealing key in clear"
        ring = tools(site, "keyring")
        assert ring["keys"] == [ring["current"]], "the old key is forgotten, the new one kept"
