"""Per-site request rate limit (429 with ``Retry-After``), checked after the signature.

Counting happens after verification so that unsigned traffic cannot spend a site's
quota. The counters live in each worker's memory (the ``limits`` package).
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from .errors import ApiError

EXTENSION = "gardien.ratelimit"


def init_app(app) -> None:
    """Create this app's limiter from ``RATE_LIMIT`` (e.g. ``1200/minute``; empty: none)."""
    if not app.config["RATE_LIMIT"]:
        app.extensions[EXTENSION] = None
        return
    app.extensions[EXTENSION] = (
        FixedWindowRateLimiter(MemoryStorage()),
        parse(app.config["RATE_LIMIT"]),
    )


def check_rate(site_slug: str) -> None:
    """Count one request of ``site_slug``; raise 429 when over the limit."""
    if current_app.extensions[EXTENSION] is None:
        return
    limiter, limit = current_app.extensions[EXTENSION]
    if limiter.hit(limit, "site", site_slug):
        return
    reset_at, _ = limiter.get_window_stats(limit, "site", site_slug)
    # The limiter counts in wall-clock seconds, not in the retention clock.
    wait = max(1, math.ceil(reset_at - time.time()))
    raise ApiError(429, retry_after=wait)
