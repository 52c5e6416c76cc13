"""``flask --app webhook_app db copy TARGET_URL``: the configured database, copied whole
into another, empty one (SQLite to PostgreSQL when an instance outgrows one file, or back).

The target is migrated to the same revision first; then every table is copied in foreign-key
order, in chunks, inside one transaction on the target (a failed copy leaves it empty) and
one read transaction on the source (a consistent snapshot, even while the service writes).
Rows are copied as stored: personal fields stay encrypted under the same keys, so the target
needs the same ``GARDIEN_DATA_KEYS`` and index keys. PostgreSQL sequences are moved past the
copied ids, and each table's count is checked on both sides before the commit.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from flask_migrate.cli import db as migrate_group
from sqlalchemy import Connection, Integer, Table, func, inspect, select, text
from sqlalchemy.engine import make_url

from .extensions import db

ALEMBIC_TABLE = "alembic_version"
CHUNK = 1000
# What migrating and starting a new database writes by itself (the site ``default``, the
# fingerprints of the keys in use, the service's own keys): the source's rows replace them.
SEEDED = ("sites", "keyring", "service_keys")


class CopyError(click.ClickException):
    """The copy cannot start (or did not match); the target is left as it was."""


def init_app(app) -> None:
    """Add ``copy`` to Flask-Migrate's ``db`` group (once: the group is shared)."""
    del app
    migrate_group.add_command(copy_command)


@click.command("copy")
@click.argument("target_url")
@click.option("--chunk", default=CHUNK, show_default=True, help="Rows per insert batch.")
@with_appcontext
def copy_command(target_url: str, chunk: int) -> None:
    """Copy the configured database into TARGET_URL (an empty database; it is migrated)."""
    from . import create_app  # the target gets an app of its own: same settings, its URL

    if make_url(target_url) == make_url(current_app.config["DATABASE_URL"]):
        raise CopyError("the target is the configured database itself")
    _check_source_is_current()
    target_app = create_app({"DATABASE_URL": target_url})
    with target_app.app_context():
        upgrade()
        target_engine = db.engine
    counts = copy_tables(db.engine, target_engine, chunk)
    target_engine.dispose()
    width = max(len(name) for name in counts)
    lines = [f"copied into {make_url(target_url).render_as_string(hide_password=True)}:"]
    lines += [f"  {name:<{width}} {count}" for name, count in counts.items()]
    click.echo("\n".join(lines))


def _check_source_is_current() -> None:
    head = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    if revision != head.get_current_head():
        raise CopyError("the configured database is not at the latest revision: "
                        "run `flask --app webhook_app db upgrade` first")


def tables() -> list[Table]:
    """The application's tables, parents before children."""
    return list(db.metadata.sorted_tables)


def copy_tables(source_engine, target_engine, chunk: int = CHUNK) -> dict[str, int]:
    """Copy every table; return the number of rows of each. Raises :class:`CopyError`
    (nothing written) when the target holds more than a new database does, or the source
    has tables this version does not know."""
    known = {table.name for table in tables()}
    unknown = set(inspect(source_engine).get_table_names()) - known - {ALEMBIC_TABLE}
    if unknown:
        raise CopyError(f"the source has tables this version does not know: {sorted(unknown)}")
    counts: dict[str, int] = {}
    with source_engine.connect() as source, source.begin(), target_engine.begin() as target:
        for table in tables():
            if table.name not in SEEDED and target.scalar(select(func.count()).select_from(table)):
                raise CopyError(f"the target is not empty (table {table.name})")
        if (target.scalar(select(func.count()).select_from(db.metadata.tables["sites"])) or 0) > 1:
            raise CopyError("the target is not empty (table sites)")
        for table in reversed(tables()):
            if table.name in SEEDED:
                target.execute(table.delete())
        for table in tables():
            for rows in _chunks(source, table, chunk):
                target.execute(table.insert(), rows)
            counts[table.name] = _same_count(source, target, table)
        if target.dialect.name == "postgresql":
            _move_sequences(target)
    return counts


def _chunks(source: Connection, table: Table, chunk: int) -> Iterator[list[dict]]:
    result = source.execution_options(yield_per=chunk).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    for partition in result.mappings().partitions(chunk):
        yield [dict(row) for row in partition]


def _same_count(source: Connection, target: Connection, table: Table) -> int:
    count = source.scalar(select(func.count()).select_from(table)) or 0
    copied = target.scalar(select(func.count()).select_from(table)) or 0
    if copied != count:
        raise CopyError(f"table {table.name}: {copied} rows copied of {count}")
    return count


def _move_sequences(target: Connection) -> None:
    """Each serial id's sequence past the largest copied id (inserts would collide)."""
    for table in tables():
        for column in table.primary_key.columns:
            if not (isinstance(column.type, Integer) and column.autoincrement in (True, "auto")):
                continue
            sequence = target.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            )
            if sequence:
                target.execute(
                    text(f"SELECT setval(:sequence, COALESCE((SELECT max({column.name}) "
                         f"FROM {table.name}), 0) + 1, false)"),
                    {"sequence": sequence},
                )
