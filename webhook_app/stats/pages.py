"""Path and internal search terms of a visited page.

Only the path is kept: a query string can carry personal data (e-mail addresses, order
numbers, tokens), so it is dropped, except WordPress's search terms, which are the point of
the "searches" report. They come from the ``s`` parameter (``/?s=d%C3%A9pannage``) or the
``/search/<terms>/`` permalink, and the permalink itself is recorded as ``/search/``.

Both are decoded and normalised, then handed to a ``redact`` function (the
:class:`~webhook_app.stats.redact.Redactor` of the deriver) before they are cut to their
length: an address cut in half would no longer look like one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, unquote_plus

MAX_PATH = 1024
MAX_SEARCH_TERMS = 100
SEARCH_PARAMETER = "s"
SEARCH_BASE = "search"
# What is read past a length cap, so that an address or number across the cap is still
# found whole: an e-mail address has at most 254 characters. Reading all of a 4 KiB URL
# would let a crafted one cost the phone matcher milliseconds.
REDACTION_MARGIN = 256


def query_parameters(query: str) -> dict[str, str]:
    """The first value of each query parameter, ``+`` and %-escapes decoded."""
    if not query:
        return {}
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, errors="replace"):
        parameters.setdefault(key, value)
    return parameters


def page_of(
    raw_path: str, parameters: dict[str, str], redact: Callable[[str], str]
) -> tuple[str, str | None]:
    """The decoded path to record and the normalised search terms, if any, both redacted.

    ``raw_path`` is the URL's path as sent (still %-encoded), so that an encoded ``/``
    inside search terms does not split them.
    """
    terms = search_terms(parameters.get(SEARCH_PARAMETER), redact)
    segments = raw_path.split("/")
    if SEARCH_BASE in segments:
        index = segments.index(SEARCH_BASE)
        if index + 1 < len(segments) and segments[index + 1]:
            if terms is None:
                segment = unquote_plus(segments[index + 1], errors="replace")
                terms = search_terms(segment, redact)
            raw_path = "/".join(segments[: index + 1]) + "/"
    return clean_path(raw_path, redact), terms


def clean_path(raw_path: str, redact: Callable[[str], str]) -> str:
    """Percent-decode (UTF-8), drop control characters, redact, cap the length; never
    empty."""
    path = unquote(raw_path, errors="replace")
    if not path.isprintable():
        path = "".join(character for character in path if character.isprintable())
    if not path.startswith("/"):
        path = "/" + path
    return redact(path[: MAX_PATH + REDACTION_MARGIN])[:MAX_PATH]


def search_terms(value: str | None, redact: Callable[[str], str]) -> str | None:
    """Normalise search terms so that the same search counts once, then redact them.

    Whitespace collapsed, lower-cased, Unicode NFC (an ``é`` typed two ways is one ``é``),
    control characters dropped, capped at :data:`MAX_SEARCH_TERMS` characters.
    """
    if not value:
        return None
    terms = " ".join(value.split()).lower()
    if not terms.isprintable():
        terms = "".join(character for character in terms if character.isprintable())
    terms = unicodedata.normalize("NFC", terms[: MAX_SEARCH_TERMS + REDACTION_MARGIN])
    terms = redact(terms)[:MAX_SEARCH_TERMS].rstrip()
    return terms or None
