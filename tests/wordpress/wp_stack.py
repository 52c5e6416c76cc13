"""A private WordPress for the plugin's tests: MariaDB, a copy of Debian's WordPress, php -S.

Nothing here touches the system's MariaDB, /etc/wordpress or /var/lib/wordpress.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from support.gardien import GardienService

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "wp-plugin"
PHP_DIR = Path(__file__).resolve().parent / "php"
WORDPRESS_SOURCE = Path("/usr/share/wordpress")
# Core translations kept in the copy: English and French (the plugin ships fr_FR).
KEPT_LANGUAGES = re.compile(r"(^|-)fr_FR\.(mo|po|json)$")

REQUIRED_TOOLS = {
    "php": "php-cli",
    "mariadbd": "mariadb-server",
    "mariadb-install-db": "mariadb-server",
    "mariadb-admin": "mariadb-client",
    "mariadb": "mariadb-client",
    "phpunit": "phpunit",
    "phpcs": "php-codesniffer",
    "msgfmt": "gettext",
    "chromium": "chromium",
}


def missing_tools() -> list[str]:
    """Tools (with their Debian package) that are not on PATH."""
    return [
        f"{tool} (Debian package {package})"
        for tool, package in REQUIRED_TOOLS.items()
        if shutil.which(tool) is None
    ]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` until true, or raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout} s")


def ensure_running(service: GardienService) -> GardienService:
    """Start the service again if a test stopped it (same port, same data)."""
    if service.process is None or service.process.poll() is not None:
        service.start()
    return service


@dataclass
class PrivateMariaDB:
    """mariadbd on its own datadir, socket and port (``--no-defaults`` always first)."""

    base: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.base / "mysqld.sock"

    def _user(self) -> list[str]:
        return [f"--user={getpass.getuser()}"]

    def start(self) -> PrivateMariaDB:
        datadir = self.base / "data"
        datadir.mkdir(parents=True)
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={datadir}",
                *self._user(),
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        with open(self.base / "mariadbd.log", "wb") as log:
            self.process = subprocess.Popen(
                [
                    "mariadbd",
                    "--no-defaults",
                    f"--datadir={datadir}",
                    f"--socket={self.socket}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    *self._user(),
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=32M",
                    "--innodb-log-file-size=16M",
                    f"--pid-file={self.base / 'mariadbd.pid'}",
                    "--skip-name-resolve",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._pings, 30, "MariaDB")
        return self

    def _pings(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited; see {self.base / 'mariadbd.log'}")
        return (
            subprocess.run(
                ["mariadb-admin", "--no-defaults", f"--socket={self.socket}", "-uroot", "ping"],
                capture_output=True,
            ).returncode
            == 0
        )

    def sql(self, statement: str) -> str:
        """Run SQL as root over the socket; returns tab-separated output."""
        return subprocess.run(
            [
                "mariadb",
                "--no-defaults",
                f"--socket={self.socket}",
                "-uroot",
                "-N",
                "-B",
                "-e",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class PrivateWordPress:
    """A WordPress copy with its own wp-config.php and Gardien activated, served by php -S."""

    base: Path
    database: PrivateMariaDB
    service_url: str
    webhook_secret: str
    port: int = field(default_factory=free_port)
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    pages: dict = field(default_factory=dict)
    server: subprocess.Popen | None = None
    # The plugin as an installable zip (make dist) unpacked into wp-content/plugins, instead of
    # a link to wp-plugin/.
    plugin_zip: Path | None = None
    # A multisite network (subdirectories, domain 127.0.0.1 without a port: WordPress keeps no
    # port in a site's domain, so it is driven from PHP CLI scripts, not served), with
    # ``extra_config`` (PHP) added to its wp-config.php. Gardien is not activated: see
    # provision().
    multisite: bool = False
    extra_config: str = ""
    database_name: str = "wordpress"

    @property
    def path(self) -> Path:
        return self.base / "wordpress"

    @property
    def url(self) -> str:
        return "http://127.0.0.1" if self.multisite else f"http://127.0.0.1:{self.port}"

    @property
    def debug_log(self) -> Path:
        return self.base / "debug.log"

    @property
    def secret_override(self) -> Path:
        return self.base / "webhook-secret-override"

    @contextmanager
    def secret_replaced(self, secret: str) -> Iterator[None]:
        """Within the block, the web server signs with ``secret`` instead of the service's."""
        self.secret_override.write_text(secret)
        try:
            yield
        finally:
            self.secret_override.unlink()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "WP_DIR": str(self.path),
            "WP_URL": self.url,
            "WP_ADMIN_PASSWORD": self.admin_password,
            **extra,
        }

    def provision(self, database_name: str | None = None) -> PrivateWordPress:
        """Copy core (following Debian's symlinks), configure, install, activate, serve.

        A multisite copy installs a network (php/network.php setup) with one sub-site,
        ``/site2/``, and leaves Gardien inactive for its tests to activate."""
        self.database_name = database_name or self.database_name
        shutil.copytree(
            WORDPRESS_SOURCE,
            self.path,
            symlinks=False,
            ignore=lambda directory, names: [
                name
                for name in names
                if name in ("wp-config.php", ".htaccess")
                or (directory.endswith("wp-content/languages") and not KEPT_LANGUAGES.search(name))
            ],
        )
        (self.path / "wp-content" / "mu-plugins").mkdir()
        shutil.copy(
            PHP_DIR / "mu-plugin.php", self.path / "wp-content" / "mu-plugins" / "gardien-test.php"
        )
        plugins = self.path / "wp-content" / "plugins"
        if self.plugin_zip is None:
            (plugins / "gardien").symlink_to(PLUGIN_DIR)
        else:
            with zipfile.ZipFile(self.plugin_zip) as archive:
                archive.extractall(plugins)
        self.database.sql(
            f"CREATE DATABASE {self.database_name} CHARACTER SET utf8mb4; "
            f"CREATE USER IF NOT EXISTS 'wp'@'localhost' IDENTIFIED BY 'wp'; "
            f"GRANT ALL ON *.* TO 'wp'@'localhost';"
        )
        self.write_config()
        if self.multisite:
            self.install_network()
            return self
        result = self.php(
            PHP_DIR / "install.php", env=self.env(GARDIEN_TEST_DB=self.database_name)
        )
        self.pages = json.loads(result.stdout.strip().splitlines()[-1])
        return self

    def install_network(self, database_name: str | None = None) -> None:
        """Install WordPress as a network in ``database_name`` (an empty database; the copy's
        own by default), with the sub-site ``/site2/``."""
        env = self.env(GARDIEN_TEST_DB=database_name or self.database_name)
        self.php(PHP_DIR / "network.php", "setup", input={}, env={**env, "GARDIEN_TEST_SETUP": "1"})
        self.php(PHP_DIR / "network.php", "create-site", input={"slug": "site2"}, env=env)

    def network(self, command: str, payload: object = None, path: str = "/", **env: str):
        """``php network.php COMMAND`` on the network site at ``path``; its JSON answer."""
        result = self.php(
            PHP_DIR / "network.php", command, input=payload or {},
            env=self.env(GARDIEN_TEST_PATH=path, **env),
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def write_config(self) -> None:
        salts = "\n".join(
            f"define('{name}', '{secrets.token_hex(32)}');"
            for name in (
                "AUTH_KEY",
                "SECURE_AUTH_KEY",
                "LOGGED_IN_KEY",
                "NONCE_KEY",
                "AUTH_SALT",
                "SECURE_AUTH_SALT",
                "LOGGED_IN_SALT",
                "NONCE_SALT",
            )
        )
        service_port = int(self.service_url.rsplit(":", 1)[1])
        (self.path / "wp-config.php").write_text(f"""<?php
// Test WordPress of the Gardien plugin suite (generated by tests/wordpress/wp_stack.py).
define('DB_NAME', getenv('GARDIEN_TEST_DB') ?: '{self.database_name}');
define('DB_USER', 'wp');
define('DB_PASSWORD', 'wp');
define('DB_HOST', 'localhost:{self.database.socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';
{salts}
{self.site_urls()}
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_ACCESSIBLE_HOSTS', '127.0.0.1');
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', '{self.debug_log}');
define('WP_DEBUG_DISPLAY', false);
@ini_set('display_errors', '0');
define('GARDIEN_TEST_SERVICE_PORT', {service_port});
defined('GARDIEN_SERVICE_URL') || define('GARDIEN_SERVICE_URL', '{self.service_url}');
{self.extra_config}
defined('GARDIEN_SITE') || define('GARDIEN_SITE', 'default');
// A test replaces the secret for the web server by writing this file (php/bootstrap.php reads
// GARDIEN_TEST_SECRET for command-line runs).
if (!defined('GARDIEN_WEBHOOK_SECRET') && is_file('{self.secret_override}')) {{
    define('GARDIEN_WEBHOOK_SECRET', trim((string) file_get_contents('{self.secret_override}')));
}}
defined('GARDIEN_WEBHOOK_SECRET') || define('GARDIEN_WEBHOOK_SECRET', '{self.webhook_secret}');
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
""")

    def site_urls(self) -> str:
        """wp-config.php lines naming the site's URL, or the network (its sites have their own
        URLs; GARDIEN_TEST_SETUP: the single site being turned into a network)."""
        if not self.multisite:
            return f"define('WP_HOME', '{self.url}');\ndefine('WP_SITEURL', '{self.url}');"
        return """define('WP_ALLOW_MULTISITE', true);
if (!getenv('GARDIEN_TEST_SETUP')) {
    define('MULTISITE', true);
    define('SUBDOMAIN_INSTALL', false);
    define('DOMAIN_CURRENT_SITE', '127.0.0.1');
    define('PATH_CURRENT_SITE', '/');
    define('SITE_ID_CURRENT_SITE', 1);
    define('BLOG_ID_CURRENT_SITE', 1);
}"""

    def php(
        self,
        script: Path,
        *args: str,
        input: object = None,
        env: dict | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess:
        """Run a PHP script of tests/wordpress/php inside this WordPress."""
        result = subprocess.run(
            ["php", str(script), *args],
            input=None if input is None else json.dumps(input),
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{script.name} {args} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def cli(self, command: str, payload: object = None, **env: str):
        """``php cli.php COMMAND`` with a JSON payload; returns its JSON answer."""
        result = self.php(PHP_DIR / "cli.php", command, input=payload or {}, env=self.env(**env))
        return json.loads(result.stdout.strip().splitlines()[-1])

    def cron(self) -> None:
        """Run WP-Cron once, as the system cron of a production site would (php wp-cron.php)."""
        self.php(PHP_DIR / "cron.php")

    def serve(self) -> PrivateWordPress:
        log = open(self.base / "php-server.log", "wb")
        self.server = subprocess.Popen(
            # OPcache (on for php -S) rechecks a file's time at every request, not every 2 s:
            # tests rewrite wp-config.php and drop-ins between requests.
            ["php", "-d", "opcache.revalidate_freq=0", "-S", f"127.0.0.1:{self.port}",
             "-t", str(self.path)],
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
            cwd=self.path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def answers() -> bool:
            if self.server.poll() is not None:
                raise RuntimeError(f"php -S exited; see {self.base / 'php-server.log'}")
            try:
                return requests.get(self.url + "/wp-login.php", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(answers, 20, "php -S")
        return self

    def stop(self) -> None:
        """Stop php -S and its workers (the whole process group)."""
        if self.server is None or self.server.poll() is not None:
            return
        os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()

    def login(self) -> requests.Session:
        """A requests session logged into wp-admin as the administrator."""
        session = requests.Session()
        session.cookies.set(
            "wordpress_test_cookie", "WP Cookie check", domain="127.0.0.1", path="/"
        )
        response = session.post(
            self.url + "/wp-login.php",
            data={
                "log": "admin",
                "pwd": self.admin_password,
                "wp-submit": "Log In",
                "redirect_to": self.url + "/wp-admin/",
                "testcookie": "1",
            },
            timeout=30,
        )
        assert "wp-admin" in response.url and "loginform" not in response.text, "admin login failed"
        return session
