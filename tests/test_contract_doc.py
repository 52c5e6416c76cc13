"""``docs/CONTRACT.md``: the shared wire contract word for word, then the service's edge
cases; its tables and endpoints agree with the code."""

from __future__ import annotations

import hashlib
import re
import runpy
from pathlib import Path

from gunicorn.config import Config

from webhook_app import create_app
from webhook_app.config import DEFAULTS
from webhook_app.errors import CODES, RETRY_AFTER_UNAVAILABLE, SERVER_CODES

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = (ROOT / "docs" / "CONTRACT.md").read_text()
MARKER = "\n<!-- Everything above this line is the shared wire contract"
SHARED, _, ADDED = DOCUMENT.partition(MARKER)
# SHA-256 of the shared contract (the project's public interface). It changes only with
# that contract: copy the new text above the marker, then put its digest here.
SHARED_SHA256 = "b300b69f006901fb811b2a3a910a4766582144fdc354c3de86ce5ef83776b21a"
ROW = re.compile(r"^\| (\d{3}) \| `([a-z_]+)` \|", re.MULTILINE)


def section(text: str, heading: str) -> str:
    """The text under the ``## heading`` line, up to the next ``## `` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def prose(text: str) -> str:
    """``text`` with its line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


def table(text: str) -> dict[int, str]:
    return {int(status): code for status, code in ROW.findall(text)}


def test_the_shared_contract_is_kept_word_for_word():
    assert ADDED, "the marker before the service's additions is missing"
    digest = hashlib.sha256(SHARED.encode()).hexdigest()
    assert digest == SHARED_SHA256, "a line of the shared contract was changed or removed"
    headings = re.findall(r"^## (.+)$", DOCUMENT, re.MULTILINE)
    assert headings == [
        "1. Transport and authentication", "2. Errors", "3. Endpoints",
        "4. The plugin's promises", "5. Edge cases (added by the service)",
    ]


def test_the_error_table_is_the_one_the_code_answers():
    assert table(section(SHARED, "2. Errors")) == {s: code for s, (code, _) in CODES.items()}


def test_every_served_endpoint_is_in_the_contract_and_no_other(secrets):
    documented = {
        (method, path)
        for method, path in re.findall(r"^### (GET|POST) (/\S+?)(?:\?\S*)? ", SHARED, re.MULTILINE)
    }
    app = create_app({**secrets, "DATABASE_URL": "sqlite://"})
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served | {("GET", "/healthz")}
    assert "/healthz" in {rule.rule for rule in app.url_map.iter_rules()}


def test_the_server_refusals_are_the_ones_the_worker_answers():
    added = section(DOCUMENT, "5. Edge cases (added by the service)")
    assert table(added) == {s: code for s, (code, _) in SERVER_CODES.items()}
    added = prose(added)
    config = Config()
    for name, value in runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    assert config.worker_class_str == "webhook_app.worker.SyncWorker"
    assert f"request line is over {config.limit_request_line} bytes" in added
    assert f"more than {config.limit_request_fields} header fields" in added
    assert f"one over {config.limit_request_field_size} bytes" in added
    assert f"gunicorn's worker timeout ({config.timeout} s)" in added


def test_the_documented_waits_are_the_code_s():
    added = prose(section(DOCUMENT, "5. Edge cases (added by the service)"))
    request_wait, command_wait = (DEFAULTS[f"{n}DB_TIMEOUT_SECONDS"] for n in ("", "CLI_"))
    assert f"`GARDIEN_DB_TIMEOUT_SECONDS`, default {request_wait} seconds" in added
    assert f"`GARDIEN_CLI_DB_TIMEOUT_SECONDS`, default {command_wait} s" in added
    assert f"`Retry-After: {RETRY_AFTER_UNAVAILABLE}`" in added
    assert f"`503`, always {RETRY_AFTER_UNAVAILABLE}." in added
