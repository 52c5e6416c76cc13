"""Debian's nginx running deploy/nginx.conf, unprivileged, in front of a test's gunicorn.

Only what a test machine must change is rewritten: the ports (free loopback ports), the
certificate (self-signed, made here), the log and temporary folders, and the upstream's
port. Every rewrite must apply, so a changed deploy/nginx.conf fails loudly here rather
than being tested half.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .gardien import ROOT
from .postgres import free_port

SHIPPED = ROOT / "deploy" / "nginx.conf"
HOST = "gardien.example.fr"
# Debian's nginx is in /usr/sbin, which a user's PATH may not hold.
NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
# When the tests run as root, nginx runs as nobody: nothing of it needs privileges.
UNPRIVILEGED = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")

WRAPPER = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
# As Debian's /etc/nginx/nginx.conf: the main error log at "error".
error_log {folder}/logs/error.log error;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {folder}/tmp/body;
    proxy_temp_path {folder}/tmp/proxy;
    fastcgi_temp_path {folder}/tmp/fastcgi;
    uwsgi_temp_path {folder}/tmp/uwsgi;
    scgi_temp_path {folder}/tmp/scgi;
    # As Debian's nginx.conf: the default access log, client address first. A request
    # logged here would be one the shipped file forgot.
    access_log {folder}/logs/access.log combined;
    include {folder}/gardien.conf;
}}
"""


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for HOST and 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def rewritten(text: str, folder: Path, tls_port: int, http_port: int, upstream: int) -> str:
    """deploy/nginx.conf with the test machine's ports and paths."""
    rewrites = [
        (r"^\s*listen \[::\]:\d+[^;]*;\n", ""),
        (r"\blisten 443\b", f"listen 127.0.0.1:{tls_port}"),
        (r"\blisten 80\b", f"listen 127.0.0.1:{http_port}"),
        (rf"/etc/letsencrypt/live/{re.escape(HOST)}/", f"{folder}/"),
        (r"/var/log/nginx/", f"{folder}/logs/"),
        (r"/var/www/letsencrypt", f"{folder}/webroot"),
        (r"\bserver 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream};"),
    ]
    for pattern, replacement in rewrites:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count, f"deploy/nginx.conf no longer has {pattern!r}: update tests/support/nginx.py"
    return text


@dataclass
class Nginx:
    """One nginx: its folder (configuration, certificate, logs), ports and process."""

    folder: Path
    tls_port: int
    http_port: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    @property
    def certificate(self) -> Path:
        return self.folder / "fullchain.pem"

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    def command(self, *args: str) -> list[str]:
        assert NGINX, "nginx is missing: apt-get install nginx (make test installs it)"
        prefix = list(UNPRIVILEGED) if os.geteuid() == 0 else []
        main = self.folder / "nginx.conf"
        return [
            *prefix,
            NGINX,
            "-p",
            f"{self.folder}/",
            "-c",
            str(main),
            "-e",
            str(self.logs / "startup.log"),
            *args,
        ]

    def test_config(self) -> subprocess.CompletedProcess:
        """``nginx -t`` on the configuration."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, check=False)

    def start(self) -> Nginx:
        """Start nginx and wait until its TLS port accepts connections."""
        with open(self.logs / "stderr.log", "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: see {self.logs}")
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen within 15 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def prepared_nginx(upstream_port: int, config: str | None = None) -> Nginx:
    """nginx's folder ready to start, with deploy/nginx.conf (or ``config``) rewritten to
    proxy to ``upstream_port``. The folder is outside pytest's (root-only) temp folders and
    owned by nobody when the tests run as root."""
    folder = Path(tempfile.mkdtemp(prefix="gardien-nginx-"))
    nginx = Nginx(folder=folder, tls_port=free_port(), http_port=free_port())
    for sub in ("logs", "tmp", "webroot"):
        (folder / sub).mkdir()
    self_signed(folder)
    text = config if config is not None else SHIPPED.read_text()
    try:
        text = rewritten(text, folder, nginx.tls_port, nginx.http_port, upstream_port)
    except AssertionError:
        nginx.remove()
        raise
    (folder / "gardien.conf").write_text(text)
    (folder / "nginx.conf").write_text(WRAPPER.format(folder=folder))
    if os.geteuid() == 0:
        folder.chmod(0o755)
        for path in [folder, *folder.rglob("*")]:
            shutil.chown(path, "nobody", "nogroup")
    return nginx
