"""Crawler detection: the indexed matcher gives the verdict of the whole pattern list."""

from __future__ import annotations

import json
import re

import pytest

from webhook_app.stats.crawlers import CRAWLERS_FILE, CrawlerList, required_literals, trie_pattern

BROWSERS = {
    "chrome-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "edge-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "firefox-mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) "
    "Gecko/20100101 Firefox/133.0",
    "firefox-linux": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "safari-iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "safari-mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "chrome-android": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "samsung-internet": "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
}

CRAWLERS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "googlebot-smartphone": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "ahrefsbot": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "semrushbot": "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "gptbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    # The list anchors curl at the start: "^curl".
    "curl": "curl/8.5.0",
    "python-requests": "python-requests/2.32.3",
    "wget": "Wget/1.21.4",
}


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    with CRAWLERS_FILE.open(encoding="utf-8") as file:
        return json.load(file)


@pytest.mark.parametrize("user_agent", CRAWLERS.values(), ids=CRAWLERS.keys())
def test_crawlers_are_detected(deriver, user_agent):
    assert deriver.crawlers.is_crawler(user_agent)


@pytest.mark.parametrize("user_agent", BROWSERS.values(), ids=BROWSERS.keys())
def test_browsers_are_not_crawlers(deriver, user_agent):
    assert not deriver.crawlers.is_crawler(user_agent)


@pytest.mark.parametrize("user_agent", [None, ""])
def test_no_user_agent_is_not_on_the_list(deriver, user_agent):
    assert not deriver.crawlers.is_crawler(user_agent)


def test_every_example_of_the_list_is_detected(deriver, entries):
    missed = [
        example
        for entry in entries
        for example in entry.get("instances", [])
        if not deriver.crawlers.is_crawler(example)
    ]
    assert missed == []


def test_same_verdict_as_every_pattern_run_one_by_one(deriver, entries):
    patterns = [re.compile(entry["pattern"]) for entry in entries]
    samples = [*BROWSERS.values(), *CRAWLERS.values(), "Mozilla/5.0 (compatible; MSIE 9.0)"]
    for user_agent in samples:
        expected = any(pattern.search(user_agent) for pattern in patterns)
        assert deriver.crawlers.is_crawler(user_agent) is expected


def test_the_index_covers_the_whole_list(deriver):
    # Unindexed patterns run on every user agent; a refresh that adds many would be slow.
    assert len(deriver.crawlers.unindexed) <= 5


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"Googlebot\/", ["googlebot/"]),
        (r"[wW]get", ["wget"]),
        (r"AdsBot-Google([^-]|$)", ["adsbot-google"]),
        (r"^curl", ["curl"]),
        (r"(sistrix|SISTRIX) [cC]rawler", [" crawler"]),
        (r"Chirp|gotosocial", ["chirp", "gotosocial"]),
        (r"ds9", ["ds9"]),
        (r"a|bcd", None),
        (r"\d+", None),
    ],
)
def test_required_literals(pattern, literals):
    assert required_literals(pattern) == literals


def test_trie_pattern_matches_exactly_its_words():
    words = ["bot", "bot.html", "bing", "b2b", "crawl"]
    trie = re.compile(trie_pattern(words))
    assert all(trie.fullmatch(word) for word in words)
    assert not any(trie.fullmatch(text) for text in ["bo", "bot.", "bin", "crawler", ""])
    assert trie.match("bot.html").group() == "bot.html"  # the longest word first


def test_patterns_without_a_literal_still_count():
    crawlers = CrawlerList([r"a|bc", r"Googlebot\/", r"\d{3}x"])
    assert len(crawlers.unindexed) == 2
    assert crawlers.is_crawler("build 1234x")
    assert crawlers.is_crawler("Googlebot/2.1")
    assert not crawlers.is_crawler("googlebot/2.1")  # the list's patterns are case-sensitive
    assert not crawlers.is_crawler("zzz")
