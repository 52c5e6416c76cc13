"""Check a Gardien legal-hold bundle with nothing but the bundle and the service's public key.

This file stands alone: Python 3.11+ and the ``cryptography`` package, no Gardien, no
configuration, no database. It can be handed to an authority with the public key
(``flask --app webhook_app legal-hold public-key``)::

    python3 verify_bundle.py BUNDLE.zip --public-key gardien-legal-hold.pem

A bundle is a ZIP of the exported files, ``manifest.json`` (their SHA-256, when and by
what it was made, and ``signed_with``: the algorithm and the SHA-256 of the signing key)
and ``manifest.sig``, the raw 64-byte Ed25519 signature of ``manifest.json``'s exact
bytes. Anyone can check it with OpenSSL 3 alone::

    unzip BUNDLE.zip
    openssl pkeyutl -verify -pubin -inkey gardien-legal-hold.pem -rawin \\
        -in manifest.json -sigfile manifest.sig        # Signature Verified Successfully
    openssl pkey -pubin -in gardien-legal-hold.pem -outform DER | sha256sum
                                                       # = signed_with.public_key_sha256
    sha256sum message.json metadata.json               # = the manifest's sha256 values
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ALGORITHM = "Ed25519"


class BundleError(ValueError):
    """The bundle does not verify; the message says why (and names no content)."""


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the key's DER SubjectPublicKeyInfo, as
    ``openssl pkey -pubin -outform DER | sha256sum`` prints it."""
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """The Ed25519 public key in ``pem``, or :class:`BundleError`."""
    try:
        key = load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise BundleError("the public key file is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError("the public key is not an Ed25519 key")
    return key


def verify(bundle: Path, public_key: Ed25519PublicKey) -> dict:
    """Check a bundle's signature against ``public_key`` and every file's SHA-256; return
    the manifest, or raise :class:`BundleError`."""
    try:
        with zipfile.ZipFile(bundle) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                raise BundleError("the bundle holds two files of the same name")
            manifest_bytes = archive.read(MANIFEST)
            signature = archive.read(SIGNATURE)
            manifest = json.loads(manifest_bytes)
            signed_with = manifest.get("signed_with")
            if not isinstance(signed_with, dict) or signed_with.get("algorithm") != ALGORITHM:
                raise BundleError(
                    "this bundle was signed the old way, with a secret of the service "
                    "(HMAC): only the service can check that, and it could forge it. Export "
                    "the message again for a bundle signed with Ed25519"
                )
            expected_key = key_fingerprint(public_key)
            if signed_with.get("public_key_sha256") != expected_key:
                raise BundleError(
                    f"the manifest names another signing key "
                    f"({signed_with.get('public_key_sha256')}) than this one ({expected_key})"
                )
            try:
                public_key.verify(signature, manifest_bytes)
            except InvalidSignature:
                raise BundleError("the manifest signature does not verify") from None
            for name, digest in manifest["sha256"].items():
                if name in (MANIFEST, SIGNATURE):
                    raise BundleError("the manifest lists itself")
                if hashlib.sha256(archive.read(name)).hexdigest() != digest:
                    raise BundleError(f"{name} does not match its SHA-256 in the manifest")
            if set(names) - set(manifest["sha256"]) - {MANIFEST, SIGNATURE}:
                raise BundleError("the bundle holds files the manifest does not list")
    except BundleError:
        raise
    except (KeyError, zipfile.BadZipFile, ValueError, TypeError, AttributeError, OSError):
        raise BundleError("this is not a complete legal-hold bundle") from None
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: verify a bundle, print the outcome, exit 0 if it verifies, else 1."""
    parser = argparse.ArgumentParser(description="Verify a Gardien legal-hold bundle.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--public-key", type=Path, required=True, help="The service's PEM.")
    arguments = parser.parse_args(argv)
    try:
        key = load_public_key(arguments.public_key.read_bytes())
        manifest = verify(arguments.bundle, key)
    except (BundleError, OSError) as error:
        print(f"{arguments.bundle}: does NOT verify: {error}", file=sys.stderr)
        return 1
    print(describe(arguments.bundle, manifest))
    return 0


def describe(bundle: Path, manifest: dict) -> str:
    """The one line that says a bundle verified, and with which key."""
    return (f"{bundle}: the signature (Ed25519, key {manifest['signed_with']['public_key_sha256']})"
            f" and the SHA-256 of its {len(manifest['sha256'])} files verify")


if __name__ == "__main__":
    sys.exit(main())
