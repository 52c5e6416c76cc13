"""Intake's own connection: one per thread, held from one request to the next.

A checkout from the pool and its check-in (a ``Connection``, the pool's record, its
events, the rollback that resets a returned connection) cost about 150 µs of CPU: more
than the two inserts of a contact submission, and 8 % of the whole request. So the views
that only insert (``signed(transaction=intake.transaction)``) begin their transaction on
a connection their thread keeps checked out: one per worker under the shipped sync workers
(``deploy/gunicorn.conf.py``), one of the pool's (a threaded server holds one per thread).
Everything else (the ORM session, commands, the dashboard) uses the pool as before.

- Its transactions are like any other: SQLAlchemy's ``begin`` event still gives each the
  durability of its view (:mod:`durability`). It is checked out the first time a request
  needs it, so it waits for locks as a request waits (:mod:`timeouts`).
- A connection that failed for any reason other than a broken constraint (a replay's
  message id) is invalidated and let go: after a database restart, a lock not granted,
  a full disk, the next request checks out a fresh one, which ``pool_pre_ping`` tests on
  PostgreSQL. A connection in an unknown state is never reused. A held connection is not
  pinged before each use, so after a restart of PostgreSQL each worker answers its first
  contact message with a ``503``, which the plugin's outbox sends again.
- ``Engine.dispose`` closes every held connection, so none outlives its engine (tests
  make an app, and an engine, per database).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from .extensions import db

EXTENSION = "gardien_intake"


class HeldConnections:
    """The connection each thread holds on one engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.local = threading.local()
        self.lock = threading.Lock()
        self.held: set[Connection] = set()

    def connection(self) -> Connection:
        """This thread's connection, checked out from the pool the first time."""
        connection = getattr(self.local, "connection", None)
        if connection is None or connection.closed:
            connection = self.engine.connect()
            with self.lock:
                self.held.add(connection)
            self.local.connection = connection
        return connection

    def let_go(self, connection: Connection) -> None:
        """Invalidate ``connection``: its DBAPI connection is closed, never reused."""
        self.local.connection = None
        with self.lock:
            self.held.discard(connection)
        if not connection.closed:
            connection.invalidate()
            connection.close()

    def close_all(self) -> None:
        """Give every held connection back to its pool (which is being disposed of)."""
        with self.lock:
            held, self.held = self.held, set()
        for connection in held:
            connection.close()


def init_app(app: Flask) -> None:
    """Hold intake connections for ``app``'s engine, closed when the engine is disposed."""
    with app.app_context():
        engine = db.engine
    held = app.extensions[EXTENSION] = HeldConnections(engine)

    @event.listens_for(engine, "engine_disposed")
    def _disposed(engine: Engine) -> None:
        held.close_all()


@contextmanager
def transaction() -> Iterator[Connection]:
    """A transaction on this thread's held connection, committed on leaving the block."""
    held: HeldConnections = current_app.extensions[EXTENSION]
    connection = held.connection()
    try:
        with connection.begin():
            yield connection
    except DBAPIError as error:
        if not isinstance(error, IntegrityError):
            held.let_go(connection)
        raise
