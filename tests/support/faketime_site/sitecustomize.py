"""Loaded by Python at start-up in a service on a moved clock (:mod:`support.service_clock`
puts this folder on its ``PYTHONPATH``): ``time.sleep`` as a ``select`` timeout.

libfaketime 0.9.10 (Debian 12) with real monotonic clocks makes ``clock_nanosleep`` fail
with EINVAL, which Python 3.11's ``time.sleep`` calls; a ``select`` timeout is relative
and unaffected.
"""

import select
import time


def _sleep(seconds: float) -> None:
    select.select([], [], [], seconds)


time.sleep = _sleep
