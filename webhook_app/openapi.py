"""The published wire contract: OpenAPI 3.1 built from :mod:`schemas`.

``python -m webhook_app.openapi`` rewrites ``schemas/``; a test fails when the committed
files differ from what this module builds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import __version__, schemas
from .errors import CODES

OUTPUT = Path(__file__).resolve().parent.parent / "schemas"
SIGNED = [{"webhookSignature": []}]

COMPONENTS = {
    "ContactSubmission": schemas.ContactSubmissionSchema,
    "ContactAccepted": schemas.ContactAcceptedSchema,
    "Error": schemas.ErrorSchema,
    "Health": schemas.HealthSchema,
}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _errors(*statuses: int) -> dict:
    return {
        str(status): {"description": f"`{CODES[status][0]}`", "content": _json("Error")}
        for status in statuses
    }


SIGNED_ERRORS = (400, 401, 409, 413, 415, 422, 429, 503)


def build() -> dict:
    """The OpenAPI document as a dict."""
    spec = APISpec(
        title="Gardien webhook service",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "Wire contract between the Gardien WordPress plugin and service."},
    )
    for name, schema in COMPONENTS.items():
        spec.components.schema(name, schema=schema)
    headers = {
        "webhook-id": "Unique message id, the idempotency key (1-128 of A-Za-z0-9_-.).",
        "webhook-timestamp": "Unix seconds when this attempt was signed (±300 s).",
        "webhook-signature": "`v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`, space separated.",
        "X-WP-Site": "Site slug; absent means `default`.",
    }
    spec.components.security_scheme(
        "webhookSignature",
        {"type": "apiKey", "in": "header", "name": "webhook-signature",
         "description": "Standard Webhooks signature; see the headers of each operation."},
    )
    parameters = [
        {"in": "header", "name": name, "required": name != "X-WP-Site",
         "schema": {"type": "string"}, "description": text}
        for name, text in headers.items()
    ]
    spec.path(
        path="/v1/contact",
        operations={
            "post": {
                "summary": "Store a contact-form submission (limit 64 KiB).",
                "security": SIGNED,
                "parameters": parameters,
                "requestBody": {"required": True, "content": _json("ContactSubmission")},
                "responses": {
                    "201": {"description": "Stored.", "content": _json("ContactAccepted")},
                    **_errors(*SIGNED_ERRORS),
                },
            }
        },
    )
    spec.path(
        path="/healthz",
        operations={
            "get": {
                "summary": "Liveness: the database answers.",
                "responses": {
                    "200": {"description": "Healthy.", "content": _json("Health")},
                    **_errors(503),
                },
            }
        },
    )
    return spec.to_dict()


def rendered() -> dict[str, str]:
    """Every file of ``schemas/`` by relative name, as text."""
    document = build()
    files = {"openapi.json": _dump(document)}
    for name, schema in document["components"]["schemas"].items():
        standalone = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": name}
        files[f"json/{name}.json"] = _dump({**standalone, **schema})
    return files


def _dump(value: dict) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(output: Path = OUTPUT) -> None:
    """Rewrite ``schemas/`` from the code."""
    for name, text in rendered().items():
        target = output / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
