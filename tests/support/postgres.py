"""A private PostgreSQL cluster for the suite (Debian's package, never the system one)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
ROLE = "gardien"


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """initdb + pg_ctl on a temporary directory owned by ``postgres``; fsync off (tests only)
    unless ``durable``."""

    def __init__(self, durable: bool = False) -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL 15 is not installed ({BIN}/initdb missing): run `make test`, "
                "which installs Debian's postgresql package"
            )
        self.root = Path(tempfile.mkdtemp(prefix="gardien-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        # Tests run without syncs; a benchmark (bench/topology.py) syncs as a real server.
        self.durable = durable
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_postgres, *args], check=True, capture_output=True, text=True)

    def start(self) -> PrivatePostgres:
        """Create the cluster and start the server; return self."""
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", ROLE)
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server of the existing cluster (after :meth:`crash`)."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "start",
        )

    def crash(self) -> None:
        """Stop the server at once, as a crash would (``-m immediate``), keeping its files."""
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server (psycopg 3)."""
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=ROLE, dbname=database, autocommit=True
        ) as conn:
            conn.execute(statement)

    def dump(self, database: str) -> bytes:
        """``pg_dump`` of a database, as bytes (to search it for clear text)."""
        return subprocess.run(
            [str(BIN / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, database],
            check=True, capture_output=True,
        ).stdout

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
