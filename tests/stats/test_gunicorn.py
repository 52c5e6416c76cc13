"""Statistics through the real service: two gunicorn workers share one salt a day, and
neither the service log nor the database files hold an IP address or user agent."""

from __future__ import annotations

import concurrent.futures
import uuid
from datetime import UTC, datetime

import pytest
from leaks import IPV4, IPV6, MAPPED, USER_AGENTS, assert_nowhere
from pageviews import page_view
from support.gardien import start_gardien

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = start_gardien(tmp_path_factory.mktemp("gardien-stats"))
    yield running
    running.stop()


def test_workers_share_the_day_and_forget_the_addresses(service):
    now = datetime.now(UTC)
    visitors = [(ip, agent) for ip in (IPV4, IPV6, MAPPED) for agent in USER_AGENTS]
    batches = [
        [page_view(f"https://example.fr/page-{number}/", at=now, ip=ip, user_agent=agent)
         for ip, agent in visitors]
        for number in range(16)
    ]  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(
            lambda batch: service.signed("POST", "/v1/stats/events", {"events": batch},
                                         msg_id=str(uuid.uuid4())),
            batches,
        ))  # fmt: skip
    assert {answer.status_code for answer in answers} == {202}
    assert sum(answer.json()["accepted"] for answer in answers) == 16 * len(visitors)
    day = now.date().isoformat()
    summary = service.signed("GET", f"/v1/stats/summary?from={day}&to={day}").json()
    # Whichever worker took each batch, a visitor is one hash all day: one salt was used.
    assert summary["visits"] == 16 * len(visitors)
    assert summary["visitors"] == len(visitors)
    service.stop()
    log = service.log_path.read_bytes()
    assert b"/v1/stats/events" in log
    assert_nowhere(log, "the service log")
    files = [service.database_path, service.database_path.with_name("gardien.db-wal")]
    blob = b"".join(path.read_bytes() for path in files if path.exists())
    assert b"/page-15/" in blob
    assert_nowhere(blob, "the database files")
