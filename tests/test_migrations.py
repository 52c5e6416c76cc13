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
