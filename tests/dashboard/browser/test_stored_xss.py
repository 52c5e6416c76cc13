"""Stored XSS in the browser: names, companies, messages, page URLs, search terms and
referrers carrying script, HTML, attribute-breaking and template payloads (stored through
the signed API: payloads.store), then every page the crawl reaches, with the pages' real
CSP (no bypass).

The CSP would stop most of these from running, so the test does not rely on it: it fails
if any markup is injected at all (an element or attribute the payloads would create, seen
by a MutationObserver installed before the page loads and in the final DOM), if a dialog
opens, if ``window.__xss`` is set, if the console reports anything (a CSP refusal is an
injection that got through the template), if ``{{7*7}}`` became 49, or if a payload is not
shown literally as text where it appears. Filter forms (GET) are sent with payloads too.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Response

from .harness import Pages, new_context, output_folder, sign_in
from .payloads import PAYLOADS, TRAP_JS, text_problems

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# Markup of the payloads as it would sit in the HTML sent, had it not been escaped.
RAW_MARKUP = re.compile(
    r"<script|<img src=x|<svg onload|<b data-xss|<a href=\"javascript|</textarea><script",
    re.IGNORECASE,
)
# The statistics page alone runs scripts: these two files of the service (its own CSP
# allows script-src 'self' there), and Chart.js sizes its canvas through the CSSOM (a style
# attribute on that one element). Anything else is an injection, there as everywhere.
OWN_SCRIPTS = (
    '<script src="/static/vendor/chart.js/chart.umd.min.js" defer></script>',
    '<script src="/static/statistics.js" defer></script>',
)
OWN_INJECTED = (
    'element script: <script src="/static/vendor/chart.js/chart.umd.min.js" defer=""></script>',
    'element script: <script src="/static/statistics.js" defer=""></script>',
    'style attribute: <canvas id="stats-chart" ',
)
# GET forms (filters, searches) of the visited pages, sent afterwards with every text
# field set to one of these.
FORMS: list[str] = []
REFLECTED = (PAYLOADS["xss02"], PAYLOADS["xss06"], PAYLOADS["xss04"])
GET_FORMS_JS = """(payload) => [...document.forms]  // form.action may be a field named action
  .filter((form) => (form.getAttribute('method') || 'get').toLowerCase() === 'get')
  .map((form) => {
    const data = new FormData(form);
    for (const el of form.elements) {
      if (el.name && (el.tagName === 'TEXTAREA' ||
          ['text', 'search', 'email', 'url', 'tel', 'date'].includes(el.type))) {
        data.set(el.name, payload);
      }
    }
    const url = new URL(form.getAttribute('action') || '', document.baseURI);
    url.search = new URLSearchParams(data).toString();
    return url.href;
  })"""


def xss_check(pages: Pages, path: str, response: Response | None) -> None:
    where = f"{path}: "
    page = pages.page
    statistics = pages.endpoint(path) == "dashboard.statistics"
    sent = "" if response is None else response.text()
    if statistics:
        for script in OWN_SCRIPTS:
            sent = sent.replace(script, "", 1)
    if raw := RAW_MARKUP.search(sent):
        pages.problems.append(where + f"unescaped markup in the HTML sent: {raw.group()!r}")
    seen = page.evaluate("window.__xssFound") + page.evaluate("window.__xssScan()")
    for found in dict.fromkeys(seen):
        if statistics and found.startswith(OWN_INJECTED):
            continue
        pages.problems.append(where + f"injected: {found}")
    if page.evaluate("window.__xss") is not None:
        pages.problems.append(where + "a payload ran: window.__xss is set")
    # Pages of one record (an id in the URL) show its values whole; lists may shorten them.
    strict = any(arg for arg in _arguments(pages, path))
    text = page.evaluate("document.title + '\\n' + document.body.innerText")
    pages.problems.extend(where + problem for problem in text_problems(text, strict))
    for payload in REFLECTED:
        FORMS.extend(page.evaluate(GET_FORMS_JS, payload))


def _arguments(pages: Pages, path: str) -> dict:
    try:
        return pages.url_map.bind("localhost").match(path.split("?")[0], method="GET")[1]
    except Exception:
        return {}


def test_stored_xss(browser, seeded, request):
    manager = seeded.manager()
    FORMS.clear()
    context = new_context(browser)  # the real CSP: no bypass_csp
    context.add_init_script(TRAP_JS)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    pages = Pages(page, seeded.origin, seeded.app.url_map, output_folder(request.node.name),
                  axe_source="", run_axe=False, extra_checks=[xss_check])

    # Reflected on the sign-in page: the next address, a refused address.
    pages.goto("/login?next=" + quote("/" + PAYLOADS["xss02"]))
    page.get_by_label("E-mail address").fill(PAYLOADS["xss07"])
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Sign in").click()
    pages.check(refused.value, status=401)

    sign_in(pages, manager.email, manager.password)
    # Every record of a kind, not two: each message carries another payload.
    pages.crawl(["/"], limit=120, per_kind=len(PAYLOADS) + 5)
    for url in dict.fromkeys(FORMS):
        pages.check(page.goto(url), status=None)

    assert not dialogs, f"dialogs opened: {dialogs}"
    context.close()
    pages.assert_clean()
