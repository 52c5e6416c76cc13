"""Visit statistics (``python -m bench.stats``): intake rate, per-event cost, the summary.

1. Signed ``POST /v1/stats/events`` batches of 500 page views through gunicorn (2 sync
   workers, SQLite), in events per second, next to bare Flask receiving the very same
   bodies (``bench.hello``) in the same run. wrk replays pre-signed requests and shares
   the 2 cores; its own cost is small (a few dozen requests per second).
2. CPU per page view of each intake step, in one process without HTTP.
3. The 30-day summary over 10,000,000 page views generated straight into SQLite (one
   executemany in one transaction), after the nightly rollup; then the same range ending
   today, with 1,000,000 page views today stored as intake stores them (raw rows and the
   counters of :func:`webhook_app.stats.ingest.count`, batches of 500).
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from webhook_app import create_app
from webhook_app.config import new_secrets
from webhook_app.extensions import db
from webhook_app.stats import ingest
from webhook_app.stats.derive import Deriver
from webhook_app.stats.models import StatsEvent
from webhook_app.stats.rollup import rollup
from webhook_app.stats.schemas import page_view
from webhook_app.stats.summary import summary

from .bench_derive import PAGES, REFERRERS, SEARCHES, cost_per_event, synthetic_events
from .harness import (
    Run,
    Server,
    free_port,
    gardien_env,
    median,
    median_run,
    print_table,
    signed_requests,
    wrk,
)

REPEATS = 3
SECONDS = 6
BATCH = 500
DISTINCT_BODIES = 24
# More requests than a run can send at the target rate and beyond, so no id repeats.
REQUESTS_PER_RUN = 480
TARGET_EVENTS_PER_SECOND = 10_000
SUMMARY_EVENTS = 10_000_000
SUMMARY_DAYS = 30
TARGET_SUMMARY_MS = 200
TODAY_EVENTS = 1_000_000
TARGET_TODAY_MS = 50
COST_EVENTS = 20_000


def log(message: str) -> None:
    """Progress on stderr, so the tables on stdout stay clean."""
    print(message, file=sys.stderr, flush=True)


def batch_body(seed: int, now: datetime) -> str:
    """A batch of 500 page views of the bench_derive mix (15 % crawlers), ``ts`` now."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    events = []
    for url, ip, agent, referrer, *_ in synthetic_events(BATCH, seed=seed):
        event = {"ts": stamp, "url": url}
        for key, value in (("ip", ip), ("user_agent", agent), ("referrer", referrer)):
            if value is not None:
                event[key] = value
        events.append(event)
    return json.dumps({"events": events}, ensure_ascii=False)


def intake_rates(work: Path) -> tuple[Run, Run]:
    """Median wrk runs of Gardien's intake and of bare Flask, on the same bodies."""
    settings, env = gardien_env(work / "intake.db")
    now = datetime.now(UTC)
    bodies = [batch_body(seed, now) for seed in range(DISTINCT_BODIES)]
    gardien = Server("webhook_app:create_app()", free_port(), env).wait("/healthz")
    bare = Server("bench.hello:create_app()", free_port(), {}).wait("/")
    runs: dict[str, list[Run]] = {"gardien": [], "bare": []}
    try:
        # One batch first, so the workers load the data sets before the clock runs.
        warm = signed_requests(work / "warm.tsv", "/v1/stats/events", settings["WEBHOOK_SECRET"],
                               bodies[:1], 4)
        wrk(gardien.url, warm, 2, connections=2)
        for repeat in range(REPEATS):
            log(f"intake run {repeat + 1}/{REPEATS}")
            lines = signed_requests(work / "stats.tsv", "/v1/stats/events",
                                    settings["WEBHOOK_SECRET"], bodies, REQUESTS_PER_RUN)
            runs["gardien"].append(_checked(wrk(gardien.url, lines, SECONDS)))
            lines = signed_requests(work / "hello.tsv", "/hello", settings["WEBHOOK_SECRET"],
                                    bodies, REQUESTS_PER_RUN)
            # Bare Flask ignores the ids, so replaying its lines more than once is fine.
            runs["bare"].append(wrk(bare.url, lines, SECONDS))
    finally:
        gardien.stop()
        bare.stop()
    return median_run(runs["gardien"]), median_run(runs["bare"])


def _checked(run: Run) -> Run:
    # A repeated id would be answered from the idempotency table: cheaper, and not intake.
    if run.rate * SECONDS > REQUESTS_PER_RUN:
        raise RuntimeError("wrk sent more requests than there are ids: raise REQUESTS_PER_RUN")
    if run.non2xx:
        raise RuntimeError(f"{run.non2xx} answers were not 2xx")
    return run


def step_costs(work: Path) -> list[list[str]]:
    """CPU µs per page view of validation, derivation and the whole intake function."""
    raw = synthetic_events(COST_EVENTS, seed=11)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [
        {"ts": stamp, "url": url, **({"ip": ip} if ip else {}),
         **({"user_agent": agent} if agent else {}), **({"referrer": ref} if ref else {})}
        for url, ip, agent, ref, *_ in raw
    ]  # fmt: skip
    deriver = Deriver()
    app = create_app({**new_secrets(), "DATABASE_URL": f"sqlite:///{work / 'steps.db'}"})
    rows = []
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()

        def intake(batch_start: tuple) -> None:
            ingest.receive(1, events[batch_start[0] : batch_start[0] + BATCH], now)
            db.session.commit()

        steps = {
            "validation (marshmallow, per event)": (lambda event: page_view.load(event), events),
            "derive() (bench_derive's mix)": (lambda args: deriver.derive(*args), raw),
            "ingest.receive() + commit, SQLite": (
                intake, [(start,) for start in range(0, COST_EVENTS, BATCH)]
            ),
        }
        for name, (step, inputs) in steps.items():
            runs = [cost_per_event(step, inputs) for _ in range(REPEATS)]
            if name.startswith("ingest"):
                runs = [run / BATCH for run in runs]
            middle = median(runs)
            rows.append([name, *(f"{run:.1f}" for run in runs), f"{middle:.1f}",
                         f"{1e6 / middle:,.0f}"])  # fmt: skip
        db.engine.dispose()
    return rows


def day_rows(rng: random.Random, day: date, per_day: int) -> Iterator[tuple]:
    """``per_day`` page views of site 1 on ``day``, in time order, as stats_events tuples
    (site, time, path, search, country, channel, referrer host, visitor hash).

    Pages follow a long tail (the home page and services first, 300 blog posts after),
    5 % of views are searches, a third of a day's views are distinct visitors.
    """
    pages = PAGES + [f"/blog/2026/{n:03}/billet-{n}/" for n in range(300)]
    page_weights = [1 / (rank + 1) for rank in range(len(pages))]
    countries = ["FR", "BE", "CH", "CA", "DE", "US", "GB", "ES", "IT", "MA", None]
    country_weights = [60, 4, 4, 4, 3, 3, 3, 2, 2, 2, 5]
    referrers = [_host(referrer) for referrer in REFERRERS]
    searches = [s.replace("+", " ").lower() for s in SEARCHES] + [f"terme {n}" for n in range(95)]
    search_weights = [1] * len(searches) + [19 * len(searches)]
    channels = ["search", "social", "website", "internal"]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    stamps = [
        start + timedelta(seconds=offset)
        for offset in sorted(rng.random() * 86_400 for _ in range(per_day))
    ]
    visitors = [f"{number:016x}" for number in range(max(1, per_day // 3))]
    referring = rng.choices(referrers, k=per_day)
    return zip(
        [1] * per_day,
        stamps,
        rng.choices(pages, page_weights, k=per_day),
        rng.choices([*searches, None], search_weights, k=per_day),
        rng.choices(countries, country_weights, k=per_day),
        [rng.choice(channels) if host else "direct" for host in referring],
        referring,
        rng.choices(visitors, k=per_day),
        strict=True,
    )


def generate(path: Path, days: list[date], per_day: int, seed: int) -> None:
    """Write ``per_day`` page views of site 1 on each of ``days`` straight into SQLite
    (:func:`day_rows`): one executemany in one transaction, with the days registered for
    the rollup (as days stored before counters were kept: the rollup sums them)."""
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")

    def rows():
        for day in days:
            for row in day_rows(rng, day, per_day):
                yield (*row[:1], row[1].replace(tzinfo=None).isoformat(" ", "microseconds"),
                       *row[2:])  # fmt: skip
            log(f"  generated {day}")

    with connection:
        connection.executemany(
            "INSERT INTO stats_events (site_id, occurred_at, path, search_terms, country, "
            "channel, referrer_host, visitor_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        connection.executemany(
            "INSERT OR IGNORE INTO stats_days (site_id, day, changes) VALUES (1, ?, 0)",
            [(day.isoformat(),) for day in days],
        )
    connection.close()


def ingest_today(today: date, per_day: int, seed: int) -> float:
    """Store today's page views as intake does, batch by batch: the raw rows and the
    counters (:func:`webhook_app.stats.ingest.count`), a commit each. Return the µs per
    page view of the counting alone."""
    rng = random.Random(seed)
    columns = [column.key for column in StatsEvent.__table__.columns if column.key != "id"]
    rows = day_rows(rng, today, per_day)
    now = datetime.combine(today, datetime.max.time(), tzinfo=UTC) - timedelta(hours=1)
    counting = 0.0
    while chunk := list(itertools.islice(rows, BATCH)):
        batch = [dict(zip(columns, row, strict=True)) for row in chunk]
        db.session.connection().execute(StatsEvent.__table__.insert(), batch)
        started = time.perf_counter()
        ingest.count(1, batch, now)
        counting += time.perf_counter() - started
        db.session.commit()
    return counting * 1e6 / per_day


def _host(referrer: str | None) -> str | None:
    from webhook_app.stats.channels import referrer_host

    return referrer_host(referrer)


def summary_times(work: Path) -> tuple[list[list[str]], dict[str, float]]:
    """Generate, roll up, and time the 30-day summary (median of REPEATS); then the same
    range ending today, a day of TODAY_EVENTS page views stored through ingest."""
    path = work / "summary.db"
    app = create_app({**new_secrets(), "DATABASE_URL": f"sqlite:///{path}"})
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in range(SUMMARY_DAYS, 0, -1)]
    per_day = SUMMARY_EVENTS // SUMMARY_DAYS
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    timings: dict[str, float] = {}
    log(f"generating {SUMMARY_EVENTS:,} page views over {SUMMARY_DAYS} days")
    started = time.perf_counter()
    generate(path, days, per_day, seed=3)
    timings["generate"] = time.perf_counter() - started
    rows = []
    with app.app_context():
        log("rolling up the 30 days")
        started = time.perf_counter()
        rolled = rollup()
        timings["rollup"] = time.perf_counter() - started
        name = f"30 days ending yesterday ({rolled} days rolled up)"
        rows.append(_timed_summary(name, days[0], days[-1], TARGET_SUMMARY_MS))
        log(f"storing today through ingest: {TODAY_EVENTS:,} page views")
        counting = ingest_today(today, TODAY_EVENTS, seed=4)
        name = f"30 days ending today ({TODAY_EVENTS:,} page views today, counted at ingest)"
        row = _timed_summary(name, days[1], today, TARGET_TODAY_MS)
        rows.append(row)
        rows.append(["  counting at ingest (ingest.count), per page view of today", "", "",
                     "", "", f"{counting:.1f} µs", ""])  # fmt: skip
        db.engine.dispose()
    return rows, timings


def _timed_summary(name: str, date_from: date, date_to: date, target_ms: float) -> list[str]:
    summary(1, date_from, date_to)  # warm the page cache, as a dashboard in use has it
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        answer = summary(1, date_from, date_to)
        runs.append((time.perf_counter() - started) * 1e3)
        db.session.rollback()
    middle = median(runs)
    verdict = "ok" if middle < target_ms else "MISSED"
    return [name, f"{answer['visits']:,}", *(f"{run:.1f}" for run in runs), f"{middle:.1f}",
            f"< {target_ms} ({verdict})"]  # fmt: skip


def main() -> None:
    """Run the three measurements and print one table each."""
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-stats-"))
    gardien, bare = intake_rates(work)
    events, bare_events = gardien.rate * BATCH, bare.rate * BATCH
    verdict = "ok" if events >= TARGET_EVENTS_PER_SECOND else "MISSED"
    print_table(
        f"Stats intake: batches of {BATCH} page views (15 % crawlers), gunicorn -w 2 (sync), "
        f"SQLite, wrk -t1 -c8 {SECONDS}s, median of {REPEATS} (wrk shares the 2 cores)",
        ["endpoint", "events/s", "req/s", "p50 ms", "p99 ms", "ratio to bare", "target"],
        [
            ["bare Flask POST /hello (same bodies)", f"{bare_events:,.0f}", f"{bare.rate:,.1f}",
             f"{bare.p50_ms:.1f}", f"{bare.p99_ms:.1f}", "1.00", ""],
            ["signed POST /v1/stats/events", f"{events:,.0f}", f"{gardien.rate:,.1f}",
             f"{gardien.p50_ms:.1f}", f"{gardien.p99_ms:.1f}", f"{events / bare_events:.2f}",
             f">= {TARGET_EVENTS_PER_SECOND:,} ({verdict})"],
        ],
    )  # fmt: skip
    log("measuring per-event CPU cost")
    print_table(
        f"Stats intake steps: CPU µs per page view, {COST_EVENTS:,} page views, one process",
        ["step", "run 1", "run 2", "run 3", "median", "events/s/core"],
        step_costs(work),
    )
    rows, timings = summary_times(work)
    print_table(
        f"Summary over {SUMMARY_EVENTS:,} generated page views of one site "
        f"(generated in {timings['generate']:.0f} s, rolled up in {timings['rollup']:.0f} s), "
        f"SQLite, ms, median of {REPEATS}",
        ["range", "visits", "run 1", "run 2", "run 3", "median", "target ms / note"],
        rows,
    )


if __name__ == "__main__":
    main()
