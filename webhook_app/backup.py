"""Encrypted backups, and restores that keep every erasure made since (docs/BACKUPS.md).

A backup is an `age <https://age-encryption.org>`_ file (the standard format: Debian's
``age -d -i KEYFILE`` opens it too) holding a tar of ``manifest.json`` (format, when,
migration revision, backend), the database (SQLite's online backup API, or ``pg_dump
--format=custom``) and ``tombstones.json``. Writing one needs only the public recipients
(``BACKUP_RECIPIENTS``); restoring needs the identity, kept off the server.

A restore puts the backup's database in place of the configured one, migrates it, brings
in the erasure tombstones of the current database (when it can still be read) and of
newer backups, applies them (:mod:`.tombstones`), then purges at the current clock: an
erasure or a purge made after the backup stays made.

Nothing is left in clear: every plaintext file lives in a private (0700) folder removed
at the end, and the backup is written 0600 under a temporary name, then renamed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyrage
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import make_url, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from . import __version__, audit, clock, policy, retention, tombstones
from .config import migrations_directory
from .errors import DomainError
from .extensions import db, empty_sqlite_log
from .files import FILE_MODE

FORMAT = 1
MANIFEST = "manifest.json"
TOMBSTONES = "tombstones.json"
DATABASE = {"sqlite": "gardien.db", "postgresql": "gardien.pgdump"}
RESTORE = "backup.restore"
BACKUP = "backup.create"


class BackupError(DomainError):
    """A backup or restore that cannot be done; the message names no personal data."""


@dataclass(frozen=True)
class Restored:
    """What a restore did, for its summary (counts only)."""

    taken_at: str
    revision: str
    tombstones: int
    reapplied: dict[str, int]
    purged: dict[str, int]


# ------------------------------------------------------------------------------ keys


def recipients(configured: str | Sequence[str]) -> list:
    """The age recipients of ``BACKUP_RECIPIENTS`` (``age1…`` public keys, separated by
    spaces, commas or new lines)."""
    keys = (
        configured
        if isinstance(configured, list | tuple)
        else re.split(r"[\s,]+", str(configured or ""))
    )
    found = []
    for key in (key.strip() for key in keys):
        if not key:
            continue
        try:
            found.append(pyrage.x25519.Recipient.from_str(key))
        except pyrage.RecipientError:
            raise BackupError(
                "GARDIEN_BACKUP_RECIPIENTS holds something that is not an age public key"
            ) from None
    if not found:
        raise BackupError(
            "no backup recipient: set GARDIEN_BACKUP_RECIPIENTS to the public key (age1…) "
            "of the identity that will restore, e.g. from `age-keygen -o backup-identity.txt`"
        )
    return found


def identities(keyfile: Path) -> list:
    """The age identities of an identity file (``AGE-SECRET-KEY-1…`` lines, ``age-keygen``'s
    format; comments and blank lines skipped)."""
    try:
        lines = keyfile.read_text().splitlines()
    except OSError as error:
        raise BackupError(f"cannot read the identity file: {error.strerror}") from None
    found = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                found.append(pyrage.x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise BackupError("the identity file holds no valid age identity") from None
    if not found:
        raise BackupError("the identity file holds no age identity")
    return found


def new_identity() -> tuple[str, str]:
    """A fresh identity file's text and its public recipient (``age-keygen``'s format)."""
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    made = clock.format_rfc3339(clock.now())
    return (f"# created: {made}\n# public key: {recipient}\n{identity}\n", recipient)


# ------------------------------------------------------------------------------ backup


def take(outfile: Path) -> dict:
    """Write an encrypted backup of the configured database to ``outfile``; return its
    manifest. Only ``BACKUP_RECIPIENTS`` is needed, not the identity."""
    to = recipients(current_app.config.get("BACKUP_RECIPIENTS") or "")
    outfile = outfile.absolute()
    if not outfile.parent.is_dir():
        raise BackupError(f"no folder {outfile.parent}")
    backend = db.engine.dialect.name
    # The clock before the copy starts: whatever the copy holds happened before it ends.
    manifest = {
        "format": FORMAT,
        "taken_at": clock.format_rfc3339(clock.now()),
        "backend": backend,
        "gardien": __version__,
    }
    with _private_folder(outfile.parent) as work:
        database = work / DATABASE[backend]
        if backend == "sqlite":
            _sqlite_copy(_sqlite_path(), database)
            manifest["revision"] = _sqlite_revision(database)
        else:
            _pg_dump(db.engine.url, database)
            manifest["revision"] = _current_revision()
        # Read after the copy: at least every tombstone the copy holds.
        _write_json(work / TOMBSTONES, [t.as_dict() for t in _current_tombstones()])
        _write_json(work / MANIFEST, manifest)
        bundle = work / "backup.tar"
        with tarfile.open(bundle, "w") as tar:
            for name in (MANIFEST, TOMBSTONES, database.name):
                tar.add(work / name, arcname=name)
        _encrypt(bundle, outfile, to)
    audit.record(
        BACKUP,
        actor=audit.cli_actor(),
        count=0,
        detail=f"revision={manifest['revision']} backend={backend}",
    )
    db.session.commit()
    return manifest


def _encrypt(source: Path, outfile: Path, to: list) -> None:
    """Encrypt ``source`` into ``outfile`` (0600): written and synced beside ``source``
    (in the private folder, on the same file system as ``outfile``), then renamed."""
    sealed = source.with_name("backup.age")
    fd = os.open(sealed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "wb") as out, source.open("rb") as plain:
        pyrage.encrypt_io(plain, out, to)
        out.flush()
        os.fsync(out.fileno())
    os.replace(sealed, outfile)
    _sync_folder(outfile.parent)


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("the configured SQLite database is not a file")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (writers may go on), as one
    self-contained file (no write-ahead log)."""
    try:
        origin = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"cannot open the database {source}: {error}") from None
    copy = sqlite3.connect(target)
    try:
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        origin.close()


def _sqlite_revision(path: Path) -> str:
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        connection.close()


def _current_revision() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options of libpq's tools, and the password in their environment (never
    on a command line, which any local user can read)."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is missing: apt-get install postgresql-client")
    return found


def _pg_dump(url: URL, target: Path) -> None:
    args, env = _pg_args(url)
    _run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
        env,
        "pg_dump",
    )


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # The tool's own words name objects and options, not rows.
        raise BackupError(f"{what} failed: {done.stderr.strip()[-500:]}")


# ------------------------------------------------------------------------------ restore


def restore(infile: Path, keyfile: Path, newer: Sequence[Path] = ()) -> Restored:
    """Replace the configured database with the backup ``infile`` and re-apply every
    erasure since (see the module's docstring). The service must be stopped meanwhile."""
    keys = identities(keyfile)
    backend = db.engine.dialect.name
    with _private_folder(None) as work:
        manifest = _open(infile, keys, work / "backup")
        if manifest["backend"] != backend:
            raise BackupError(
                f"this backup is of a {manifest['backend']} database and the configured one "
                f"is {backend}: restore it into a {manifest['backend']} database"
            )
        _check_revision(manifest["revision"])
        _check_age(manifest["taken_at"])
        found: dict[str, tombstones.Tombstone] = {}
        for other in newer:
            target = work / f"newer-{len(found)}-{other.name}"
            _open(other, keys, target)
            for tombstone in _read_tombstones(target / TOMBSTONES):
                found[tombstone.id] = tombstone
        for tombstone in _current_tombstones():
            found[tombstone.id] = tombstone
        database = work / "backup" / DATABASE[backend]
        db.session.remove()
        db.engine.dispose()
        if backend == "sqlite":
            _replace_sqlite(database, _sqlite_path())
        else:
            _replace_postgres(database, db.engine.url)
        db.engine.dispose()
    upgrade(directory=migrations_directory())
    now = clock.now()
    brought = tombstones.bring_in(found.values())
    reapplied = tombstones.apply(brought, now)
    db.session.commit()
    purged = retention.purge(now) or {}
    audit.record(
        RESTORE,
        actor=audit.cli_actor(),
        count=sum(reapplied.values()),
        detail=(
            f"taken_at={manifest['taken_at']} revision={manifest['revision']} "
            f"tombstones={len(brought)} "
            + " ".join(f"{kind}={count}" for kind, count in reapplied.items())
        ),
    )
    db.session.commit()
    empty_sqlite_log()
    return Restored(manifest["taken_at"], manifest["revision"], len(brought), reapplied, purged)


def _open(infile: Path, keys: list, target: Path) -> dict:
    """Decrypt and unpack a backup into the private folder ``target``; return its manifest."""
    target.mkdir(mode=0o700)
    bundle = target / "backup.tar"
    try:
        with infile.open("rb") as sealed, bundle.open("wb") as plain:
            pyrage.decrypt_io(sealed, plain, keys)
    except OSError as error:
        raise BackupError(f"cannot read {infile.name}: {error.strerror}") from None
    except pyrage.DecryptError:
        raise BackupError(
            f"{infile.name} cannot be decrypted with this identity (not a Gardien backup, "
            "or made for another key)"
        ) from None
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
        if MANIFEST not in names:
            raise BackupError(f"{infile.name} holds no manifest: not a Gardien backup")
        tar.extract(MANIFEST, target, filter="data")
        manifest = json.loads((target / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(
                f"{infile.name} is of backup format {manifest.get('format')}, "
                f"this version reads {FORMAT}"
            )
        for name in (TOMBSTONES, DATABASE[manifest["backend"]]):
            tar.extract(name, target, filter="data")
    bundle.unlink()
    return manifest


def _check_revision(revision: str) -> None:
    """Refuse a backup made by a newer version of the code (a revision it does not know)."""
    scripts = ScriptDirectory(migrations_directory())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"this backup is at migration {revision}, which this version of Gardien does not "
            f"know (its latest is {scripts.get_current_head()}): restore it with the newer "
            "version that made it"
        )


def _check_age(taken_at: str) -> None:
    """Refuse a backup older than the tombstones' period: the tombstones of the erasures
    made in its first days are purged already, so those erasures would come back."""
    period = policy.current()[policy.ERASURE_TOMBSTONE]
    if clock.parse_rfc3339(taken_at) < period.cutoff(clock.now()):
        raise BackupError(
            f"this backup was taken at {taken_at}, longer ago than the erasure tombstones "
            f"are kept ({period.period}, erasure_tombstone in the policy): erasures made "
            "since could come back. Restore a newer backup"
        )


def _read_tombstones(path: Path) -> list[tombstones.Tombstone]:
    return [tombstones.Tombstone(**entry) for entry in json.loads(path.read_text())]


def _current_tombstones() -> list[tombstones.Tombstone]:
    """The tombstones of the configured database, if it can still be read and has them
    (a database being replaced may be the damage being repaired; one not migrated to 0013
    has none)."""
    try:
        db.session.execute(select(text("1")).select_from(text("erasure_tombstones")).limit(1))
        found = tombstones.every()
    except SQLAlchemyError:
        found = []
    db.session.rollback()
    return found


def _replace_sqlite(copy: Path, path: Path) -> None:
    """Put ``copy`` in place of the database file ``path``: written beside it (0600),
    synced, the old write-ahead log removed, then renamed over it."""
    staged = path.with_name(f".{path.name}.restoring")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out, copy.open("rb") as source:
            shutil.copyfileobj(source, out)
            out.flush()
            os.fsync(out.fileno())
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        os.replace(staged, path)
        _sync_folder(path.parent)
    finally:
        staged.unlink(missing_ok=True)


def _replace_postgres(dump: Path, url: URL) -> None:
    """Replace the configured database's tables with the dump's, in one transaction.

    ``pg_restore`` writes the dump as SQL into ``psql --single-transaction``, after a
    ``DROP`` of every table of the schema (those a later migration made too: the restore's
    migration makes them again): if anything fails, nothing has changed.
    """
    with db.engine.connect() as connection:
        tables = list(
            connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
    db.engine.dispose()
    prelude = dump.with_name("drop.sql")
    drop = ", ".join('"' + name.replace('"', '""') + '"' for name in tables)
    prelude.write_text(f"DROP TABLE IF EXISTS {drop} CASCADE;\n" if tables else "")
    args, env = _pg_args(make_url(url))
    script = subprocess.Popen(
        [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", "-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert script.stdout is not None and script.stderr is not None
    try:
        loaded = subprocess.run(
            [_pg_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
             "--set", "ON_ERROR_STOP=1", "--file", str(prelude), "--file", "-", *args],
            stdin=script.stdout, capture_output=True, text=True, env=env,
        )  # fmt: skip
    finally:
        script.stdout.close()
        written = script.wait()
    if written != 0:
        raise BackupError(f"pg_restore failed: {script.stderr.read().decode()[-500:]}")
    if loaded.returncode != 0:
        raise BackupError(f"psql failed, nothing changed: {loaded.stderr.strip()[-500:]}")


@contextmanager
def _private_folder(beside: Path | None) -> Iterator[Path]:
    """A folder only this user can enter (0700), removed with all it holds on leaving."""
    folder = Path(tempfile.mkdtemp(prefix=".gardien-backup-", dir=beside))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (its entry is written with the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, value: object) -> None:
    with path.open("w") as handle:
        json.dump(value, handle)
