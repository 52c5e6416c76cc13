"""A private ``redis-server`` (Debian's) on a free port, saving nothing to disk."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .postgres import free_port

REDIS = shutil.which("redis-server")


@contextmanager
def running_redis() -> Iterator[str]:
    """Start a redis-server for the block; yield its ``redis://`` URL."""
    assert REDIS, "redis-server is missing: apt-get install redis-server (make test does)"
    port = free_port()
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while redis_cli(port, "ping") != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def redis_cli(port: int | str, *command: str) -> str:
    """``redis-cli``'s answer to ``command`` on the server at ``port``."""
    return subprocess.run(
        ["redis-cli", "-p", str(port), *command], capture_output=True, text=True
    ).stdout.strip()
