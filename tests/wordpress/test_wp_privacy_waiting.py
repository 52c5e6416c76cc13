"""WordPress's privacy tools cover what waits on the site: the exporter lists, and the eraser
deletes, the messages of the outbox (pending or refused) before the service receives them; an
unconfigured plugin answers "nothing held"; the service's erasure messages are escaped."""

from __future__ import annotations

import json
import threading
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import refused_with_conflict, submit, visitor_message
from wp_stack import PHP_DIR, ensure_running


def privacy_cli(site, command: str, payload: dict, service_url: str) -> dict:
    """A command of cli.php with the service URL replaced for that process only."""
    result = site.php(
        PHP_DIR / "privacy-cli.php",
        command,
        input=payload,
        env=site.env(GARDIEN_TEST_SERVICE_URL=service_url),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def waiting_addresses(site) -> list[str]:
    return [row["body"]["email"] for row in site.cli("open-outbox")]


def test_erasure_while_the_service_is_down_is_not_undone_by_a_later_delivery(site, gardien):
    gardien.stop()
    person = visitor_message()
    other = visitor_message()
    assert submit(site, person).status_code == 303
    assert submit(site, other).status_code == 303
    assert sorted(waiting_addresses(site)) == sorted(
        [person["gardien_email"], other["gardien_email"]]
    )

    # Tools → Erase Personal Data, through core's erasure path, in other capitals.
    erasure = site.cli("erase-personal-data", {"email": person["gardien_email"].upper()})

    # The service part cannot be done now: the request stays open, but nothing waits any more.
    assert erasure["error"] == "gardien_unreachable", erasure
    assert waiting_addresses(site) == [other["gardien_email"]]

    ensure_running(gardien)
    site.cli("travel", {"seconds": 3600})
    site.cron()
    assert site.cli("outbox")["rows"] == []
    held = site.cli("export-personal-data", {"email": person["gardien_email"]})
    assert "error" not in held, held
    with zipfile.ZipFile(held["zip"]) as archive:
        [groups] = json.loads(archive.read("export.json")).values()
    assert "contact-messages" not in groups, "nothing about that person reached the service"
    assert "gardien-waiting" not in groups
    delivered = site.cli("export-personal-data", {"email": other["gardien_email"]})
    with zipfile.ZipFile(delivered["zip"]) as archive:
        [groups] = json.loads(archive.read("export.json")).values()
    assert len(groups["contact-messages"]["items"]) == 1, "the other visitor's message arrived"


def test_export_lists_the_waiting_message_first_then_erasure_deletes_it(site, gardien):
    gardien.stop()
    person = visitor_message()
    assert submit(site, person).status_code == 303
    ensure_running(gardien)  # back, but the message waits for its next attempt (backoff)

    export = site.cli("export-personal-data", {"email": person["gardien_email"]})

    assert "error" not in export, export
    with zipfile.ZipFile(export["zip"]) as archive:
        [groups] = json.loads(archive.read("export.json")).values()
        index = archive.read("index.html").decode()
    gardien_groups = [key for key in groups if key in ("gardien-waiting", "contact-messages")]
    assert gardien_groups == ["gardien-waiting"]
    [item] = groups["gardien-waiting"]["items"].values()
    values = {pair["name"]: pair["value"] for pair in item}
    assert values["Message"] == person["gardien_message"]
    assert values["E-mail address"] == person["gardien_email"]
    assert values["Status"] == "Waiting on this site to be sent to the Gardien service"
    assert "Messages waiting to be sent (Gardien)" in index

    erasure = site.cli("erase-personal-data", {"email": person["gardien_email"]})

    assert "error" not in erasure, erasure
    [page] = [call for call in erasure["calls"] if call["eraser"] == "gardien"]
    assert page["items_removed"] is True
    assert page["messages"][0] == (
        "1 message from this address that was waiting on this site to be sent to Gardien "
        "was deleted."
    )
    assert erasure["status"] == "request-completed"
    assert site.cli("outbox")["rows"] == []


def test_an_unconfigured_plugin_holds_nothing_and_does_not_stop_core(site):
    email = f"personne.{uuid.uuid4().hex[:10]}@example.fr"

    export = privacy_cli(site, "export-personal-data", {"email": email}, "")
    erasure = privacy_cli(site, "erase-personal-data", {"email": email}, "")

    assert "error" not in export, export
    assert [c for c in export["calls"] if c["exporter"] == "gardien"] == [
        {"exporter": "gardien", "page": 1, "items": 0, "done": True}
    ]
    assert export["zip"], "core wrote the export file"
    assert "error" not in erasure, erasure
    [page] = [call for call in erasure["calls"] if call["eraser"] == "gardien"]
    assert (page["items_removed"], page["items_retained"], page["messages"], page["done"]) == (
        False,
        False,
        [],
        True,
    )
    assert erasure["status"] == "request-completed"


MARKUP = '<img src=x onerror="alert(1)"> 1 message kept <b>until</b> 2030'


class MarkupService(BaseHTTPRequestHandler):
    """A stand-in for one answer the real service cannot be made to give: markup in a message."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {"items_removed": False, "items_retained": True, "messages": [MARKUP], "done": True}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def markup_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), MarkupService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_service_erasure_messages_are_escaped(site, markup_service):
    erasure = privacy_cli(
        site,
        "erase-personal-data",
        {"email": f"personne.{uuid.uuid4().hex[:10]}@example.fr"},
        markup_service,
    )

    assert "error" not in erasure, erasure
    [page] = [call for call in erasure["calls"] if call["eraser"] == "gardien"]
    assert page["messages"] == [
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; 1 message kept "
        "&lt;b&gt;until&lt;/b&gt; 2030"
    ]


def test_a_message_the_service_refused_is_exported_and_erased_too(site, gardien):
    """A failed row (here a 409: its webhook-id was taken by another body) waits on the site for
    the administrator until its retention ends: it is the person's data all the same."""
    gardien.stop()
    person = visitor_message()
    assert submit(site, person).status_code == 303
    row = refused_with_conflict(site, gardien)
    assert (row["status"], row["last_status"]) == ("failed", "409")

    export = site.cli("export-personal-data", {"email": person["gardien_email"]})
    with zipfile.ZipFile(export["zip"]) as archive:
        [groups] = json.loads(archive.read("export.json")).values()
    [item] = groups["gardien-waiting"]["items"].values()
    values = {pair["name"]: pair["value"] for pair in item}
    assert values["Status"] == (
        "Refused by the Gardien service, kept on this site until it is deleted"
    )
    assert values["Message"] == person["gardien_message"]

    erasure = site.cli("erase-personal-data", {"email": person["gardien_email"]})
    assert "error" not in erasure, erasure
    assert erasure["status"] == "request-completed"
    assert site.cli("outbox")["rows"] == []
