"""Bundles of held messages for the authorities.

Putting a message under hold and lifting it are steps of its lifecycle
(:func:`webhook_app.messages.hold`, :func:`~webhook_app.messages.release`). The bundle
for the authorities is a ZIP whose manifest of SHA-256 sums is signed with itsdangerous
under the service's secret key.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

from flask import current_app
from itsdangerous import BadSignature, Signer

from . import __version__, audit, clock, messages
from .errors import DomainError
from .models import ContactMessage

SIGNER_SALT = "gardien.legal-hold.manifest"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


class LegalHoldError(DomainError):
    """A hold operation that cannot be done; the message names no personal data."""


def _held(message_id: str) -> ContactMessage:
    message = messages.get(message_id)
    if message.legal_hold_at is None:
        raise LegalHoldError("only a message under legal hold can be exported for the authorities")
    return message


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=SIGNER_SALT)


def export_bundle(message_id: str, target: Path, actor: str) -> dict:
    """Write the held message and its metadata to a signed ZIP (mode 0600); return the manifest."""
    message = _held(message_id)
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
    manifest = {
        "generated_at": clock.format_rfc3339(clock.now()),
        "generator": f"Gardien {__version__}",
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    manifest_bytes = _json(manifest)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, manifest_bytes)
        bundle.writestr(SIGNATURE, _signer().get_signature(manifest_bytes))
    audit.record(
        "legal_hold.export", actor=actor, record_ids=[message.id], site_id=message.site_id,
        subject=message.email_index,
    )
    return manifest


def verify_bundle(source: Path) -> dict:
    """Check a bundle's signature and every file's SHA-256; return the manifest or raise."""
    try:
        with zipfile.ZipFile(source) as bundle:
            manifest_bytes = bundle.read(MANIFEST)
            signature = bundle.read(SIGNATURE)
            if not _signer().verify_signature(manifest_bytes, signature):
                raise LegalHoldError("the manifest signature does not verify")
            manifest = json.loads(manifest_bytes)
            for name, expected in manifest["sha256"].items():
                if hashlib.sha256(bundle.read(name)).hexdigest() != expected:
                    raise LegalHoldError(f"{name} does not match its SHA-256 in the manifest")
            extra = set(bundle.namelist()) - set(manifest["sha256"]) - {MANIFEST, SIGNATURE}
            if extra:
                raise LegalHoldError("the bundle holds files the manifest does not list")
    except (KeyError, zipfile.BadZipFile, BadSignature, ValueError) as exc:
        if isinstance(exc, LegalHoldError):
            raise
        raise LegalHoldError("this is not a complete legal-hold bundle") from None
    return manifest


def _json(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode()
