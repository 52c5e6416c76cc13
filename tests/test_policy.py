"""The policy file drives everything: published notice, expiry dates, purge."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from webhook_app import clients, clock, create_app, messages, notice, policy, privacy
from webhook_app.extensions import db
from webhook_app.models import ErasureTombstone, PrivacyRequest
from webhook_app.stats.rollup import ended_before

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 31, 8, 0, tzinfo=UTC)


def test_policy_endpoint_publishes_the_policy_file_in_french(send):
    response = send("/v1/policy", method="GET")
    assert response.status_code == 200
    document = response.get_json()
    assert document["language"] == "fr"
    by_key = {c["key"]: c for c in document["categories"]}
    assert {"contact", "legal_hold", "client", "invoice", "stats_event",
            "stats_rollup"} <= set(by_key)
    loaded = policy.load()
    for key, entry in by_key.items():
        assert entry["period"] == loaded[key].period
        assert entry["at_end"] == loaded[key].at_end
        assert entry["label"] in document["html"]
    assert by_key["contact"]["period_label"] == "1 an"
    assert by_key["stats_event"]["period_label"] == "25 mois"
    assert by_key["stats_rollup"]["period_label"] == "25 mois"
    assert by_key["client"]["at_end"] == "anonymise"
    assert {"name": "Murena (sauvegarde)", "country": "FI"} in by_key["client"]["recipients"]
    assert document["html"].startswith("<table") and "<script" not in document["html"]


def test_policy_endpoint_in_english_and_bad_language(send):
    english = send("/v1/policy?lang=en", method="GET").get_json()
    assert english["language"] == "en"
    assert {c["key"]: c["period_label"] for c in english["categories"]}["invoice"] == "20 years"
    bad = send("/v1/policy?lang=de", method="GET")
    assert bad.status_code == 422 and "lang" in bad.get_json()["fields"]


def test_status_endpoint(send):
    send("/v1/contact", {"name": "J", "email": "j@example.fr", "message": "m"})
    status = send("/v1/status", method="GET").get_json()
    assert status["messages"] == 1 and status["site"] == "default"
    assert status["next_purge_at"].endswith("03:30:00Z")


PERIODS = """
language = "fr"
[categories.contact]
period = "P2M"
starts = "receipt"
at_end = "delete"
[categories.legal_hold]
period = "P3Y"
starts = "flag"
at_end = "delete"
[categories.client]
period = "P4Y"
starts = "last_activity"
at_end = "anonymise"
[categories.invoice]
period = "P11Y"
starts = "invoice_date"
at_end = "delete"
[categories.stats_event]
period = "P13M"
starts = "visit"
at_end = "delete"
[categories.stats_rollup]
period = "P14M"
starts = "visit"
at_end = "delete"
[categories.idempotency_key]
period = "P2D"
starts = "receipt"
at_end = "delete"
[categories.audit]
period = "P6Y"
starts = "event"
at_end = "delete"
[categories.privacy_request]
period = "P2Y"
starts = "request"
at_end = "delete"
[categories.erasure_tombstone]
period = "P30D"
starts = "erasure"
at_end = "delete"
"""


def test_every_period_comes_from_the_policy_file(tmp_path, database_url, secrets):
    """Swap in unusual periods: every end date must follow; a hard-coded period would not."""
    texts = {"label": "x", "data": ["x"], "purpose": "x", "legal_basis": "x"}
    body = PERIODS.replace(
        'at_end = "', "\n".join(f'{k} = {{ fr = "x", en = "x" }}' for k in texts if k != "data")
        + '\ndata = { fr = ["x"], en = ["x"] }\nat_end = "'
    )
    custom = tmp_path / "policy.toml"
    custom.write_text(body)
    app = create_app({**secrets, "DATABASE_URL": database_url, "POLICY_FILE": str(custom)})
    from webhook_app.models import orm_transaction

    with app.app_context(), clock.frozen(T0):
        with orm_transaction() as connection:
            row = messages.receive(connection, 1, {"name": "J", "email": "j@example.fr",
                                                  "message": "m"})
            held = messages.receive(connection, 1, {"name": "K", "email": "k@example.fr",
                                                   "message": "m"})
        assert row["expires_at"] == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
        assert messages.hold(held["id"], "x", "t").expires_at == T0.replace(year=2029)
        client = messages.attach_to_client(row["id"], "t")
        assert client.anonymise_at == T0.replace(year=2030)
        invoice = clients.add_invoice(client.id, "F", T0, 1, actor="cli:test")
        assert invoice.expires_at == T0.replace(year=2037)
        erased = privacy.erase_page(1, "j@example.fr", 1, actor="test")
        assert ended_before(T0) == date(2024, 11, 30)
        request = db.session.scalar(db.select(PrivacyRequest))
        assert request.expires_at == T0.replace(year=2028)
        tombstone = db.session.scalar(db.select(ErasureTombstone))
        assert tombstone.expires_at == T0 + timedelta(days=30)
        db.engine.dispose()
    # The erasure's explanation states the policy's invoice period, not a written one.
    assert any("choisi 11 ans" in line for line in erased["messages"]), erased["messages"]


def test_texts_state_the_periods_of_the_policy_file():
    """A purpose that names the company's period renders it from `period`."""
    for language, label in (("fr", "20 ans"), ("en", "20 years")):
        published = notice.published(policy.load(), language)
        invoice = next(entry for entry in published["categories"] if entry["key"] == "invoice")
        assert f"{label}." in invoice["purpose"] and "{period}" not in invoice["purpose"]
        assert "{period}" not in published["html"]


def test_no_period_is_written_in_the_code():
    """Periods live only in policy.toml: no literal durations of the seed in Python."""
    suspicious = re.compile(
        r"timedelta\((days|weeks)=\s*\d{2,}|relativedelta\(|\b(365|366|730|1095|1825)\b"
        r"|[\"']P\d+[YMWD][\"']|years=\s*\d"
    )
    for path in sorted((ROOT / "webhook_app").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not suspicious.search(line), f"{path.name}:{number} writes a period: {line}"


@pytest.mark.parametrize("key", ["contact", "legal_hold", "client", "invoice", "stats_event",
                                 "stats_rollup", "idempotency_key", "audit",
                                 "privacy_request"])
def test_seed_periods(key):
    expected = {"contact": "P1Y", "legal_hold": "P5Y", "client": "P3Y", "invoice": "P20Y",
                "stats_event": "P25M", "stats_rollup": "P25M", "idempotency_key": "P7D",
                "audit": "P5Y", "privacy_request": "P3Y"}
    assert policy.load()[key].period == expected[key]
