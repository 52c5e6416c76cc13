"""Which writes are on disk before they are answered.

The plugin deletes what it sent (a contact message, an erasure's page, …) from its outbox
when the service answers ``2xx``, and a manager takes a done action for done: so every
write is **durable** (on disk before its answer or before the command returns) unless its
view is marked :func:`relaxed`. Only statistics batches (``POST /v1/stats/events``) are:
a power cut may lose the last few of them, which costs some page views, never a message.

- SQLite: durable transactions run with ``PRAGMA synchronous=FULL`` (the write-ahead log
  is synced at each commit; ``EXTRA`` when ``GARDIEN_SQLITE_SYNCHRONOUS`` says ``EXTRA``),
  relaxed ones with ``GARDIEN_SQLITE_SYNCHRONOUS`` (default ``NORMAL``: synced at
  checkpoints only, so a power cut or a crash of the system, not of the service, can undo
  the commits since the last checkpoint). ``OFF`` is refused: it could corrupt the one file
  every kind of write shares.
- PostgreSQL: every session starts with ``synchronous_commit`` set to
  ``GARDIEN_PG_SYNCHRONOUS_COMMIT`` (default ``on``, whatever the server's default), and a
  relaxed transaction sets ``SET LOCAL synchronous_commit = off``.

The kind of a transaction is chosen when it begins (SQLAlchemy's ``begin`` event), from
the view of the request being served (none: a command, durable). SQLite can change
``synchronous`` only between transactions, which is when ``begin`` runs (the driver sends
its ``BEGIN`` with the first write). A connection remembers its level, so a statement is
sent only when the kind changes from one transaction to the next.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .extensions import db

SQLITE_LEVELS = ("NORMAL", "FULL", "EXTRA")
PG_LEVELS = ("on", "remote_apply", "remote_write", "local", "off")
# Where a pooled SQLite connection remembers its current synchronous level.
LEVEL = "gardien_synchronous"
# The attribute of a view function that marks its writes as not durable.
RELAXED = "gardien_relaxed"


def relaxed(view: Callable) -> Callable:
    """Mark a view whose writes may be lost by a power cut or a crash of the system:
    they are answered without waiting for the disk. Only for what the sender may lose."""
    setattr(view, RELAXED, True)
    return view


def durable_now() -> bool:
    """Whether the transaction beginning now must be on disk before it is answered: yes,
    unless it serves a view marked :func:`relaxed`."""
    if not has_request_context() or request.endpoint is None:
        return True
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, RELAXED, False)


def sqlite_levels(setting: object) -> tuple[str, str]:
    """The (durable, relaxed) ``synchronous`` levels for ``GARDIEN_SQLITE_SYNCHRONOUS``,
    which names the relaxed one and is a floor for the durable one."""
    chosen = str(setting).strip().upper()
    if chosen not in SQLITE_LEVELS:
        raise ValueError(f"GARDIEN_SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_LEVELS)}")
    return ("EXTRA" if chosen == "EXTRA" else "FULL"), chosen


def pg_level(setting: object) -> str:
    """The ``synchronous_commit`` of durable transactions, ``GARDIEN_PG_SYNCHRONOUS_COMMIT``."""
    chosen = str(setting).strip().lower()
    if chosen not in PG_LEVELS:
        raise ValueError(f"GARDIEN_PG_SYNCHRONOUS_COMMIT must be one of {', '.join(PG_LEVELS)}")
    return chosen


def init_app(app: Flask) -> None:
    """Give every transaction of the app's engine the durability of its kind."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _sqlite(engine, *sqlite_levels(app.config["SQLITE_SYNCHRONOUS"]))
    elif engine.dialect.name == "postgresql":
        _postgresql(engine, pg_level(app.config["PG_SYNCHRONOUS_COMMIT"]))


def _sqlite(engine: Engine, durable: str, lax: str) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={durable}")
        record.info[LEVEL] = durable

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        wanted = durable if durable_now() else lax
        pooled = connection.connection
        if pooled.info.get(LEVEL) != wanted:
            driver = pooled.driver_connection
            assert driver is not None, "a connection that begins is checked out"
            # No transaction is open yet on the driver's side: the pragma is allowed.
            driver.execute(f"PRAGMA synchronous={wanted}")
            pooled.info[LEVEL] = wanted


def _postgresql(engine: Engine, durable: str) -> None:
    @event.listens_for(engine, "do_connect")
    def _connect(dialect, record, cargs, cparams) -> None:
        # Set by the server when the session starts: no round trip of its own, and not
        # the server's or the role's default, which may be off.
        option = f"-c synchronous_commit={durable}"
        cparams["options"] = f"{cparams.get('options', '')} {option}".strip()

    if durable == "off":
        return

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if not durable_now():
            driver = connection.connection.driver_connection
            assert driver is not None, "a connection that begins is checked out"
            # Opens the transaction on the driver's side; the setting ends with it.
            driver.execute("SET LOCAL synchronous_commit = off")
