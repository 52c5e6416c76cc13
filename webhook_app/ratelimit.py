"""Rate limits, counted with the ``limits`` package: the per-site request limit of the
signed API (429 with ``Retry-After``) and the dashboard's sign-in limits.

Per site: counting happens after verification so that unsigned traffic cannot spend a
site's quota. The counters live where ``RATE_LIMIT_STORAGE_URI`` says: ``memory://``,
each worker process counts for itself; ``redis://``, one count across every worker and
app server. When that storage cannot be reached the request is let through (and a
warning logged): the limit protects the service, it must not stop it.

Sign-in (:func:`count_attempt`): per account and per client, in
``LOGIN_LIMIT_STORAGE_URI``: ``gardien-clock://`` (the default, :class:`ClockStorage`:
this worker's memory, timed by the service clock so tests move time instead of waiting)
or the same ``redis://`` for one count across workers and app servers. Keys are keyed
hashes (the blind-index key) of the account's address or the client's, so neither is
held in clear even in memory. When the storage cannot be reached, attempts are counted
in this worker's memory instead: a limit that guards passwords does not fall open.

Only the sign-in views count attempts: no other request pays for a limit check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from . import clock
from .crypto import keys
from .errors import ApiError

EXTENSION = "gardien.ratelimit"
SIGN_IN = "gardien.sign_in"
log = logging.getLogger(__name__)


def init_app(app) -> None:
    """Create this app's limiters: per site from ``RATE_LIMIT`` (e.g. ``1200/minute``;
    empty: none), and the sign-in one in ``LOGIN_LIMIT_STORAGE_URI``."""
    app.extensions[SIGN_IN] = SignInLimiter(app.config["LOGIN_LIMIT_STORAGE_URI"])
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
        # The limiter counts in wall-clock seconds, not in the retention clock.
        wait = _hit(limiter, limit, ("site", site_slug), time.time())
    except StorageError as error:
        log.warning("rate-limit storage unreachable; request not counted",
                    extra={"error_class": type(error.storage_error).__name__})
        return
    if wait is not None:
        raise ApiError(429, retry_after=wait)


def _hit(limiter: FixedWindowRateLimiter, limit, identifiers: tuple[str, ...],
         now: float) -> int | None:
    """Count one hit; None while within ``limit``, else the seconds until its window ends
    (``now`` in the storage's time)."""
    if limiter.hit(limit, *identifiers):
        return None
    reset_at, _ = limiter.get_window_stats(limit, *identifiers)
    return max(1, math.ceil(reset_at - now))


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt as one limit counts it: by ``kind`` ("account", "client") of
    ``who`` (an address), at most ``limit`` (e.g. ``5 per 15 minutes``)."""

    kind: str
    who: str
    limit: str


class TooManyAttempts(Exception):
    """A sign-in limit is spent; ``retry_after`` seconds until the first one frees up."""

    def __init__(self, retry_after: int):
        super().__init__("too many sign-in attempts")
        self.retry_after = retry_after


def count_attempt(*attempts: Attempt) -> None:
    """Count one sign-in attempt against each of its limits (all of them, even once one is
    over); raise :class:`TooManyAttempts` if any is over."""
    current_app.extensions[SIGN_IN].count(attempts)


class SignInLimiter:
    """Fixed windows in ``uri``'s storage, and this worker's clock-timed memory when that
    storage cannot be reached."""

    def __init__(self, uri: str):
        self.limiter = FixedWindowRateLimiter(storage_from_string(uri, wrap_exceptions=True))
        self.fallback = self.limiter
        if not uri.startswith(f"{ClockStorage.STORAGE_SCHEME[0]}://"):
            self.fallback = FixedWindowRateLimiter(ClockStorage())

    def count(self, attempts: tuple[Attempt, ...]) -> None:
        try:
            waits = self._count(self.limiter, attempts)
        except StorageError as error:
            log.warning("sign-in limit storage unreachable; counted in this worker",
                        extra={"error_class": type(error.storage_error).__name__})
            waits = self._count(self.fallback, attempts)
        if waits:
            raise TooManyAttempts(max(waits))

    def _count(self, limiter: FixedWindowRateLimiter, attempts) -> list[int]:
        # A window ends in the time of its storage: the service clock's, or the wall's.
        storage = limiter.storage
        now = storage.now() if isinstance(storage, ClockStorage) else time.time()
        waits = (_hit(limiter, parse(attempt.limit), ("sign-in", _blind(attempt)), now)
                 for attempt in attempts)
        return [wait for wait in waits if wait is not None]


def _blind(attempt: Attempt) -> str:
    """The counter's key: a keyed hash of kind and address, never the address."""
    content = f"{attempt.kind}\n{attempt.who}".encode()
    return hmac.new(keys().index_key, content, hashlib.sha256).hexdigest()


class ClockStorage(Storage):
    """``limits``' fixed-window counters in this worker's memory, timed by the service
    clock (:mod:`webhook_app.clock`), so a test moves time instead of waiting.

    For the dashboard's sign-in limits (``gardien-clock://``): their keys are keyed
    hashes, kept in memory only and dropped once their window ends.
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
    def now() -> float:
        return clock.now().timestamp()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self.now()
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
        return count if ends > self.now() else 0

    def get_expiry(self, key: str) -> float:
        _, ends = self._windows.get(key, (0, 0.0))
        return max(ends, self.now())

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
