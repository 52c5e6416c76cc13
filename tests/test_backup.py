"""Backups are age-encrypted, and a restore keeps every erasure and purge made since.

On SQLite and PostgreSQL alike (the ``app`` fixture's backends): the commands run as an
operator would run them, through ``flask backup`` and ``flask restore``; erasures go
through the real privacy, message and site paths; the clock moves with ``clock.frozen``.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
import tarfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyrage
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text, update

from webhook_app import backup, clock, messages, policy, privacy, retention, sites
from webhook_app.config import migrations_directory
from webhook_app.extensions import db
from webhook_app.instance import BACKUP_IDENTITY, backup_identity
from webhook_app.models import AuditEntry, Client, ContactMessage, ErasureTombstone, Site
from webhook_app.stats.models import StatsDay, StatsEvent, StatsRollup
from webhook_app.stats.rollup import rollup

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
JEANNE = "jeanne.martin@example.fr"
PAUL = "paul.durand@example.fr"
# Stored in clear (a site's slug): what an unencrypted backup would show.
MARKER = "marqueur-en-clair-4711"


@pytest.fixture
def identity(tmp_path) -> Path:
    """An age identity file (0600), as ``age-keygen`` writes one."""
    text_, _ = backup.new_identity()
    path = tmp_path / "backup-identity.txt"
    path.write_text(text_)
    path.chmod(0o600)
    return path


@pytest.fixture
def backups(app, identity, tmp_path) -> Path:
    """The app writing backups to ``identity``'s recipient; the folder they go to."""
    app.config["BACKUP_RECIPIENTS"] = public_key(identity)
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    return folder


def public_key(identity: Path) -> str:
    line = next(line for line in identity.read_text().splitlines() if line.startswith("# public"))
    return line.split(": ", 1)[1]


def cli(app, *args: str, at: datetime, ok: bool = True) -> str:
    """Run a command as an operator would, with the service clock at ``at``."""
    with clock.frozen(at):
        result = app.test_cli_runner().invoke(args=list(args))
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def take(app, folder: Path, name: str, at: datetime) -> Path:
    path = folder / name
    cli(app, "backup", str(path), at=at)
    return path


def restore(app, infile: Path, identity: Path, at: datetime, *newer: Path) -> str:
    options = [option for path in newer for option in ("--tombstones-from", str(path))]
    return cli(app, "restore", str(infile), "--identity", str(identity), *options, at=at)


def wipe(app) -> None:
    """Lose the database: the file gone (SQLite), every table dropped (PostgreSQL)."""
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            path = Path(db.engine.url.database)
            for lost in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                lost.unlink(missing_ok=True)
        else:
            with db.engine.begin() as connection:
                tables = connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                ).all()
                connection.execute(
                    text("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
                )
        db.engine.dispose()


def head_revision() -> str:
    """The latest migration, as a database at head records it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    return ScriptDirectory.from_config(config).get_current_head()


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def mention(email: str, at: datetime) -> int:
    """A raw page view whose search terms hold ``email`` (as stored before redaction)."""
    event = StatsEvent(
        site_id=1,
        occurred_at=at,
        path="/recherche/",
        search_terms=email,
        country="FR",
        channel="direct",
        referrer_host=None,
        visitor_hash="0123456789abcdef",
    )
    db.session.add(event)
    db.session.commit()
    return event.id


def test_a_backup_comes_back_whole_after_the_database_is_lost(
    app, backups, identity, store_message
):
    with app.app_context():
        stored = [store_message(JEANNE, at=T0), store_message(PAUL, at=T0, message="Salut")]
    infile = take(app, backups, "gardien.age", T0 + DAY)
    wipe(app)

    said = restore(app, infile, identity, T0 + 2 * DAY)

    assert "restored the backup taken at 2026-03-03T09:00:00Z" in said
    with app.app_context():
        back = {m.id: m.personal for m in db.session.scalars(select(ContactMessage))}
        # Decrypted with the app's own keys.
        assert back[stored[0]]["email"] == JEANNE
        assert back[stored[1]]["message"] == "Salut"
        assert set(back) == set(stored)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == backup.RESTORE))
        assert entry is not None and JEANNE not in (entry.detail or "")
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()


def test_the_backup_file_is_age_encrypted_private_and_alone(app, backups, identity, tmp_path):
    with app.app_context():
        sites.add(MARKER)
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            db.session.remove()
            db.engine.dispose()
            assert MARKER.encode() in Path(db.engine.url.database).read_bytes()
    infile = take(app, backups, "gardien.age", T0)

    sealed = infile.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1\n")
    assert MARKER.encode() not in sealed
    assert stat.S_IMODE(infile.stat().st_mode) == 0o600
    assert sorted(os.listdir(backups)) == ["gardien.age"], "no clear copy left behind"
    keys = backup.identities(identity)
    with tarfile.open(fileobj=io.BytesIO(pyrage.decrypt(sealed, keys))) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names == {"manifest.json", "tombstones.json", backup.DATABASE[manifest["backend"]]}
    assert manifest["taken_at"] == "2026-03-02T09:00:00Z"
    assert manifest["revision"] == head_revision()
    stranger = pyrage.x25519.Identity.generate()
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(sealed, [stranger])


def test_a_backup_without_a_recipient_says_so(app, tmp_path):
    said = cli(app, "backup", str(tmp_path / "gardien.age"), at=T0, ok=False)
    assert "GARDIEN_BACKUP_RECIPIENTS" in said
    assert not (tmp_path / "gardien.age").exists()


def test_restore_drill_erased_people_and_expired_data_stay_gone(
    app, backups, identity, store_message
):
    """Backup; erase a person, erase one message, purge; restore: all of it holds."""
    with app.app_context():
        jeanne = [store_message(JEANNE, at=T0), store_message(JEANNE, at=T0 + DAY)]
        client = messages.attach_to_client(store_message(JEANNE, at=T0), "cli:test")
        client_id = client.id
        jeanne_search = mention(JEANNE, T0)
        paul_kept = store_message(PAUL, at=T0)
        paul_erased = store_message(PAUL, at=T0, message="Oubliez ce message")
        paul_search = mention(PAUL, T0)
        # Received 300 days before T0: its year ends 65 days after T0.
        expiring = store_message("ancien@example.fr", at=T0 - 300 * DAY)
        db.session.commit()
    infile = take(app, backups, "gardien.age", T0 + 2 * DAY)

    with app.app_context():
        with clock.frozen(T0 + 3 * DAY):
            privacy.run_erasure(1, JEANNE, "cli:test")
            messages.erase_one(paul_erased, "cli:test")
            db.session.commit()
        with clock.frozen(T0 + 70 * DAY):
            assert retention.purge(T0 + 70 * DAY)["contact"] == 1
        made = count(ErasureTombstone)
        assert made >= 5  # two messages, a client, a page view, one message (+ requests)

    said = restore(app, infile, identity, T0 + 70 * DAY)

    assert f"{made} erasure tombstone(s) brought in" in said
    with app.app_context():
        ids = set(db.session.scalars(select(ContactMessage.id)))
        assert ids == {paul_kept}, "Jeanne's, the erased one and the expired one stay gone"
        anonymised = db.session.get(Client, client_id)
        assert anonymised.anonymised_at is not None
        assert JEANNE not in str(anonymised.personal)
        assert db.session.get(StatsEvent, jeanne_search) is None
        assert db.session.get(StatsEvent, paul_search) is not None
        assert count(ErasureTombstone) == made, "the tombstones are in the restored database"
        for message_id in (*jeanne, paul_erased):
            assert count(ErasureTombstone, ErasureTombstone.record_id == message_id) == 1
        assert expiring not in ids


def test_a_newer_backup_brings_its_tombstones_to_an_older_one(
    app, backups, identity, store_message
):
    with app.app_context():
        jeanne = store_message(JEANNE, at=T0)
        paul = store_message(PAUL, at=T0)
    older = take(app, backups, "older.age", T0 + DAY)
    with app.app_context(), clock.frozen(T0 + 2 * DAY):
        privacy.run_erasure(1, JEANNE, "cli:test")
        db.session.commit()
    newer = take(app, backups, "newer.age", T0 + 3 * DAY)
    wipe(app)

    restore(app, older, identity, T0 + 4 * DAY)
    with app.app_context():
        assert db.session.get(ContactMessage, jeanne) is not None, "nothing told it"
    restore(app, older, identity, T0 + 4 * DAY, newer)

    with app.app_context():
        assert set(db.session.scalars(select(ContactMessage.id))) == {paul}


def test_tombstones_already_in_the_backup_are_not_applied_again(
    app, backups, identity, store_message
):
    """An integer id an erasure freed may be given again (SQLite reuses the highest rowid):
    the tombstone the backup already holds must not erase the new row of that id."""
    with app.app_context():
        erased = mention(JEANNE, T0)
        with clock.frozen(T0 + DAY):
            privacy.run_erasure(1, JEANNE, "cli:test")
            db.session.commit()
        reused = StatsEvent(
            id=erased, site_id=1, occurred_at=T0 + DAY, path="/services/", search_terms=None,
            country="FR", channel="direct", referrer_host=None, visitor_hash="fedcba9876543210",
        )  # fmt: skip
        db.session.add(reused)
        db.session.commit()
    infile = take(app, backups, "gardien.age", T0 + 2 * DAY)

    said = restore(app, infile, identity, T0 + 3 * DAY)

    assert "0 erasure tombstone(s) brought in" in said
    with app.app_context():
        assert db.session.get(StatsEvent, erased).path == "/services/"
        assert count(ErasureTombstone, ErasureTombstone.kind == "stats_event") == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_damaged_database_is_replaced_with_the_tombstones_of_a_newer_backup(
    app, backups, identity, store_message
):
    """The database file is no longer a database: its tombstones are out of reach, a newer
    backup's stand in."""
    with app.app_context():
        jeanne, paul = store_message(JEANNE, at=T0), store_message(PAUL, at=T0)
    older = take(app, backups, "older.age", T0 + DAY)
    with app.app_context(), clock.frozen(T0 + 2 * DAY):
        messages.erase_one(jeanne, "cli:test")
        db.session.commit()
    newer = take(app, backups, "newer.age", T0 + 3 * DAY)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        path = Path(db.engine.url.database)
    for part in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        part.unlink(missing_ok=True)
    path.write_bytes(b"not a database any more " * 4096)

    restore(app, older, identity, T0 + 4 * DAY, newer)

    with app.app_context():
        assert set(db.session.scalars(select(ContactMessage.id))) == {paul}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_backup_is_consistent_while_the_service_writes(
    app, backups, identity, store_message
):
    """SQLite's online backup API copies one state of the database whatever writes go on."""
    with app.app_context():
        path = db.engine.url.database
    stop = threading.Event()

    def write() -> None:
        connection = sqlite3.connect(path, timeout=30)
        while not stop.is_set():
            connection.execute(
                "INSERT INTO audit_log (at, actor, action, record_ids, count, expires_at) "
                "VALUES ('2026-03-02 09:00:00', 'test', 'test.write', '[]', 0, "
                "'2031-03-02 09:00:00')"
            )
            connection.commit()
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        infile = take(app, backups, "gardien.age", T0)
    finally:
        stop.set()
        writer.join()

    with tarfile.open(
        fileobj=io.BytesIO(pyrage.decrypt(infile.read_bytes(), backup.identities(identity)))
    ) as tar:
        copied = tar.extractfile("gardien.db").read()
    copy = Path(backups.parent / "copy.db")
    copy.write_bytes(copied)
    connection = sqlite3.connect(copy)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        connection.close()


def test_daily_totals_summed_again_after_the_backup_stay_erased(app, backups, identity):
    """Summing a day again gives its totals new ids: a restore has the erased days summed
    again from their raw page views, so the backup's older rows go too."""
    day = (T0 - 3 * DAY).date()

    def searched() -> set[int]:
        return set(db.session.scalars(select(StatsRollup.id).where(StatsRollup.value == JEANNE)))

    with app.app_context():
        event = mention(JEANNE, T0 - 3 * DAY)
        db.session.add(StatsDay(site_id=1, day=day, changes=0, visits=1, visitors=1))
        db.session.commit()
        rollup(T0 - 2 * DAY)
        backed_up = searched()
        assert backed_up
    infile = take(app, backups, "gardien.age", T0 - DAY)
    with app.app_context():
        # Totals of a later day (SQLite would give the freed ids again otherwise), then a
        # late page view: the day is summed again.
        db.session.add(
            StatsRollup(site_id=1, day=T0.date(), dimension="page", value="/", visits=1, visitors=1)
        )
        db.session.execute(update(StatsDay).values(changes=StatsDay.changes + 1))
        db.session.commit()
        rollup(T0)
        assert searched() and not searched() & backed_up
        with clock.frozen(T0):
            privacy.run_erasure(1, JEANNE, "cli:test")
            db.session.commit()
        assert not searched()

    restore(app, infile, identity, T0 + DAY)

    with app.app_context():
        assert db.session.get(StatsEvent, event) is None
        assert not searched(), "the backup's totals of that day went with its new sum"
        assert db.session.get(StatsDay, (1, day)) is not None


def test_a_removed_site_stays_removed(app, backups, identity, store_message):
    with app.app_context():
        sites.add("autre")
        other = db.session.scalar(select(Site.id).where(Site.slug == "autre"))
        db.session.commit()
        store_message(JEANNE, at=T0, site_id=other)
        kept = store_message(JEANNE, at=T0)
    infile = take(app, backups, "gardien.age", T0 + DAY)
    with app.app_context(), clock.frozen(T0 + 2 * DAY):
        sites.remove("autre", "cli:test")
        db.session.commit()

    restore(app, infile, identity, T0 + 3 * DAY)

    with app.app_context():
        assert db.session.get(Site, other) is None
        assert set(db.session.scalars(select(ContactMessage.id))) == {kept}


def test_tombstones_go_after_their_period(app, store_message):
    with app.app_context():
        message = store_message(PAUL, at=T0)
        with clock.frozen(T0):
            messages.erase_one(message, "cli:test")
            db.session.commit()
        end = T0 + 90 * DAY  # erasure_tombstone = P90D in policy.toml
        with clock.frozen(end - timedelta(seconds=1)):
            assert retention.purge(end - timedelta(seconds=1))["erasure_tombstone"] == 0
        assert count(ErasureTombstone) == 1
        with clock.frozen(end):
            assert retention.purge(end)["erasure_tombstone"] == 1
        assert count(ErasureTombstone) == 0


def test_a_wrong_identity_is_refused_and_the_database_left_alone(
    app, backups, tmp_path, identity, store_message
):
    infile = take(app, backups, "gardien.age", T0)
    with app.app_context():
        later = store_message(PAUL, at=T0 + DAY)
    stranger = tmp_path / "other-identity.txt"
    stranger.write_text(backup.new_identity()[0])

    said = cli(app, "restore", str(infile), "--identity", str(stranger), at=T0 + 2 * DAY, ok=False)

    assert "cannot be decrypted with this identity" in said
    with app.app_context():
        assert db.session.get(ContactMessage, later) is not None


def test_a_backup_of_an_older_schema_is_migrated_and_still_gets_the_tombstones(
    app, backups, identity, store_message
):
    """A backup made before migration 0013 has no tombstone table: the restore migrates
    it, then applies the tombstones of the current database."""
    with app.app_context():
        jeanne, paul = store_message(JEANNE, at=T0), store_message(PAUL, at=T0)
        db.session.remove()
        downgrade(directory=migrations_directory(), revision="0012")
    older = take(app, backups, "older.age", T0 + DAY)
    with app.app_context():
        upgrade(directory=migrations_directory())
        with clock.frozen(T0 + 2 * DAY):
            messages.erase_one(jeanne, "cli:test")
            db.session.commit()

    said = restore(app, older, identity, T0 + 3 * DAY)

    assert "(migration 0012), then migrated; 1 erasure tombstone(s)" in said
    with app.app_context():
        assert set(db.session.scalars(select(ContactMessage.id))) == {paul}
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()


def test_a_backup_from_a_newer_version_is_refused(app, backups, identity, store_message):
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        db.session.commit()
    infile = take(app, backups, "gardien.age", T0)
    with app.app_context():
        db.session.execute(
            text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
        )
        db.session.commit()
        kept = store_message(PAUL, at=T0 + DAY)

    said = cli(app, "restore", str(infile), "--identity", str(identity), at=T0 + DAY, ok=False)

    assert "migration 9999, which this version of Gardien does not know" in said
    with app.app_context():
        assert db.session.get(ContactMessage, kept) is not None


def test_a_backup_older_than_the_tombstones_is_refused(app, backups, identity, store_message):
    infile = take(app, backups, "gardien.age", T0)
    with app.app_context():
        kept = store_message(PAUL, at=T0 + DAY)

    said = cli(
        app,
        "restore",
        str(infile),
        "--identity",
        str(identity),
        at=T0 + 90 * DAY + timedelta(seconds=1),
        ok=False,
    )

    assert "longer ago than the erasure tombstones are kept (P90D" in said
    with app.app_context():
        assert db.session.get(ContactMessage, kept) is not None
    restore(app, infile, identity, T0 + 90 * DAY)


def test_make_run_gives_the_instance_a_backup_key(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    (instance / "config.toml").write_text('SECRET_KEY = "x"\n')

    made = backup_identity(instance)

    assert made == instance / BACKUP_IDENTITY
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    recipient = public_key(made)
    assert f'BACKUP_RECIPIENTS = "{recipient}"' in (instance / "config.toml").read_text()
    assert backup.recipients(recipient) and backup.identities(made)
    assert backup_identity(instance) is None, "later runs keep it"


def test_no_off_site_copy_outlives_the_tombstones():
    """The backup unit forgets snapshots before the tombstones they need are purged."""
    unit = (Path(__file__).resolve().parents[1] / "deploy" / "gardien-backup.service").read_text()
    kept = re.search(r"restic forget .*--keep-within (\d+)d", unit)
    assert kept is not None, "the unit forgets old snapshots"
    period = policy.load()[policy.ERASURE_TOMBSTONE].duration
    assert timedelta(days=int(kept.group(1))) < period
