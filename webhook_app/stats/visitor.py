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

    Each field is prefixed with its length, so no two different triples share an input.
    Lone surrogates (possible in JSON) are encoded rather than raised, so no exception
    ever carries the IP or user agent.
    """
    if not salt:
        raise ValueError("the daily salt is empty")
    ip, user_agent = ip or "", user_agent or ""
    message = f"{len(site)}:{site}{len(ip)}:{ip}{len(user_agent)}:{user_agent}"
    return hmac.digest(salt, message.encode("utf-8", "surrogatepass"), "sha256").hex()
