"""``POST /v1/stats/events``: batch shape, partial acceptance, bots, replays."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pageviews import GOOGLEBOT, NOON, page_view
from sqlalchemy import func, select

from webhook_app import clock
from webhook_app.extensions import db
from webhook_app.stats.models import StatsDay, StatsEvent
from webhook_app.stats.schemas import EventsAcceptedSchema


def stored(app) -> list[StatsEvent]:
    with app.app_context():
        return list(db.session.scalars(select(StatsEvent).order_by(StatsEvent.id)))


def test_a_batch_is_stored_reduced(app, post_events):
    with clock.frozen(NOON):
        response = post_events([
            page_view("https://example.fr/services/?s=D%C3%A9pannage+imprimante&utm_x=1",
                      referrer="https://www.google.fr/search?q=secret", ip="90.0.0.1"),
            page_view("https://example.fr/contact/", referrer="https://example.fr/services/",
                      ip="2003::1"),
            page_view("https://example.fr/", ip=None, user_agent=None),
        ])  # fmt: skip
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 3, "bots": 0, "rejected": []}
    rows = stored(app)
    assert [(r.path, r.search_terms, r.country, r.channel, r.referrer_host) for r in rows] == [
        ("/services/", "dépannage imprimante", "FR", "search", "google.fr"),
        ("/contact/", None, "DE", "internal", None),
        ("/", None, None, "direct", None),
    ]
    assert all(len(r.visitor_hash) == 16 and r.site_id == 1 for r in rows)
    assert rows[0].occurred_at == NOON - timedelta(seconds=1)


def test_bots_are_counted_not_stored(app, post_events):
    response = post_events([page_view(user_agent=GOOGLEBOT), page_view(), page_view()])
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 2, "bots": 1, "rejected": []}
    assert len(stored(app)) == 2


BAD_EVENTS = [
    ("not an object", "203.0.113.9", "_schema"),
    ({"url": "https://example.fr/"}, None, "ts"),
    ({"ts": "2026-11-20T11:00:00Z"}, None, "url"),
    ({"ts": "2026-11-20T11:00:00", "url": "https://example.fr/"}, None, "ts"),
    ({"ts": "yesterday", "url": "https://example.fr/"}, None, "ts"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "ftp://example.fr/"}, None, "url"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "/relative/path/"}, None, "url"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://[::1/broken"}, None, "url"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/", "ip": "203.0.113.999"},
     "203.0.113.999", "ip"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/", "ip": "2001:db8::zz"},
     "2001:db8::zz", "ip"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/", "ip": 3405803785},
     "3405803785", "ip"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/",
      "user_agent": "Mozilla/5.0 Zorglub " + "x" * 1000}, "Zorglub", "user_agent"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/",
      "referrer": "https://ref.example/" + "r" * 2048}, "ref.example", "referrer"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/", "ip": "203.0.113.7",
      "203.0.113.8": True}, "203.0.113", "_schema"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/", "cookie": "abc"},
     "cookie", "_schema"),
    ({"ts": "2026-11-20T12:06:00Z", "url": "https://example.fr/"}, None, "ts"),
    ({"ts": "2024-10-22T11:59:59Z", "url": "https://example.fr/"}, None, "ts"),
    ({"ts": "0001-01-01T00:00:00+01:00", "url": "https://example.fr/"}, None, "ts"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/\u0000"}, None, "url"),
    ({"ts": "2026-11-20T11:00:00Z", "url": "https://example.fr/",
      "referrer": "https://bl\u0000og.example/"}, "bl", "referrer"),
]  # fmt: skip


@pytest.mark.parametrize(("event", "secret", "field"), BAD_EVENTS)
def test_a_bad_page_view_is_rejected_alone(app, post_events, event, secret, field):
    with clock.frozen(NOON):
        response = post_events([page_view(), event, page_view(ip="203.0.113.7")])
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["accepted"] == 2 and answer["bots"] == 0
    assert [r["index"] for r in answer["rejected"]] == [1]
    assert field in answer["rejected"][0]["fields"]
    if secret is not None:
        assert secret not in response.get_data(as_text=True)
    assert len(stored(app)) == 2


def test_late_and_early_bounds(app, post_events):
    with clock.frozen(NOON):
        response = post_events([
            {"ts": "2026-11-20T12:04:59Z", "url": "https://example.fr/"},
            {"ts": "2024-10-22T12:00:01Z", "url": "https://example.fr/"},
            {"ts": "2026-11-20T13:00:00+01:00", "url": "https://example.fr/"},
        ])
    assert response.get_json() == {"accepted": 3, "bots": 0, "rejected": []}


def test_every_index_is_accounted_for_in_a_full_batch(app, post_events):
    events = []
    for number in range(500):
        if number % 50 == 0:
            events.append({"url": "https://example.fr/"})
        elif number % 10 == 0:
            events.append(page_view(user_agent=GOOGLEBOT))
        else:
            events.append(page_view(f"https://example.fr/page-{number % 7}/",
                                    ip=f"90.0.{number // 250}.{number % 250}"))
    response = post_events(events)
    assert response.status_code == 202
    answer = response.get_json()
    assert (answer["accepted"], answer["bots"], len(answer["rejected"])) == (450, 40, 10)
    assert [r["index"] for r in answer["rejected"]] == list(range(0, 500, 50))
    assert EventsAcceptedSchema().validate(answer) == {}, "the published shape"
    assert len(stored(app)) == 450


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([page_view()], "_schema"),
        ({}, "events"),
        ({"events": {"0": page_view()}}, "events"),
        ({"events": None}, "events"),
        ({"events": [page_view()], "site": "other"}, "_schema"),
        ({"events": [page_view()] * 501}, "events"),
    ],
)
def test_a_bad_batch_is_refused_whole(app, post_events, send, payload, field):
    response = send("/v1/stats/events", payload)
    assert response.status_code == 422
    assert response.get_json()["error"] == "validation_failed"
    assert field in response.get_json()["fields"]
    assert stored(app) == []


def test_an_empty_batch_is_fine(post_events):
    response = post_events([])
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 0, "bots": 0, "rejected": []}


def test_body_limit_is_one_mebibyte(app, send):
    padding = "p" * 2000
    events = [page_view(referrer=f"https://ref.example/{padding}") for _ in range(500)]
    body = json.dumps({"events": events}).encode()
    assert len(body) > 1024 * 1024
    assert send("/v1/stats/events", body).status_code == 413
    fits = json.dumps({"events": events[:400]}).encode()
    assert len(fits) < 1024 * 1024
    assert send("/v1/stats/events", fits).status_code == 202


def test_unsigned_batch_is_refused(client):
    response = client.post("/v1/stats/events", json={"events": [page_view()]})
    assert response.status_code == 401


def test_a_replayed_batch_is_not_counted_twice(app, post_events):
    events = [page_view(), page_view(user_agent=GOOGLEBOT), {"url": "x"}]
    first = post_events(events, msg_id="msg_stats_replay")
    again = post_events(events, msg_id="msg_stats_replay")
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert len(stored(app)) == 1
    other = post_events([page_view()], msg_id="msg_stats_replay")
    assert other.status_code == 409
    assert len(stored(app)) == 1


def test_days_are_registered_and_late_days_marked_changed(app, post_events):
    with clock.frozen(NOON):
        post_events([page_view(), page_view(at=NOON - timedelta(days=3))])
        post_events([page_view(), page_view(at=NOON - timedelta(days=3))])
    with app.app_context():
        days = {row.day.isoformat(): row.changes for row in db.session.scalars(select(StatsDay))}
        assert db.session.scalar(select(func.count()).select_from(StatsEvent)) == 4
    # Today is not marked; a day that is over is (its rollup must be summed again).
    assert days == {"2026-11-20": 0, "2026-11-17": 2}

