"""Structured JSON logs that never carry personal data.

A request line names the route rule (``/v1/contact``), never the raw path or query, the
site slug and the message id; never the client address, user agent, or body.
"""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

log = logging.getLogger("webhook_app.request")


def init_app(app: Flask) -> None:
    """Send the ``webhook_app`` loggers to stderr as JSON and log one line per request."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger("webhook_app")
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        rule = request.url_rule.rule if request.url_rule else None
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1e3, 2),
                "site": g.get("site_slug"),
                # Only once the signature verified: before that the header is anyone's text.
                "webhook_id": request.headers.get("webhook-id") if g.get("site_slug") else None,
            },
        )
        return response
