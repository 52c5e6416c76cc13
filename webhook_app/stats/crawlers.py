"""Crawler detection from the user agent, with the `crawler-user-agents` pattern list.

The list holds about 1,500 regular expressions; one alternation of all of them costs
milliseconds per browser user agent in Python's ``re``. So each pattern is indexed by a
literal it cannot match without (``Googlebot\\/`` needs ``googlebot/``), the literals form
one trie-shaped regex scanned over the lower-cased user agent, and only the patterns whose
literal occurs are run. A browser costs one trie scan; the verdict is the same as running
every pattern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, cast

# The parser of `re` itself, not a re-implementation. Since 3.11 it lives in `re._parser` and
# `re._constants`; typeshed types it only under the old names, whose import is deprecated.
if TYPE_CHECKING:
    import sre_constants
    import sre_parse as sre_parser
else:
    from re import _constants as sre_constants
    from re import _parser as sre_parser

CRAWLERS_FILE = Path(__file__).resolve().parent.parent / "data" / "crawler-user-agents.json"

# A shorter literal would occur in almost every user agent and make the index useless.
MIN_LITERAL = 3


class CrawlerList:
    """User-agent patterns of known crawlers, matched in one pass."""

    def __init__(self, patterns: Iterable[str]) -> None:
        by_literal: dict[str, list[re.Pattern[str]]] = {}
        # Patterns without a usable literal are run on every user agent.
        unindexed: list[re.Pattern[str]] = []
        for pattern in patterns:
            compiled = re.compile(pattern)
            literals = required_literals(pattern)
            if literals is None:
                unindexed.append(compiled)
                continue
            for literal in literals:
                by_literal.setdefault(literal, []).append(compiled)
        trie = trie_pattern(by_literal)
        self._any_literal = re.compile(trie)
        # A zero-width lookahead reports the longest literal starting at every position.
        self._literal_at = re.compile(f"(?=({trie}))")
        # The literals that also start there are the prefixes of that longest one.
        self._candidates = {
            literal: tuple(
                compiled
                for prefix_end in range(MIN_LITERAL, len(literal) + 1)
                for compiled in by_literal.get(literal[:prefix_end], ())
            )
            for literal in by_literal
        }
        self.unindexed = tuple(unindexed)

    @classmethod
    def load(cls, path: Path = CRAWLERS_FILE) -> CrawlerList:
        """Read the vendored `crawler-user-agents.json` (a list of ``{"pattern": ...}``)."""
        with path.open(encoding="utf-8") as file:
            return cls(entry["pattern"] for entry in json.load(file))

    def is_crawler(self, user_agent: str | None) -> bool:
        """Tell whether the user agent matches a pattern of the list (case-sensitive)."""
        if not user_agent:
            return False
        if any(compiled.search(user_agent) for compiled in self.unindexed):
            return True
        lowered = user_agent.lower()
        if self._any_literal.search(lowered) is None:
            return False
        for found in self._literal_at.finditer(lowered):
            for compiled in self._candidates[found.group(1)]:
                if compiled.search(user_agent):
                    return True
        return False


def required_literals(pattern: str) -> list[str] | None:
    """Lower-cased literals of which every match of ``pattern`` contains at least one.

    A plain sequence gives its longest run of literal characters (``[wW]`` counts as
    ``w``); a top-level alternation gives one literal per branch. ``None`` when some
    branch has no literal of at least :data:`MIN_LITERAL` characters.
    """
    parsed = sre_parser.parse(pattern)
    branches = [parsed]
    if len(parsed) == 1 and parsed[0][0] is sre_constants.BRANCH:
        # A BRANCH's argument is ``(None, [branch, ...])``.
        _, branches = cast("tuple[None, list[sre_parser.SubPattern]]", parsed[0][1])
    literals = [_longest_literal(branch) for branch in branches]
    if any(len(literal) < MIN_LITERAL for literal in literals):
        return None
    return literals


def _longest_literal(sequence) -> str:
    runs: list[str] = []
    run: list[str] = []
    for op, argument in sequence:
        character = None
        if op is sre_constants.LITERAL:
            character = chr(argument).lower()
        elif op is sre_constants.IN:
            character = _single_letter(argument)
        if character is None:
            runs.append("".join(run))
            run = []
        else:
            run.append(character)
    runs.append("".join(run))
    return max(runs, key=len)


def _single_letter(items) -> str | None:
    """``[wW]`` is the letter ``w`` in either case; any other class is not a literal."""
    if len(items) != 2 or any(op is not sre_constants.LITERAL for op, _ in items):
        return None
    first, second = (chr(code) for _, code in items)
    if first != second and first.lower() == second.lower():
        return first.lower()
    return None


def trie_pattern(words: Iterable[str]) -> str:
    """A regex matching exactly the given words, shaped as a trie so that ``re`` tests
    one branch per distinct next character instead of one per word."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for character in word:
            node = node.setdefault(character, {})
        node[""] = {}
    return _trie_node(root)


def _trie_node(node: dict[str, dict]) -> str:
    branches = [re.escape(char) + _trie_node(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # A word may end here: the longer words are optional, tried first (greedy).
    return f"(?:{body})?" if "" in node else body
