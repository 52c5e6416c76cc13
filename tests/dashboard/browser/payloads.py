"""Attacks stored through the public API (and the domain, for what only a manager makes),
and the browser-side traps that see whether any of them ran or left markup.

Each payload but the ``javascript:`` link starts with a marker (``xss01``…): wherever a
page shows a marker, the text after it must be the payload itself, literally (or a
shortened copy of it ending with an ellipsis), which proves it was escaped as text. A
template engine that evaluated ``{{7*7}}`` or ``${7*7}`` would print ``tpl-49-end``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from support.gardien import GardienService

from webhook_app import clients, clock, incidents, messages, sites
from webhook_app.extensions import db

JS_LINK = "javascript:window.__xss=1"
PAYLOADS = {
    "xss01": "xss01<script>window.__xss=1</script>",
    "xss02": 'xss02"><img src=x onerror="window.__xss=1">',
    "xss03": "xss03'><svg onload=window.__xss=1>",
    "xss04": "xss04 tpl-{{7*7}}-end",
    "xss05": "xss05 tpl-${7*7}-end",
    "xss06": "xss06</textarea><script>window.__xss=1</script>",
    "xss07": 'xss07" autofocus onfocus="window.__xss=1" data-xss="',
    "xss08": "xss08' onmouseover='window.__xss=1' data-xss='",
    "xss09": "xss09</title></style><b data-xss>bold</b><!--",
    "xss10": "xss10 <a href=\"javascript:window.__xss=1\" data-xss>link</a>",
}
EVALUATED = "tpl-49-end"
MARKER = re.compile(r"xss\d\d")

# Installed in every page before it loads (context.add_init_script): records injected
# elements and attributes as the parser inserts them (even if removed later), and calls
# of the dialog functions. window.__xssScan() checks the DOM as it is now.
TRAP_JS = r"""(() => {
  const found = [];
  Object.defineProperty(window, '__xssFound', {value: found});
  const badUrl = (el, name) => {
    const value = (el.getAttribute(name) || '').replace(/[\s\u0000-\u001f]+/g, '').toLowerCase();
    if (value.startsWith('javascript:') || value.startsWith('vbscript:')) return true;
    return value.startsWith('data:') && !(el.tagName === 'IMG' && value.startsWith('data:image/'));
  };
  const describe = (el) => el.outerHTML.slice(0, 160);
  const suspicious = (el) => {
    const tag = el.tagName;
    if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'BASE', 'STYLE', 'FRAME'].includes(tag))
      return 'element ' + tag.toLowerCase();
    if (tag === 'IMG' && el.getAttribute('src') === 'x') return 'img src=x';
    if (tag === 'META' && el.hasAttribute('http-equiv')) return 'meta http-equiv';
    if (el.hasAttribute('data-xss')) return 'element with data-xss';
    if (el.hasAttribute('style')) return 'style attribute';
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith('on')) return 'attribute ' + attr.name;
    }
    for (const name of ['href', 'src', 'action', 'formaction', 'xlink:href']) {
      if (el.hasAttribute(name) && badUrl(el, name)) return name + '=' + el.getAttribute(name);
    }
    return null;
  };
  const inspect = (node) => {
    if (node.nodeType !== 1) return;
    for (const el of [node, ...node.querySelectorAll('*')]) {
      const why = suspicious(el);
      if (why) found.push(why + ': ' + describe(el));
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'childList') record.addedNodes.forEach(inspect);
      else if (record.type === 'attributes') inspect(record.target);
    }
  }).observe(document, {childList: true, subtree: true, attributes: true});
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    const original = window[name];
    window[name] = function (...args) {
      found.push(name + '() called');
      return original.apply(this, args);
    };
  }
  Object.defineProperty(window, '__xssScan', {value: () => {
    const now = [];
    for (const el of document.querySelectorAll('*')) {
      const why = suspicious(el);
      if (why) now.push(why + ': ' + describe(el));
    }
    return now;
  }});
})();"""


def submission(marker: str, payload: str) -> dict:
    """A contact submission whose every free-text field carries ``payload``."""
    return {
        "form": payload[:100],
        "name": payload[:200],
        "email": f"o'hara+{marker[3:]}@example.fr",
        "company": payload[:200],
        "message": f"{payload}\nSecond line: {payload}",
        "page": f"https://example.fr/contact/?q={payload}",
        "fields": {"phone": payload, "website": JS_LINK, "subject": payload},
    }


def store(service: GardienService, app: Flask) -> dict:
    """Store the attacks; returns what was stored (message ids by marker, client id…)."""
    stored: dict = {"messages": {}, "rejected": []}
    for marker, payload in PAYLOADS.items():
        body = submission(marker, payload)
        answer = service.signed("POST", "/v1/contact", body)
        if answer.status_code == 422:  # the page URL refused: store the rest
            stored["rejected"].append((marker, answer.json().get("fields")))
            body.pop("page")
            answer = service.signed("POST", "/v1/contact", body)
        assert answer.status_code == 201, answer.text
        stored["messages"][marker] = answer.json()["id"]
    # An ordinary message too, so lists show something plain next to the attacks.
    plain = {"name": "Paul Girard", "email": "paul.girard@example.fr",
             "message": "Pouvez-vous passer mardi ?", "company": "Girard SARL"}
    assert service.signed("POST", "/v1/contact", plain).status_code == 201

    now = clock.now().replace(microsecond=0)
    events = []
    for marker, payload in PAYLOADS.items():
        events.append({
            "ts": now.isoformat().replace("+00:00", "Z"),
            "url": f"https://example.fr/{payload}/?s={payload}",
            "referrer": f"https://ref-{marker[3:]}.example.org/{payload}",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            "ip": "203.0.113.7",
        })
        events.append({"ts": events[-1]["ts"], "url": f"https://example.fr/search/{payload}/",
                       "referrer": 'https://x"><img src=x onerror=window.__xss=1>.example/'})
    answer = service.signed("POST", "/v1/stats/events", {"events": events})
    assert answer.status_code == 202, answer.text
    stored["stats"] = answer.json()

    # Privacy requests from WordPress, for an address that has a message.
    asker = "o'hara+02@example.fr"
    for call in ("export", "erase"):
        answer = service.signed("POST", f"/v1/privacy/{call}", {"email": asker, "page": 1})
        assert answer.status_code == 200, answer.text

    # What only a manager makes: a legal hold whose reason is an attack, a client (from a
    # message) with an invoice whose number is one, a payment and a reminder.
    actor = "cli:test"
    ids = stored["messages"]
    with app.app_context():
        messages.hold(ids["xss03"], PAYLOADS["xss03"], actor)
        client = messages.attach_to_client(ids["xss01"], actor)
        clients.add_quote(client.id, PAYLOADS["xss08"], now, 45_000, clients.QUOTE_STATUSES[0],
                          actor=actor)
        invoice = clients.add_invoice(client.id, PAYLOADS["xss09"], now, 12_300, actor=actor)
        clients.record_payment(invoice.id, now, clients.PAYMENT_METHODS[0], actor=actor)
        clients.record_reminder(invoice.id, now - timedelta(days=1), actor=actor)
        stored["client"] = client.id
        sites.add("boutique")  # a second site: one that can be removed
        # A breach whose facts are attacks (the manager's words may quote them).
        stored["incident"] = incidents.record({
            "nature": PAYLOADS["xss02"], "detected_at": now - timedelta(hours=3),
            "categories": ["contact"], "measures": PAYLOADS["xss04"],
            "contact": "dpo@example.fr",
        }, actor).id
        db.session.commit()
        db.session.remove()
    return stored


def text_problems(text: str, strict: bool) -> list[str]:
    """Where the page's text shows a marker, the payload must follow literally, or a
    shortened copy ending with an ellipsis, or its URL-encoded form (inert as well). With
    ``strict`` (the page of one record) each payload shown must also appear whole once."""
    problems = []
    if EVALUATED in text:
        problems.append(f"a template evaluated a payload: {EVALUATED!r} is shown")
    shown_markers = set()
    for found in MARKER.finditer(text):
        payload = PAYLOADS.get(found.group())
        if payload is None:
            continue
        shown_markers.add(found.group())
        shown = text[found.start():found.start() + len(payload)]
        if shown == payload:
            continue
        same = next((i for i, (a, b) in enumerate(zip(shown, payload, strict=False))
                     if a != b), len(shown))
        rest = text[found.start() + same:]
        # A shortened copy ends with an ellipsis, or with its table cell (the statistics
        # keep what intake derived from a URL, which may stop inside a payload).
        shortened = same > len(found.group()) and rest[:1] in ("…", ".", "", "\t", "\n")
        if shortened or re.match(r"%[0-9A-Fa-f]{2}", rest):
            continue
        problems.append(f"payload {found.group()} not shown as text: {shown!r}")
    if strict:
        problems.extend(f"payload {marker} never shown whole: {PAYLOADS[marker]!r}"
                        for marker in sorted(shown_markers) if PAYLOADS[marker] not in text)
    return problems
