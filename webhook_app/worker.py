"""The gunicorn worker (``deploy/gunicorn.conf.py``): gunicorn's own answers as JSON.

gunicorn answers some requests before the application sees them: a request line or
headers that are not HTTP/1.1 or exceed its limits, and a request whose worker is aborted
(past gunicorn's timeout). Its own answer is an HTML page that quotes the offending line
or header back, and its log line names the sender's address: both break the contract
(errors are JSON and echo nothing; no IP in a log). This worker answers them in the
contract's shape, with the sentences of :mod:`webhook_app.errors`, and logs only the
status and the kind of error.

Each worker also says, at ``error`` when it starts, when a request may wait for the
database (``GARDIEN_DB_TIMEOUT_SECONDS``) more than half of gunicorn's worker ``timeout``:
a request must give up and answer ``503`` well before gunicorn kills the worker serving it.
(It still starts: a request that outlives the timeout is answered ``503`` below, and the
tests use that.)
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import cast

from flask import Flask
from gunicorn import util
from gunicorn.http.errors import ParseException
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker

from .errors import CODES, RETRY_AFTER_UNAVAILABLE, SERVER_CODES, UNEXPECTED, error_body

log = logging.getLogger(__name__)

# gunicorn's refusals by class name (the set of classes differs between its versions);
# any other refusal is a 400.
REFUSALS = {"LimitRequestLine": 414, "LimitRequestHeaders": 431, "ExpectationFailed": 417}
# Errors gunicorn raises that are the service's fault, not the request's.
OWN_FAULTS = {"InvalidResponseHeader", "InvalidResponseHeaderName", "ConfigurationProblem"}


class SyncWorker(GunicornSyncWorker):
    """gunicorn's sync worker, answering its own errors in the contract's JSON shape."""

    def load_wsgi(self) -> None:
        """Load the app, then say so if its database wait is too close to the timeout."""
        super().load_wsgi()
        app = cast(Flask, self.wsgi)  # wsgi_app names create_app() (deploy/)
        if problem := timeout_problem(app.config["DB_TIMEOUT_SECONDS"], self.cfg.timeout):
            log.error(problem)

    def handle_error(self, req, client, addr, exc) -> None:
        """Answer ``exc`` (raised while reading or serving a request) without quoting it."""
        status, code, message = answer_for(exc)
        log.log(
            logging.INFO if status < 500 else logging.ERROR,
            "answered by the server",
            extra={"status": status, "error_class": type(exc).__name__},
        )
        retry_after = RETRY_AFTER_UNAVAILABLE if status == 503 else None
        try:
            util.write_nonblock(client, raw_response(status, code, message, retry_after))
        except OSError:
            pass  # the sender is gone: nobody to answer


def timeout_problem(db_wait: int, worker_timeout: int) -> str | None:
    """What is wrong when a request's database wait is over half of gunicorn's worker
    timeout (0: no timeout), or None."""
    if worker_timeout and db_wait * 2 > worker_timeout:
        return (
            f"GARDIEN_DB_TIMEOUT_SECONDS ({db_wait}) should be at most half of gunicorn's "
            f"worker timeout ({worker_timeout} s): a request waiting for the database may "
            "be killed before it answers 503"
        )
    return None


def answer_for(exc: BaseException) -> tuple[int, str, str]:
    """The status, code and sentence that answer ``exc``."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & OWN_FAULTS:
        return 500, *UNEXPECTED
    if isinstance(exc, ParseException):
        status = next((REFUSALS[name] for name in names if name in REFUSALS), 400)
        return status, *SERVER_CODES[status]
    if not isinstance(exc, Exception):
        # SystemExit when gunicorn aborts the worker past its timeout: the work was rolled
        # back with the connection, and the sender's retry (same webhook-id) is safe.
        return 503, *CODES[503]
    return 500, *UNEXPECTED


def raw_response(status: int, code: str, message: str, retry_after: int | None) -> bytes:
    """A whole HTTP/1.1 answer with the JSON error body; the connection is then closed."""
    body = json.dumps(error_body(code, message), separators=(",", ":")).encode() + b"\n"
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if retry_after is not None:
        lines.append(f"Retry-After: {retry_after}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body
