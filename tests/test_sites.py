"""A site's whole lifecycle on both backends: one secret per site, disabled, removed, and a
registry whose lookups cost no query and tell nothing about which sites exist."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from webhook_app import clients, clock, create_app, messages, retention, service_keys, sites
from webhook_app.config import new_webhook_secret, webhook_key
from webhook_app.extensions import db
from webhook_app.models import (
    AuditEntry,
    Client,
    ContactMessage,
    ErasureTombstone,
    IdempotencyKey,
    Invoice,
    PrivacyRequest,
    Quote,
    Site,
    SiteSecret,
)
from webhook_app.stats.models import StatsDay, StatsDayVisitor, StatsEvent, StatsRollup
from webhook_app.stats.rollup import rollup

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
EMAIL = "jeanne.martin@example.fr"
NAME = "Jeanne Martin"
KINDS = {
    "quotes": Quote, "invoices": Invoice, "messages": ContactMessage, "clients": Client,
    "stats_events": StatsEvent, "stats_rollups": StatsRollup, "stats_days": StatsDay,
    "stats_day_visitors": StatsDayVisitor,
    "idempotency_keys": IdempotencyKey, "secrets": SiteSecret,
    "privacy_requests": PrivacyRequest, "erasure_tombstones": ErasureTombstone,
}


def contact(message: str = "Bonjour") -> dict:
    return {"name": NAME, "email": EMAIL, "message": message, "ip": "203.0.113.7"}


def page_views(at: datetime) -> dict:
    ts = (at - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"events": [{"ts": ts, "url": f"https://example.fr/{page}/", "ip": "90.0.0.1",
                        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}
                       for page in ("services", "contact")]}


def add_site(app, slug: str) -> str:
    with app.app_context():
        secret = sites.add(slug)
        db.session.commit()
    return secret


def populate(app, send, site: str | None, secret: str | None) -> None:
    """What a site holds after a few days of use: messages (one held, one a client's with a
    quote and an invoice), page views rolled up and of today, an export's record,
    idempotency keys, secrets, the erasure tombstone of a message erased."""
    with clock.frozen(T0):
        ids = [send("/v1/contact", contact(f"message {n}"), site=site, secret=secret)
               .get_json()["id"] for n in range(3)]
        for _ in range(2):
            assert send("/v1/stats/events", page_views(T0), site=site,
                        secret=secret).status_code == 202
        assert send("/v1/privacy/export", {"email": EMAIL, "page": 1}, site=site,
                    secret=secret).status_code == 200
        erased = send("/v1/contact", contact("erased"), site=site, secret=secret)
        with app.app_context():
            messages.erase_one(erased.get_json()["id"], "cli:test")  # leaves a tombstone
            messages.hold(ids[0], "menaces", "cli:test")
            client = messages.attach_to_client(ids[1], "cli:test")
            clients.add_quote(client.id, "D-1", T0, 12050, "sent", actor="cli:test")
            clients.add_invoice(client.id, "F-1", T0, 12050, actor="cli:test")
            db.session.commit()
    with app.app_context():
        rollup(T0 + timedelta(days=2))
    # And a day not rolled up yet, which holds its visitors' hashes.
    with clock.frozen(T0 + timedelta(days=2)):
        assert send("/v1/stats/events", page_views(T0 + timedelta(days=2)), site=site,
                    secret=secret).status_code == 202


def held_by(site_id: int) -> dict[str, int]:
    """How many rows of each kind belong to the site (inside an app context)."""
    counts = {}
    for kind, model in KINDS.items():
        query = select(func.count()).select_from(model)
        if model in (Quote, Invoice):
            query = query.join(Client).where(Client.site_id == site_id)
        else:
            query = query.where(model.site_id == site_id)
        counts[kind] = db.session.scalar(query)
    return counts


def site_id(slug: str) -> int | None:
    return db.session.scalar(select(Site.id).where(Site.slug == slug))


def test_removing_a_site_deletes_all_it_holds_and_nothing_else(app, send):
    shop_secret = add_site(app, "shop")
    with app.app_context():
        sites.rotate("shop")
        db.session.commit()
    populate(app, send, "shop", shop_secret)
    populate(app, send, None, None)  # the site default
    with app.app_context():
        shop_id = site_id("shop")
        before, default_before = held_by(shop_id), held_by(site_id("default"))
        assert all(before.values()), before
        assert before["secrets"] == 2 and before["messages"] == 3
        with clock.frozen(T0):
            shown = sites.holdings("shop")  # what `sites remove` asks about
        assert shown == {**before, "legal_holds": 1, "invoices_in_period": 1}

        counts = sites.remove("shop", "cli:test")
        db.session.commit()

        assert counts == before
        assert site_id("shop") is None
        assert set(held_by(shop_id).values()) == {0}
        assert held_by(site_id("default")) == default_before
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "site.remove"))
        assert entry.site_id is None and entry.count == sum(before.values())
        assert entry.detail.startswith("slug=shop ")
        assert "messages=3" in entry.detail and "secrets=2" in entry.detail
        # The shop's earlier entries outlive it, without their site.
        flags = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "message.flag"))
        assert sorted(str(flag.site_id) for flag in flags) == ["1", "None"]
        for audited in db.session.scalars(select(AuditEntry)):
            for personal in (EMAIL, NAME, "203.0.113.7", "menaces"):
                assert personal not in f"{audited.detail} {audited.record_ids}"
    with clock.frozen(T0):
        assert send("/v1/contact", contact(), site="shop", secret=shop_secret).status_code == 401


def test_removal_covers_every_table_that_belongs_to_a_site(app):
    """A table added later with a foreign key to a site or a client must be removed too."""
    with app.app_context():
        covered = {model.__table__.name for _, model, _ in sites.stored_for(1)}
    owned = {
        table.name for table in db.metadata.tables.values()
        for key in table.foreign_keys
        if key.column.table.name in ("sites", "clients") and table.name != "audit_log"
    }
    assert owned <= covered


def test_a_large_site_is_removed_in_one_transaction(app):
    with app.app_context():
        sites.add("busy")
        db.session.flush()
        busy = site_id("busy")
        db.session.connection().execute(StatsEvent.__table__.insert(), [
            {"site_id": busy, "occurred_at": T0, "path": f"/page/{n}/", "channel": "direct",
             "visitor_hash": f"{n:016x}"} for n in range(50_000)
        ])
        db.session.commit()
        assert sites.remove("busy", "cli:test")["stats_events"] == 50_000
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(StatsEvent)) == 0


def test_a_disabled_site_is_answered_like_an_unknown_one_and_keeps_its_data(app, send, client):
    shop_secret = add_site(app, "shop")
    with clock.frozen(T0):
        assert send("/v1/contact", contact(), site="shop", secret=shop_secret).status_code == 201
    with app.app_context():
        sites.disable("shop", "cli:test")
        db.session.commit()
    with clock.frozen(T0):
        disabled = send("/v1/contact", contact(), site="shop", secret=shop_secret)
        unknown = send("/v1/contact", contact(), site="nowhere", secret=shop_secret)
        for path in ("/v1/status", "/v1/policy"):
            assert send(path, method="GET", site="shop", secret=shop_secret).status_code == 401
    assert disabled.status_code == unknown.status_code == 401
    assert disabled.data == unknown.data
    assert dict(disabled.headers) == dict(unknown.headers)
    with app.app_context():
        assert held_by(site_id("shop"))["messages"] == 1
        sites.enable("shop", "cli:test")
        db.session.commit()
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["site.disable", "site.enable"]
    with clock.frozen(T0):
        assert send("/v1/contact", contact(), site="shop", secret=shop_secret).status_code == 201


def test_a_disabled_site_is_still_purged_on_time(app, send):
    shop_secret = add_site(app, "shop")
    with clock.frozen(T0):
        send("/v1/contact", contact(), site="shop", secret=shop_secret)
        send("/v1/stats/events", page_views(T0), site="shop", secret=shop_secret)
    with app.app_context():
        sites.disable("shop", "cli:test")
        db.session.commit()
        shop = site_id("shop")
        counts = retention.purge(T0 + timedelta(days=366))
        assert counts["contact"] == 1 and held_by(shop)["messages"] == 0
        assert held_by(shop)["stats_events"] == 2
        retention.purge(T0 + timedelta(days=26 * 31))
        assert held_by(shop)["stats_events"] == 0


def test_one_secret_never_signs_for_two_sites(app, send, secrets):
    """Reproduced: `sites add sitec --secret <default's>`, then one signed request was
    stored twice, once per X-WP-Site."""
    configured = secrets["WEBHOOK_SECRET"]
    shop_secret = new_webhook_secret()
    # The same key written another way: the last character of a 32-byte key's base64 has
    # two bits to spare.
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    respelled = shop_secret[:-2] + alphabet[alphabet.index(shop_secret[-2]) ^ 1] + "="
    assert respelled != shop_secret and webhook_key(respelled) == webhook_key(shop_secret)
    with app.app_context():
        sites.add("shop", shop_secret)
        db.session.commit()
        for attempt in (lambda: sites.add("sitec", configured),
                        lambda: sites.add("sitec", shop_secret),
                        lambda: sites.add("sitec", respelled),
                        lambda: sites.rotate("default", shop_secret),
                        lambda: sites.rotate("shop", respelled),
                        lambda: sites.rotate("shop", configured)):
            with pytest.raises(sites.SiteError, match="already signs for a site") as refused:
                attempt()
            assert configured not in str(refused.value) and shop_secret not in str(refused.value)
            db.session.rollback()
        assert site_id("sitec") is None
    with clock.frozen(T0):
        assert send("/v1/contact", contact(), msg_id="msg_1").status_code == 201
        assert send("/v1/contact", contact(), msg_id="msg_1", site="sitec").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 1


def test_the_database_refuses_a_secret_fingerprint_twice(app):
    shop_secret = new_webhook_secret()
    with app.app_context():
        sites.add("shop", shop_secret)
        sites.add("other")
        db.session.commit()
        db.session.add(SiteSecret(site_id=site_id("other"), secret=shop_secret,
                                  fingerprint=sites.fingerprint(shop_secret)))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_fingerprints_are_keyed_with_a_key_kept_encrypted(app):
    secret = new_webhook_secret()
    with app.app_context():
        key, made = service_keys.get_or_create(sites.FINGERPRINT_KEY, lambda: "unused")
        assert not made, "migration 0007 makes the key"
        stored = db.session.scalar(db.text("SELECT value FROM service_keys"))
        assert stored.startswith("gAAAAA") and key not in stored
        expected = hmac.new(base64.b64decode(key), webhook_key(secret), hashlib.sha256)
        assert sites.fingerprint(secret) == expected.hexdigest()
        assert sites.fingerprint(secret)[:12] != hashlib.sha256(secret.encode()).hexdigest()[:12]


def test_a_stored_secret_that_is_also_the_configured_one_signs_for_default_only(
    app, secrets, database_url
):
    """GARDIEN_WEBHOOK_SECRET set, later, to a secret stored for another site."""
    shop_secret = add_site(app, "shop")
    changed = create_app({**secrets, "WEBHOOK_SECRET": shop_secret, "DATABASE_URL": database_url,
                          "TESTING": True})
    from support.signing import signed_headers

    def status(site):
        headers = signed_headers(shop_secret, b"", at=T0, site=site)
        with clock.frozen(T0):
            return changed.test_client().get("/v1/status", headers=headers).status_code

    assert (status("default"), status("shop")) == (200, 401)
    with changed.app_context():
        db.engine.dispose()


@pytest.fixture
def statements(app):
    """Count the SQL statements the app's engine runs."""
    executed = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        executed.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield executed
    event.remove(engine, "before_cursor_execute", count)


def test_looking_up_any_site_costs_no_query_once_the_registry_is_loaded(app, send, statements):
    """Reproduced: each unknown slug cost a query (only known ones were cached)."""
    shop_secret = add_site(app, "shop")
    add_site(app, "closed")
    with app.app_context():
        sites.disable("closed", "cli:test")
        db.session.commit()
    wrong = new_webhook_secret()
    with clock.frozen(T0):
        assert send("/v1/status", method="GET", site="shop", secret=shop_secret).status_code == 200
        statements.clear()
        for site in (f"unknown-{uuid.uuid4().hex[:8]}", "closed", "shop", None):
            assert send("/v1/contact", contact(), site=site, secret=wrong).status_code == 401
        assert statements == []


def test_a_change_reaches_every_worker_within_the_cache_period(app, send, secrets, database_url):
    """Another process (the CLI) disables a site: this worker sees it once its registry is
    older than SITE_CACHE_SECONDS, not before."""
    shop_secret = add_site(app, "shop")
    period = timedelta(seconds=app.config["SITE_CACHE_SECONDS"])
    other = create_app({**secrets, "DATABASE_URL": database_url, "TESTING": True})

    def status_at(moment):
        with clock.frozen(moment):
            return send("/v1/status", method="GET", site="shop", secret=shop_secret).status_code

    assert status_at(T0) == 200
    with other.app_context():
        sites.disable("shop", "cli:test")
        db.session.commit()
        db.engine.dispose()
    assert status_at(T0 + period - timedelta(seconds=1)) == 200
    assert status_at(T0 + period) == 401


def test_a_site_removed_while_a_worker_still_knows_it_gets_401(app, send, secrets, database_url):
    shop_secret = add_site(app, "shop")
    other = create_app({**secrets, "DATABASE_URL": database_url, "TESTING": True})
    with clock.frozen(T0):
        assert send("/v1/contact", contact(), site="shop", secret=shop_secret).status_code == 201
        with other.app_context():
            sites.remove("shop", "cli:test")
            db.session.commit()
            db.engine.dispose()
        for path, body in (("/v1/contact", contact()), ("/v1/stats/events", page_views(T0))):
            answer = send(path, body, site="shop", secret=shop_secret)
            assert (answer.status_code, answer.get_json()["error"]) == (401, "unauthorized")


def test_last_deliveries_come_from_the_idempotency_keys(app, send):
    at = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        assert sites.last_deliveries() == {}
    with clock.frozen(at):
        send("/v1/contact", {"name": "J", "email": "j@example.fr", "message": "m"})
    with app.app_context():
        assert sites.last_deliveries() == {1: at}
