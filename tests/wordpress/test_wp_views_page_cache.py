"""A site whose pages a full-page cache serves (WP_CACHE and an advanced-cache.php drop-in, as
caching plugins install them) is detected: pages carry the beacon, the server counts nothing,
and each page load is counted once by the beacon, including the loads the cache answers without
WordPress. Without the cache, the server counts again and pages carry no beacon."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from test_wp_views_beacon import load, visits

# The smallest page cache that behaves like the real ones: anonymous GETs of pages are answered
# from files it wrote when WordPress first rendered them, before WordPress loads.
DROP_IN = r"""<?php
if (PHP_SAPI === 'cli' || ($_SERVER['REQUEST_METHOD'] ?? '') !== 'GET' || !empty($_COOKIE)
    || strpos((string) $_SERVER['REQUEST_URI'], '/wp-') !== false) {
    return;
}
$gardien_test_cached = WP_CONTENT_DIR . '/cache/page-'
    . md5((string) $_SERVER['REQUEST_URI']) . '.html';
if (is_file($gardien_test_cached)) {
    header('X-Test-Page-Cache: hit');
    readfile($gardien_test_cached);
    exit;
}
header('X-Test-Page-Cache: miss');
ob_start(function ($html) use ($gardien_test_cached) {
    if (http_response_code() === 200) {
        is_dir(dirname($gardien_test_cached)) || mkdir(dirname($gardien_test_cached));
        file_put_contents($gardien_test_cached, $html);
    }
    return $html;
});
"""
SETTINGS = "require_once ABSPATH . 'wp-settings.php';"


def moved_on(path) -> None:
    """Give a rewritten file a modification time in another second than any before: OPcache
    compares whole seconds, and a rewrite within the second it compiled would go unseen."""
    later = max(time.time(), path.stat().st_mtime) + 2
    os.utime(path, (later, later))


@contextmanager
def page_cache(site) -> Iterator[None]:
    """WP_CACHE on and the drop-in in wp-content for the block; both gone afterwards."""
    config = site.path / "wp-config.php"
    original = config.read_text()
    assert SETTINGS in original
    drop_in = site.path / "wp-content" / "advanced-cache.php"
    cache = site.path / "wp-content" / "cache"
    drop_in.write_text(DROP_IN)
    config.write_text(original.replace(SETTINGS, f"define('WP_CACHE', true);\n{SETTINGS}"))
    moved_on(config)
    try:
        yield
    finally:
        config.write_text(original)
        moved_on(config)
        drop_in.unlink()
        for page in cache.glob("page-*.html"):
            page.unlink()


def wait_for_visits(site, expected: int) -> int:
    deadline = time.monotonic() + 10
    while visits(site) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return visits(site)


def test_a_page_cache_is_detected_and_every_cached_load_is_counted_once(site, chromium):
    site.cli("reset", {"stats_enabled": True, "stats_beacon": False})
    privacy = f"{site.url}/?page_id={site.pages['privacy_page']}"

    with page_cache(site):
        first = requests.get(privacy, timeout=30)
        assert first.headers["X-Test-Page-Cache"] == "miss"
        assert "assets/beacon.js" in first.text, "the drop-in was detected"
        assert visits(site) == 0, "the server does not count a page that carries the beacon"
        second = requests.get(privacy, timeout=30)
        assert second.headers["X-Test-Page-Cache"] == "hit", "WordPress did not run"

        for _ in range(2):
            beacons, cookies = load(chromium, privacy)
            assert len(beacons) == 1
            assert cookies == []
        assert wait_for_visits(site, 2) == 2, "each load the cache answered is counted once"

    plain = requests.get(privacy, timeout=30)
    assert "X-Test-Page-Cache" not in plain.headers
    assert "assets/beacon.js" not in plain.text, "no cache, no beacon"
    assert wait_for_visits(site, 3) == 3, "the server counts again"
