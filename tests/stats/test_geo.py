"""Country from the IP address: iptocc by default, a .mmdb file when configured."""

from __future__ import annotations

import ipaddress

import pytest

from webhook_app.stats.derive import Deriver
from webhook_app.stats.geo import (
    DB_IP,
    GEOLITE2,
    NOT_GLOBAL,
    CountryLocator,
    attribution_for,
    parse_address,
)

# Blocks whose registry country has been the same for decades.
PUBLIC = {
    "90.0.0.1": "FR",  # Orange (Wanadoo)
    "212.27.48.10": "FR",  # Free
    "2a01:cb00::1": "FR",  # Orange
    "2a01:e0a::1": "FR",  # Free
    "2003::1": "DE",  # Deutsche Telekom
    "133.1.1.1": "JP",  # Osaka University
    "8.8.8.8": "US",  # Google
    "2001:4860:4860::8888": "US",  # Google
}

NOT_PUBLIC = [
    "10.1.2.3", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1",
    "0.0.0.0", "240.0.0.1", "255.255.255.255", "224.0.0.1", "192.0.2.1", "198.51.100.1",
    "203.0.113.7", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
    "ff02::1", "2001:db8::1", "3fff::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
]  # fmt: skip

NOT_ADDRESSES = [
    "", "not-an-ip", "1.2.3", "1.2.3.4.5", "010.0.0.1", "fe80::1%eth0", "::g",
    # What inet_pton refuses with ValueError rather than OSError (found by tests/test_fuzz.py).
    "192.0.2.1\x00", "\ud800",
]


@pytest.fixture(scope="module")
def locator() -> CountryLocator:
    return CountryLocator()


@pytest.mark.parametrize(("ip", "country"), PUBLIC.items())
def test_public_addresses_have_their_country(locator, ip, country):
    assert locator.country(parse_address(ip)) == country


@pytest.mark.parametrize("ip", [ip for ip in PUBLIC if ":" not in ip])
def test_ipv4_mapped_ipv6_is_the_ipv4_address(locator, ip):
    for mapped in (f"::ffff:{ip}", f"::FFFF:{ip}"):
        assert parse_address(mapped) == parse_address(ip)
        assert locator.country(parse_address(mapped)) == PUBLIC[ip]


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_private_and_reserved_addresses_have_no_country(locator, ip):
    address = parse_address(ip)
    assert address is not None and not address.is_global
    assert locator.country(address) is None


@pytest.mark.parametrize("ip", NOT_ADDRESSES)
def test_what_is_not_an_address_has_no_country(locator, ip):
    assert parse_address(ip) is None
    assert locator.country(None) is None


def test_ipv4_blocks_agree_with_the_standard_library():
    # Multicast is not a host address; the standard library calls it global.
    for network in map(ipaddress.ip_network, NOT_GLOBAL):
        if network.version == 4:
            first = network.network_address
            assert first.is_multicast or not first.is_global, network
            assert not parse_address(str(first)).is_global


def test_canonical_text_is_used():
    assert parse_address(" 2A01:CB00:0000::0001 ").text == "2a01:cb00::1"
    assert parse_address("::ffff:5a00:1").text == "90.0.0.1"


def write_mmdb(path, ip_version: int, database_type: str, records: dict) -> str:
    """Write a .mmdb file mapping networks to records, as MaxMind and DB-IP lay them out."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=ip_version, ipv4_compatible=ip_version == 6, database_type=database_type
    )
    for networks, record in records.items():
        writer.insert_network(IPSet(networks.split()), record)
    writer.to_db_file(str(path))
    return str(path)


@pytest.fixture(scope="module")
def mmdb_path(tmp_path_factory) -> str:
    return write_mmdb(
        tmp_path_factory.mktemp("geoip") / "dbip-country-lite.mmdb",
        6,
        "DBIP-Country-Lite",
        {
            "90.0.0.0/16 2a01:cb00::/32": {"country": {"iso_code": "DE"}},
            "10.0.0.0/8": {"country": {"iso_code": "ZZ"}},
            "8.8.8.0/24": {"continent": {"code": "NA"}},
        },
    )


@pytest.fixture(scope="module")
def ipv4_only_path(tmp_path_factory) -> str:
    return write_mmdb(
        tmp_path_factory.mktemp("geoip") / "geolite2-country.mmdb",
        4,
        "GeoLite2-Country",
        {"90.0.0.0/16": {"country": {"iso_code": "DE"}}},
    )


class TestMaxMindDatabase:
    """A tiny .mmdb written in the test; DE where iptocc says FR shows which one answered."""

    @pytest.mark.parametrize(
        ("ip", "country"),
        [
            ("90.0.1.2", "DE"),
            ("::ffff:90.0.1.2", "DE"),
            ("2a01:cb00::1", "DE"),
            ("8.8.8.8", None),  # a record without a country
            ("133.1.1.1", None),  # not in the file
            ("10.1.2.3", None),  # private: the file is not even asked
        ],
    )
    def test_country_from_the_file(self, mmdb_path, ip, country):
        locator = CountryLocator(mmdb_path)
        try:
            assert locator.country(parse_address(ip)) == country
        finally:
            locator.close()

    def test_ipv6_in_an_ipv4_only_file_is_unknown(self, ipv4_only_path):
        locator = CountryLocator(ipv4_only_path)
        try:
            assert locator.country(parse_address("90.0.1.2")) == "DE"
            assert locator.country(parse_address("2a01:cb00::1")) is None
            assert locator.attribution == GEOLITE2
        finally:
            locator.close()

    def test_deriver_credits_db_ip(self, deriver, mmdb_path):
        with_file = Deriver(mmdb_path, crawlers=deriver.crawlers, referrers=deriver.referrers)
        try:
            assert with_file.geo_attribution == DB_IP
            visit = with_file.derive("https://example.fr/", "90.0.1.2", None, None, None,
                                     b"salt", "site")  # fmt: skip
            assert visit is not None and visit.country == "DE"
        finally:
            with_file.locator.close()


def test_iptocc_needs_no_credit(deriver):
    assert deriver.geo_attribution is None


@pytest.mark.parametrize(
    ("database_type", "attribution"),
    [
        ("DBIP-Country-Lite", DB_IP),
        ("DBIP-City-Lite", DB_IP),
        ("GeoLite2-Country", GEOLITE2),
        ("GeoIP2-Country", None),
    ],
)
def test_attribution_follows_the_database_type(database_type, attribution):
    assert attribution_for(database_type) == attribution
