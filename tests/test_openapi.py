"""The committed schemas/ must be what the code builds (run `make openapi` to refresh)."""

from __future__ import annotations

from webhook_app import openapi, schemas


def test_committed_schemas_are_current():
    for name, text in openapi.rendered().items():
        committed = openapi.OUTPUT / name
        assert committed.exists(), f"schemas/{name} is missing: run `make openapi`"
        assert committed.read_text(encoding="utf-8") == text, (
            f"schemas/{name} is stale: run `make openapi`"
        )


def test_contract_limits_are_in_the_published_schema():
    submission = openapi.build()["components"]["schemas"]["ContactSubmission"]
    assert set(submission["required"]) == {"name", "email", "message"}
    assert submission["additionalProperties"] is False
    assert submission["properties"]["message"]["maxLength"] == 20_000
    assert submission["properties"]["name"]["maxLength"] == 200
    assert submission["properties"]["email"]["maxLength"] == 254
    assert schemas.MAX_EXTRA_FIELDS == 20
