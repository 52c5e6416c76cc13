"""Per-site request rate limit (429 with ``Retry-After``), checked after the signature;
and the clock-timed counters of the dashboard's sign-in limits (:class:`ClockStorage`).

Counting happens after verification so that unsigned traffic cannot spend a site's
quota. The counters live where ``RATE_LIMIT_STORAGE_URI`` says (the ``limits`` package):
``memory://``, each worker process counts for itself; ``redis://``, one count across every
worker and app server. When that storage cannot be reached the request is let through
(and a warning logged): the limit protects the service, it must not stop it.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from flask import current_app
from limits import parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from . import clock
from .errors import ApiError

EXTENSION = "gardien.ratelimit"
log = logging.getLogger(__name__)


def init_app(app) -> None:
    """Create this app's limiter from ``RATE_LIMIT`` (e.g. ``1200/minute``; empty: none)."""
    if not app.config["RATE_LIMIT"]:
        app.extensions[EXTENSION] = None
        return
    storage = storage_from_string(app.config["RATE_LIMIT_STORAGE_URI"], wrap_exceptions=True)
    app.extensions[EXTENSION] = (FixedWindowRateLimiter(storage), parse(app.config["RATE_LIMIT"]))


def check_rate(site_slug: str) -> None:
    """Count one request of ``site_slug``; raise 429 when over the limit."""
    if current_app.extensions[EXTENSION] is None:
        return
    limiter, limit = current_app.extensions[EXTENSION]
    try:
        if limiter.hit(limit, "site", site_slug):
            return
        reset_at, _ = limiter.get_window_stats(limit, "site", site_slug)
    except StorageError as error:
        log.warning("rate-limit storage unreachable; request not counted",
                    extra={"error_class": type(error.storage_error).__name__})
        return
    # The limiter counts in wall-clock seconds, not in the retention clock.
    wait = max(1, math.ceil(reset_at - time.time()))
    raise ApiError(429, retry_after=wait)


class ClockStorage(Storage):
    """``limits``' fixed-window counters in this worker's memory, timed by the service
    clock (:mod:`webhook_app.clock`), so a test moves time instead of waiting.

    For the dashboard's sign-in limits (``gardien-clock://``): their keys are a blind
    index or a client address, kept in memory only and dropped once their window ends.
    """

    STORAGE_SCHEME = ["gardien-clock"]
    # Past this many keys, ended windows are dropped before a new one is made.
    PRUNE_AT = 10_000

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._windows: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    @staticmethod
    def _now() -> float:
        return clock.now().timestamp()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._now()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                if len(self._windows) >= self.PRUNE_AT:
                    self._prune(now)
                count, ends = 0, now + expiry
            self._windows[key] = (count + amount, ends)
            return count + amount

    def get(self, key: str) -> int:
        count, ends = self._windows.get(key, (0, 0.0))
        return count if ends > self._now() else 0

    def get_expiry(self, key: str) -> float:
        _, ends = self._windows.get(key, (0, 0.0))
        return max(ends, self._now())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            dropped = len(self._windows)
            self._windows.clear()
        return dropped

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [key for key, (_, ends) in self._windows.items() if ends <= now]:
            del self._windows[key]
