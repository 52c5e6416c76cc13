"""WordPress's own export and erasure of personal data, answered by the real service through the
plugin's exporter and eraser (the same calls Tools → Export / Erase Personal Data make)."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import uuid
import zipfile

from helpers import store_messages, submit, visitor_message

MESSAGE_LABELS = {"Formulaire", "Reçu le", "Nom", "Adresse e-mail", "Message", "Conservé jusqu'au"}


def new_address() -> str:
    return f"claire.{uuid.uuid4().hex[:10]}@example.fr"


def test_export_holds_every_message_of_the_service_in_two_pages(site, gardien):
    email = new_address()
    # One through the plugin's own form, the rest as the outbox would have delivered them.
    fields = visitor_message(gardien_email=email)
    assert submit(site, fields).status_code == 303
    site.cron()  # WP-Cron delivers it
    texts = [fields["gardien_message"]] + [
        f"Demande n°{n} : l’imprimante du bureau {n} ne démarre plus." for n in range(2, 151)
    ]
    store_messages(gardien, email, texts[1:])

    export = site.cli("export-personal-data", {"email": email})

    assert "error" not in export, export
    gardien_pages = [
        (call["page"], call["items"], call["done"])
        for call in export["calls"]
        if call["exporter"] == "gardien"
    ]
    assert gardien_pages == [(1, 100, False), (2, 50, True)]
    with zipfile.ZipFile(export["zip"]) as archive:
        report = json.loads(archive.read("export.json"))
        index = archive.read("index.html").decode()
    [groups] = report.values()
    messages = groups["contact-messages"]
    assert messages["group_label"] == "Messages de contact"
    assert messages["group_description"] == "Messages envoyés par le formulaire de contact."
    assert len(messages["items"]) == 150
    assert all(item_id.startswith("contact-") for item_id in messages["items"])
    exported = []
    for item in messages["items"].values():
        values = {pair["name"]: pair["value"] for pair in item}
        assert MESSAGE_LABELS <= set(values), sorted(values)
        assert values["Adresse e-mail"] == email
        exported.append(values["Message"])
    assert sorted(exported) == sorted(texts)

    assert 'Messages de contact <span class="count">(150)</span>' in index
    assert index.count("<th>Reçu le</th>") == 150
    assert all(html.escape(text, quote=False) in index for text in texts)


def test_erasure_removes_what_it_may_and_explains_what_the_service_keeps(site, gardien):
    email = new_address()
    ids = store_messages(gardien, email, [f"Message {n} de Claire" for n in range(103)])
    held, converted = ids[0], ids[1]  # and 101 that nothing keeps
    flagged = gardien.flask("messages", "flag", held, "--reason", "Contenu illicite signalé")
    held_until = re.search(r"until (\d{4}-\d{2}-\d{2})T", flagged.stdout)[1]
    converted_to = gardien.flask("messages", "to-client", converted)
    client = re.search(r"client (\S+);", converted_to.stdout)[1]
    invoice = gardien.flask(
        "clients",
        "add-invoice",
        client,
        "--number",
        "F-1",
        "--date",
        "2026-06-15",
        "--amount",
        "120.50",
    )
    assert "kept until 2046-06-15" in invoice.stdout

    erasure = site.cli("erase-personal-data", {"email": email})

    assert "error" not in erasure, erasure
    pages = [call for call in erasure["calls"] if call["eraser"] == "gardien"]
    assert [page["done"] for page in pages] == [False, True], "101 erasable messages: two pages"
    assert all(page["items_removed"] for page in pages)
    assert any(page["items_retained"] for page in pages)
    # Escaped for core's screen, which inserts them as HTML.
    shown = [html.unescape(message) for page in pages for message in page["messages"]]
    assert any(
        "1 facture(s) conservée(s) jusqu'au 2046-06-15" in message
        and "obligation comptable" in message
        for message in shown
    ), shown
    assert any(
        f"1 message(s) conservé(s) jusqu'au {held_until}" in message
        and "contenu illicite" in message
        for message in shown
    ), shown
    assert erasure["status"] == "request-completed"

    with sqlite3.connect(gardien.database_path) as db:
        left = {
            row[0]
            for row in db.execute(
                f"SELECT id FROM contact_messages WHERE id IN ({','.join('?' * len(ids))})", ids
            )
        }
        invoices = db.execute(
            "SELECT invoices.number, invoices.amount_cents, clients.anonymised_at FROM invoices "
            "JOIN clients ON clients.id = invoices.client_id WHERE clients.id = ?",
            (client,),
        ).fetchall()
    assert left == {held}, "only the message under legal hold is left"
    assert [(number, cents) for number, cents, _ in invoices] == [("F-1", 12050)]
    assert invoices[0][2] is not None, "the client record is anonymised"


def test_an_address_only_wordpress_accepts_does_not_stop_the_request(site):
    # is_email() takes two dots in a row; the service answers 422: it cannot hold anything under it.
    email = f"jean..{uuid.uuid4().hex[:8]}@example.fr"

    export = site.cli("export-personal-data", {"email": email})
    erasure = site.cli("erase-personal-data", {"email": email})

    assert "error" not in export, export
    assert [c for c in export["calls"] if c["exporter"] == "gardien"] == [
        {"exporter": "gardien", "page": 1, "items": 0, "done": True}
    ]
    with zipfile.ZipFile(export["zip"]) as archive:
        [groups] = json.loads(archive.read("export.json")).values()
    assert "contact-messages" not in groups
    assert "error" not in erasure, erasure
    [page] = [call for call in erasure["calls"] if call["eraser"] == "gardien"]
    assert (page["items_removed"], page["items_retained"], page["done"]) == (False, False, True)
    assert page["messages"] == [
        "Gardien has no contact message from this address: its service does not accept it as an "
        "e-mail address."
    ]
    assert erasure["status"] == "request-completed"
