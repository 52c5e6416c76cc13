"""`flask --app webhook_app db copy URL`: a SQLite instance moved to PostgreSQL whole —
every table, the same rows, personal fields still readable with the same keys, serial ids
that go on from where they were — and a target that is not empty is refused untouched."""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from support.gardien import VENV_BIN, GardienService, service_env
from support.signing import body_bytes, signed_headers

from webhook_app import clock, create_app, messages, privacy
from webhook_app.dbcopy import tables
from webhook_app.extensions import db
from webhook_app.models import ContactMessage, orm_transaction

EMAIL = "yvonne.le-gall@example.fr"
SUBMISSION = {"name": "Yvonne Le Gall", "email": EMAIL, "message": "Un devis, s'il vous plaît"}


def settings_of(service: GardienService) -> dict[str, str]:
    return {k.removeprefix("GARDIEN_"): v for k, v in service.env.items()
            if k.startswith("GARDIEN_")}


def signed_post(app, secret: str, path: str, payload: dict):
    body = body_bytes(payload)
    return app.test_client().post(
        path, data=body, headers=signed_headers(secret, body, at=clock.now())
    )


def counts(app) -> dict[str, int]:
    with app.app_context():
        found = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in tables()}
        db.session.remove()
        db.engine.dispose()
    return found


def test_a_sqlite_instance_copied_to_postgresql_serves_as_before(tmp_path, postgres):
    source = GardienService(workdir=tmp_path, port=0,
                            env=service_env(f"sqlite:///{tmp_path / 'gardien.db'}"))
    source.flask("db", "upgrade")
    source.flask("sites", "add", "atelier")
    secret = source.webhook_secret
    app = create_app(settings_of(source))
    with app.app_context():
        for n in range(3):
            assert signed_post(app, secret, "/v1/contact",
                               {**SUBMISSION, "message": f"n° {n}"}).status_code == 201
        view = {"url": "https://exemple.fr/tarifs/", "ip": "203.0.113.4",
                "user_agent": "Mozilla/5.0 Firefox/133.0", "ts": clock.format_rfc3339(clock.now())}
        assert signed_post(app, secret, "/v1/stats/events", {"events": [view]}).status_code == 202
        with clock.frozen(clock.now() - timedelta(days=10)), orm_transaction() as connection:
            old = messages.receive(connection, 2, {**SUBMISSION, "message": "Sur l'autre site"})
        exported = privacy.export_page(1, EMAIL, 1, actor="test")
        db.engine.dispose()
    before = counts(app)
    assert before["contact_messages"] == 4 and before["stats_events"] == 1

    name = f"gardien_copy_{uuid.uuid4().hex[:8]}"
    postgres.sql(f"CREATE DATABASE {name}")
    copied = source.flask("db", "copy", postgres.url(name))
    assert "contact_messages" in copied.stdout

    target = create_app({**settings_of(source), "DATABASE_URL": postgres.url(name)})
    assert counts(target) == before
    with target.app_context():
        row = db.session.get(ContactMessage, old["id"])
        assert row.personal["message"] == "Sur l'autre site", "decrypted with the same keys"
        assert clock.as_utc(row.received_at) < clock.now() - timedelta(days=9)
        assert privacy.export_page(1, EMAIL, 1, actor="test")["data"] == exported["data"]
        # Serial ids go on after the copied ones (stats events, the audit log).
        assert signed_post(target, secret, "/v1/stats/events", {"events": [view]}).status_code \
            == 202
        assert signed_post(target, secret, "/v1/contact", SUBMISSION).status_code == 201
        db.session.remove()
        db.engine.dispose()
    after_use = counts(target)
    assert after_use["stats_events"] == 2 and after_use["contact_messages"] == 5

    again = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "webhook_app", "db", "copy", postgres.url(name)],
        env=source.env, capture_output=True, text=True,
    )
    assert again.returncode != 0
    assert "the target is not empty" in again.stderr
    assert counts(target) == after_use, "a refused copy changes nothing"
