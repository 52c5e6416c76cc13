"""The audit log page: filters, keyset pages that neither skip nor repeat, CSV, and never a
piece of personal data."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

from conftest import csrf_token
from sqlalchemy import select

from webhook_app import audit, clock, managers, messages, sites
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Site

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
RECORD = re.compile(r"<code>rec-(\d+)</code>")


def older_link(body: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', body)
    return None if found is None else html.unescape(found.group(1))


def newer_link(body: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="prev">', body)
    return None if found is None else html.unescape(found.group(1))


def seed(app, n: int = 120) -> None:
    """``n`` entries, in bursts that share a time (ties broken by id), on two sites."""
    with app.app_context():
        sites.add("atelier")
        db.session.commit()
        site_ids = dict(db.session.execute(select(Site.slug, Site.id)).all())
        for number in range(n):
            with clock.frozen(T0 + timedelta(minutes=number // 7)):
                audit.record(
                    "message.flag" if number % 3 == 0 else "message.unflag",
                    actor=f"manager:{number % 2 + 1}", record_ids=[f"rec-{number}"],
                    site_id=site_ids["atelier"] if number % 4 == 0 else site_ids["default"],
                )
        db.session.commit()


def walk(client, start: str, follow, sizes: list[int] | None = None) -> list[list[int]]:
    """The record numbers on each page from ``start``, following ``follow``'s link (and
    the number of rows of each page in ``sizes``)."""
    pages, path = [], start
    while path:
        body = client.get(path).get_data(as_text=True)
        pages.append([int(n) for n in RECORD.findall(body)])
        if sizes is not None:
            sizes.append(body.count("<tr>") - 1)
        path = follow(body)
    return pages


def signed_in(client, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0 + timedelta(days=1)):
        sign_in(client, account)
    return account


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/audit", "/audit.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_pages_neither_skip_nor_repeat(app, client, make_manager, sign_in):
    seed(app)
    with clock.frozen(T0 + timedelta(days=1)):
        signed_in(client, make_manager, sign_in)
        forward = walk(client, "/audit?action=message.flag", older_link)
        sizes: list[int] = []
        everything = walk(client, "/audit", older_link, sizes)
        with app.app_context():
            total = len(db.session.scalars(select(AuditEntry.id)).all())
        # Back from the last page by the "newer" links gives the same pages.
        last = client.get("/audit").get_data(as_text=True)
        path = older_link(last)
        while path:
            body = client.get(path).get_data(as_text=True)
            path, last_path = older_link(body), path
        backward = walk(client, last_path, newer_link)
    flagged = [n for n in range(120) if n % 3 == 0]
    assert sorted(n for page in forward for n in page) == flagged
    # The manager's own entries (added, invited, signed in) are on the pages too.
    assert sizes == [50, 50, total - 100]
    numbers = [n for page in everything for n in page]
    assert numbers == sorted(range(120), reverse=True)  # newest first, ties by id
    assert backward == everything[::-1]


def test_filters(app, client, make_manager, sign_in):
    seed(app, 40)
    with clock.frozen(T0 + timedelta(days=1)):
        signed_in(client, make_manager, sign_in)

        def shown(query: str) -> set[int]:
            response = client.get("/audit?" + query)
            assert response.status_code == 200
            return set(map(int, RECORD.findall(response.get_data(as_text=True))))

        assert shown("actor=manager:2") == {n for n in range(40) if n % 2}
        assert shown("site=atelier") == {n for n in range(40) if n % 4 == 0}
        assert shown("action=message.unflag&site=atelier") == {
            n for n in range(40) if n % 4 == 0 and n % 3}
        day = (T0 + timedelta(days=1)).date()
        assert shown(f"start={T0.date()}&end={T0.date()}") == set(range(40))
        assert shown(f"start={day}") == set()
        assert shown(f"end={T0.date() - timedelta(days=1)}") == set()
        # The selected filters stay selected and carry over to the next page.
        body = client.get("/audit?action=message.flag&site=atelier").get_data(as_text=True)
        assert '<option selected value="message.flag">' in body
        assert '<option selected value="atelier">' in body
        assert client.get("/audit?start=yesterday").status_code == 400


def test_actions_in_words_and_known_actions_in_the_select(app, client, make_manager, sign_in):
    seed(app, 3)
    with clock.frozen(T0 + timedelta(days=1)):
        signed_in(client, make_manager, sign_in)
        body = client.get("/audit").get_data(as_text=True)
    assert "Message signalé comme illicite (conservation légale)" in body
    assert "Conservation légale levée" in body
    assert '<option value="purge.contact">Purge : Messages de contact</option>' in body
    assert '<option value="purge.run">Purge exécutée</option>' in body


def test_no_personal_data_on_the_page_or_in_the_csv(app, client, send, make_manager, sign_in):
    name, address, company = "Zéphyrine Quatremare", "zephyrine.q@exemple-unique.fr", "Qzx SARL"
    manager_address = "gerante.unique@clic-et-cetera.fr"
    account = make_manager(manager_address)
    with clock.frozen(T0):
        message_id = send("/v1/contact", {"name": name, "email": address, "company": company,
                                          "message": f"Je suis {name}"}).get_json()["id"]
        with app.app_context():
            manager = managers.get(account.id)
            actor = managers.actor(manager)
            messages.hold(message_id, f"menaces de {name}", actor)
            messages.release(message_id, actor)
            messages.rectify(message_id, {"name": name + " II", "email": "autre." + address},
                             actor)
            messages.attach_to_client(message_id, actor)
            db.session.commit()
        assert send("/v1/privacy/erase", {"email": address, "page": 1}).status_code == 200
        sign_in(client, account)
        body = client.get("/audit").get_data(as_text=True)
        exported = client.get("/audit.csv")
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    table = exported.get_data(as_text=True)
    for piece in (name, "Zéphyrine", "Quatremare", address, "exemple-unique", company,
                  manager_address, "gerante.unique"):
        assert piece not in body
        assert html.escape(piece) not in body
        assert piece not in table
    # What the page does show: the manager by number, the message by id, the action.
    assert f"<code>manager:{account.id}</code>" in body
    assert f"<code>{message_id}</code>" in body
    assert "Message converti en client" in body
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry)).all()
        subjects = {entry.subject for entry in entries if entry.subject}
    # Subjects only as the start of their blind index on the page; whole in the CSV.
    for subject in subjects:
        assert f"<code>{subject[:12]}…</code>" in body
        assert subject not in body
    rows = list(csv.reader(io.StringIO(table)))
    assert rows[0] == ["at", "actor", "action", "site", "count", "subject", "record_ids",
                       "detail"]
    assert len(rows) == 1 + len(entries)
    assert {row[2] for row in rows[1:]} == {entry.action for entry in entries}


def test_csv_follows_the_filters_and_defuses_formulas(app, client, make_manager, sign_in):
    seed(app, 10)
    with app.app_context(), clock.frozen(T0):
        audit.record("site.remove", actor="cli:test", detail="=HYPERLINK(1)")
        db.session.commit()
    with clock.frozen(T0 + timedelta(days=1)):
        signed_in(client, make_manager, sign_in)
        flagged = client.get("/audit.csv?action=message.flag").get_data(as_text=True)
        removed = client.get("/audit.csv?action=site.remove").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(flagged)))[1:]
    assert sorted(row[6] for row in rows) == sorted(f"rec-{n}" for n in range(10) if n % 3 == 0)
    assert list(csv.reader(io.StringIO(removed)))[1][7] == "'=HYPERLINK(1)"


def test_the_page_changes_nothing(app, client, make_manager, sign_in):
    seed(app, 5)
    with clock.frozen(T0 + timedelta(days=1)):
        signed_in(client, make_manager, sign_in)
        with app.app_context():
            before = db.session.scalars(select(AuditEntry.id)).all()
        client.get("/audit")
        client.get("/audit.csv")
        with app.app_context():
            assert db.session.scalars(select(AuditEntry.id)).all() == before
        assert csrf_token(client, "/audit")  # the page's own forms (language, sign-out)
