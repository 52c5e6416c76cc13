"""The published wire contract: OpenAPI 3.1 built from :mod:`schemas`.

``python -m webhook_app.openapi`` rewrites ``schemas/``; a test fails when the committed
files differ from what this module builds.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import __version__, schemas
from .errors import CODES
from .stats import schemas as stats_schemas

OUTPUT = Path(__file__).resolve().parent.parent / "schemas"
SIGNED: list[dict[str, list[str]]] = [{"webhookSignature": []}]
LOCAL_REF = re.compile(r'"\$ref": "#/components/schemas/(\w+)"')

COMPONENTS = {
    "ContactSubmission": schemas.ContactSubmissionSchema,
    "ContactAccepted": schemas.ContactAcceptedSchema,
    "PrivacyRequest": schemas.PrivacyRequestSchema,
    "ExportPage": schemas.ExportPageSchema,
    "ErasePage": schemas.ErasePageSchema,
    "Policy": schemas.PolicySchema,
    "Status": schemas.StatusSchema,
    "EventBatch": stats_schemas.EventBatchSchema,
    "EventsAccepted": stats_schemas.EventsAcceptedSchema,
    "Summary": stats_schemas.SummarySchema,
    "Error": schemas.ErrorSchema,
    "Health": schemas.HealthSchema,
}

# (path, method, summary, request schema, success status, answer schema)
SIGNED_OPERATIONS = [
    ("/v1/contact", "post", "Store a contact-form submission (limit 64 KiB).",
     "ContactSubmission", 201, "ContactAccepted"),
    ("/v1/privacy/export", "post",
     "One page (100 items) of a WordPress personal-data export (limit 16 KiB).",
     "PrivacyRequest", 200, "ExportPage"),
    ("/v1/privacy/erase", "post",
     "Erase one page of what may be erased; explain what is kept (limit 16 KiB).",
     "PrivacyRequest", 200, "ErasePage"),
    ("/v1/stats/events", "post",
     "Page views (at most 500, limit 1 MiB): partial acceptance, IP and user agent forgotten.",
     "EventBatch", 202, "EventsAccepted"),
    ("/v1/stats/summary", "get", "Visits, visitors, pages, countries, channels, referrers and "
     "site searches between two dates (inclusive), from the daily rollups.",
     None, 200, "Summary"),
    ("/v1/policy", "get", "The retention policy as published (French, or ?lang=en).",
     None, 200, "Policy"),
    ("/v1/status", "get", "Counts and purge times for the plugin's admin page.",
     None, 200, "Status"),
]
QUERIES = {
    "/v1/policy": [{"in": "query", "name": "lang", "required": False,
                    "schema": {"type": "string", "enum": ["fr", "en"]}}],
    "/v1/stats/summary": [
        {"in": "query", "name": name, "required": True,
         "schema": {"type": "string", "format": "date"}, "description": text}
        for name, text in (("from", "First day (YYYY-MM-DD, inclusive)."),
                           ("to", "Last day (YYYY-MM-DD, inclusive)."))
    ],
}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _errors(*statuses: int) -> dict:
    return {
        str(status): {"description": f"`{CODES[status][0]}`", "content": _json("Error")}
        for status in statuses
    }


SIGNED_ERRORS = (400, 401, 409, 413, 415, 422, 429, 503)
GET_ERRORS = (401, 422, 429, 503)


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
    for path, method, summary, request, status, answer in SIGNED_OPERATIONS:
        operation = {
            "summary": summary,
            "security": SIGNED,
            "parameters": parameters + QUERIES.get(path, []),
            "responses": {
                str(status): {"description": "OK.", "content": _json(answer)},
                **_errors(*(SIGNED_ERRORS if method == "post" else GET_ERRORS)),
            },
        }
        if request:
            operation["requestBody"] = {"required": True, "content": _json(request)}
        spec.path(path=path, operations={method: operation})
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
        # Standalone files point at each other, not into the OpenAPI document.
        text = LOCAL_REF.sub(r'"$ref": "\1.json"', _dump({**standalone, **schema}))
        files[f"json/{name}.json"] = text
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
