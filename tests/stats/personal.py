"""Page views that carry an e-mail address, a phone number and a card number, and a
search for every form those could take in a file, a dump or a log (for the tests that
prove redaction keeps them out)."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

ADDRESS = "jeanne.martin@example.fr"
PHONE = "06 12 34 56 78"
CARD = "4970 1012 3456 7890"
# The three of issue 9, then the other ways people and browsers write them.
PAGE_VIEWS = [
    "https://example.fr/?s=jeanne.martin%40example.fr",
    "https://example.fr/search/jeanne martin 06 12 34 56 78/",
    "https://example.fr/commande/jeanne.martin@example.fr/",
    "https://example.fr/?s=Jeanne.Martin%40EXAMPLE.FR",
    "https://example.fr/?s=jeanne.martin%2540example.fr",
    "https://example.fr/Commande/Jeanne.Martin%40Example.FR/suivi/",
    "https://example.fr/search/jeanne.martin%40example.fr/",
    "https://example.fr/?s=06.12.34.56.78",
    "https://example.fr/?s=06-12-34-56-78",
    "https://example.fr/?s=0612345678",
    "https://example.fr/?s=%2B33612345678",
    "https://example.fr/?s=+33612345678",
    "https://example.fr/?s=0033+6+12+34+56+78",
    "https://example.fr/?s=%2B33+(0)6+12+34+56+78",
    "https://example.fr/rappel/0612345678/",
    "https://example.fr/rappel/%2B33612345678/",
    "https://example.fr/?s=carte+4970+1012+3456+7890",
]


def _spread(text: str) -> bytes:
    # Any three bytes between two characters: the separators people type.
    return b"[^0-9A-Za-z]{0,3}".join(re.escape(character.encode()) for character in text)


# The address (its "@" as typed or %-encoded) in any case, its local part alone, the
# national number (every form of the phone number holds it) and the card number, with
# any separators.
FORMS = {
    "the address": re.compile(
        _spread("jeanne.martin") + b"[^0-9A-Za-z]{0,3}(?:@|%40|%2540)?[^0-9A-Za-z]{0,3}"
        + _spread("example.fr"), re.IGNORECASE,
    ),
    "the local part": re.compile(re.escape(b"jeanne.martin"), re.IGNORECASE),
    "the phone number": re.compile(_spread("612345678")),
    "the card number": re.compile(_spread("4970101234567890")),
}


def _views(blob: bytes) -> list[bytes]:
    """The blob and its UTF-16 text made plain (NULs dropped), each as is, %-decoded once
    and twice."""
    views = []
    for base in (blob, blob.replace(b"\x00", b"")):
        once = unquote_to_bytes(base)
        views += [base, once, unquote_to_bytes(once)]
    return views


def assert_nowhere(blob: bytes, where: str) -> None:
    """Fail, naming the kind of data but never its value, if any form is in ``blob``."""
    for view in _views(blob):
        for name, pattern in FORMS.items():
            assert not pattern.search(view), f"{name} was found in {where}"
