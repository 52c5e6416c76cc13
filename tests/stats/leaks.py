"""Distinctive IP addresses and user agents, and a search for every form they could
take in a file or a log (for the tests that prove they are forgotten)."""

from __future__ import annotations

import ipaddress

IPV4 = "81.56.211.97"
IPV6 = "2a01:e0a:5c3:b7f0:9d1e:4b2a:17c6:8e35"
MAPPED = "::ffff:176.158.42.219"
# Distinctive addresses that only occur in refused page views.
REFUSED_IPV4 = "82.64.133.251"
USER_AGENTS = [
    "Mozilla/5.0 (X11; Zorglubian 9.4; rv:128.0) Gecko/20100101 Firefox/128.0 Quasimodo/3",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) Mobile/15E148 Pamplemousse/8",
]
REFUSED_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Cucurbitacee/5"


def address_forms(text: str) -> list[bytes]:
    """Every way an address could sit in a file or log: as sent, compressed, exploded,
    upper and lower case, UTF-16, packed bytes, the integer in decimal and hex; for an
    IPv4-mapped address, all of those for the embedded IPv4 address too."""
    address = ipaddress.ip_address(text)
    addresses = [address]
    texts = {text}
    if address.version == 6 and address.ipv4_mapped is not None:
        embedded = address.ipv4_mapped
        addresses.append(embedded)
        # Python prints a mapped address either way depending on its version.
        low = int(address) & 0xFFFFFFFF
        texts |= {f"::ffff:{embedded}", f"::ffff:{low >> 16:x}:{low & 0xFFFF:x}"}
    forms: set[bytes] = set()
    for one in addresses:
        texts |= {str(one), one.compressed, one.exploded, f"{int(one)}", f"{int(one):x}"}
        forms.add(one.packed)
    for variant in texts:
        for case in (variant, variant.upper(), variant.lower()):
            forms |= {case.encode(), case.encode("utf-16-le")}
    return sorted(forms)


def agent_forms(text: str) -> list[bytes]:
    """A user agent as UTF-8 and UTF-16, any case, and its distinctive last word alone."""
    distinctive = text.rsplit(" ", 1)[1]
    return sorted({
        form for value in (text, distinctive) for case in (value, value.lower(), value.upper())
        for form in (case.encode(), case.encode("utf-16-le"))
    })  # fmt: skip


def secrets_forms() -> list[tuple[str, bytes]]:
    named = []
    for address in (IPV4, IPV6, MAPPED, REFUSED_IPV4):
        named += [(address, form) for form in address_forms(address)]
    for agent in (*USER_AGENTS, REFUSED_USER_AGENT):
        named += [(agent[-12:], form) for form in agent_forms(agent)]
    return named


def assert_nowhere(blob: bytes, where: str) -> None:
    for name, form in secrets_forms():
        assert form not in blob, f"a form of …{name[-8:]} was found in {where}"
