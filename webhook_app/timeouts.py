"""How long a database caller waits for a connection or a lock before it gives up.

A request waits ``DB_TIMEOUT_SECONDS`` (default 5): then the driver raises, and the API
answers the contract's ``503`` with ``Retry-After`` (:mod:`errors`), well before
gunicorn's worker timeout (30 s, ``deploy/gunicorn.conf.py``) would kill the worker.
A command (``flask purge``, the other commands, migrations) waits
``CLI_DB_TIMEOUT_SECONDS`` (default 60): nobody is waiting at the other end, and a purge
that gave up as soon as a request does would rarely finish on a busy site. A serving
process starting up (the key check of :mod:`keys`) waits as a request does: a database
that does not answer must not hold the service's start for a minute.

The wait is chosen each time a connection leaves the pool, by whether a command line is
running and no request is being served, so one process can do both (the tests do). A
connection keeps the wait it was given, so in a process that only serves requests (or
only runs a command) nothing is sent after the connection is made.

- SQLite: the busy timeout (how long a writer waits for another writer's lock).
- PostgreSQL: ``connect_timeout`` (an unreachable server) and ``lock_timeout`` (a lock
  held by another session). No ``statement_timeout``: a slow but legitimate query (a long
  statistics range) would become a 503 its sender retries for ever; it is bounded by
  gunicorn's timeout instead.
"""

from __future__ import annotations

import click
from flask import Flask, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

# Where a pooled connection remembers the wait it was given, in seconds.
WAIT = "gardien_wait_seconds"


def init_app(app: Flask) -> None:
    """Give every connection of the app's engine the wait of the caller that uses it."""
    with app.app_context():
        engine = db.engine
    request_wait = app.config["DB_TIMEOUT_SECONDS"]
    cli_wait = app.config["CLI_DB_TIMEOUT_SECONDS"]

    def wanted() -> int:
        in_command = click.get_current_context(silent=True) is not None
        return cli_wait if in_command and not has_request_context() else request_wait

    if engine.dialect.name == "sqlite":
        _sqlite(engine, wanted)
    elif engine.dialect.name == "postgresql":
        _postgresql(engine, wanted)


def _sqlite(engine: Engine, wanted) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(dialect, record, cargs, cparams) -> None:
        # The sqlite3 module's timeout is SQLite's busy timeout.
        record.info[WAIT] = cparams["timeout"] = wanted()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy) -> None:
        seconds = wanted()
        if record.info.get(WAIT) != seconds:
            dbapi_connection.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
            record.info[WAIT] = seconds


def _postgresql(engine: Engine, wanted) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(dialect, record, cargs, cparams) -> None:
        seconds = wanted()
        cparams["connect_timeout"] = seconds
        # Set by the server when the session starts: no round trip of its own.
        options = f"-c lock_timeout={int(seconds * 1000)}"
        cparams["options"] = f"{cparams.get('options', '')} {options}".strip()
        record.info[WAIT] = seconds

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy) -> None:
        seconds = wanted()
        if record.info.get(WAIT) != seconds:
            dbapi_connection.execute(f"SET lock_timeout = {int(seconds * 1000)}")
            # A SET is undone if its transaction rolls back, as the pool's return does.
            dbapi_connection.commit()
            record.info[WAIT] = seconds
