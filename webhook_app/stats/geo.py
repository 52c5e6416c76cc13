"""Country of a visitor's IP address, offline.

The default is `iptocc` (the Regional Internet Registries' delegation files, embedded in the
wheel). When ``GARDIEN_GEOIP_DB`` names a MaxMind or DB-IP ``.mmdb`` file, that file is read
with `maxminddb` instead, and :attr:`CountryLocator.attribution` says whom to credit.

Addresses that are not globally reachable (private, loopback, link-local, documentation,
multicast, reserved...) have no country. The check is made here rather than with
``ipaddress``'s ``is_global``: that property is memoised, so the standard library would keep
the last 128 visitor addresses alive in its cache.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from dataclasses import dataclass
from typing import NamedTuple

import iptocc
import maxminddb

# IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates): the blocks
# marked "Globally Reachable: False", plus multicast. IPv6 outside 2000::/3 (global
# unicast) is not allocated to anyone.
NOT_GLOBAL = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/3", "4000::/2", "8000::/1",
    "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20",
)  # fmt: skip


@dataclass(frozen=True)
class Attribution:
    """The credit a geolocation database's licence asks for, as text and link."""

    text: str
    url: str


DB_IP = Attribution("IP Geolocation by DB-IP", "https://db-ip.com")
GEOLITE2 = Attribution(
    "This product includes GeoLite2 data created by MaxMind", "https://www.maxmind.com"
)


class Address(NamedTuple):
    """A parsed IP address: its canonical text (IPv4-mapped IPv6 unmapped) and reach."""

    text: str
    is_global: bool


def _ranges(version: int) -> tuple[list[int], list[int]]:
    networks = sorted(
        (net for net in map(ipaddress.ip_network, NOT_GLOBAL) if net.version == version),
        key=lambda net: int(net.network_address),
    )
    return (
        [int(net.network_address) for net in networks],
        [int(net.broadcast_address) for net in networks],
    )


_NOT_GLOBAL_V4 = _ranges(4)
_NOT_GLOBAL_V6 = _ranges(6)
_MAPPED_PREFIX = 0xFFFF  # ::ffff:0:0/96, the top 96 bits of an IPv4-mapped address


def _in_ranges(number: int, ranges: tuple[list[int], list[int]]) -> bool:
    starts, ends = ranges
    index = bisect.bisect_right(starts, number) - 1
    return index >= 0 and number <= ends[index]


def parse_address(ip: str) -> Address | None:
    """Parse an IPv4 or IPv6 address; ``None`` when it is not one.

    ``socket.inet_pton`` is used because it is ten times cheaper than ``ipaddress`` and its
    error message never repeats the address. It refuses most text with ``OSError``, but an
    embedded NUL or a lone surrogate with ``ValueError``.
    """
    text = ip.strip()
    try:
        number = int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        try:
            number = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        except (OSError, ValueError):
            return None
        if number >> 32 != _MAPPED_PREFIX:
            canonical = socket.inet_ntop(socket.AF_INET6, number.to_bytes(16, "big"))
            return Address(canonical, not _in_ranges(number, _NOT_GLOBAL_V6))
        number &= 0xFFFFFFFF
    canonical = socket.inet_ntop(socket.AF_INET, number.to_bytes(4, "big"))
    return Address(canonical, not _in_ranges(number, _NOT_GLOBAL_V4))


class CountryLocator:
    """Finds the ISO 3166-1 alpha-2 country of a globally reachable address."""

    def __init__(self, mmdb_path: str | None = None) -> None:
        self.attribution: Attribution | None = None
        self._reader = None
        if mmdb_path:
            self._reader = maxminddb.open_database(mmdb_path)
            self.attribution = attribution_for(self._reader.metadata().database_type)

    def country(self, address: Address | None) -> str | None:
        """The country code of ``address``, or ``None`` if unknown or not global."""
        if address is None or not address.is_global:
            return None
        if self._reader is None:
            return iptocc.country_code(address.text)
        try:
            record = self._reader.get(address.text)
        except ValueError:
            # An IPv6 address in an IPv4-only file; the message would repeat the address.
            return None
        if not isinstance(record, dict):
            return None
        country = record.get("country")
        code = country.get("iso_code") if isinstance(country, dict) else None
        return code if isinstance(code, str) else None

    def close(self) -> None:
        """Release the ``.mmdb`` file, if one is open."""
        if self._reader is not None:
            self._reader.close()


def attribution_for(database_type: str) -> Attribution | None:
    """The credit owed for a ``.mmdb`` file, from its ``database_type`` metadata.

    DB-IP's free databases (``DBIP-Country-Lite``...) ask for a link to db-ip.com (CC BY
    4.0); MaxMind's GeoLite2 ones for the GeoLite2 notice. Commercial files owe none.
    """
    if database_type.upper().startswith("DBIP"):
        return DB_IP
    if database_type.startswith("GeoLite2"):
        return GEOLITE2
    return None
