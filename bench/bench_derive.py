"""CPU cost of deriving a visit (``python -m bench.bench_derive``), no HTTP, no database.

100,000 synthetic page views, a plausible mix for a small French business site: a third
without referrer, search engines, social networks, other sites, internal navigation,
campaign tags, WordPress searches, 15 % crawlers (taken from the crawler list's own
examples), IPv4, IPv6 and IPv4-mapped addresses, a few private ones. Each row is the CPU
time per event (``time.process_time``) of three runs and their median. The mix holds no
personal data, so redaction mostly takes its cheap exit; the last row is the cost of a
search that does hold a phone number.
"""

from __future__ import annotations

import ipaddress
import json
import random
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from webhook_app.stats.channels import own_host, referrer_host
from webhook_app.stats.crawlers import CRAWLERS_FILE
from webhook_app.stats.derive import Deriver
from webhook_app.stats.geo import parse_address
from webhook_app.stats.pages import page_of, query_parameters
from webhook_app.stats.visitor import visitor_hash

from .harness import median, print_table

EVENTS = 100_000
REPEATS = 3
SALT = bytes(32)
SITE = "bench-site"
SITE_HOST = "example.fr"

PAGES = [
    "/",
    "/services/",
    "/services/depannage-informatique/",
    "/contact/",
    "/tarifs/",
    "/blog/",
    "/blog/2026/11/sauvegarde-windows/",
    "/a-propos/",
    "/mentions-legales/",
    "/r%C3%A9paration-imprimante/",
    "/blog/page/2/",
    "/zone-intervention/lyon/",
]
# What redaction is for; not in the mix, whose searches and paths hold no personal data.
PERSONAL_SEARCH = "jeanne martin 06 12 34 56 78"
SEARCHES = ["d%C3%A9pannage+imprimante", "wifi", "prix+r%C3%A9paration", "virus", "Mac+lent"]
REFERRERS = (
    [None] * 35
    + ["https://www.google.fr/", "https://www.google.com/", "https://www.bing.com/",
       "https://duckduckgo.com/", "https://www.qwant.com/", "https://www.ecosia.org/",
       "android-app://com.google.android.googlequicksearchbox/"] * 4
    + ["https://l.facebook.com/l.php?u=x", "https://t.co/abc", "https://www.linkedin.com/",
       "https://lm.facebook.com/"] * 3
    + [f"https://blog{n}.exemple-{n}.fr/billet/{n}/" for n in range(10)]
    + ["https://example.fr/", "https://www.example.fr/services/"] * 7
)  # fmt: skip
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{m} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/{v}.0.0.0 Mobile Safari/537.36",
]


def synthetic_events(count: int, seed: int = 7) -> list[tuple]:
    """``count`` argument tuples for :meth:`Deriver.derive`, reproducible from ``seed``."""
    rng = random.Random(seed)
    with CRAWLERS_FILE.open(encoding="utf-8") as file:
        crawler_examples = [ua for entry in json.load(file) for ua in entry.get("instances", [])]
    events = []
    for _ in range(count):
        events.append(
            (_url(rng), _ip(rng), _user_agent(rng, crawler_examples), rng.choice(REFERRERS),
             SITE_HOST, SALT, SITE)
        )  # fmt: skip
    return events


def _url(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.05:
        return f"https://example.fr/?s={rng.choice(SEARCHES)}"
    if draw < 0.08:
        return f"https://example.fr/search/{rng.choice(SEARCHES)}/"
    if draw < 0.18:
        return f"https://example.fr{rng.choice(PAGES)}?utm_source=newsletter&utm_medium=email"
    return f"https://example.fr{rng.choice(PAGES)}"


def _ip(rng: random.Random) -> str | None:
    draw = rng.random()
    if draw < 0.60:
        return str(ipaddress.IPv4Address(rng.getrandbits(32)))
    if draw < 0.90:
        return str(ipaddress.IPv6Address((0x2A01 << 112) | rng.getrandbits(112)))
    if draw < 0.95:
        return f"::ffff:{ipaddress.IPv4Address(rng.getrandbits(32))}"
    return rng.choice(["192.168.1.20", "10.0.0.7", None])


def _user_agent(rng: random.Random, crawler_examples: list[str]) -> str | None:
    if rng.random() < 0.15:
        return rng.choice(crawler_examples)
    return rng.choice(BROWSERS).format(v=rng.randint(118, 131), m=rng.randint(0, 6))


def _page(url: str, redact: Callable[[str], str]) -> tuple[str, str | None]:
    parts = urlsplit(url)
    return page_of(parts.path, query_parameters(parts.query), redact)


def cost_per_event(step: Callable[[tuple], object], events: list[tuple]) -> float:
    """CPU microseconds per event of ``step`` over all events."""
    started = time.process_time()
    for event in events:
        step(event)
    return (time.process_time() - started) / len(events) * 1e6


def main() -> None:
    """Print the per-event cost of derive() and of each of its steps."""
    started = time.process_time()
    deriver = Deriver()
    load_ms = (time.process_time() - started) * 1e3
    events = synthetic_events(EVENTS)
    locator, referrers, crawlers = deriver.locator, deriver.referrers, deriver.crawlers
    redact = deriver.redactor.redact
    steps: dict[str, Callable[[tuple], object]] = {
        "derive() (whole)": lambda e: deriver.derive(*e),
        "crawler check": lambda e: crawlers.is_crawler(e[2]),
        "country (iptocc)": lambda e: locator.country(parse_address(e[1]) if e[1] else None),
        "referrer host + channel": lambda e: referrers.channel(
            referrer_host(e[3]), own_host(e[4]), {}
        ),
        "path + search terms (redacted)": lambda e: _page(e[0], redact),
        "  redaction alone (of the whole URL)": lambda e: redact(e[0]),
        "  a search holding a phone number": lambda e: redact(PERSONAL_SEARCH),
        "visitor hash": lambda e: visitor_hash(e[5], e[6], e[1], e[2]),
    }  # fmt: skip
    rows = []
    for name, step in steps.items():
        runs = [cost_per_event(step, events) for _ in range(REPEATS)]
        middle = median(runs)
        rows.append(
            [name, *(f"{run:.1f}" for run in runs), f"{middle:.1f}", f"{1e6 / middle:,.0f}"]
        )
    bots = sum(deriver.derive(*event) is None for event in events)
    print_table(
        f"derive(): CPU µs per event, {EVENTS:,} events ({bots:,} crawlers), "
        f"data sets loaded in {load_ms:.0f} ms",
        ["step", "run 1", "run 2", "run 3", "median", "events/s/core"],
        rows,
    )


if __name__ == "__main__":
    main()
