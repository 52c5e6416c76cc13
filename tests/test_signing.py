"""Signature verification (CONTRACT §1) as a unit: keys, rotation, time window, headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook
from support.signing import signed_headers

from webhook_app import clock, sites
from webhook_app.config import new_webhook_secret
from webhook_app.errors import ApiError
from webhook_app.extensions import db
from webhook_app.signing import verify

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
BODY = b'{"name": "x"}'
VECTOR = Path(__file__).parent / "vectors" / "webhook_signature.json"


def check(app, headers, body=BODY):
    with app.test_request_context(), clock.frozen(NOW):
        return verify(headers, body, "POST /v1/contact")


def test_valid_signature_names_site_and_id(app, secrets):
    signed = check(app, signed_headers(secrets["WEBHOOK_SECRET"], BODY, msg_id="msg_1", at=NOW))
    assert (signed.site.slug, signed.webhook_id, signed.body) == ("default", "msg_1", BODY)


def test_wrong_key_is_rejected(app):
    with pytest.raises(ApiError) as caught:
        check(app, signed_headers(new_webhook_secret(), BODY, at=NOW))
    assert caught.value.status == 401


def test_body_change_is_rejected(app, secrets):
    headers = signed_headers(secrets["WEBHOOK_SECRET"], BODY, at=NOW)
    with pytest.raises(ApiError):
        check(app, headers, body=b'{"name": "y"}')


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_300_seconds_pass(app, secrets, offset):
    at = NOW + timedelta(seconds=offset)
    assert check(app, signed_headers(secrets["WEBHOOK_SECRET"], BODY, at=at))


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_stale_or_future_timestamps_fail(app, secrets, offset):
    at = NOW + timedelta(seconds=offset)
    with pytest.raises(ApiError):
        check(app, signed_headers(secrets["WEBHOOK_SECRET"], BODY, at=at))


def test_rotation_old_and_new_secrets_both_verify_until_removed(app):
    with app.app_context():
        old = sites.add("shop")
        new = sites.rotate("shop")
        db.session.commit()
    for secret in (old, new):
        assert check(app, signed_headers(secret, BODY, at=NOW, site="shop"))
    with app.app_context():
        old_print = sites.listing()[1].fingerprints[0]
        sites.remove_secret("shop", old_print)
        db.session.commit()
    with pytest.raises(ApiError):
        check(app, signed_headers(old, BODY, at=NOW, site="shop"))
    assert check(app, signed_headers(new, BODY, at=NOW, site="shop"))


def test_one_matching_signature_among_several_is_enough(app, secrets):
    headers = signed_headers(secrets["WEBHOOK_SECRET"], BODY, at=NOW)
    stranger = Webhook(new_webhook_secret()).sign(headers["webhook-id"], NOW, BODY.decode())
    headers["webhook-signature"] = f"v1a,xyz {stranger} junk {headers['webhook-signature']}"
    assert check(app, headers)


@pytest.mark.parametrize(
    "signature",
    ["", " ", ",", "v1,", "v1,=", "v1", "v1,@@@@", "v1," + "A" * 10_000, "\x00"],
)
def test_malformed_signature_headers_are_rejected_cleanly(app, secrets, signature):
    headers = signed_headers(secrets["WEBHOOK_SECRET"], BODY, at=NOW)
    headers["webhook-signature"] = signature
    with pytest.raises(ApiError) as caught:
        check(app, headers)
    assert caught.value.status == 401


def test_site_secrets_are_site_scoped(app, secrets):
    with app.app_context():
        shop = sites.add("shop")
        db.session.commit()
    with pytest.raises(ApiError):
        check(app, signed_headers(shop, BODY, at=NOW))  # default site, shop's secret
    with pytest.raises(ApiError):
        check(app, signed_headers(secrets["WEBHOOK_SECRET"], BODY, at=NOW, site="shop"))
    assert check(app, signed_headers(shop, BODY, at=NOW, site="shop"))


def test_shared_vector_with_the_plugin(app):
    """The plugin's signer (PHP) checks the same vector: both sides agree byte for byte."""
    vector = json.loads(VECTOR.read_text())
    at = datetime.fromtimestamp(vector["timestamp"], UTC)
    expected = Webhook(vector["secret"]).sign(vector["msg_id"], at, vector["body"])
    assert expected == vector["signature"]
    headers = {
        "webhook-id": vector["msg_id"],
        "webhook-timestamp": str(vector["timestamp"]),
        "webhook-signature": vector["signature"],
    }
    with app.app_context():
        sites.add("vector", vector["secret"])
        db.session.commit()
    with app.test_request_context(), clock.frozen(at):
        signed = {**headers, "X-WP-Site": "vector"}
        assert verify(signed, vector["body"].encode(), "POST /v1/contact")
