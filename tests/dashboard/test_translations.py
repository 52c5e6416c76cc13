"""The dashboard is French first: every string of the code is translated, and the
compiled catalogue is the one of the source."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FRENCH = ROOT / "webhook_app" / "translations" / "fr" / "LC_MESSAGES"


def _script():
    spec = importlib.util.spec_from_file_location("translations", ROOT / "scripts" /
                                                  "translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _messages(catalog) -> dict:
    """msgid → msgstr; a plural's forms as tuples (a compiled catalogue gives lists)."""
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def test_every_string_of_the_dashboard_has_its_french(tmp_path):
    pot = tmp_path / "messages.pot"
    _script().extract(pot)
    with pot.open("rb") as handle:
        wanted = set(_messages(read_po(handle)))
    with (FRENCH / "messages.po").open("rb") as handle:
        french = _messages(read_po(handle))
    assert wanted, "the extraction found the dashboard's strings"
    assert sorted(map(str, wanted - set(french))) == [], "run `make translations` and translate"
    untranslated = [msgid for msgid in wanted
                    if not (all(french[msgid]) if isinstance(french[msgid], tuple)
                            else french[msgid])]
    assert sorted(map(str, untranslated)) == [], "untranslated"
    assert sorted(map(str, set(french) - wanted)) == [], "strings the code no longer has"


def test_the_compiled_catalogue_is_the_source(tmp_path):
    with (FRENCH / "messages.po").open("rb") as handle:
        source = _messages(read_po(handle))
    with (FRENCH / "messages.mo").open("rb") as handle:
        compiled = _messages(read_mo(handle))
    assert compiled == source, "run `make translations` to compile"
