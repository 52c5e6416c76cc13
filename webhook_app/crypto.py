"""Encryption at rest and the e-mail blind index.

Personal fields are stored through :class:`EncryptedText`, a column type, so no code path
can forget to encrypt. People are found by :func:`email_index`, a keyed hash of the
normalised address, never by decrypting and scanning.

Both kinds of key can be rotated (:mod:`webhook_app.keys`): the first data key encrypts
and every configured one decrypts; the first index key indexes, and lookups try every
configured one (:func:`email_indexes`) until the rotation has recomputed them all.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from .addresses import normalise_email
from .config import data_keys, index_keys

EXTENSION = "gardien.crypto"


class Keys:
    """The keys of one app: data keys (a MultiFernet) and blind-index keys, first ones first."""

    def __init__(self, fernet_keys: list[str], index_keys: list[str]) -> None:
        self.data = [Fernet(key) for key in fernet_keys]
        self.data_fingerprints = [fingerprint(DATA, key) for key in fernet_keys]
        self.fernet = MultiFernet(self.data)
        self.index_keys = [key.encode() for key in index_keys]
        self.index_fingerprints = [fingerprint(INDEX, key) for key in index_keys]
        self.index_key = self.index_keys[0]


DATA = "data"
INDEX = "index"


def fingerprint(kind: str, key: str) -> str:
    """A short name for a key that reveals nothing of it (SHA-256, 16 hex digits)."""
    return hashlib.sha256(f"gardien-{kind}-key:{key}".encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    """Load the keys of this app from its configuration."""
    app.extensions[EXTENSION] = Keys(data_keys(app.config), index_keys(app.config))


def keys() -> Keys:
    """The keys of the current app."""
    return current_app.extensions[EXTENSION]


def encrypt(plain: str) -> str:
    """Encrypt text with the first data key."""
    return keys().fernet.encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt text written with any of the data keys."""
    try:
        return keys().fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        # Never include the token: say only that the key set does not match.
        raise InvalidToken("stored value cannot be decrypted with GARDIEN_DATA_KEYS") from None


def email_index(address: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) of the normalised address, under the first index key."""
    return _index(keys().index_key, address)


def email_indexes(address: str) -> list[str]:
    """The address's index under every configured index key, first key's first: what a
    lookup must match while a rotation of the index key is under way."""
    return [_index(key, address) for key in keys().index_keys]


def _index(key: bytes, address: str) -> str:
    return hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()


class EncryptedText(TypeDecorator):
    """Text encrypted with Fernet on the way in, decrypted on the way out."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedJSON(EncryptedText):
    """A JSON document (dict or list) stored encrypted."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, separators=(",", ":")), dialect)

    def process_result_value(self, value, dialect):
        plain = super().process_result_value(value, dialect)
        return None if plain is None else json.loads(plain)
