"""Managers and their sessions: setup, invitation and reset links, sign-in limits,
timeouts, second factor, CSRF, cookies and headers (both backends, Flask's test client)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from conftest import PASSWORD, csrf_token, post_form
from support.capture import app_logging_here
from support.postgres import free_port
from support.redis import redis_cli, running_redis

from webhook_app import clock, managers, ratelimit
from webhook_app.dashboard.blueprint import PUBLIC
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Manager

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LINK = re.compile(r"https?://\S+/(setup|reset)/(\S+)")
# Pages only a signed-in manager may see.
PRIVATE = ["/", "/account"]


def link_from(output: str) -> str:
    """The path of the link a command printed."""
    found = LINK.search(output)
    assert found, output
    return f"/{found.group(1)}/{found.group(2)}"


def test_anonymous_visitors_reach_only_sign_in_setup_and_reset(app, client):
    for path in PRIVATE:
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    # Every other route of the dashboard, read from the application (a page added later
    # is covered): GET goes to sign-in; POST is refused (no CSRF token, or sign-in first).
    private = [rule for rule in app.url_map.iter_rules()
               if rule.endpoint.startswith("dashboard.") and rule.endpoint not in PUBLIC]
    assert len(private) > 20, "the dashboard's routes"
    for rule in private:
        path = rule.build({name: "1" for name in rule.arguments}, append_unknown=False)[1]
        if "GET" in rule.methods:
            answer = client.get(path)
            assert answer.status_code == 302, (rule.rule, answer.status_code)
            assert answer.headers["Location"].startswith("/login"), rule.rule
        if "POST" in rule.methods:
            assert client.post(path).status_code in (302, 400), rule.rule
            token = csrf_token(client, "/login")
            answer = client.post(path, data={"csrf_token": token})
            assert answer.status_code == 302, (rule.rule, answer.status_code)
            assert answer.headers["Location"].startswith("/login"), rule.rule
    assert client.get("/login").status_code == 200
    assert client.get("/setup/forged").status_code == 410
    assert client.get("/reset/forged").status_code == 410
    assert client.get("/v1/status").status_code == 401, "the API is unchanged"


def test_the_first_manager_sets_up_from_the_printed_link(app, client, runner):
    with clock.frozen(T0):
        printed = runner.invoke(args=["managers", "setup-link"])
        assert printed.exit_code == 0
        setup = link_from(printed.output)
        answer = post_form(client, setup, {"email": "Gerante@Clic-et-Cetera.fr",
                                           "password": PASSWORD, "confirm": PASSWORD})
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
        assert client.get("/").status_code == 200, "signed in at once"
        assert client.get(setup).status_code == 410, "the link works once"
        assert runner.invoke(args=["managers", "setup-link"]).output == ""
    with app.app_context():
        [manager] = db.session.scalars(db.select(Manager)).all()
        assert manager.email == "gerante@clic-et-cetera.fr"
        assert manager.password_hash.startswith("$argon2id$")
        assert PASSWORD not in manager.password_hash


def test_invitation_and_reset_links_work_once_and_for_an_hour(app, client, runner, sign_in):
    with clock.frozen(T0):
        invite = link_from(runner.invoke(args=["managers", "add", "paul@example.fr"]).output)
    with clock.frozen(T0 + timedelta(minutes=61)):
        assert client.get(invite).status_code == 410, "more than an hour old"
        invite = link_from(runner.invoke(args=["managers", "reset", "paul@example.fr"]).output)
    with clock.frozen(T0 + timedelta(minutes=70)):
        answer = post_form(client, invite, {"password": PASSWORD, "confirm": PASSWORD})
        assert answer.status_code == 302
        assert client.get(invite).status_code == 410, "used"
        short = post_form(client.application.test_client(),
                          link_from(runner.invoke(args=["managers", "reset",
                                                        "paul@example.fr"]).output),
                          {"password": "short", "confirm": "short"})
        assert short.status_code == 200 and "12" in short.get_data(as_text=True)


def test_sign_in_and_a_message_that_reveals_nothing(app, client, make_manager, sign_in):
    account = make_manager()
    wrong = sign_in(client, type(account)(account.id, account.email, "not the password"))
    unknown = sign_in(client, type(account)(0, "nobody@example.fr", "not the password"))
    assert wrong.status_code == unknown.status_code == 401
    assert _notice(wrong) == _notice(unknown)
    assert sign_in(client, account).status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEntry.action)).all()
        assert "manager.login" in actions
        assert all(account.email not in (entry.detail or "") + (entry.actor or "")
                   for entry in db.session.scalars(db.select(AuditEntry)))


def _notice(answer) -> str:
    return re.search(r'class="notice error"[^>]*>([^<]*)<', answer.get_data(as_text=True))[1]


def test_sign_in_limit_per_account_trips_and_releases_on_the_clock(app, client, make_manager,
                                                                   sign_in):
    account = make_manager()
    wrong = type(account)(account.id, account.email, "not the password")
    with clock.frozen(T0):
        statuses = [sign_in(client, wrong).status_code for _ in range(5)]
        assert statuses == [401] * 5
        locked = sign_in(client, account)
        assert locked.status_code == 429, "the right password too, while locked"
        body = locked.get_data(as_text=True)
        assert account.email not in body
        assert locked.headers["Retry-After"] == str(15 * 60), "the window began at T0"
    with clock.frozen(T0 + timedelta(minutes=10)):
        assert sign_in(client, account).headers["Retry-After"] == str(5 * 60)
    with clock.frozen(T0 + timedelta(minutes=16)):
        assert sign_in(client, account).status_code == 302, "released after the window"


def test_sign_in_limit_per_client_covers_every_account(app, client, make_manager, sign_in):
    account = make_manager()
    app.config["LOGIN_LIMIT_CLIENT"] = "3 per 15 minutes"
    with clock.frozen(T0):
        for n in range(3):
            stranger = type(account)(0, f"guess{n}@example.fr", "nope nope nope")
            assert sign_in(client, stranger).status_code == 401
        assert sign_in(client, account).status_code == 429


@pytest.mark.parametrize("header", ["", "X-Real-IP"])
def test_behind_the_proxy_each_client_has_its_own_limit(app, client, make_manager, sign_in,
                                                        header):
    """With ``CLIENT_ADDRESS_HEADER`` set (deploy/gardien.service), the proxy's header names
    the client, so one guesser does not lock everyone out; unset, it is not believed."""
    account = make_manager()
    app.config.update(LOGIN_LIMIT_CLIENT="3 per 15 minutes", CLIENT_ADDRESS_HEADER=header)
    with clock.frozen(T0):
        for n in range(3):
            stranger = type(account)(0, f"guess{n}@example.fr", "nope nope nope")
            sign_in(client, stranger, headers={"X-Real-IP": "198.51.100.7"})
        answer = sign_in(client, account, headers={"X-Real-IP": "192.0.2.10"})
        assert answer.status_code == (302 if header else 429)


def test_the_client_header_is_believed_only_from_the_loopback(app, client, make_manager,
                                                               sign_in):
    account = make_manager()
    app.config.update(LOGIN_LIMIT_CLIENT="3 per 15 minutes", CLIENT_ADDRESS_HEADER="X-Real-IP")
    remote = {"REMOTE_ADDR": "203.0.113.5"}  # not the proxy: a client sending the header
    with clock.frozen(T0):
        for n in range(3):
            stranger = type(account)(0, f"guess{n}@example.fr", "nope nope nope")
            sign_in(client, stranger, headers={"X-Real-IP": f"198.51.100.{n}"},
                    environ_base=remote)
        answer = sign_in(client, account, headers={"X-Real-IP": "192.0.2.10"},
                         environ_base=remote)
        assert answer.status_code == 429


def test_sign_in_counters_hold_no_address(app, client, make_manager, sign_in):
    """What the counters are keyed by is a keyed hash, not the account's or client's
    address (both personal data), even in memory."""
    account = make_manager()
    wrong = type(account)(account.id, account.email, "not the password")
    with clock.frozen(T0):
        sign_in(client, wrong, environ_base={"REMOTE_ADDR": "198.51.100.23"})
        login_code = client.post("/login/code", environ_base={"REMOTE_ADDR": "198.51.100.23"})
        assert login_code.status_code == 400, "refused: no CSRF token, and not counted"
    counters = app.extensions[ratelimit.SIGN_IN].limiter.storage._windows
    assert len(counters) == 2, "one per account, one per client"
    for key in counters:
        for personal in (account.email, account.email.split("@")[0], "198.51.100.23"):
            assert personal not in key


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with running_redis() as url:
        yield url


def _app_counting_in(uri: str, database_url: str, secrets: dict):
    return app_logging_here(database_url, secrets, LOGIN_LIMIT_STORAGE_URI=uri)


def test_with_redis_an_account_has_one_limit_across_workers(database_url, secrets, redis_url,
                                                            make_manager, sign_in):
    """Two app instances (two workers, or two servers) counting in one Redis: five wrong
    passwords spread over both spend the account's five attempts on each."""
    account = make_manager()
    wrong = type(account)(account.id, account.email, "not the password")
    first, second = (_app_counting_in(redis_url, database_url, secrets) for _ in range(2))
    port = redis_url.rsplit(":", 1)[1]
    assert redis_cli(port, "flushall") == "OK"
    for number in range(5):
        worker = (first, second)[number % 2]
        assert sign_in(worker.test_client(), wrong).status_code == 401
    for worker in (first, second):
        assert sign_in(worker.test_client(), account).status_code == 429
    stored = redis_cli(port, "--scan")
    assert stored.count("sign-in") == 2, stored
    assert account.email not in stored and "127.0.0.1" not in stored


def test_unreachable_storage_counts_in_the_worker_and_says_so(database_url, secrets,
                                                              make_manager, sign_in, capsys):
    """A Redis that does not answer does not open the door: attempts are counted in the
    worker's memory, and a warning (naming no one) says why."""
    account = make_manager()
    wrong = type(account)(account.id, account.email, "not the password")
    worker = _app_counting_in(f"redis://127.0.0.1:{free_port()}", database_url, secrets)
    client = worker.test_client()
    with clock.frozen(T0):
        assert [sign_in(client, wrong).status_code for _ in range(5)] == [401] * 5
        assert sign_in(client, account).status_code == 429
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    warnings = [line for line in logged if line["logger"] == "webhook_app.ratelimit"]
    assert len(warnings) == 6, "each attempt counted in the worker says so"
    assert {line["message"] for line in warnings} == {
        "sign-in limit storage unreachable; counted in this worker"}
    text = json.dumps(logged)
    assert account.email not in text and "127.0.0.1" not in text


def test_sessions_end_when_idle_and_after_twelve_hours(client, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        sign_in(client, account)
    with clock.frozen(T0 + timedelta(minutes=29)):
        assert client.get("/").status_code == 200
    with clock.frozen(T0 + timedelta(minutes=29 + 31)):
        assert client.get("/").status_code == 302, "30 minutes idle"
    with clock.frozen(T0):
        sign_in(client, account)
    for step in range(1, 37):  # a request every 20 minutes: never idle
        with clock.frozen(T0 + timedelta(minutes=20 * step)):
            expected = 200 if step * 20 <= 12 * 60 else 302
            assert client.get("/").status_code == expected, step * 20


def test_a_disabled_manager_is_out_at_the_next_request(client, runner, make_manager, sign_in):
    account = make_manager()
    sign_in(client, account)
    assert client.get("/").status_code == 200
    assert runner.invoke(args=["managers", "disable", account.email]).exit_code == 0
    assert client.get("/").status_code == 302
    assert sign_in(client, account).status_code == 401


def test_csrf_is_refused_without_the_token(client, make_manager):
    account = make_manager()
    answer = client.post("/login", data={"email": account.email, "password": account.password})
    assert answer.status_code == 400
    assert client.get("/").status_code == 302, "not signed in"


def test_second_factor(app, client, make_manager, sign_in):
    account = make_manager()
    with clock.frozen(T0):
        sign_in(client, account)
        page = client.get("/account").get_data(as_text=True)
        secret = re.search(r"<code>([A-Z2-7]+)</code>", page)[1]
        assert 'src="data:image/svg+xml' in page, "the QR code is drawn here"
        wrong = post_form(client, "/account/totp", {"code": "000000"}, page="/account")
        assert wrong.status_code == 302
        code = pyotp.TOTP(secret).at(T0)
        post_form(client, "/account/totp", {"code": code}, page="/account")
        post_form(client, "/logout", {}, page="/")
    with clock.frozen(T0 + timedelta(minutes=2)):
        answer = sign_in(client, account)
        assert answer.headers["Location"].startswith("/login/code")
        assert client.get("/").status_code == 302, "not in before the code"
        stale = post_form(client, "/login/code", {"code": code})
        assert stale.status_code == 200, "an old code is refused"
        fresh = pyotp.TOTP(secret).at(T0 + timedelta(minutes=2))
        assert post_form(client, "/login/code", {"code": fresh}).status_code == 302
        assert client.get("/").status_code == 200
        post_form(client, "/logout", {}, page="/")
        sign_in(client, account)
        replay = post_form(client, "/login/code", {"code": fresh})
        assert replay.status_code == 200, "a code is never accepted twice"


def test_headers_and_cookies(app, client, make_manager, sign_in):
    account = make_manager()
    answer = sign_in(client, account)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "plain HTTP on the loopback (make run)"
    for path in ["/", "/account", "/login"]:
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert "script-src" not in policy, "no script at all (default-src 'none')"
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]
    remote, there = app.test_client(), "https://gardien.example.fr"
    login = remote.get("/login", base_url=there).get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                      login)[1]
    far = remote.post("/login", data={"csrf_token": token, "email": account.email,
                                      "password": account.password},
                      base_url=there, headers={"Referer": f"{there}/login"})
    assert far.status_code == 302 and "Secure" in far.headers["Set-Cookie"]


def test_language_from_the_browser_then_remembered_per_manager(app, make_manager, sign_in):
    account = make_manager()
    browser = app.test_client()
    french = browser.get("/login").get_data(as_text=True)
    assert 'lang="fr"' in french and ">Connexion<" in french, "French first"
    english = browser.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert ">Sign in<" in english.get_data(as_text=True)
    sign_in(browser, account)
    post_form(browser, "/language", {"language": "en", "back": "/"}, page="/")
    other = app.test_client()
    sign_in(other, account)
    assert 'lang="en"' in other.get("/", headers={"Accept-Language": "fr"}).get_data(
        as_text=True), "the manager's choice wins over the browser's"
    with app.app_context():
        assert managers.find(account.email).language == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_next_never_leads_off_the_dashboard(client, make_manager, target):
    account = make_manager()
    token = csrf_token(client, "/login")
    answer = client.post(f"/login?next={target}", data={
        "csrf_token": token, "email": account.email, "password": account.password})
    assert answer.headers["Location"] == "/"
