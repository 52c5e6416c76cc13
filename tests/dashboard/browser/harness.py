"""The dashboard in Chromium: what every page visited must pass, and a crawler that finds
the pages by following links (so pages added later are covered without touching the tests).

A visit (:meth:`Pages.visit`) checks the answer (200, the security headers, no failed
sub-resource, no console error or page error), runs axe-core (no violation of impact
serious or critical), checks one ``<h1>`` and no horizontal scrolling at a phone's width
(375 px: wide tables must scroll inside their own wrapper), and writes a full-page
screenshot at both widths. Problems are collected and reported together at the end of a
test (:meth:`Pages.assert_clean`), so one run shows every page that needs work.

axe-core is not injected as a ``<script>`` (the pages' CSP ``default-src 'none'`` refuses
it): its source is evaluated through the DevTools protocol (``page.evaluate``), which the
CSP does not govern, so every context keeps the real CSP.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response
from playwright.sync_api import Error as PlaywrightError
from support.chromium import CHROMIUM
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

from webhook_app import create_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output" / "dashboard"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
FAILING_IMPACTS = ("serious", "critical")
# Headers every dashboard page carries (webhook_app/dashboard/blueprint.py).
REQUIRED_HEADERS = {
    "content-security-policy": "default-src 'none'",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}

# Elements wider than the phone screen that are not inside a horizontally scrolling box:
# what makes the whole page scroll sideways (reported to say where to look).
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if ((x === 'auto' || x === 'scroll' || x === 'hidden') && p !== document.body
          && p !== document.documentElement) return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => (el.getBoundingClientRect().right > width + 1
                     || el.scrollWidth > el.clientWidth + 1) && !scrolls(el))
    .map(name);
  return {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: width,
          culprits: [...new Set(wide)].slice(0, 6)};
}"""

AXE_RUN_JS = """async (impacts) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter((v) => impacts.includes(v.impact)).map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


def app_of(service) -> Flask:
    """The app with a service's settings, in this process (to seed data, read the URL map)."""
    return create_app({key.removeprefix("GARDIEN_"): value
                       for key, value in service.env.items() if key.startswith("GARDIEN_")})


def require_tools() -> None:
    """Chromium and axe-core must be there: the suite fails, it never skips."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (make test does)"
    assert AXE.exists(), (
        f"{AXE} is missing: run `npm ci --prefix tests/dashboard/browser` "
        "(make test does, from package-lock.json)"
    )


def output_folder(name: str) -> Path:
    """A test's screenshot folder, emptied: test-output/dashboard/<name>/."""
    folder = OUTPUT / re.sub(r"[^\w.-]+", "-", name).strip("-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def new_context(browser: Browser, **options) -> BrowserContext:
    """A context as a manager's browser: English by default, the pages' real CSP."""
    options.setdefault("locale", "en-GB")
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)  # a missing button fails in 10 s, not 30
    return context


def same_origin_path(url: str, origin: str) -> str | None:
    """The path and query of ``url`` if it is a page of ``origin`` (no fragment), else None."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f-]{16,}|[A-Za-z0-9_.=-]{24,})$")


def kind_of(path: str) -> tuple[str, tuple[str, ...]]:
    """What a page is, ignoring which record: ids in the path become ``<id>``, the query
    keeps its keys only. ``/messages/5f0c…?after=x`` → ``("/messages/<id>", ("after",))``."""
    parts = urlsplit(path)
    segments = ["<id>" if ID_SEGMENT.match(s) else s for s in parts.path.split("/")]
    return "/".join(segments), tuple(sorted({key for key, _ in parse_qsl(parts.query, True)}))


def step_name(number: int, endpoint: str | None, suffix: str) -> str:
    short = (endpoint or "page").removeprefix("dashboard.")
    return f"{number:02d}-{short}-{suffix}"


@dataclass
class Pages:
    """One signed-in (or anonymous) browser tab and the checks of every page it visits."""

    page: Page
    origin: str
    url_map: Map
    folder: Path
    axe_source: str
    run_axe: bool = True
    screenshots: bool = True
    problems: list[str] = field(default_factory=list)
    # Path → endpoint of every page visited and checked, in order.
    visited: dict[str, str | None] = field(default_factory=dict)
    # Extra checks on each page (the XSS test adds its own): f(pages, path, response).
    extra_checks: list[Callable[[Pages, str, Response | None], None]] = field(
        default_factory=list)
    _console: list[tuple[str, str | None]] = field(default_factory=list)
    _count: int = 0

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror",
                     lambda error: self._console.append((f"page error: {error}", None)))
        self.page.on("response", self._on_response)

    # -- listeners -----------------------------------------------------------------------
    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium asks for /favicon.ico by itself; the dashboard has none (a 404 that no
        # page causes). Anything else logged as an error is a problem.
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        self._console.append((f"console error: {message.text}", message.location.get("url")))

    def _on_response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self._console.append((f"{response.status} for {response.url}", response.url))

    # -- navigation ----------------------------------------------------------------------
    def endpoint(self, path: str) -> str | None:
        """The Flask endpoint that serves ``path`` (None if no GET route does)."""
        try:
            endpoint, _args = self.url_map.bind("localhost").match(
                urlsplit(path).path, method="GET")
        except HTTPException:
            return None
        return endpoint

    def current_path(self) -> str:
        return same_origin_path(self.page.url, self.origin) or self.page.url

    def goto(self, path: str, status: int | None = 200) -> Response | None:
        """Open ``path`` and check the page as :meth:`check` does."""
        response = self.page.goto(self.origin + path)
        self.check(response, status=status)
        return response

    def check(self, response: Response | None = None, status: int | None = 200,
              name: str | None = None) -> None:
        """Check the page the tab shows now (after a goto, a click, a form sent); ``status``
        None accepts any answer but a server error."""
        self.page.wait_for_load_state("load")
        path = self.current_path()
        where = f"{path} ({self._language()})"
        if response is not None and (response.status != status if status is not None
                                     else response.status >= 500):
            # Not the page expected: say so once, without the problems that follow from it.
            self.problems.append(f"{where}: status {response.status}, expected {status}")
            self._console.clear()
            self.visited.setdefault(path, self.endpoint(path))
            return
        if response is not None:
            for header, expected in REQUIRED_HEADERS.items():
                if expected not in (response.headers.get(header) or ""):
                    self.problems.append(f"{where}: header {header} lacks {expected!r}")
        self._count += 1
        endpoint = self.endpoint(path)
        stem = name or step_name(self._count, endpoint, self._language())
        headings = self.page.locator("h1").count()
        if headings != 1:
            self.problems.append(f"{where}: {headings} <h1> elements, expected one")
        if self.run_axe:
            self._axe(where)
        if self.screenshots:
            self.page.screenshot(path=str(self.folder / f"{stem}-desktop.png"), full_page=True,
                                 caret="initial")
        self._phone(where, stem)
        for extra in self.extra_checks:
            extra(self, path, response)
        for line, url in self._console:
            # The browser logs an answer other than 2xx as an error: expected ones are not.
            answered = response.status if response is not None else status
            expected = (answered != 200 and url == self.page.url
                        and f"status of {answered} (" in line)
            if not expected:
                self.problems.append(f"{where}: {line}")
        self._console.clear()
        self.visited.setdefault(path, endpoint)

    def _language(self) -> str:
        return self.page.evaluate("document.documentElement.lang") or "?"

    def _axe(self, where: str) -> None:
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(self.axe_source)
        for violation in self.page.evaluate(AXE_RUN_JS, list(FAILING_IMPACTS)):
            self.problems.append(
                f"{where}: axe {violation['impact']} {violation['id']} "
                f"({violation['help']}) at {violation['targets']} — {violation['helpUrl']}"
            )

    def _phone(self, where: str, stem: str) -> None:
        self.page.set_viewport_size(PHONE)
        try:
            found = self.page.evaluate(OVERFLOW_JS)
            if found["scrollWidth"] > found["innerWidth"] + 1:
                self.problems.append(
                    f"{where}: scrolls sideways at {PHONE['width']} px "
                    f"(scrollWidth {found['scrollWidth']}); wider than the screen, outside a "
                    f"scrolling wrapper: {found['culprits']}"
                )
            if self.screenshots:
                self.page.screenshot(path=str(self.folder / f"{stem}-phone.png"), full_page=True,
                                 caret="initial")
        finally:
            self.page.set_viewport_size(DESKTOP)

    def links(self) -> list[str]:
        """Same-origin pages the current page links to (not downloads, not the stylesheet)."""
        found = self.page.eval_on_selector_all(
            "a[href]",
            "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)",
        )
        paths = []
        for url in found:
            path = same_origin_path(url.split("#", 1)[0], self.origin)
            if path and not path.startswith("/static/"):
                paths.append(path)
        return paths

    def crawl(self, start: Iterable[str], limit: int = 60, per_kind: int = 2) -> None:
        """Visit ``start`` and every page linked from a visited page, breadth first: at
        most ``per_kind`` pages of one kind (:func:`kind_of`), ``limit`` pages in all."""
        queue = deque(start)
        kinds: Counter = Counter()
        queued = set(queue)
        while queue and len(self.visited) < limit:
            path = queue.popleft()
            if path in self.visited or kinds[kind_of(path)] >= per_kind:
                continue
            kinds[kind_of(path)] += 1
            downloads: list = []

            def on_download(download, downloads=downloads):
                downloads.append(download)

            self.page.on("download", on_download)
            try:
                response = self.page.goto(self.origin + path)
            except PlaywrightError:
                if downloads:  # a file, not a page: mark such links with `download`
                    self.visited[path] = self.endpoint(path)
                    continue
                raise
            finally:
                self.page.remove_listener("download", on_download)
            landed = self.current_path()
            if landed != path:
                self.problems.append(f"{path}: redirected to {landed} (a link to a page "
                                     "should answer it; the session must not end)")
                continue
            self.check(response)
            for link in self.links():
                if link not in queued:
                    queued.add(link)
                    queue.append(link)

    def switch_language(self, name: str) -> None:
        """Press the language switch button (``Français``, ``English``) of this page."""
        self.page.get_by_role("button", name=name, exact=True).click()
        self.page.wait_for_load_state("load")

    def assert_clean(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} problem(s) (screenshots in {self.folder}):\n  "
            + "\n  ".join(self.problems)
        )


def sign_in(pages: Pages, email: str, password: str, code: Callable[[], str] | None = None,
            check: bool = True) -> None:
    """Sign in through the pages (and the code page when ``code`` gives one)."""
    page = pages.page
    response = page.goto(pages.origin + "/login")
    if check:
        pages.check(response)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if code is not None:
        assert urlsplit(page.url).path == "/login/code", page.url
        if check:
            pages.check()
        page.get_by_label("Code from your authenticator app").fill(code())
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/", f"not signed in: {page.url}"


def setup_link(service) -> str:
    """The first manager's link, printed as `make run` prints it (same settings as the
    server)."""
    printed = service.flask("managers", "setup-link").stdout
    found = re.search(r"https?://\S+/setup/\S+", printed)
    assert found, f"no setup link printed: {printed!r}"
    return found.group()


def set_up_first_manager(pages: Pages, link: str, email: str, password: str) -> None:
    """Open the setup link, give the address and the password; lands on the overview."""
    page = pages.page
    pages.check(page.goto(link), name="01-setup")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_label("New password").fill(password)
    page.get_by_label("The same password again").fill(password)
    page.get_by_role("button", name="Save the password").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/", page.url
    pages.check(name="02-overview-first")
