"""Bundles of held messages for the authorities, signed so that they can check them.

Putting a message under hold and lifting it are steps of its lifecycle
(:func:`webhook_app.messages.hold`, :func:`~webhook_app.messages.release`). The bundle
for the authorities is a ZIP whose manifest of SHA-256 sums is signed with Ed25519: the
authority checks it with the public key alone (:mod:`webhook_app.verify_bundle`, or one
``openssl`` command), and nobody without the private key can make a manifest that passes.

The key pair is made on first use (an export, or ``legal-hold public-key``) and kept as a
service key (:mod:`webhook_app.service_keys`): the private key encrypted under
``GARDIEN_DATA_KEYS`` in the database, so a backup carries it, a data-key rotation
re-encrypts it, and every host of the service signs with the same key without anyone
copying a file. Whoever holds the database and the data keys can sign, as they can read
every message: the signature proves the bundle left this service unchanged, not more.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from . import __version__, audit, clock, messages, service_keys
from .errors import DomainError
from .models import ContactMessage
from .verify_bundle import ALGORITHM, MANIFEST, SIGNATURE, key_fingerprint

SIGNING_KEY = "legal_hold.ed25519"


class LegalHoldError(DomainError):
    """A hold operation that cannot be done; the message names no personal data."""


def _held(message_id: str) -> ContactMessage:
    message = messages.get(message_id)
    if message.legal_hold_at is None:
        raise LegalHoldError("only a message under legal hold can be exported for the authorities")
    return message


def signing_key(actor: str) -> Ed25519PrivateKey:
    """The service's bundle-signing key; made, stored and audited on first use."""
    pem, made = service_keys.get_or_create(SIGNING_KEY, _new_private_key)
    key = load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise LegalHoldError("the stored legal-hold signing key is not an Ed25519 key")
    if made:
        audit.record("legal_hold.key_made", actor=actor,
                     detail=f"public_key_sha256={key_fingerprint(key.public_key())}")
    return key


def public_key_pem(actor: str) -> str:
    """The PEM of the public key that checks the bundles, to hand to the authorities."""
    public_key = signing_key(actor).public_key()
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _new_private_key() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    ).decode()


def export_bundle(message_id: str, target: Path, actor: str) -> dict:
    """Write the held message and its metadata to a ZIP (mode 0600) whose manifest is
    signed with the service's Ed25519 key; return the manifest."""
    message = _held(message_id)
    # Held: flagged, and kept until the end of the legal-hold period.
    assert message.legal_hold_at is not None and message.expires_at is not None
    files = {
        "message.json": _json(message.personal),
        "metadata.json": _json(
            {
                "message_id": message.id,
                "form": message.form,
                "submitted_at": clock.format_rfc3339(message.submitted_at),
                "received_at": clock.format_rfc3339(message.received_at),
                "legal_hold": {
                    "flagged_at": clock.format_rfc3339(message.legal_hold_at),
                    "flagged_by": message.legal_hold_by,
                    "reason": message.legal_hold_reason,
                    "kept_until": clock.format_rfc3339(message.expires_at),
                },
            }
        ),
    }
    key = signing_key(actor)
    manifest = {
        "generated_at": clock.format_rfc3339(clock.now()),
        "generator": f"Gardien {__version__}",
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        "signed_with": {
            "algorithm": ALGORITHM,
            "public_key_sha256": key_fingerprint(key.public_key()),
        },
    }
    manifest_bytes = _json(manifest)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, manifest_bytes)
        bundle.writestr(SIGNATURE, key.sign(manifest_bytes))
    audit.record(
        "legal_hold.export", actor=actor, record_ids=[message.id], site_id=message.site_id,
        subject=message.email_index,
    )
    return manifest


def _json(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode()
