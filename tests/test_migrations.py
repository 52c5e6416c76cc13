"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from webhook_app import create_app, sites
from webhook_app.config import new_webhook_secret
from webhook_app.crypto import decrypt, encrypt
from webhook_app.extensions import db
from webhook_app.models import IdempotencyKey


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "run `flask --app webhook_app db migrate` and review the script"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request, tmp_path) -> str:
    """A database with no tables yet, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("postgres")
    name = f"gardien_empty_{next(_empty_numbers)}"
    server.sql(f"CREATE DATABASE {name}")
    return server.url(name)


_empty_numbers = itertools.count()
ANSWER = {"id": "0b7e6f0e-3f0a-4a55-9d8e-4a0f4b8c2d11", "retention": "contact"}


def test_kept_answers_are_decrypted_on_upgrade_and_encrypted_on_downgrade(
    empty_database_url, secrets
):
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade(revision="0004")
        site_id = db.session.scalar(text("SELECT id FROM sites WHERE slug = 'default'"))
        token = encrypt(json.dumps(ANSWER))
        db.session.execute(
            text(
                "INSERT INTO idempotency_keys (site_id, webhook_id, body_digest, status, "
                "response, created_at, expires_at) VALUES (:site, 'msg_1', 'd', 201, :token, "
                "'2026-11-26 10:00:00', '2026-12-03 10:00:00')"
            ),
            {"site": site_id, "token": token},
        )
        db.session.commit()

        upgrade()
        kept = db.session.get(IdempotencyKey, (site_id, "msg_1"))
        assert kept.response == ANSWER
        if db.engine.dialect.name == "sqlite":
            table = db.session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'idempotency_keys'")
            )
            assert "WITHOUT ROWID" in table
        db.session.rollback()

        downgrade(revision="0004")
        stored = db.session.scalar(
            text("SELECT response FROM idempotency_keys WHERE webhook_id = 'msg_1'")
        )
        assert ANSWER["id"] not in stored
        assert json.loads(decrypt(stored)) == ANSWER
        if db.engine.dialect.name == "sqlite":
            table = db.session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'idempotency_keys'")
            )
            assert "WITHOUT ROWID" not in table
        db.session.rollback()
        db.engine.dispose()


ADDRESS = "jeanne.martin@example.fr"
EXPORT_PAGE = {
    "data": [{"group_id": "contact-messages", "group_label": "Messages de contact",
              "group_description": "x", "item_id": "contact-1",
              "data": [{"name": "Adresse e-mail", "value": ADDRESS}]}],
    "done": True,
}


def _keep_answer(webhook_id: str, response: str) -> None:
    db.session.execute(
        text("INSERT INTO idempotency_keys (site_id, webhook_id, body_digest, status, response, "
             "created_at, expires_at) VALUES (1, :id, 'd', 200, :response, "
             "'2026-11-26 10:00:00', '2026-12-03 10:00:00')"),
        {"id": webhook_id, "response": response},
    )


def _stored_text(url: str) -> bytes:
    """What the database holds on disk (SQLite: the file and its log) or in a dump of the
    table (PostgreSQL)."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                        if p.exists())
    rows = db.session.execute(text("SELECT response::text FROM idempotency_keys")).all()
    return repr(rows).encode()


def test_export_pages_kept_before_0004_are_dropped_not_decrypted(empty_database_url, secrets):
    """Reproduced on a database made before 0004 (export pages were kept, encrypted):
    0005 wrote them back as clear JSON. Now the page goes; other answers are decrypted."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade(revision="0003")
        _keep_answer("msg_export", encrypt(json.dumps(EXPORT_PAGE)))
        _keep_answer("msg_contact", encrypt(json.dumps(ANSWER)))
        db.session.commit()
        upgrade()
        assert db.session.get(IdempotencyKey, (1, "msg_export")).response is None
        assert db.session.get(IdempotencyKey, (1, "msg_contact")).response == ANSWER
        db.session.commit()
        assert ADDRESS.encode() not in _stored_text(empty_database_url)
        db.engine.dispose()


def test_export_pages_already_written_in_clear_are_dropped(empty_database_url, secrets):
    """A database that went through the old 0005 holds export pages in clear: 0008
    removes them."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade(revision="0007")
        _keep_answer("msg_export", json.dumps(EXPORT_PAGE))
        _keep_answer("msg_contact", json.dumps(ANSWER))
        db.session.commit()
        upgrade()
        assert db.session.get(IdempotencyKey, (1, "msg_export")).response is None
        assert db.session.get(IdempotencyKey, (1, "msg_contact")).response == ANSWER
        db.session.commit()
        db.engine.dispose()


def test_the_answer_migration_refuses_to_run_offline(empty_database_url, secrets, capfd):
    """It decrypts stored answers, which a SQL script cannot do: a clear refusal."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context(), pytest.raises(SystemExit):
        upgrade(revision="0004:0005", sql=True)  # Flask-Migrate logs the error and exits
    assert "run it online, not with --sql" in capfd.readouterr().err


def _rows(statement: str) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(text(statement)).all()]


def test_statistics_stored_before_redaction_are_redacted(empty_database_url, secrets):
    """0006 rewrites raw page views and page and search rollups stored before ingest
    redacted them, past the first chunk too; rollups that become equal are merged."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade(revision="0005")
        plain = [(f"/blog/{n}/", None) for n in range(10_040)]
        personal = [
            ("/commande/Jeanne.Martin@Example.FR/", None),
            ("/search/", "jeanne martin 06 12 34 56 78"),
            ("/", "jeanne.martin%40example.fr"),
            ("/", "carte 4970 1012 3456 7890"),
        ]
        db.session.execute(
            text("INSERT INTO stats_events (site_id, occurred_at, path, search_terms, country, "
                 "channel, visitor_hash) VALUES (1, '2026-11-20 10:00:00', :path, :terms, "
                 "'FR', 'direct', '0123456789abcdef')"),
            [{"path": path, "terms": terms} for path, terms in plain + personal],
        )  # fmt: skip
        rollups = [
            ("2026-11-20", "search", "jeanne.martin@example.fr", 3, 2),
            ("2026-11-20", "search", "paul@example.org", 2, 1),
            ("2026-11-20", "search", "[e-mail]", 1, 1),
            ("2026-11-20", "search", "06 12 34 56 78", 1, 1),
            ("2026-11-20", "page", "/commande/jeanne.martin@example.fr/", 1, 1),
            ("2026-11-20", "page", "/services/", 4, 3),
            ("2026-11-20", "referrer", "example.org", 2, 2),
            ("2026-11-21", "search", "paul@example.org", 5, 4),
        ]
        db.session.execute(
            text("INSERT INTO stats_rollups (site_id, day, dimension, value, visits, visitors) "
                 "VALUES (1, :day, :dimension, :value, :visits, :visitors)"),
            [dict(zip(("day", "dimension", "value", "visits", "visitors"), row, strict=True))
             for row in rollups],
        )  # fmt: skip
        db.session.commit()

        upgrade(revision="0006")
        events = _rows("SELECT path, search_terms FROM stats_events ORDER BY id")
        assert events[:10_040] == plain
        assert events[10_040:] == [
            ("/commande/[e-mail]/", None),
            ("/search/", "jeanne martin [téléphone]"),
            ("/", "[e-mail]"),
            ("/", "carte [numéro]"),
        ]
        stored = _rows("SELECT day, dimension, value, visits, visitors FROM stats_rollups "
                       "ORDER BY day, dimension, value")  # fmt: skip
        assert [(str(day), *rest) for day, *rest in stored] == [
            ("2026-11-20", "page", "/commande/[e-mail]/", 1, 1),
            ("2026-11-20", "page", "/services/", 4, 3),
            ("2026-11-20", "referrer", "example.org", 2, 2),
            ("2026-11-20", "search", "[e-mail]", 6, 4),
            ("2026-11-20", "search", "[téléphone]", 1, 1),
            ("2026-11-21", "search", "[e-mail]", 5, 4),
        ]
        db.session.rollback()
        downgrade(revision="0005")
        assert _rows("SELECT count(*) FROM stats_rollups") == [(6,)]


def _add_site(slug: str) -> int:
    db.session.execute(text("INSERT INTO sites (slug, created_at) VALUES (:slug, "
                            "'2026-11-26 10:00:00')"), {"slug": slug})
    return db.session.scalar(text("SELECT id FROM sites WHERE slug = :slug"), {"slug": slug})


def _store_secret(site_id: int, secret: str, print_: str | None = None) -> None:
    """A secret as stored before 0007: its fingerprint a bare SHA-256 prefix of the text."""
    db.session.execute(
        text("INSERT INTO site_secrets (site_id, secret, fingerprint, created_at) "
             "VALUES (:site, :secret, :print, '2026-11-26 10:00:00')"),
        {"site": site_id, "secret": encrypt(secret),
         "print": print_ or hashlib.sha256(secret.encode()).hexdigest()[:12]},
    )


def _fingerprints() -> dict[str, int]:
    return dict(db.session.execute(text("SELECT fingerprint, site_id FROM site_secrets")).all())


def test_0007_keys_the_fingerprints_makes_them_unique_and_keeps_every_row(
    empty_database_url, secrets
):
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    shop_secret, other_secret = new_webhook_secret(), new_webhook_secret()
    with app.app_context():
        upgrade(revision="0005")
        shop, other = _add_site("shop"), _add_site("other")
        for site_id, secret in ((shop, shop_secret), (shop, shop_secret), (other, other_secret)):
            _store_secret(site_id, secret)
        db.session.execute(text(
            "INSERT INTO contact_messages (id, site_id, email_index, personal, submitted_at, "
            "received_at, retention, expires_at) VALUES ('m1', :site, 'i', 'p', "
            "'2026-11-26 10:00:00', '2026-11-26 10:00:00', 'contact', '2027-11-26 10:00:00')"
        ), {"site": shop})
        db.session.commit()

        upgrade()
        assert _fingerprints() == {sites.fingerprint(shop_secret): shop,
                                   sites.fingerprint(other_secret): other}
        with pytest.raises(IntegrityError):
            _store_secret(other, shop_secret, sites.fingerprint(shop_secret))
        db.session.rollback()
        sites.disable("shop", "cli:test")
        db.session.commit()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the refusal and exits
            downgrade(revision="0005")
        sites.enable("shop", "cli:test")
        db.session.commit()

        downgrade(revision="0005")
        assert _fingerprints() == {hashlib.sha256(shop_secret.encode()).hexdigest()[:12]: shop,
                                   hashlib.sha256(other_secret.encode()).hexdigest()[:12]: other}
        # Every site's rows are still there (copying `sites` on SQLite would cascade).
        assert db.session.scalar(text("SELECT count(*) FROM contact_messages")) == 1
        db.session.rollback()
        db.engine.dispose()


def test_the_redaction_migration_refuses_to_run_offline(empty_database_url, secrets, capfd):
    """It redacts rows in Python, which a SQL script cannot do: a clear refusal."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context(), pytest.raises(SystemExit):
        upgrade(revision="0005:0006", sql=True)
    assert "run it online, not with --sql" in capfd.readouterr().err


def test_0007_refuses_a_stored_secret_that_is_the_configured_one(empty_database_url, secrets,
                                                                  capfd):
    """Reproduced: `sites add sitec --secret <default's>` was accepted; such a database is
    refused at the upgrade, naming the sites, not the secret."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade(revision="0005")
        _store_secret(_add_site("sitec"), secrets["WEBHOOK_SECRET"])
        db.session.commit()
        with pytest.raises(SystemExit):
            upgrade()
        error = capfd.readouterr().err
        assert "default and sitec" in error and secrets["WEBHOOK_SECRET"] not in error
        db.engine.dispose()


def test_0007_refuses_a_secret_shared_by_two_sites_without_naming_it(
    empty_database_url, secrets, capfd
):
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    shared = new_webhook_secret()
    with app.app_context():
        upgrade(revision="0005")
        for slug in ("shop", "sitec"):
            _store_secret(_add_site(slug), shared)
        db.session.commit()
        with pytest.raises(SystemExit):
            upgrade()
        error = capfd.readouterr().err
        assert "shop and sitec" in error and shared not in error
        assert "service_keys" not in inspect(db.engine).get_table_names(), "nothing changed"
        db.engine.dispose()


def test_0010_adds_the_request_records_and_list_indexes_and_goes_back(empty_database_url,
                                                                      secrets):
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    list_indexes = {"ix_contact_messages_received", "ix_contact_messages_site_received",
                    "ix_contact_messages_held"}
    with app.app_context():
        upgrade()
        inspector = inspect(db.engine)
        assert "privacy_requests" in inspector.get_table_names()
        assert list_indexes <= {i["name"] for i in inspector.get_indexes("contact_messages")}
        downgrade(revision="0009")
        inspector = inspect(db.engine)
        assert "privacy_requests" not in inspector.get_table_names()
        assert not list_indexes & {i["name"] for i in inspector.get_indexes("contact_messages")}
        upgrade()
        assert "privacy_requests" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_0012_keys_the_rollups_keeps_old_days_counted_from_raw_and_goes_back(
    empty_database_url, secrets
):
    """Days stored before 0012 keep their numbers: a rolled-up day from its rollups, a day
    never rolled up from its raw page views (no counters), also after more page views."""
    from webhook_app.stats import ingest
    from webhook_app.stats.rollup import rollup
    from webhook_app.stats.summary import summary

    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    rolled, counting = date(2026, 11, 19), date(2026, 11, 20)
    with app.app_context():
        upgrade(revision="0011")
        db.session.execute(
            text("INSERT INTO stats_events (site_id, occurred_at, path, country, channel, "
                 "visitor_hash) VALUES (1, :at, :path, :country, 'direct', :visitor)"),
            [{"at": datetime(day.year, day.month, day.day, 10), "path": path,
              "country": country, "visitor": visitor}
             for day in (rolled, counting)
             for path, country, visitor in (("/", "FR", "a" * 16), ("/x/", None, "b" * 16),
                                            ("/", None, "a" * 16))],
        )  # fmt: skip
        db.session.execute(
            text("INSERT INTO stats_days (site_id, day, changes, rolled_changes, visits, "
                 "visitors) VALUES (1, :rolled, 0, 0, 3, 2), (1, :counting, 0, NULL, NULL, "
                 "NULL)"),
            {"rolled": rolled, "counting": counting},
        )  # fmt: skip
        db.session.execute(
            text("INSERT INTO stats_rollups (site_id, day, dimension, value, visits, visitors) "
                 "VALUES (1, :day, :dimension, :value, :visits, :visitors)"),
            [{"day": rolled, "dimension": dimension, "value": value, "visits": visits,
              "visitors": visitors}
             for dimension, value, visits, visitors in (
                 ("page", "/", 2, 1), ("page", "/x/", 1, 1), ("country", "FR", 1, 1),
                 ("country", None, 2, 2), ("channel", "direct", 3, 2))],
        )  # fmt: skip
        db.session.commit()
        before = summary(1, rolled, counting)
        assert (before["visits"], before["visitors"]) == (6, 4)
        db.session.rollback()

        upgrade(revision="0012")
        assert summary(1, rolled, counting) == before
        now = datetime(2026, 11, 20, 12, tzinfo=UTC)
        ingest.count(1, [{"site_id": 1, "occurred_at": now, "path": "/", "search_terms": None,
                          "country": None, "channel": "direct", "referrer_host": None,
                          "visitor_hash": "a" * 16}], now)  # fmt: skip
        db.session.execute(text("INSERT INTO stats_events (site_id, occurred_at, path, channel, "
                                "visitor_hash) VALUES (1, :at, '/', 'direct', :visitor)"),
                           {"at": datetime(2026, 11, 20, 12), "visitor": "a" * 16})  # fmt: skip
        db.session.commit()
        after = summary(1, rolled, counting)
        assert (after["visits"], after["visitors"]) == (7, 4)
        assert _rows("SELECT visits FROM stats_days WHERE day > '2026-11-19'") == [(None,)]
        rollup(now + timedelta(days=1))
        assert summary(1, rolled, counting) == after
        with pytest.raises(IntegrityError):
            db.session.execute(text("INSERT INTO stats_rollups (site_id, day, dimension, value, "
                                    "visits, visitors) VALUES (1, :day, 'country', NULL, 1, 1)"),
                               {"day": rolled})  # fmt: skip
        db.session.rollback()

        downgrade(revision="0011")
        inspector = inspect(db.engine)
        assert "stats_day_visitors" not in inspector.get_table_names()
        assert "ix_stats_rollups_site_day" in {i["name"] for i in
                                               inspector.get_indexes("stats_rollups")}
        db.engine.dispose()


def test_0014_orders_the_person_index_and_goes_back(empty_database_url, secrets):
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})

    def person_index() -> list[str]:
        indexes = inspect(db.engine).get_indexes("contact_messages")
        [found] = [i for i in indexes if i["name"] == "ix_contact_messages_site_email"]
        return found["column_names"]

    with app.app_context():
        upgrade()
        assert person_index() == ["site_id", "email_index", "received_at", "id"]
        downgrade(revision="0013")
        assert person_index() == ["site_id", "email_index"]
        upgrade()
        db.engine.dispose()
