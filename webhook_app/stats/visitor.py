"""The daily visitor hash: counts distinct visitors of a day without knowing who they are.

HMAC-SHA256 keyed with the day's salt over (site, IP, user agent). The salt is random and
is destroyed after the next day, so the hash cannot be recomputed from an IP and user agent
afterwards, nor linked across days.
"""

from __future__ import annotations

import hmac
import secrets

SALT_BYTES = 32


def new_salt() -> bytes:
    """A fresh random salt for one day."""
    return secrets.token_bytes(SALT_BYTES)


def visitor_hash(salt: bytes, site: str, ip: str | None, user_agent: str | None) -> str:
    """Hex HMAC-SHA256 (64 characters) of site, IP and user agent under the day's salt.

    Each field is length-prefixed, so no two different triples share an input. Lone
    surrogates (possible in JSON) are encoded rather than raised, so no exception ever
    carries the IP or user agent.
    """
    if not salt:
        raise ValueError("the daily salt is empty")
    message = bytearray()
    for field in (site, ip or "", user_agent or ""):
        encoded = field.encode("utf-8", "surrogatepass")
        message += len(encoded).to_bytes(4, "big")
        message += encoded
    return hmac.digest(salt, bytes(message), "sha256").hex()
