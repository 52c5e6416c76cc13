"""Export and erase reach the visit statistics that still hold an address in clear.

The rows are inserted directly, as rows stored before redaction existed (or that it
missed) would be: raw page views and page and search rollups, in every case and with the
``@`` encoded, beside rows of other people and of another site that must stay.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, text

from webhook_app import clock, privacy, sites
from webhook_app.crypto import email_index
from webhook_app.extensions import db
from webhook_app.models import AuditEntry
from webhook_app.stats.models import StatsEvent, StatsRollup

EMAIL = "jeanne_martin@example.fr"
AT = datetime(2026, 3, 2, 9, 0)
DAY = date(2026, 3, 1)
# "_" is a LIKE wildcard: an unescaped search for EMAIL would find this other person.
SOMEONE_ELSE = "jeannexmartin@example.fr"


def event(site_id: int = 1, path: str = "/", terms: str | None = None, at=AT) -> dict:
    return {"site_id": site_id, "occurred_at": at, "path": path, "search_terms": terms,
            "country": "FR", "channel": "direct", "referrer_host": None,
            "visitor_hash": "0123456789abcdef"}  # fmt: skip


def rollup_row(dimension: str, value: str, site_id: int = 1, visits: int = 3) -> dict:
    return {"site_id": site_id, "day": DAY, "dimension": dimension, "value": value,
            "visits": visits, "visitors": 2}  # fmt: skip


def store_old_rows(other_site: int) -> None:
    """Eight rows that mention EMAIL on site 1, and six that do not."""
    events = [
        event(path="/commande/Jeanne_Martin@Example.FR/"),
        event(terms="jeanne_martin@example.fr"),
        event(terms="devis jeanne_martin%40example.fr merci"),
        event(path="/compte/JEANNE_MARTIN%40EXAMPLE.FR/", terms="x"),
        event(path=f"/commande/{SOMEONE_ELSE}/"),
        event(path="/services/", terms="jeanne martin"),
        event(site_id=other_site, terms=EMAIL),
    ]
    rollups = [
        rollup_row("page", "/commande/Jeanne_Martin@Example.FR/"),
        rollup_row("search", "jeanne_martin@example.fr", visits=5),
        rollup_row("search", "jeanne_martin%40example.fr"),
        rollup_row("search", "rappel jeanne_martin@example.fr"),
        rollup_row("search", SOMEONE_ELSE),
        rollup_row("referrer", "jeanne_martin@example.fr"),
        rollup_row("search", EMAIL, site_id=other_site),
    ]
    connection = db.session.connection()
    connection.execute(StatsEvent.__table__.insert(), events)
    connection.execute(StatsRollup.__table__.insert(), rollups)
    db.session.commit()


def other_site_id() -> int:
    sites.add("autre")
    return db.session.scalar(text("SELECT id FROM sites WHERE slug = 'autre'"))


def test_export_lists_the_statistics_that_hold_the_address(app, send):
    with app.app_context():
        store_old_rows(other_site_id())
    response = send("/v1/privacy/export", {"email": " Jeanne_Martin@EXAMPLE.fr ", "page": 1})
    answer = response.get_json()
    assert response.status_code == 200 and answer["done"] is True
    items = answer["data"]
    assert {item["group_id"] for item in items} == {"visit-statistics"}
    assert {item["group_label"] for item in items} == {"Statistiques de visite"}
    assert len(items) == 8
    values = [{pair["name"]: pair["value"] for pair in item["data"]} for item in items]
    assert values[0] == {"Date": "2026-03-02", "Page": "/commande/Jeanne_Martin@Example.FR/",
                         "Recherche sur le site": "", "Visites": "1"}  # fmt: skip
    assert {"Date": "2026-03-01", "Recherche sur le site": "jeanne_martin@example.fr",
            "Visites": "5"} in values  # fmt: skip
    assert not any(SOMEONE_ELSE in str(value) for value in values)
    assert [item["item_id"].split("-")[1] for item in items].count("day") == 4


def test_export_pages_the_statistics_after_the_other_groups(app, store_message):
    with app.app_context():
        store_message(EMAIL, at=clock.as_utc(AT))
        db.session.connection().execute(
            StatsEvent.__table__.insert(),
            [event(terms=EMAIL, at=AT + timedelta(minutes=n)) for n in range(150)],
        )
        db.session.connection().execute(
            StatsRollup.__table__.insert(),
            [rollup_row("search", f"{EMAIL} {n}") for n in range(60)],
        )
        db.session.commit()
        pages = [privacy.export_page(1, EMAIL, page, actor="test") for page in (1, 2, 3)]
    assert [len(page["data"]) for page in pages] == [100, 100, 11]
    assert [page["done"] for page in pages] == [False, False, True]
    ids = [item["item_id"] for page in pages for item in page["data"]]
    assert ids[0].startswith("contact-") and len(set(ids)) == 211
    assert [i.split("-")[0] for i in ids[1:]] == ["visit"] * 210
    assert sum(i.startswith("visit-day-") for i in ids) == 60


def test_erase_removes_them_and_nothing_else(app, send):
    with app.app_context():
        other = other_site_id()
        store_old_rows(other)
    response = send("/v1/privacy/erase", {"email": "JEANNE_MARTIN@example.fr", "page": 1})
    answer = response.get_json()
    assert response.status_code == 200
    assert answer == {"items_removed": True, "items_retained": False, "messages": [],
                      "done": True}  # fmt: skip
    with app.app_context():
        events = db.session.execute(
            select(StatsEvent.site_id, StatsEvent.path, StatsEvent.search_terms)
        ).all()
        rollups = db.session.execute(
            select(StatsRollup.site_id, StatsRollup.dimension, StatsRollup.value)
        ).all()
        assert sorted(events, key=str) == sorted([
            (1, f"/commande/{SOMEONE_ELSE}/", None), (1, "/services/", "jeanne martin"),
            (other, "/", EMAIL),
        ], key=str)  # fmt: skip
        assert sorted(rollups, key=str) == sorted([
            (1, "search", SOMEONE_ELSE), (1, "referrer", "jeanne_martin@example.fr"),
            (other, "search", EMAIL),
        ], key=str)  # fmt: skip
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "privacy.erase")
        ).all()
        assert entry.subject == email_index(EMAIL)
        assert sorted(entry.record_ids)[0].startswith("stats_event:")
        assert len(entry.record_ids) == 8
        audit = str(db.session.execute(text("SELECT * FROM audit_log")).all()).lower()
        assert "jeanne" not in audit and "example" not in audit
    again = send("/v1/privacy/erase", {"email": EMAIL, "page": 2}).get_json()
    assert again["items_removed"] is False and again["done"] is True


def test_erase_pages_work_on_what_is_left(app, store_message):
    with app.app_context():
        for _ in range(30):
            store_message(EMAIL, at=clock.as_utc(AT))
        db.session.connection().execute(
            StatsEvent.__table__.insert(), [event(path=f"/c/{EMAIL}/{n}") for n in range(120)]
        )
        db.session.connection().execute(
            StatsRollup.__table__.insert(),
            [rollup_row("page", f"/c/{EMAIL}/{n}") for n in range(40)],
        )
        db.session.commit()
        answers = [privacy.erase_page(1, EMAIL, page, actor="test") for page in (1, 2, 3)]
        left = db.session.scalar(select(db.func.count()).select_from(StatsEvent))
        left += db.session.scalar(select(db.func.count()).select_from(StatsRollup))
        removed = db.session.scalars(
            select(AuditEntry.count).where(AuditEntry.action == "privacy.erase")
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
    assert [answer["done"] for answer in answers] == [False, True, True]
    assert removed == [100, 90, 0] and left == 0
