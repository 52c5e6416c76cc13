"""Key rotation loses nothing, and a needed key cannot silently go (both backends)."""

from __future__ import annotations

import secrets as random
from datetime import UTC, datetime, timedelta

import click
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from support.signing import body_bytes, signed_headers

from webhook_app import clients, clock, create_app, keys, messages, privacy, sites
from webhook_app.config import ConfigError
from webhook_app.crypto import DATA, INDEX, fingerprint
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Client, ContactMessage, KeyRecord
from webhook_app.stats import salts

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ADDRESSES = ("jeanne.martin@example.fr", "paul@example.org")


def app_with(database_url: str, secrets: dict, **changes: str) -> Flask:
    """The app on the same database with other keys (``DATA_KEYS``, ``INDEX_KEYS`` …)."""
    return create_app({**secrets, **changes, "DATABASE_URL": database_url, "TESTING": True})


def new_index_key() -> str:
    return random.token_urlsafe(32)


def fill(app: Flask, store_message) -> None:
    """Something in every encrypted column: messages (one held), a client, a site secret,
    a daily salt."""
    with app.app_context(), clock.frozen(T0):
        for address in ADDRESSES:
            for _ in range(3):
                store_message(address, at=T0)
        held = store_message(ADDRESSES[0], at=T0)
        messages.hold(held, "menaces", "cli:test")
        messages.attach_to_client(store_message(ADDRESSES[1], at=T0), "cli:test")
        sites.add("atelier")
        db.session.commit()
        salts.salts_for({T0.date()}, T0)  # on a connection of its own


def exported(app: Flask, address: str) -> list[str]:
    """The item ids of a complete export of ``address`` on the default site."""
    with app.app_context(), clock.frozen(T0):
        items, page = [], 1
        while True:
            answer = privacy.export_page(1, address, page, actor="test")
            items += [item["item_id"] for item in answer["data"]]
            if answer["done"]:
                return items
            page += 1


def test_dropping_a_data_key_that_values_need_refuses_to_start(app, database_url, secrets,
                                                                store_message):
    """Reproduced: without the old key, export answered 500. Now the service says why."""
    fill(app, store_message)
    old = secrets["DATA_KEYS"]
    with pytest.raises(ConfigError) as refused:
        app_with(database_url, secrets, DATA_KEYS=Fernet.generate_key().decode())
    message = str(refused.value)
    assert fingerprint(DATA, old) in message and "keys rotate-data" in message
    assert old not in message


def test_data_rotation_moves_every_value_and_frees_the_old_key(app, database_url, secrets,
                                                                 store_message):
    fill(app, store_message)
    before = {address: exported(app, address) for address in ADDRESSES}
    old, new = secrets["DATA_KEYS"], Fernet.generate_key().decode()
    rotating = app_with(database_url, secrets, DATA_KEYS=f"{new},{old}")
    with rotating.app_context():
        status = keys.status()
        uses = {state.fingerprint: state.count for state in status.keys if state.kind == DATA}
        assert uses[fingerprint(DATA, new)] == 0
        # 8 messages' documents, 1 hold reason, 1 client, 1 site secret, 1 salt, and the
        # key of the sites' secret fingerprints.
        assert uses[fingerprint(DATA, old)] == 13
        result = keys.rotate_data(chunk=3)
        assert sum(result.changed.values()) == 13 and result.passes == 2
        assert result.retired == [fingerprint(DATA, old)]
        after = {s.fingerprint: s for s in keys.status().keys if s.kind == DATA}
        assert after[fingerprint(DATA, new)].count == 13
        assert after[fingerprint(DATA, old)].removable
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "keys.rotate_data"))
        assert entry.count == 13 and "contact_messages=9" in entry.detail
        # A second run finds nothing to do (resumable: an interrupted run is run again).
        assert sum(keys.rotate_data().changed.values()) == 0
    rotated = app_with(database_url, secrets, DATA_KEYS=new)
    assert {address: exported(rotated, address) for address in ADDRESSES} == before
    with rotated.app_context():
        assert sites.site_keys("atelier") is not None  # the stored secret decrypts


def test_a_value_no_key_opens_stops_the_rotation_and_frees_nothing(app, database_url, secrets,
                                                                    store_message):
    fill(app, store_message)
    stranger = Fernet(Fernet.generate_key()).encrypt(b'{"name": "x"}').decode()
    with app.app_context():
        db.session.execute(text("UPDATE contact_messages SET personal = :t WHERE id IN "
                                "(SELECT id FROM contact_messages LIMIT 1)"), {"t": stranger})
        db.session.commit()
    rotating = app_with(database_url, secrets,
                        DATA_KEYS=f"{Fernet.generate_key().decode()},{secrets['DATA_KEYS']}")
    with rotating.app_context():
        assert keys.status().unreadable == 1
        with pytest.raises(keys.KeysError, match="1 stored value"):
            keys.rotate_data()
        old = db.session.get(KeyRecord, (DATA, fingerprint(DATA, secrets["DATA_KEYS"])))
        assert old.rotated_at is None


def test_changing_the_index_key_without_rotation_refuses_to_start(app, database_url, secrets,
                                                                   store_message):
    """Reproduced: a new index key made export find nothing and erase say "nothing"."""
    fill(app, store_message)
    with pytest.raises(ConfigError) as refused:
        app_with(database_url, secrets, INDEX_KEY=new_index_key())
    assert fingerprint(INDEX, secrets["INDEX_KEY"]) in str(refused.value)
    assert "keys rotate-index" in str(refused.value)


def test_index_rotation_finds_everyone_throughout(app, database_url, secrets, store_message):
    fill(app, store_message)
    before = {address: exported(app, address) for address in ADDRESSES}
    old, new = secrets["INDEX_KEY"], new_index_key()
    rotating = app_with(database_url, secrets, INDEX_KEYS=f"{new},{old}")
    # During the rotation, new messages are indexed with the new key, old ones are found.
    with rotating.app_context():
        with clock.frozen(T0), db.session.begin():
            extra = messages.receive(db.session.connection(), 1, {
                "name": "Jeanne", "email": ADDRESSES[0], "message": "encore"})
    assert sorted(exported(rotating, ADDRESSES[0])) == sorted(
        [*before[ADDRESSES[0]], f"contact-{extra['id']}"])
    with rotating.app_context():
        states = {s.fingerprint: s for s in keys.status().keys if s.kind == INDEX}
        assert states[fingerprint(INDEX, old)].count == 9  # 8 messages and a client
        assert states[fingerprint(INDEX, new)].count == 1
        result = keys.rotate_index(chunk=2)
        assert sum(result.changed.values()) == 9 and result.passes == 2
        assert keys.status().keys and keys.status().unmatched == 0
    rotated = app_with(database_url, secrets, INDEX_KEY=new)
    assert exported(rotated, ADDRESSES[1]) == before[ADDRESSES[1]]
    with rotated.app_context(), clock.frozen(T0):
        erased = privacy.erase_page(1, ADDRESSES[0], 1, actor="test")
        left = db.session.scalar(select(func.count()).select_from(ContactMessage))
    assert erased["items_removed"] and erased["done"]
    assert left == 5  # the held message, and the other address's four


def test_replayed_requests_keep_the_old_index_key_until_their_end(app, database_url, secrets,
                                                                    send):
    """The idempotency digest is keyed too: a replay after a rotation is a replay, not a
    409, and the old key stays needed until those requests reach their end (a week)."""
    payload = {"name": "Jeanne", "email": ADDRESSES[0], "message": "Bonjour"}
    now = clock.now()
    first = send("/v1/contact", payload, msg_id="msg_before_rotation")
    old, new = secrets["INDEX_KEY"], new_index_key()
    rotating = app_with(database_url, secrets, INDEX_KEYS=f"{new},{old}")
    with rotating.test_client() as client:
        body = body_bytes(payload)
        again = client.post("/v1/contact", data=body, headers=signed_headers(
            secrets["WEBHOOK_SECRET"], body, msg_id="msg_before_rotation", at=clock.now()))
    assert again.status_code == 201 and again.get_json() == first.get_json()
    with rotating.app_context():
        keys.rotate_index()
    with pytest.raises(ConfigError, match="replay"):
        app_with(database_url, secrets, INDEX_KEY=new)
    with clock.frozen(now + timedelta(days=6)), pytest.raises(ConfigError, match="replay"):
        app_with(database_url, secrets, INDEX_KEY=new)
    # Past their end the requests are forgotten, purged or not: nothing needs the old key.
    with clock.frozen(now + timedelta(days=8)):
        app_with(database_url, secrets, INDEX_KEY=new)


def test_a_refused_start_records_nothing(app, database_url, secrets, store_message):
    """A start with a mistyped key is refused, and the right key still starts after it;
    a key staged after the first and dropped again never blocks a start."""
    fill(app, store_message)
    for _ in range(2):
        with pytest.raises(ConfigError):
            app_with(database_url, secrets, DATA_KEYS=Fernet.generate_key().decode())
        with pytest.raises(ConfigError):
            app_with(database_url, secrets, INDEX_KEY=new_index_key())
    app_with(database_url, secrets)
    staged = Fernet.generate_key().decode()
    app_with(database_url, secrets, DATA_KEYS=f"{secrets['DATA_KEYS']},{staged}")
    app_with(database_url, secrets)
    assert exported(app_with(database_url, secrets), ADDRESSES[1])


def test_index_rotation_clears_the_index_of_a_record_without_address(app, database_url,
                                                                     secrets, store_message):
    """A client whose address was removed has no index, and a rotation does not stop on
    it (its document opens fine: it holds no address)."""
    fill(app, store_message)
    with app.app_context():
        client_id = db.session.scalar(select(Client.id))
        clients.rectify(client_id, {"email": ""}, "cli:test")
        db.session.commit()
        assert db.session.get(Client, client_id).email_index is None
        db.session.execute(text("UPDATE clients SET email_index = 'stale'"))
        db.session.commit()
    rotating = app_with(database_url, secrets,
                        INDEX_KEYS=f"{new_index_key()},{secrets['INDEX_KEY']}")
    with rotating.app_context():
        assert keys.status().unmatched == 1
        keys.rotate_index()
        assert keys.status().unmatched == 0
        assert db.session.get(Client, client_id).email_index is None


def test_the_migration_records_the_configured_keys(tmp_path, secrets):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    second = Fernet.generate_key().decode()
    app = create_app({**secrets, "DATABASE_URL": url,
                      "DATA_KEYS": f"{secrets['DATA_KEYS']},{second}"})
    with app.app_context():
        upgrade()
        records = {(r.kind, r.fingerprint): r for r in db.session.scalars(select(KeyRecord))}
        db.engine.dispose()
    assert records[(DATA, fingerprint(DATA, secrets["DATA_KEYS"]))].replaced_at is None
    assert records[(DATA, fingerprint(DATA, second))].replaced_at is not None
    assert records[(INDEX, fingerprint(INDEX, secrets["INDEX_KEY"]))].rotated_at is None


def test_keys_cli_reports_and_rotates(app, database_url, secrets, store_message):
    fill(app, store_message)
    old, new = secrets["DATA_KEYS"], Fernet.generate_key().decode()
    runner = app_with(database_url, secrets, DATA_KEYS=f"{new},{old}").test_cli_runner()
    status = runner.invoke(args=["keys", "status"])
    assert status.exit_code == 0
    assert f"data  {fingerprint(DATA, old)}  configured     13 values" in status.output
    assert old not in status.output and new not in status.output
    rotated = runner.invoke(args=["keys", "rotate-data", "--chunk", "5"])
    assert rotated.exit_code == 0, rotated.output
    assert "13 values re-encrypted" in rotated.output
    assert f"{fingerprint(DATA, old)}  configured     0 values; can be removed" in (
        runner.invoke(args=["keys", "status"]).output)


def test_commands_refuse_without_a_needed_key_but_the_purge_runs(app, database_url, secrets,
                                                                   store_message):
    """Commands that would read what the missing key protects refuse; `keys` repairs;
    the purge ends what has ended (a client's identity is replaced, never decrypted)."""
    fill(app, store_message)
    # As `flask` builds it: inside a command line, the keys are checked per command.
    with click.Context(click.Command("flask")):
        cli_app = app_with(database_url, secrets, DATA_KEYS=Fernet.generate_key().decode())
    runner = cli_app.test_cli_runner()
    result = runner.invoke(args=["sites", "list"])
    assert result.exit_code == 1 and "keys rotate-data" in result.output
    assert runner.invoke(args=["keys", "status"]).exit_code == 0
    purged = runner.invoke(args=["purge", "--now", "2031-01-01T00:00:00Z"])
    assert purged.exit_code == 0, purged.output
    with cli_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactMessage).where(
            ContactMessage.retention == "contact")) == 0
        assert db.session.scalar(select(Client.anonymised_at)) is not None


def test_a_value_no_key_opens_is_a_503_at_request_time_never_a_500(app, send, store_message):
    """Should a value still be unreadable (the start-up check passed: a row copied from
    elsewhere), the sender is told to retry, not shown a bug."""
    with app.app_context():
        message_id = store_message(ADDRESSES[0], at=T0)
        stranger = Fernet(Fernet.generate_key()).encrypt(b'{"name": "x"}').decode()
        db.session.execute(text("UPDATE contact_messages SET personal = :t WHERE id = :id"),
                           {"t": stranger, "id": message_id})
        db.session.commit()
    response = send("/v1/privacy/export", {"email": ADDRESSES[0], "page": 1})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"] == "unavailable"
