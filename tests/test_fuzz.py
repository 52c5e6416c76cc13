"""Fuzzing: generated requests for every operation of the committed OpenAPI document
(schemathesis, signed as the plugin signs), and properties of the two parsers that read
what strangers send: the signature headers and a page view's fields (hypothesis).

Every answer must be documented: no 5xx, a status the operation lists, a body that
matches its schema. Both storage backends.
"""

from __future__ import annotations

import base64
import json
import os
import string
from pathlib import Path

import hypothesis.strategies as st
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from support.signing import signed_headers

from webhook_app import clock, signing
from webhook_app.errors import ApiError
from webhook_app.stats.channels import CHANNELS
from webhook_app.stats.derive import Deriver, Visit

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = schemathesis.openapi.from_path(ROOT / "schemas" / "openapi.json")
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# What an answer must be. Not `positive_data_acceptance`: the contract refuses more than a
# JSON schema can say (a blank name, an e-mail address's syntax), and says so with a 422.
# Not `negative_data_rejection`: its broken headers are signed again here on purpose (the
# 401 for a bad signature has its own tests); broken bodies and queries stay broken.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Enough generated requests per operation to find a crash, few enough for `make test`;
# `make soak` asks for more (GARDIEN_FUZZ_EXAMPLES).
EXAMPLES = int(os.environ.get("GARDIEN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def signed_call(app: Flask, secret: str, case) -> object:
    """Send ``case`` to the app as the plugin would: its body serialised once, and those
    exact bytes signed (an unsigned request would only ever meet the 401)."""
    kwargs = case.as_transport_kwargs(base_url="http://localhost")
    if "json" in kwargs:
        body = json.dumps(kwargs.pop("json"), ensure_ascii=False).encode()
    else:
        data = kwargs.pop("data", b"") or b""
        body = data.encode() if isinstance(data, str) else data
    headers = {
        key: value
        for key, value in (kwargs.pop("headers", None) or {}).items()
        if key.lower() not in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    content_type = headers.pop("Content-Type", None) or headers.pop("content-type", None)
    headers.update(signed_headers(
        secret, body, at=clock.now(), content_type=content_type or "application/json",
    ))
    if not body:
        headers.pop("Content-Type")
    return app.test_client().open(
        kwargs["url"].removeprefix("http://localhost"),
        method=kwargs["method"],
        query_string=kwargs.get("params"),
        data=body,
        headers=headers,
    )


@SCHEMA.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(app, secrets, case):
    response = signed_call(app, secrets["WEBHOOK_SECRET"], case)
    assert response.status_code < 500, response.get_data(as_text=True)
    case.validate_response(response, checks=CHECKS)


def test_the_fuzzing_covers_every_published_operation():
    published = json.loads((ROOT / "schemas" / "openapi.json").read_text())["paths"]
    operations = {
        f"{method.upper()} {path}" for path, methods in published.items() for method in methods
    }
    fuzzed = {
        f"{result.ok().method.upper()} {result.ok().path}"
        for result in SCHEMA.get_all_operations()
    }
    assert fuzzed == operations and len(operations) >= 8


# --- The signature headers ---------------------------------------------------------------

header_text = st.text(alphabet=st.characters(codec="latin-1"), max_size=300)


@pytest.fixture
def verifying_app(app, secrets):
    """The app in a request context (verification reads the config and the sites)."""
    with app.test_request_context():
        yield app


@given(header=header_text)
@settings(max_examples=300, deadline=None, database=None)
def test_any_signature_header_parses_to_v1_signatures_only(header):
    found = signing._offered_signatures(header)
    parts = header.split(" ")
    assert len(found) <= len(parts)
    for signature in found:
        assert any(
            part.startswith("v1,") and base64.b64decode(part[3:]) == signature for part in parts
        )


@given(
    msg_id=header_text, stamp=header_text, signature=header_text, site=header_text,
    body=st.binary(max_size=200),
)
@FUZZ
def test_any_headers_are_a_401_or_a_verified_request_never_a_crash(
    verifying_app, msg_id, stamp, signature, site, body
):
    headers = {
        "webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature,
        "X-WP-Site": site,
    }
    with pytest.raises(ApiError) as refused:
        signing.verify(headers, body, "POST /v1/contact")
    assert refused.value.status == 401


@given(
    body=st.binary(max_size=300),
    junk=st.lists(header_text.filter(lambda part: " " not in part), max_size=4),
    flipped=st.integers(min_value=0),
)
@FUZZ
def test_a_signed_body_verifies_among_junk_and_fails_once_changed(
    verifying_app, secrets, body, junk, flipped
):
    headers = signed_headers(secrets["WEBHOOK_SECRET"], body, at=clock.now())
    headers["webhook-signature"] = " ".join([*junk, headers["webhook-signature"], *junk])
    assert signing.verify(headers, body, "POST /v1/contact").body == body
    if body:
        changed = bytearray(body)
        changed[flipped % len(body)] ^= 0x01
        with pytest.raises(ApiError):
            signing.verify(headers, bytes(changed), "POST /v1/contact")


# --- A page view's derivation ------------------------------------------------------------

DERIVER = Deriver()
addresses = st.one_of(st.ip_addresses().map(str), st.text(max_size=45))
url_text = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda host, path, query: f"https://{host}/{path}?{query}",
        st.sampled_from(["exemple.fr", "www.exemple.fr", "EXEMPLE.FR:443"]),
        st.text(alphabet=string.printable, max_size=60),
        st.text(max_size=80),
    ),
)


@given(
    url=url_text,
    ip=addresses,
    user_agent=st.one_of(st.none(), st.text(max_size=200)),
    referrer=st.one_of(st.none(), url_text),
    salt=st.binary(min_size=32, max_size=32),
)
@settings(max_examples=400, deadline=None, database=None)
def test_a_derived_page_view_never_holds_the_address_or_the_agent(
    url, ip, user_agent, referrer, salt
):
    try:
        visit = DERIVER.derive(url, ip, user_agent, referrer, "exemple.fr", salt, "default")
    except ValueError:
        return  # an unparseable page URL: the caller answers it as rejected
    if visit is None:
        return  # a crawler
    assert isinstance(visit, Visit)
    assert visit.channel in CHANNELS
    assert visit.country is None or (len(visit.country) == 2 and visit.country.isupper())
    assert len(visit.visitor_hash) == 64 and set(visit.visitor_hash) <= set(string.hexdigits)
    stored = " ".join(str(value) for value in (
        visit.path, visit.search_terms, visit.referrer_host, visit.country,
    ))
    for secret_field in (ip, user_agent):
        if secret_field and len(secret_field) >= 7 and secret_field not in f"{url} {referrer}":
            assert secret_field not in stored

