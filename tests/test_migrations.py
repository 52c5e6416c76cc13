"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import itertools
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from webhook_app import create_app
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
        db.session.rollback()
        db.engine.dispose()


def test_the_redaction_migration_refuses_to_run_offline(empty_database_url, secrets, capfd):
    """It redacts rows in Python, which a SQL script cannot do: a clear refusal."""
    app = create_app({**secrets, "DATABASE_URL": empty_database_url})
    with app.app_context(), pytest.raises(SystemExit):
        upgrade(revision="0005:0006", sql=True)
    assert "run it online, not with --sql" in capfd.readouterr().err
