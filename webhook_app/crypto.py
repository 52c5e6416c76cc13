"""Encryption at rest and the e-mail blind index.

Personal fields are stored through :class:`EncryptedText`, a column type, so no code path
can forget to encrypt. People are found by :func:`email_index`, a keyed hash of the
normalised address, never by decrypting and scanning.
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
from .config import data_keys

EXTENSION = "gardien.crypto"


class Keys:
    """The keys of one app: a MultiFernet for data and the blind-index key."""

    def __init__(self, fernet_keys: list[str], index_key: str) -> None:
        self.fernet = MultiFernet([Fernet(key) for key in fernet_keys])
        self.index_key = index_key.encode()


def init_app(app: Flask) -> None:
    """Load the keys of this app from its configuration."""
    app.extensions[EXTENSION] = Keys(data_keys(app.config), app.config["INDEX_KEY"])


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
    """Keyed hash (HMAC-SHA256, hex) of the normalised address."""
    digest = hmac.new(keys().index_key, normalise_email(address).encode(), hashlib.sha256)
    return digest.hexdigest()


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
