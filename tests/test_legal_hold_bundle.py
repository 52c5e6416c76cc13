"""Legal-hold bundles an authority can verify with the public key alone: the standalone
verifier, the command line without configuration, and OpenSSL."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from itsdangerous import Signer
from sqlalchemy import select, text

from webhook_app import clock, legal_hold, messages, verify_bundle
from webhook_app.extensions import db
from webhook_app.models import AuditEntry
from webhook_app.verify_bundle import BundleError, key_fingerprint, load_public_key

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SECRET_TEXT = "contenu à transmettre"
VERIFIER = Path(verify_bundle.__file__)
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def bundle(app, store_message, tmp_path) -> tuple[Path, dict, str]:
    """A held message exported: the bundle's path, its manifest, the service's public PEM."""
    path = tmp_path / "hold.zip"
    with app.app_context(), clock.frozen(T0):
        message_id = store_message(at=T0, message=SECRET_TEXT)
        with pytest.raises(legal_hold.LegalHoldError):
            legal_hold.export_bundle(message_id, path, "cli:test")
        messages.hold(message_id, "menaces", "cli:test")
        manifest = legal_hold.export_bundle(message_id, path, "cli:test")
        pem = legal_hold.public_key_pem("cli:test")
        db.session.commit()
    return path, manifest, pem


def contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, entries: list[tuple[str, bytes]]) -> None:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.simplefilter("ignore")  # a duplicate name is what one test wants
        for name, data in entries:
            archive.writestr(name, data)


def test_a_bundle_verifies_with_the_public_key_alone(app, bundle):
    path, manifest, pem = bundle
    key = load_public_key(pem.encode())
    assert verify_bundle.verify(path, key) == manifest
    assert manifest["signed_with"] == {"algorithm": "Ed25519",
                                       "public_key_sha256": key_fingerprint(key)}
    assert set(manifest["sha256"]) == {"message.json", "metadata.json"}
    assert SECRET_TEXT.encode() in contents(path)["message.json"]
    assert path.stat().st_mode & 0o777 == 0o600
    with app.app_context():
        stored = db.session.scalar(
            text("SELECT value FROM service_keys WHERE name = 'legal_hold.ed25519'")
        )
        assert stored.startswith("gAAAAA") and "PRIVATE KEY" not in stored
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["message.flag", "legal_hold.key_made", "legal_hold.export"]
        made = db.session.scalar(select(AuditEntry.detail)
                                 .where(AuditEntry.action == "legal_hold.key_made"))
        assert made == f"public_key_sha256={key_fingerprint(key)}"
        # The key is kept: the next bundle is signed with the same one.
        assert legal_hold.public_key_pem("cli:test") == pem


def _changed(entries, name, old: bytes, new: bytes):
    assert old in dict(entries)[name], "a change that changes nothing proves nothing"
    return [(n, d.replace(old, new) if n == name else d) for n, d in entries]


def _with_sum_updated(entries):
    """message.json changed, and its SHA-256 in the manifest too (without the private key)."""
    files = dict(entries)
    message = files["message.json"].replace(b"transmettre", b"effacer")
    manifest = json.loads(files["manifest.json"])
    manifest["sha256"]["message.json"] = hashlib.sha256(message).hexdigest()
    files.update({"message.json": message, "manifest.json": json.dumps(manifest).encode()})
    return list(files.items())


def _flipped_signature(entries):
    return [(n, bytes([d[0] ^ 1]) + d[1:] if n == "manifest.sig" else d) for n, d in entries]


TAMPERING = {
    "message changed": (lambda e: _changed(e, "message.json", b"transmettre", b"effacer"),
                        "message.json does not match"),
    "metadata changed": (lambda e: _changed(e, "metadata.json", b"menaces", b"rien"),
                         "metadata.json does not match"),
    "manifest changed": (lambda e: _changed(e, "manifest.json", b"2026-05-04", b"2026-05-05"),
                         "signature does not verify"),
    "file and its sum changed": (_with_sum_updated, "signature does not verify"),
    "signature changed": (_flipped_signature, "signature does not verify"),
    "signature missing": (lambda e: [(n, d) for n, d in e if n != "manifest.sig"],
                          "not a complete legal-hold bundle"),
    "file missing": (lambda e: [(n, d) for n, d in e if n != "metadata.json"],
                     "not a complete legal-hold bundle"),
    "file added": (lambda e: [*e, ("note.txt", b"ajout")], "files the manifest does not list"),
    "file twice": (lambda e: [*e, ("message.json", b"{}")], "two files of the same name"),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_any_change_to_a_bundle_is_caught(bundle, tmp_path, tampering):
    path, _, pem = bundle
    change, expected = TAMPERING[tampering]
    tampered = tmp_path / "tampered.zip"
    rewrite(tampered, change(list(contents(path).items())))
    with pytest.raises(BundleError, match=expected):
        verify_bundle.verify(tampered, load_public_key(pem.encode()))


def test_another_key_does_not_verify_and_cannot_forge(bundle, tmp_path):
    path, manifest, pem = bundle
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(BundleError, match="another signing key"):
        verify_bundle.verify(path, stranger.public_key())
    # A forger who re-signs with their own key, naming it in the manifest, fails against
    # the service's key (and the one check that is left, the fingerprint, names theirs).
    forged_manifest = {**manifest, "signed_with": {
        "algorithm": "Ed25519", "public_key_sha256": key_fingerprint(stranger.public_key())}}
    forged_bytes = json.dumps(forged_manifest).encode()
    files = contents(path)
    files.update({"manifest.json": forged_bytes, "manifest.sig": stranger.sign(forged_bytes)})
    forged = tmp_path / "forged.zip"
    rewrite(forged, list(files.items()))
    with pytest.raises(BundleError, match="another signing key"):
        verify_bundle.verify(forged, load_public_key(pem.encode()))


def test_a_bundle_signed_the_old_way_is_refused_clearly(bundle, tmp_path, secrets):
    """Before issue 9: an itsdangerous HMAC-SHA1 of the manifest under the app's secret."""
    path, manifest, pem = bundle
    old_manifest = {key: value for key, value in manifest.items() if key != "signed_with"}
    old_bytes = json.dumps(old_manifest, indent=2, sort_keys=True).encode()
    signer = Signer(secrets["SECRET_KEY"], salt="gardien.legal-hold.manifest")
    files = contents(path)
    files.update({"manifest.json": old_bytes, "manifest.sig": signer.get_signature(old_bytes)})
    old = tmp_path / "old.zip"
    rewrite(old, list(files.items()))
    with pytest.raises(BundleError, match="signed the old way"):
        verify_bundle.verify(old, load_public_key(pem.encode()))
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a complete legal-hold bundle"):
        verify_bundle.verify(tmp_path / "junk.zip", load_public_key(pem.encode()))
    with pytest.raises(BundleError, match="not a PEM public key"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def without_configuration(tmp_path: Path) -> dict[str, str]:
    """An environment in which the service cannot start: every secret setting empty (so
    neither the environment nor an instance file can supply one)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GARDIEN_")}
    env.update({f"GARDIEN_{name}": "" for name in
                ("SECRET_KEY", "WEBHOOK_SECRET", "DATA_KEYS", "INDEX_KEY", "DATABASE_URL")})
    return env


def test_verification_needs_no_configuration_database_or_gardien(bundle, tmp_path):
    path, _, pem = bundle
    key_file = tmp_path / "gardien-legal-hold.pem"
    key_file.write_text(pem)
    env = without_configuration(tmp_path)

    def flask(*args):
        return subprocess.run([str(VENV_BIN / "flask"), "--app", "webhook_app", *args],
                              env=env, cwd=tmp_path, capture_output=True, text=True)

    control = flask("legal-hold", "public-key")
    assert control.returncode != 0 and "missing secret settings" in control.stderr
    verified = flask("legal-hold", "verify", str(path), "--public-key", str(key_file))
    assert verified.returncode == 0, verified.stderr
    assert "verify" in verified.stdout

    tampered = tmp_path / "tampered.zip"
    rewrite(tampered, _flipped_signature(list(contents(path).items())))
    refused = flask("legal-hold", "verify", str(tampered), "--public-key", str(key_file))
    assert refused.returncode != 0 and "signature does not verify" in refused.stderr

    # The standalone verifier, copied alone, as handed to an authority.
    handed_over = tmp_path / "authority" / "verify_bundle.py"
    handed_over.parent.mkdir()
    shutil.copy(VERIFIER, handed_over)
    for bundle_file, code in ((path, 0), (tampered, 1)):
        result = subprocess.run(
            [sys.executable, str(handed_over), str(bundle_file), "--public-key", str(key_file)],
            env=env, cwd=handed_over.parent, capture_output=True, text=True,
        )
        assert result.returncode == code, result.stderr


def test_the_verifier_imports_only_the_standard_library_and_cryptography():
    imported = set()
    for node in ast.walk(ast.parse(VERIFIER.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative import"
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_openssl_alone_checks_the_signature_and_the_key_fingerprint(bundle, tmp_path):
    """The commands README.md and verify_bundle.py give the authorities."""
    path, manifest, pem = bundle
    workdir = tmp_path / "openssl"
    workdir.mkdir()
    with zipfile.ZipFile(path) as archive:
        archive.extractall(workdir)
    (workdir / "gardien-legal-hold.pem").write_text(pem)
    check = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "gardien-legal-hold.pem",
             "-rawin", "-in", "manifest.json", "-sigfile", "manifest.sig"]
    result = subprocess.run(check, cwd=workdir, capture_output=True, text=True)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", "gardien-legal-hold.pem",
                          "-outform", "DER"], cwd=workdir, capture_output=True, check=True)
    assert hashlib.sha256(der.stdout).hexdigest() == manifest["signed_with"]["public_key_sha256"]
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((workdir / name).read_bytes()).hexdigest() == digest

    manifest_file = workdir / "manifest.json"
    manifest_file.write_bytes(manifest_file.read_bytes().replace(b"2026", b"2027"))
    assert subprocess.run(check, cwd=workdir, capture_output=True).returncode != 0
