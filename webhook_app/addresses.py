"""E-mail addresses: what counts as one, and the form the blind index hashes.

One rule for the API's schemas, the CLI and the dashboard, so an address accepted by
one is accepted by all, and found by the same index.
"""

from __future__ import annotations

from marshmallow import ValidationError, validate

MAX_EMAIL = 254
_email = validate.Email()


def is_email(value: str) -> bool:
    """Whether ``value`` is a valid address of at most 254 characters."""
    try:
        _email(value)
    except ValidationError:
        return False
    return len(value) <= MAX_EMAIL


def normalise_email(address: str) -> str:
    """The form of an address that the blind index hashes: trimmed, lower-cased."""
    return address.strip().lower()
