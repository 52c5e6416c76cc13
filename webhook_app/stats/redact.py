"""Personal data out of a visited path or search: e-mail addresses, phone numbers, long numbers.

Visitors type their own address or phone number into the site's search, and links carry
them in paths (``/commande/jeanne.martin@example.fr/``). The statistics need neither, and
rolled-up counts would keep them for the whole period, so each one is replaced before
anything is stored: an e-mail address by :data:`EMAIL`, a phone number by :data:`PHONE`
(found by ``phonenumbers``, Google's libphonenumber, for a default region), and a long run
of digits (card, IBAN, customer or order number) by :data:`NUMBER`. Pure, like
:mod:`.derive`: no Flask, no database, nothing logged.

Ingest is a hot path: a text without ``@`` (or ``%40``) and without a run of
:data:`MIN_PHONE_DIGITS` digits goes back after two checks in C, never meeting the phone
matcher, which costs about a hundred times more.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatch, PhoneNumberMatcher

EMAIL = "[e-mail]"
PHONE = "[téléphone]"
NUMBER = "[numéro]"
DEFAULT_REGION = "FR"
# Nine digits and more: SIREN and SIRET, cards, IBAN, social security and long customer or
# order numbers go; dates (2026-11-20: eight), years, post codes and page numbers stay.
DEFAULT_DIGIT_RUN = 9
SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
# The shortest numbers that reach a subscriber have seven digits with the country code
# (Niue, Tokelau: +683 4002). The matcher also accepts shorter "possible" numbers (+49 10):
# those are kept, so that a text with no run of seven digits never needs the matcher.
MIN_PHONE_DIGITS = 7


def _run_of(digits: int) -> re.Pattern:
    # Digits with the matcher's punctuation between them, as a phone number is written:
    # any non-word character, and "x" (either case) and "ー", which it also skips. Other
    # letters end a candidate. Possessive, so a failed try never backtracks.
    return re.compile(rf"\d(?:[\W_xXー]*+\d){{{digits - 1}}}")


_PHONE_LIKE = _run_of(MIN_PHONE_DIGITS)
# Bounds on the matcher's work for one text: it costs 30 to 300 µs per candidate, and a
# crafted URL can hold hundreds. Past them, a number of nine digits or more (all French
# ones) written with spaces, dots or dashes still meets the digit-run rule, when it is on.
MAX_PHONE_TRIES = 16
MAX_PHONES = 16
# RFC 5322 "atext" and dots for the local part, but not "/", which separates a path's
# segments; "%40" is an "@" encoded once more than the URL decoding undoes. A match starts
# only where a local part can start, so a text is read once, never once per character.
_LOCAL = r"[\w!#$%&'*+=?^`{|}~.-]"
_EMAIL_PATTERN = re.compile(
    rf"(?<!{_LOCAL}){_LOCAL}+(?:@|%40)"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z\d-]{1,59})",
    re.IGNORECASE,
)


def digit_run_pattern(digits: int) -> re.Pattern | None:
    """A run of ``digits`` digits or more, a space, dot or dash allowed between two of them
    (``4970 1012 3456 7890``); ``None`` when ``digits`` is 0 (the rule is off)."""
    if digits <= 0:
        return None
    return re.compile(rf"\d(?:[ .-]?\d){{{digits - 1},}}")


class Redactor:
    """Replaces the personal data of a text; one per (region, digit-run) setting."""

    def __init__(self, region: str = DEFAULT_REGION, digit_run: int = DEFAULT_DIGIT_RUN) -> None:
        """``region``: ISO 3166-1 code of the region whose numbers may be written without
        a country code (``GARDIEN_STATS_PHONE_REGION``). ``digit_run``: the shortest run of
        digits replaced by :data:`NUMBER` (``GARDIEN_STATS_DIGIT_RUN``; 0 turns it off).
        Raises ``ValueError`` for an unknown region or a negative run."""
        if region not in SUPPORTED_REGIONS:
            raise ValueError("unknown phone number region")
        if digit_run < 0:
            raise ValueError("the digit run must be 0 (off) or more")
        self.region = region
        self.digit_run = digit_run
        self._runs = digit_run_pattern(digit_run)
        # The cheap test of "may hold a phone number or a long run": the shorter of both.
        shortest = min(MIN_PHONE_DIGITS, digit_run or MIN_PHONE_DIGITS)
        self._candidates = _run_of(shortest)
        # The library compiles its patterns on first use (about 0.3 s): here, with the
        # other data sets, rather than in the first request that holds a number.
        self._phones_replaced("01 23 45 67 89", MAX_PHONES)

    def redact(self, text: str) -> str:
        """``text`` with every e-mail address, phone number and long digit run replaced."""
        if "@" in text or "%40" in text:
            text = _EMAIL_PATTERN.sub(EMAIL, text)
        if not self._candidates.search(text):
            return text
        if _PHONE_LIKE.search(text):
            text = self._without_phones(text)
        if self._runs is not None:
            text = self._runs.sub(NUMBER, text)
        return text

    def _without_phones(self, text: str) -> str:
        # A path is read a segment at a time: the matcher's cost grows with the length of
        # its candidates, and nobody writes a phone number across a "/" (the matcher would
        # read 06/12/34/56/78 as a date anyway).
        segments = text.split("/")
        budget = MAX_PHONES
        for position, segment in enumerate(segments):
            if budget and _PHONE_LIKE.search(segment):
                segments[position], budget = self._phones_replaced(segment, budget)
        return "/".join(segments)

    def _phones_replaced(self, text: str, budget: int) -> tuple[str, int]:
        matcher = PhoneNumberMatcher(
            text, self.region, leniency=Leniency.POSSIBLE, max_tries=MAX_PHONE_TRIES
        )
        pieces, end = [], 0
        for match in matcher:
            if _written_digits(match) < MIN_PHONE_DIGITS:
                continue
            pieces += [text[end : match.start], PHONE]
            end = match.end
            budget -= 1
            if not budget:
                break
        return "".join(pieces) + text[end:], budget


def _written_digits(match: PhoneNumberMatch) -> int:
    """The digits the text of a found number shows, its extension aside (the matcher reads
    an "x" as a 9, as on a keypad: that is not counted)."""
    shown = sum(character.isdigit() for character in match.raw_string)
    return shown - len(match.number.extension or "")
