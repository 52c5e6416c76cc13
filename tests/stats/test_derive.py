"""Derivation of a visit: channel, referrer host, path, search terms, visitor hash, privacy."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging

import pytest

from webhook_app.stats.channels import CHANNELS
from webhook_app.stats.derive import Visit, get_deriver
from webhook_app.stats.visitor import new_salt, visitor_hash

SALT = bytes(range(32))
SITE = "site-example"
SITE_HOST = "example.fr"
IP = "90.12.34.56"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def visit_of(deriver, url="https://example.fr/", *, ip=IP, user_agent=CHROME, referrer=None,
             site_host=SITE_HOST, salt=SALT, site=SITE) -> Visit:  # fmt: skip
    visit = deriver.derive(url, ip, user_agent, referrer, site_host, salt, site)
    assert visit is not None
    return visit


@pytest.mark.parametrize(
    ("referrer", "channel", "host"),
    [
        ("https://www.google.fr/", "search", "google.fr"),
        ("https://www.google.com/search?q=d%C3%A9pannage", "search", "google.com"),
        ("https://www.google.co.uk/", "search", "google.co.uk"),
        ("android-app://com.google.android.googlequicksearchbox/", "search",
         "com.google.android.googlequicksearchbox"),
        ("https://www.bing.com/search?q=imprimante", "search", "bing.com"),
        ("https://duckduckgo.com/", "search", "duckduckgo.com"),
        ("https://www.qwant.com/?q=imprimante", "search", "qwant.com"),
        ("https://www.ecosia.org/search?q=imprimante", "search", "ecosia.org"),
        ("https://fr.search.yahoo.com/search?p=imprimante", "search", "fr.search.yahoo.com"),
        ("https://www.facebook.com/", "social", "facebook.com"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.fr%2F", "social",
         "l.facebook.com"),
        ("https://m.facebook.com/story.php?id=1", "social", "m.facebook.com"),
        ("https://www.linkedin.com/feed/", "social", "linkedin.com"),
        ("https://lnkd.in/abc", "social", "lnkd.in"),
        ("https://t.co/AbCdEf", "social", "t.co"),
        ("https://x.com/someone/status/1", "social", "x.com"),
        ("https://twitter.com/someone", "social", "twitter.com"),
        ("https://mail.google.com/mail/u/0/", "website", "mail.google.com"),
        ("https://blog.exemple-artisan.fr/2024/05/mon-billet/?utm=x", "website",
         "blog.exemple-artisan.fr"),
        ("https://user:secret@Blog.Exemple-Artisan.FR:8443/p", "website",
         "blog.exemple-artisan.fr"),
        ("https://example.fr/contact/", "internal", None),
        ("https://www.example.fr/services/", "internal", None),
        ("https://shop.example.fr/", "website", "shop.example.fr"),
        ("", "direct", None),
        (None, "direct", None),
        ("about:blank", "direct", None),
        ("http://[::1/broken", "direct", None),
        ("https://" + "a" * 300 + ".com/", "direct", None),
    ],
)  # fmt: skip
def test_channel_and_referrer_host(deriver, referrer, channel, host):
    visit = visit_of(deriver, referrer=referrer)
    assert (visit.channel, visit.referrer_host) == (channel, host)


@pytest.mark.parametrize(
    ("url", "referrer", "channel"),
    [
        ("https://example.fr/?utm_source=google&utm_medium=cpc", None, "search"),
        ("https://example.fr/?utm_medium=ORGANIC", None, "search"),
        ("https://example.fr/?utm_medium=social", None, "social"),
        ("https://example.fr/?utm_source=facebook", None, "social"),
        ("https://example.fr/?utm_source=Qwant", None, "search"),
        ("https://example.fr/?utm_source=www.google.fr", None, "search"),
        ("https://example.fr/?ref=news.ycombinator.com", None, "social"),
        ("https://example.fr/?ref=t.co", None, "social"),
        ("https://example.fr/?utm_medium=email&utm_source=newsletter", None, "website"),
        ("https://example.fr/?utm_medium=email", "https://www.google.fr/", "website"),
        ("https://example.fr/?utm_source=newsletter", None, "direct"),
        ("https://example.fr/?utm_source=newsletter", "https://blog.example.org/", "website"),
        ("https://example.fr/?ref=12345", None, "direct"),
        ("https://example.fr/?utm_source=facebook", "https://example.fr/", "internal"),
    ],
)
def test_campaign_parameters(deriver, url, referrer, channel):
    assert visit_of(deriver, url, referrer=referrer).channel == channel


def test_own_host_falls_back_to_the_page_host(deriver):
    visit = visit_of(
        deriver, "https://www.example.fr:8443/a/", referrer="https://example.fr/", site_host=None
    )
    assert visit.channel == "internal"


def test_site_host_may_be_given_as_a_url(deriver):
    visit = visit_of(deriver, referrer="https://example.fr/", site_host="https://Example.fr:443/")
    assert visit.channel == "internal"


def test_every_channel_is_one_of_the_five(deriver):
    referrers = ["https://www.google.fr/", "https://t.co/x", "https://a.org/", "", SITE_HOST]
    assert {visit_of(deriver, referrer=referrer).channel for referrer in referrers} <= set(CHANNELS)


@pytest.mark.parametrize(
    ("url", "path", "terms"),
    [
        ("https://example.fr/?s=d%C3%A9pannage+imprimante", "/", "dépannage imprimante"),
        ("https://example.fr/blog/?s=Caf%C3%A9++cr%C3%A8me%20&lang=fr", "/blog/",
         "café crème"),
        ("https://example.fr/?s=cafe%CC%81", "/", "café"),
        ("https://example.fr/?s=first&s=second", "/", "first"),
        ("https://example.fr/?s=a%00b%07c", "/", "abc"),
        ("https://example.fr/?s=+", "/", None),
        ("https://example.fr/?s=", "/", None),
        ("https://example.fr/search/d%C3%A9pannage+imprimante/", "/search/",
         "dépannage imprimante"),
        ("https://example.fr/search/imprimante%20laser/page/2/", "/search/", "imprimante laser"),
        ("https://example.fr/fr/search/a%2Fb/", "/fr/search/", "a/b"),
        ("https://example.fr/search/", "/search/", None),
        ("https://example.fr/research/lasers/", "/research/lasers/", None),
        ("https://example.fr/services/d%C3%A9pannage/?id=42&email=a%40b.fr#top",
         "/services/dépannage/", None),
        ("https://example.fr/caf%C3%A9%00/", "/café/", None),
        ("https://example.fr", "/", None),
        ("/contact/?utm_source=x", "/contact/", None),
    ],
)  # fmt: skip
def test_path_and_search_terms(deriver, url, path, terms):
    visit = visit_of(deriver, url)
    assert (visit.path, visit.search_terms) == (path, terms)


def test_search_terms_and_path_are_capped(deriver):
    visit = visit_of(deriver, "https://example.fr/" + "a" * 5000 + "?s=" + "mot+" * 100)
    assert len(visit.path) == 1024
    assert visit.search_terms is not None and len(visit.search_terms) <= 100
    assert not visit.search_terms.endswith(" ")


def test_a_crawler_gives_no_visit(deriver):
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert deriver.derive("https://example.fr/", IP, googlebot, None, None, SALT, SITE) is None


def test_the_deriver_is_built_once_per_setting():
    assert get_deriver() is get_deriver()
    assert get_deriver("") is get_deriver(None), "an empty GARDIEN_GEOIP_DB means no file"


def test_country_of_the_visit(deriver):
    assert visit_of(deriver, ip="90.12.34.56").country == "FR"
    assert visit_of(deriver, ip="::ffff:90.12.34.56").country == "FR"
    assert visit_of(deriver, ip="192.168.1.20").country is None
    assert visit_of(deriver, ip=None).country is None
    assert visit_of(deriver, ip="not an address").country is None


class TestVisitorHash:
    def test_same_day_same_visitor(self):
        assert visitor_hash(SALT, SITE, IP, CHROME) == visitor_hash(SALT, SITE, IP, CHROME)

    def test_is_hex_sha256(self):
        digest = visitor_hash(SALT, SITE, IP, CHROME)
        assert len(digest) == 64 and int(digest, 16) >= 0

    @pytest.mark.parametrize(
        "other",
        [
            (new_salt(), SITE, IP, CHROME),
            (SALT, "other-site", IP, CHROME),
            (SALT, SITE, "90.12.34.57", CHROME),
            (SALT, SITE, IP, CHROME + " Edg/131.0.0.0"),
            (SALT, SITE, None, CHROME),
        ],
        ids=["salt", "site", "ip", "user-agent", "no-ip"],
    )
    def test_any_change_gives_another_visitor(self, other):
        assert visitor_hash(*other) != visitor_hash(SALT, SITE, IP, CHROME)

    def test_fields_do_not_run_into_each_other(self):
        assert visitor_hash(SALT, SITE, "1.2.3.4", "5") != visitor_hash(SALT, SITE, "1.2.3.", "45")

    def test_mapped_and_plain_ipv4_are_one_visitor(self, deriver):
        plain = visit_of(deriver, ip="90.12.34.56").visitor_hash
        assert visit_of(deriver, ip="::ffff:90.12.34.56").visitor_hash == plain

    def test_lone_surrogate_is_hashed_not_raised(self):
        assert len(visitor_hash(SALT, SITE, IP, "Mozilla\ud800")) == 64

    def test_empty_salt_is_refused_without_the_values(self):
        with pytest.raises(ValueError) as raised:
            visitor_hash(b"", SITE, IP, CHROME)
        assert IP not in str(raised.value) and CHROME not in str(raised.value)

    def test_new_salt_is_random(self):
        first, second = new_salt(), new_salt()
        assert len(first) == 32 and first != second


class TestForgetting:
    DISTINCT_IP = "2a01:cb00:1234:5678::9"
    DISTINCT_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 Zq7"

    def test_visit_has_no_field_for_ip_or_user_agent(self):
        assert [field.name for field in dataclasses.fields(Visit)] == [
            "path", "search_terms", "country", "channel", "referrer_host", "visitor_hash",
        ]  # fmt: skip

    def test_visit_holds_neither_value(self, deriver):
        visit = visit_of(deriver, ip=self.DISTINCT_IP, user_agent=self.DISTINCT_UA)
        text = repr(visit) + repr(dataclasses.astuple(visit))
        for secret in (self.DISTINCT_IP, "2a01:cb00:1234", self.DISTINCT_UA, "Zq7"):
            assert secret not in text
        assert not hasattr(visit, "__dict__")  # slotted: nothing else can ride along

    def test_unparseable_url_error_names_no_value(self, deriver):
        with pytest.raises(ValueError) as raised:
            deriver.derive("http://[::1/x", self.DISTINCT_IP, self.DISTINCT_UA, None, None,
                           SALT, SITE)  # fmt: skip
        error = raised.value
        assert error.__context__ is None and error.__cause__ is None
        for secret in (self.DISTINCT_IP, self.DISTINCT_UA, "[::1"):
            assert secret not in str(error) and secret not in repr(error.args)

    def test_nothing_is_logged(self, deriver, caplog):
        with caplog.at_level(logging.DEBUG):
            visit_of(deriver, ip=self.DISTINCT_IP, user_agent=self.DISTINCT_UA)
            visit_of(deriver, ip="garbage " + self.DISTINCT_IP, user_agent=None)
        assert caplog.records == []

    def test_standard_library_caches_never_see_the_address(self, deriver):
        # ipaddress memoises is_private/is_global per address object (128 entries).
        properties = [
            ipaddress.IPv4Address.is_private, ipaddress.IPv4Address.is_global,
            ipaddress.IPv6Address.is_private, ipaddress.IPv6Address.is_global,
        ]  # fmt: skip
        caches = [prop.fget for prop in properties if hasattr(prop.fget, "cache_info")]
        before = [cache.cache_info()[:2] for cache in caches]
        visit_of(deriver, ip="90.1.2.3")
        visit_of(deriver, ip=self.DISTINCT_IP)
        assert [cache.cache_info()[:2] for cache in caches] == before


def test_one_shared_deriver_per_geolocation_setting(deriver):
    assert get_deriver() is get_deriver(None) is get_deriver("") is deriver
