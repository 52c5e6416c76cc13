"""Flask extensions, created unbound and attached in :func:`webhook_app.create_app`."""

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase

from .files import private_database

# Named constraints so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING)


log = logging.getLogger(__name__)
db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)

# Every model subclasses ``Model``: ``db.Model`` at run time. mypy cannot take a base class
# from an attribute (python/mypy#8603), so the type checker sees what Flask-SQLAlchemy builds
# ``db.Model`` from: its ``Model`` mixin and the body and bases of ``Base``. Every model names
# its ``__tablename__``, so its ``__table__`` is a ``Table`` (not any ``FromClause``).
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, Base):
        __abstract__ = True
        __table__: ClassVar[Table]

else:
    Model = db.Model


def upsert(model: type | Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``model``'s table in the dialect of the database, which has
    ``on_conflict_do_nothing`` and ``on_conflict_do_update`` (PostgreSQL and SQLite alike)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def rowcount(result: Result[Any]) -> int:
    """How many rows the UPDATE or DELETE that gave ``result`` matched.

    ``Session.execute`` is typed to return any ``Result``; for a DML statement without
    ``RETURNING`` it is the ``CursorResult`` that has the count.
    """
    assert isinstance(result, CursorResult), "an UPDATE or DELETE gives a cursor result"
    return result.rowcount


def init_sqlite(app: Flask) -> None:
    """On SQLite: a database file only the service can read, write-ahead log, enforced
    foreign keys, deleted content overwritten. (The busy timeout depends on the caller:
    :mod:`timeouts`; the durability of a commit on what it answers: :mod:`durability`.)"""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path, instance = Path(database), Path(app.instance_path)

        @event.listens_for(engine, "do_connect")
        def _private_file(dialect, connection_record, cargs, cparams) -> None:
            private_database(path, instance)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, connection_record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 32 MiB of page cache (default 2 MiB): bulk purges touch many index pages.
        cursor.execute("PRAGMA cache_size=-32768")
        # A deleted row is overwritten with zeros, not left in the file's free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def empty_sqlite_log() -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it.

    The log keeps earlier images of pages, rows deleted since the last checkpoint
    included; with ``secure_delete`` the database file does not. Run after the purge.
    """
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        # A reader held on past the busy timeout; the next purge empties the log.
        log.warning("the write-ahead log could not be emptied: a reader kept it busy")
