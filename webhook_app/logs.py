"""Structured JSON logs that never carry personal data.

A request line names the route rule (``/v1/contact``), never the raw path or query, the
site slug and the message id; never the client address, user agent, or body.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, g, request

log = logging.getLogger("webhook_app.request")


class JsonLines(logging.Formatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, then the
    fields the call passed in ``extra``, and the formatted exception (``exc_info``) if any.

    python-json-logger wrote the same lines until its general machinery (renamed and
    reserved fields, an encoder class made for each line) cost 50 to 70 µs of CPU of each
    contact submission in a gunicorn worker, 2 to 3 % of the request, for one line.
    An exception's text is the record's ``exc_text`` when a filter has set it (a redacted
    one), as the standard formatter does.
    """

    # What every record has: everything else on a record came from ``extra``.
    STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
    # One encoder for every line (``json.dumps`` with ``default`` makes one per call).
    ENCODER = json.JSONEncoder(default=str)

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """logging's default time ("2026-12-01 19:53:27,713"), its date and time made once
        a second: ``strftime`` cost about 10 µs of every request line."""
        second = int(record.created)
        made, text = self._second  # one tuple: read and replaced whole, thread-safe
        if made != second:
            text = time.strftime(self.default_time_format, self.converter(second))
            self._second = (second, text)
        return f"{text},{int(record.msecs):03d}"  # as default_msec_format, "%s,%03d"

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = vars(record)
        # The extras in name order: a set difference costs a fifth of filtering every field.
        line.update((key, fields[key]) for key in sorted(fields.keys() - self.STANDARD))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return self.ENCODER.encode(line)


def init_app(app: Flask) -> None:
    """Send the ``webhook_app`` loggers to stderr as JSON and log one line per request."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger("webhook_app")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if not log.isEnabledFor(logging.INFO):
            return response
        rule = request.url_rule
        signed = g.get("signed")
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": None if rule is None else rule.rule,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1e3, 2),
                # Only once the signature verified: before that the headers are anyone's text.
                "site": None if signed is None else signed.site.slug,
                "webhook_id": None if signed is None else signed.webhook_id,
            },
        )
        return response
