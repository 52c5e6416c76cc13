"""The deployed shapes (``python -m bench.topology``): nginx in front, and two app servers.

1. Signed contact requests and statistics batches through nginx running deploy/nginx.conf
   (TLS 1.3, its private access log, its body limits; Debian's nginx, one worker, started
   by ``tests/support/nginx.py``) next to the same gunicorn reached directly, in the same
   run. The shipped ``limit_req`` lines are taken out (else nginx would measure its own
   limits and answer 429); every other line stays.
2. The same requests through two app servers (two gunicorn processes, 2 sync workers
   each, on separate ports) on one PostgreSQL, the load split between them (two wrk
   processes at once, half the connections each), next to one app server on the same
   PostgreSQL. The PostgreSQL syncs its log as a real server does (``fsync=on``,
   ``synchronous_commit`` as the service sets it), unlike the test suite's.

Every row is a ratio to its baseline measured in the same run; a non-2xx answer means the
benchmark is wrong (a limit, a repeated id, a refused body), and fails it.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import psycopg

from webhook_app.config import new_secrets

from . import contact, stats
from .harness import (
    ROOT,
    Run,
    Server,
    free_port,
    gardien_env,
    median,
    median_run,
    print_table,
    signed_requests,
    wrk,
    wrk_at_once,
)

REPEATS = 3
CONNECTIONS = 8
APP = "webhook_app:create_app()"
# nginx's request limits (deploy/nginx.conf): out for the benchmark. A rewrite that must
# apply, as tests/support/nginx.py's: a renamed directive fails here, not silently.
LIMIT_REQ = r"^[ \t]*limit_req zone=[^;]*;[ \t]*\n"


@dataclass
class Load:
    """One kind of request: its row label, path, bodies, ids per run and seconds per run."""

    label: str
    path: str
    bodies: list[str]
    per_run: int
    seconds: int


def loads() -> list[Load]:
    """Contact submissions (bench.contact's bodies) and batches of 500 page views
    (bench.stats's), each as those benchmarks send them."""
    now = datetime.now(UTC)
    return [
        Load("signed POST /v1/contact", "/v1/contact",
             [contact.submission(n).decode() for n in range(1000)],
             contact.REQUESTS_PER_RUN, contact.SECONDS),
        Load(f"signed POST /v1/stats/events ({stats.BATCH} page views)", "/v1/stats/events",
             [stats.batch_body(seed, now) for seed in range(stats.DISTINCT_BODIES)],
             stats.REQUESTS_PER_RUN, stats.SECONDS),
    ]  # fmt: skip


def support() -> tuple[ModuleType, ModuleType]:
    """tests/support's nginx and PostgreSQL helpers, shared with the test suite."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from support import nginx, postgres

    return nginx, postgres


def nginx_config(shipped: Path) -> str:
    """deploy/nginx.conf without its ``limit_req`` lines (the zones stay declared)."""
    text, count = re.subn(LIMIT_REQ, "", shipped.read_text(), flags=re.MULTILINE)
    if not count:
        raise RuntimeError("deploy/nginx.conf has no `limit_req zone=` lines: update "
                           "bench/topology.py")
    return text


def checked(load: Load, run: Run) -> Run:
    """A run that sent fewer requests than there are ids (a repeated id would be answered
    from the idempotency table: cheaper, and not intake)."""
    if run.rate * load.seconds > load.per_run:
        raise RuntimeError(f"{load.label}: more requests than ids: raise its per-run count")
    return run


def combined(runs: list[Run]) -> Run:
    """Runs at the same time as one: rates and non-2xx added, the median of the p50s (of
    two: their mean) and the worst p99."""
    return Run(
        rate=sum(run.rate for run in runs),
        p50_ms=median([run.p50_ms for run in runs]),
        p99_ms=max(run.p99_ms for run in runs),
        non2xx=sum(run.non2xx for run in runs),
        requests=sum(run.requests for run in runs),
    )


def check_stored(label: str, stored: int, runs: list[Run], connections: int) -> None:
    """Every contact answer wrk counted stored one message (wrk counts a 3xx as a
    success: this catches one), give or take the requests in flight when each run
    stopped (answered after wrk stopped counting)."""
    answered = sum(run.requests for run in runs)
    if not answered <= stored <= answered + connections * len(runs):
        raise RuntimeError(f"{label}: {answered} answers counted, {stored} messages stored")


def row(label: str, run: Run, baseline: Run) -> list[str]:
    return [label, f"{run.rate:,.1f}", f"{run.p50_ms:.2f}", f"{run.p99_ms:.2f}",
            f"{run.rate / baseline.rate:.2f}", str(run.non2xx)]  # fmt: skip


HEADER = ["route", "req/s", "p50 ms", "p99 ms", "ratio to baseline", "non-2xx"]


def through_nginx(work: Path, settings: dict[str, str]) -> list[list[str]]:
    """Direct and through-nginx runs of each load on one gunicorn (SQLite), interleaved."""
    nginx_support, _ = support()
    _, env = gardien_env(work / "nginx.db", settings)
    server = Server(APP, free_port(), env).wait("/healthz")
    port = int(server.url.rsplit(":", 1)[1])
    proxy = None
    try:
        proxy = nginx_support.prepared_nginx(port, nginx_config(nginx_support.SHIPPED)).start()
        routes = {"direct": server.url, "nginx": proxy.url}
        the_loads = loads()
        runs: dict[tuple[str, str], list[Run]] = {}
        warm = signed_requests(work / "warm.tsv", the_loads[1].path,
                               settings["WEBHOOK_SECRET"], the_loads[1].bodies[:1], 4)
        wrk(server.url, warm, 2, connections=2)  # the workers load their data sets
        for repeat in range(REPEATS):
            stats.log(f"topology: nginx run {repeat + 1}/{REPEATS}")
            for load in the_loads:
                # Each order in turn, so that neither route always runs on a fresher file.
                for route, url in sorted(routes.items(), reverse=repeat % 2 == 1):
                    lines = signed_requests(work / "lines.tsv", load.path,
                                            settings["WEBHOOK_SECRET"], load.bodies,
                                            load.per_run)
                    run = checked(load, wrk(url, lines, load.seconds, CONNECTIONS))
                    runs.setdefault((load.label, route), []).append(run)
    finally:
        if proxy is not None:
            proxy.stop()
            proxy.remove()
        server.stop()
    with sqlite3.connect(work / "nginx.db") as connection:
        (stored,) = connection.execute("SELECT count(*) FROM contact_messages").fetchone()
    contact_runs = [run for (label, _), some in runs.items() if label == the_loads[0].label
                    for run in some]
    check_stored("through nginx", stored, contact_runs, CONNECTIONS)
    rows = []
    for load in the_loads:
        direct = median_run(runs[(load.label, "direct")])
        behind = median_run(runs[(load.label, "nginx")])
        rows.append(row(f"{load.label}, gunicorn directly", direct, direct))
        rows.append(row(f"{load.label}, through nginx (TLS 1.3)", behind, direct))
    return rows


def two_servers(work: Path, settings: dict[str, str]) -> list[list[str]]:
    """One app server, then two with the load split, on one PostgreSQL, interleaved."""
    _, postgres_support = support()
    database = postgres_support.PrivatePostgres(durable=True).start()
    servers: list[Server] = []
    try:
        database.sql("CREATE DATABASE gardien_bench")
        _, env = gardien_env(database.url("gardien_bench"), settings)
        servers = [Server(APP, free_port(), env).wait("/healthz") for _ in range(2)]
        the_loads = loads()
        runs: dict[tuple[str, int], list[Run]] = {}
        for server in servers:
            warm = signed_requests(work / "warm.tsv", the_loads[1].path,
                                   settings["WEBHOOK_SECRET"], the_loads[1].bodies[:1], 4)
            wrk(server.url, warm, 2, connections=2)
        for repeat in range(REPEATS):
            stats.log(f"topology: PostgreSQL run {repeat + 1}/{REPEATS}")
            for load in the_loads:
                # Each order in turn, so that neither shape always runs on a larger table.
                for count in (1, 2) if repeat % 2 == 0 else (2, 1):
                    files = [
                        signed_requests(work / f"lines{n}.tsv", load.path,
                                        settings["WEBHOOK_SECRET"], load.bodies, load.per_run)
                        for n in range(count)
                    ]
                    split = wrk_at_once([(server.url, file) for server, file in zip(
                        servers, files, strict=False)], load.seconds, CONNECTIONS // count)
                    for run in split:
                        checked(load, run)
                    runs.setdefault((load.label, count), []).append(combined(split))
        with psycopg.connect(database.url("gardien_bench").replace("+psycopg", "")) as conn:
            (stored,) = conn.execute("SELECT count(*) FROM contact_messages").fetchone()
        contact_runs = [run for (label, _), some in runs.items() if label == the_loads[0].label
                        for run in some]
        check_stored("two app servers", stored, contact_runs, CONNECTIONS)
    finally:
        for server in servers:
            server.stop()
        database.stop()
    rows = []
    for load in the_loads:
        one = median_run(runs[(load.label, 1)])
        two = median_run(runs[(load.label, 2)])
        rows.append(row(f"{load.label}, one app server", one, one))
        rows.append(row(f"{load.label}, two app servers", two, one))
    return rows


def main() -> None:
    """Print the two tables; fail when any answer was not 2xx."""
    work = Path(tempfile.mkdtemp(prefix="gardien-bench-topology-"))
    settings = new_secrets()
    proxied = through_nginx(work, settings)
    print_table(
        f"Through nginx (deploy/nginx.conf without limit_req, 1 worker, TLS 1.3, keep-alive "
        f"client) vs gunicorn -w 2 directly, SQLite, wrk -t1 -c{CONNECTIONS}, median of "
        f"{REPEATS}",
        HEADER, proxied,
    )
    scaled = two_servers(work, settings)
    print_table(
        f"Two app servers (2 x gunicorn -w 2) vs one, one PostgreSQL 15 (fsync on), "
        f"wrk -c{CONNECTIONS} in all (two servers: two wrk -c{CONNECTIONS // 2} at once; "
        f"req/s added, p50 their mean, p99 the worse), median of {REPEATS}",
        HEADER, scaled,
    )
    failed = [line[0] for line in proxied + scaled if line[-1] != "0"]
    if failed:
        raise RuntimeError(f"non-2xx answers (the benchmark is wrong): {failed}")


if __name__ == "__main__":
    main()
