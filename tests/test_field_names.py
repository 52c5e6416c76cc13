"""A 422 names only the fields a schema declares: a field name can be personal data.

Reproduced before: an unknown top-level field ``Jeanne_Martin_0612345678`` in a contact
submission came back as a key of ``fields``.
"""

from __future__ import annotations

import pytest

from webhook_app import clock

NAME = "Jeanne_Martin_0612345678"
VALID_CONTACT = {"name": "Ana", "email": "ana@example.fr", "message": "Bonjour"}
UNKNOWN = {"_schema": ["Unknown field."]}


def page_view(**extra) -> dict:
    return {"ts": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "url": "https://example.fr/",
            **extra}


def assert_unechoed(response) -> dict:
    """The 422 body, checked not to hold the personal field name in any form."""
    text = response.get_data(as_text=True)
    for part in (NAME, "Jeanne", "0612345678"):
        assert part not in text, text
    return response.get_json()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({**VALID_CONTACT, NAME: "x"}, UNKNOWN),
        ({**VALID_CONTACT, NAME: "x", "Autre_Nom_0698765432": 1}, UNKNOWN),
        ({**VALID_CONTACT, "name": "", NAME: "x"}, {"_schema", "name"}),
        ({**VALID_CONTACT, "fields": {NAME: 612345678}}, {"fields": ["Not a valid string."]}),
        ({**VALID_CONTACT, "fields": {NAME * 5: "x"}}, {"fields"}),
        ({**VALID_CONTACT, "fields": {f"{NAME}{n}": "v" for n in range(21)}}, {"fields"}),
    ],
    ids=["unknown", "two-unknown", "unknown-and-invalid", "bad-form-value",
         "form-name-too-long", "too-many-form-fields"],
)
def test_contact_422_names_declared_fields_only(send, payload, expected):
    response = send("/v1/contact", payload)
    assert response.status_code == 422
    fields = assert_unechoed(response)["fields"]
    if isinstance(expected, dict):
        assert fields == expected
    else:
        assert set(fields) == expected


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([page_view(**{NAME: "x"})], UNKNOWN),
        ([page_view(**{NAME: "x", "url": "ftp://example.fr/"})], {"_schema", "url"}),
        (["not an object"], {"_schema"}),
    ],
    ids=["unknown", "unknown-and-invalid", "not-an-object"],
)
def test_a_rejected_page_view_names_declared_fields_only(send, events, expected):
    response = send("/v1/stats/events", {"events": [page_view(), *events]})
    assert response.status_code == 202
    rejected = assert_unechoed(response)["rejected"]
    assert [r["index"] for r in rejected] == [1]
    if isinstance(expected, dict):
        assert rejected[0]["fields"] == expected
    else:
        assert set(rejected[0]["fields"]) == expected


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/v1/stats/events", {"events": [], NAME: 1}),
        ("/v1/privacy/export", {"email": "ana@example.fr", "page": 1, NAME: 1}),
        ("/v1/privacy/erase", {"email": "ana@example.fr", "page": 1, NAME: 1}),
    ],
)
def test_other_bodies_name_declared_fields_only(send, path, payload):
    response = send(path, payload)
    assert response.status_code == 422
    assert assert_unechoed(response)["fields"] == UNKNOWN


@pytest.mark.parametrize(
    "path", [f"/v1/stats/summary?from=2026-11-01&to=2026-11-02&{NAME}=1", f"/v1/policy?{NAME}=1"]
)
def test_query_strings_name_declared_fields_only(send, path):
    response = send(path, method="GET")
    assert response.status_code == 422
    assert assert_unechoed(response)["fields"] == UNKNOWN


def test_a_strict_schema_loading_many_keeps_indexes_and_folds_names():
    from marshmallow import ValidationError, fields

    from webhook_app.schemas import StrictSchema

    class Pair(StrictSchema):
        key = fields.String(required=True)

    with pytest.raises(ValidationError) as raised:
        Pair(many=True).load([{"key": "a"}, {"key": 1, NAME: 2}])
    assert raised.value.messages == {1: {"key": ["Not a valid string."], **UNKNOWN}}
