"""The one source of "now" for the whole service.

Retention, signing tolerance and expiry dates all ask :func:`now`; tests and
``purge --now`` move it with :func:`frozen` instead of sleeping.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

_state = threading.local()


def now() -> datetime:
    """Return the current time as an aware UTC datetime (or the frozen time, if set)."""
    fixed = getattr(_state, "fixed", None)
    return fixed if fixed is not None else datetime.now(UTC)


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make :func:`now` return ``at`` inside the block (this thread only)."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = getattr(_state, "fixed", None)
    _state.fixed = at.astimezone(UTC)
    try:
        yield
    finally:
        _state.fixed = previous


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset) into an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return value.astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with a ``Z`` suffix, to the second."""
    # isoformat, not strftime: the same text for four-digit years, at a fraction of the cost.
    return as_utc(value).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def as_utc(value: datetime) -> datetime:
    """Attach UTC to a naive datetime read back from a database that drops the zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
