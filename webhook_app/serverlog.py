"""gunicorn's own log lines without an address in them (``deploy/gunicorn.conf.py``).

gunicorn's logger writes what its master and workers say: at ``info`` and ``debug`` the
addresses it listens on, its configuration, and exceptions whose text can hold the bytes a
client sent; its access log starts with the client's address. The contract promises that
no log line names a sender (docs/CONTRACT.md, §2), so this logger class rewrites every
line of both logs, at every level, before it is written:

- an IPv4 or IPv6 address anywhere in the line (a peer, a listener, a forwarded header)
  becomes ``[address]``, and the number after it (``host:port``) goes with it;
- an exception passed as an argument is named by its class alone: gunicorn formats
  ``NoMoreData`` and parse errors with what the client sent;
- should an access log be turned on (``--access-logfile``), only its fields that cannot
  name or describe a sender are filled (time, method, protocol, status, size, duration,
  process); the address, path, query, referrer, user agent and headers are ``-``.

The service's own logs (:mod:`webhook_app.logs`) never hold an address to begin with.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from gunicorn.glogging import Logger

REDACTED = "[address]"
# gunicorn's access log fields (``access_log_format``) that cannot name or describe a
# sender: time, method, protocol, status, bytes sent, duration, worker process.
ACCESS_FIELDS = ("t", "m", "H", "s", "b", "B", "T", "D", "M", "L", "p")
# Candidates, each checked with ipaddress: an IPv6 address ending in a dotted quad, a
# dotted quad, hex groups with two colons or more (a time such as 14:21:41 is a candidate
# too, left alone by the check). An IPv6 literal may be bracketed, may carry a zone (%lo)
# and may be followed by :port, which goes with it.
_CANDIDATE = re.compile(
    r"\[?(?P<ip>(?:[0-9A-Fa-f]{0,4}:){2,6}(?:\d{1,3}\.){3}\d{1,3}"
    r"|(?:\d{1,3}\.){3}\d{1,3}"
    r"|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
    r"(?P<zone>%[\w.-]+)?\]?(?P<port>:\d{1,5}\b)?"
)


def redact(text: str) -> str:
    """``text`` with every IP address (and the port after it) replaced by ``[address]``."""

    def replace(match: re.Match) -> str:
        try:
            ipaddress.ip_address(match["ip"])
        except ValueError:
            return match[0]
        return REDACTED

    return _CANDIDATE.sub(replace, text)


class RedactAddresses(logging.Filter):
    """Rewrite a record's message, exception and stack text without addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Format the record here, redacted, so no handler formats the raw arguments."""
        if isinstance(record.args, tuple):
            record.args = tuple(_plain(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            # In place: gunicorn's access fields are a dict that answers "-" when missing.
            for key, value in record.args.items():
                record.args[key] = _plain(value)
        record.msg, record.args = redact(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _plain(arg: object) -> object:
    """An exception is named by its class: its text can quote the client's bytes."""
    return type(arg).__name__ if isinstance(arg, BaseException) else arg


class PrivateLogger(Logger):
    """gunicorn's logger, every line of its error and access logs without an address."""

    def setup(self, cfg) -> None:
        """Set gunicorn's handlers up (again on ``HUP``), then the filter on both logs."""
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactAddresses) for f in logger.filters):
                logger.addFilter(RedactAddresses())

    def atoms(self, resp, req, environ, request_time):
        """The access log's fields that name nobody; gunicorn writes ``-`` for the others."""
        atoms: dict = dict(super().atoms(resp, req, environ, request_time))
        return {name: atoms[name] for name in ACCESS_FIELDS}
