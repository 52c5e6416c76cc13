"""Every page of the dashboard in Chromium, found by following links from the navigation:
status, headers, console, axe-core, one heading, no sideways scrolling on a phone,
screenshots in English and French (test-output/dashboard/test_every_page/).

Pages are not listed here: a page added later is visited as soon as a visited page links
to it, and a GET page of the ``dashboard`` blueprint that no visited page links to fails
the test (:data:`ELSEWHERE` names the few reached another way).
"""

from __future__ import annotations

import pytest

from webhook_app import managers
from webhook_app.extensions import db

from .harness import Pages, new_context, output_folder, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# GET endpoints of the dashboard no link leads to, and where they are checked instead.
ELSEWHERE = {
    "dashboard.setup": "the first manager's one-time link: test_walkthrough",
    "dashboard.audit_csv": "a download (a[download]): tests/dashboard/test_audit_page.py",
    "dashboard.incidents_csv": "a download (a[download]): tests/dashboard/test_incidents_page.py",
    "dashboard.incidents_json": "a download (a[download]): tests/dashboard/test_incidents_page.py",
    "dashboard.static": "the stylesheet, not a page (a failed load is a console error)",
    "dashboard.statistics_csv": "downloads (a[download]): tests/dashboard/test_statistics_page.py",
    "dashboard.statistics_data": "the chart's JSON, fetched by statistics.js: "
                                 "test_statistics_browser",
}


def test_every_page(browser, axe_source, seeded, request):
    manager = seeded.manager(second_factor=True)
    with seeded.app.app_context():
        managers.add("invitee@clic-et-cetera.fr", "cli:test")
        invitation = managers.link_token("invitee@clic-et-cetera.fr", managers.INVITE)
        db.session.commit()
        db.session.remove()
    context = new_context(browser)
    pages = Pages(context.new_page(), seeded.origin, seeded.app.url_map,
                  output_folder(request.node.name), axe_source)

    # What an anonymous visitor reaches: links of invitations (valid, spent), sign-in with
    # the second step.
    pages.goto(f"/reset/{invitation}")
    pages.goto("/reset/not-a-link", status=410)
    sign_in(pages, manager.email, manager.password, code=manager.code)
    anonymous = set(pages.visited)

    pages.crawl(["/"], limit=60, per_kind=2)
    crawled = [path for path in pages.visited if path not in anonymous]
    assert "/" in crawled and "/account" in crawled, crawled

    pages.page.goto(seeded.origin + "/")
    pages.switch_language("Français")
    assert pages.page.evaluate("document.documentElement.lang") == "fr"
    for path in crawled:
        pages.goto(path)

    reached = set(pages.visited.values())
    unreached = {}
    for rule in seeded.app.url_map.iter_rules():
        endpoint = rule.endpoint
        if (endpoint.startswith("dashboard.") and "GET" in (rule.methods or ())
                and endpoint not in reached and endpoint not in ELSEWHERE):
            unreached[rule.rule] = (
                "no visited page links to it" if not rule.arguments
                else "no visited page links to one (seed a record in payloads.store?)"
            )
    pages.problems.extend(f"{rule}: never visited: {why}" for rule, why in unreached.items())
    context.close()
    pages.assert_clean()
