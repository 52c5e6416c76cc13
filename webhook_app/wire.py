"""What every signed ``/v1`` view shares, in the order the contract fixes: size and media
type, signature, rate limit, idempotency, JSON, then the view (which validates).

Both blueprints (:mod:`webhook_app.api`, :mod:`webhook_app.stats.api`) wrap their views
with :func:`signed`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from flask import g, request
from werkzeug.exceptions import RequestEntityTooLarge

from . import policy, signing
from .errors import ApiError
from .models import orm_transaction
from .ratelimit import check_rate

KIB = 1024


def read_body(limit: int) -> bytes:
    """The raw body, after the checks the contract allows before the signature (413, 415).

    A GET has an empty body (it signs the empty string): anything more is too large.
    """
    if request.method != "POST":
        limit = 0
    elif request.mimetype != "application/json":
        raise ApiError(415)
    # One byte of slack: a chunked body longer than the limit is cut at limit + 1 by the
    # stream, and that extra byte is how it is told apart from one exactly at the limit.
    request.max_content_length = limit + 1
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413) from None
    except Exception:
        # The server could not read the body as framed (a broken chunk size, the sender
        # gone): whatever the server's own exception, the body is not the JSON it claims.
        raise ApiError(400) from None
    if len(body) > limit:
        raise ApiError(413)
    return body


def parse_json(body: bytes) -> object:
    """Decode strict UTF-8 JSON or raise 400.

    Strict means: no NaN or Infinity, no integer too long to convert, and no lone
    surrogate escapes (text that is not Unicode cannot be stored or compared).
    """
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
        # Strict UTF-8 holds no surrogates: only a \u escape can have made one.
        if b"\\u" in body:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        # JSONDecodeError and the int-conversion limit are ValueErrors.
        raise ApiError(400) from None
    return value


def _no_constants(name: str) -> None:
    raise ValueError("NaN and Infinity are not JSON")


def signed(
    limit: int, keep_answer: bool = True, transaction: Callable = orm_transaction
) -> Callable:
    """Wrap a view taking ``(signed_request, payload, connection)`` and returning
    ``(answer, status)``. A GET view gets no payload and no connection (both None).

    A POST view runs in ``transaction`` (the ORM session's, unless it only inserts) and
    gets its connection. ``keep_answer=False`` keeps only the idempotency key, not the
    answer (personal data).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**kwargs):
            body = read_body(limit)
            target = f"{request.method} {request.path}"
            request_signed = signing.verify(request.headers, body, target)
            g.signed = request_signed  # what the request's log line names
            check_rate(request_signed.site.slug)
            if request.method != "POST":
                return view(request_signed, None, None, **kwargs)
            payload = parse_json(body)
            return signing.once(
                request_signed,
                lambda connection: view(request_signed, payload, connection, **kwargs),
                policy.current()[policy.IDEMPOTENCY_KEY],
                keep_answer,
                transaction,
            )

        return wrapper

    return decorator
