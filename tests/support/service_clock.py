"""Move the clock of a running service, and of its CLI, from a test: libfaketime (Debian's
``faketime`` package) preloaded into its processes reads an offset from a file at every
call, so the whole service (the retention clock, sessions, CSRF tokens, signature
tolerance) believes the same moved time.

The service has no hook for this: in production nothing but the system's clock moves its
clock. Monotonic clocks stay real: gunicorn times its workers with them, and timed waits
on a faked monotonic clock never end with libfaketime 0.9.10. That version then breaks
``time.sleep`` (EINVAL), which ``faketime_site/sitecustomize.py`` mends in the service's
processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Where Debian's libfaketime package puts the library (one architecture per machine).
LIBFAKETIME = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
SITE = Path(__file__).resolve().parent / "faketime_site"


@dataclass
class ServiceClock:
    """The offset file of one service, and the time it makes the service see."""

    path: Path
    offset: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        assert LIBFAKETIME, "libfaketime is missing: apt-get install faketime (make test does)"
        self.move_to(self.offset)

    def env(self) -> dict[str, str]:
        """The variables that put the service's processes on this clock."""
        paths = [str(SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {
            "LD_PRELOAD": str(LIBFAKETIME[0]),
            "FAKETIME_TIMESTAMP_FILE": str(self.path),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": os.pathsep.join(paths),
        }

    def move_to(self, offset: timedelta) -> None:
        """From now on, the service's time is the real time plus ``offset``."""
        self.offset = offset
        seconds = int(offset.total_seconds())
        self.path.write_text(f"{'+' if seconds >= 0 else '-'}{abs(seconds)}\n")

    def now(self) -> datetime:
        """The service's time now."""
        return datetime.now(UTC) + self.offset
