"""The service's own log lines (webhook_app/logs.py): one JSON object a line, the request
line naming route, status, site and message id, and nothing a sender wrote."""

from __future__ import annotations

import json
import logging
import sys

from support.capture import app_logging_here
from support.signing import body_bytes, signed_headers

from webhook_app import clock
from webhook_app.logs import JsonLines

SUBMISSION = {"name": "Jeanne Martin", "email": "jeanne.martin@example.fr",
              "message": "Mon numéro : 06 12 34 56 78", "ip": "203.0.113.9"}


def test_a_request_line_says_what_was_served_and_nothing_sent(capsys, database_url, secrets):
    app = app_logging_here(database_url, secrets)
    body = body_bytes(SUBMISSION)
    headers = signed_headers(secrets["WEBHOOK_SECRET"], body, msg_id="msg_logged",
                             at=clock.now())
    answer = app.test_client().post("/v1/contact", data=body, headers=headers)
    assert answer.status_code == 201
    err = capsys.readouterr().err
    # (Other lines may be there: Alembic's, when the run's template database was made.)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line["logger"] == "webhook_app.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert set(line) == {"time", "level", "logger", "message", "method", "route", "status",
                         "ms", "site", "webhook_id"}
    assert (line["level"], line["message"], line["method"], line["route"], line["status"],
            line["site"], line["webhook_id"]) == (
        "INFO", "request", "POST", "/v1/contact", 201, "default", "msg_logged")
    assert isinstance(line["ms"], float) and line["ms"] >= 0
    for value in SUBMISSION.values():
        assert value not in err


def _formatted(record: logging.LogRecord) -> dict:
    text = JsonLines().format(record)
    assert "\n" not in text, "one record, one line"
    return json.loads(text)


def test_an_exception_and_odd_extras_stay_on_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("webhook_app.x", logging.ERROR, __file__, 1, "failed %s", ("once",),
                               exc_info)
    record.when = __import__("datetime").date(2026, 12, 1)  # as extra={"when": …} would
    line = _formatted(record)
    assert line["message"] == "failed once"
    assert line["level"] == "ERROR" and line["logger"] == "webhook_app.x"
    assert line["when"] == "2026-12-01", "a value JSON cannot hold is written as text"
    assert "ValueError: boom" in line["exc_info"] and "Traceback" in line["exc_info"]
    assert not {"args", "msg", "exc_text", "pathname", "lineno"} & set(line)


def test_a_redacted_exception_text_is_what_is_written():
    """A filter such as serverlog.RedactAddresses leaves its rewritten text in exc_text:
    that is what is written, not the exception formatted afresh."""
    try:
        raise ValueError("from 203.0.113.9")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "x", (), exc_info)
    record.exc_text = "Traceback: ValueError: from [address]"
    assert _formatted(record)["exc_info"] == "Traceback: ValueError: from [address]"


def test_the_time_is_loggings_own_across_seconds():
    """The date and time are made once a second: each line still has its own."""
    formatter, standard = JsonLines(), logging.Formatter()
    for created in (1_764_600_000.0, 1_764_600_000.999, 1_764_600_001.25, 1_764_600_000.5):
        record = logging.makeLogRecord({"msg": "tick", "created": created,
                                        "msecs": (created - int(created)) * 1000})
        assert json.loads(formatter.format(record))["time"] == standard.formatTime(record)

