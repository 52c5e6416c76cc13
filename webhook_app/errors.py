"""The one JSON error shape of the API (CONTRACT §2), and the base of domain refusals.

Messages are fixed sentences: they never quote what was submitted, so no address, IP
or message text can leak through an error body.
"""

from __future__ import annotations

import logging
import traceback

from cryptography.fernet import InvalidToken
from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_UNAVAILABLE = 30

CODES = {
    400: ("malformed_json", "The body is not valid UTF-8 JSON."),
    401: ("unauthorized", "The signature, timestamp or site was rejected."),
    404: ("not_found", "There is nothing at this path."),
    405: ("method_not_allowed", "This method is not allowed on this path."),
    409: ("idempotency_conflict", "This webhook-id was already used with another body."),
    413: ("payload_too_large", "The body is larger than this endpoint accepts."),
    415: ("unsupported_media_type", "The body must be application/json."),
    422: ("validation_failed", "The content is invalid; see fields."),
    429: ("rate_limited", "Too many requests; retry later."),
    503: ("unavailable", "Storage is unavailable; retry later."),
}
# A bug (CONTRACT §2: a 5xx other than 503 is one).
UNEXPECTED = ("internal_error", "Unexpected error.")
# What the server answers before the application sees a request whose request line or
# headers are not HTTP/1.1 or exceed gunicorn's limits (webhook_app/worker.py; the
# edge cases of docs/CONTRACT.md).
SERVER_CODES = {
    400: ("malformed_request", "The request line or headers are not valid HTTP/1.1."),
    414: ("request_line_too_long", "The request line is longer than the server accepts."),
    417: ("expectation_failed", "The Expect header cannot be met."),
    431: ("headers_too_large", "The request headers are larger than the server accepts."),
}


class DomainError(ValueError):
    """An operation the domain refuses (no such record, a rule forbids it).

    The message is a fixed sentence naming no personal data: the CLI prints it, the
    dashboard shows it. Each domain module has its own subclass.
    """


class ApiError(Exception):
    """An answer of the error table, raised anywhere below a view."""

    def __init__(
        self,
        status: int,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(CODES[status][0])
        self.status = status
        self.fields = fields
        self.retry_after = retry_after
        self.message = message


def error_body(code: str, message: str) -> dict:
    """The JSON error shape (CONTRACT §2), without ``fields``."""
    return {"error": code, "message": message}


def error_response(
    status: int,
    fields: dict | None = None,
    retry_after: int | None = None,
    message: str | None = None,
) -> Response:
    """Build the JSON error answer for ``status``."""
    code, default_message = CODES[status]
    body = error_body(code, message or default_message)
    if fields is not None:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def init_app(app: Flask) -> None:
    """Answer every error, routing ones included, with the JSON shape."""
    # No endpoint serves OPTIONS (no browser calls this API): it is answered 405 with
    # Allow, like any other method a path does not serve, not Flask's empty 200.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return error_response(error.status, error.fields, error.retry_after, error.message)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> Response:
        status = error.code if error.code in CODES else 400
        response = error_response(status)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # Sorted: the routing table keeps them in a set, whose order changes per process.
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_storage_error(error: DBAPIError) -> Response:
        db.session.rollback()
        # The class name only: the driver's message may describe the statement.
        log.error("storage unavailable", extra={"error_class": type(error.orig).__name__})
        return error_response(503, retry_after=RETRY_AFTER_UNAVAILABLE)

    @app.errorhandler(InvalidToken)
    def handle_missing_key(error: InvalidToken) -> Response:
        # The start-up check (webhook_app.keys) should have refused to run without the
        # key; should a value still be unreadable, the sender retries once it is back.
        db.session.rollback()
        log.error("a stored value cannot be decrypted with GARDIEN_DATA_KEYS: "
                  "run `flask --app webhook_app keys status`")
        return error_response(503, retry_after=RETRY_AFTER_UNAVAILABLE)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        # A bug. Its message could quote data, so only the class and the frames are logged.
        db.session.rollback()
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("unexpected error", extra={"error_class": type(error).__name__, "at": frames})
        response = jsonify(error_body(*UNEXPECTED))
        response.status_code = 500
        return response
