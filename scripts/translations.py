"""Update the dashboard's French catalogue from the code: ``make translations``.

Extracts every string of the dashboard (templates, ``_()``/``_l()``) and every refusal a
domain function can show (the first argument of ``…Error("…")``) into
``webhook_app/translations/messages.pot``, merges it into the French catalogue, and
compiles it. A test fails when the catalogue lags behind the code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webhook_app" / "translations"
POT = TRANSLATIONS / "messages.pot"
# Refusals of the domain, shown on the dashboard's pages.
KEYWORDS = ["_l", "lazy_gettext", "ManagerError", "ClientError", "MessageError",
            "SiteError", "LegalHoldError", "PrivacyError", "PrivacyRequestError",
            "IncidentError", "DomainError"]


def pybabel(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), *args], cwd=ROOT, check=True,
                   capture_output=True)


def extract(target: Path) -> None:
    """Write the template of every translatable string of the code to ``target``."""
    keywords = [part for keyword in KEYWORDS for part in ("-k", keyword)]
    pybabel("extract", "-F", "babel.cfg", *keywords, "--no-location", "--sort-output",
            "--omit-header", "-o", str(target), ".")


def main() -> None:
    """Extract, merge into French (new strings left empty for a translator), compile."""
    extract(POT)
    pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", "fr", "--no-wrap",
            "--ignore-obsolete", "--no-fuzzy-matching")
    pybabel("compile", "-d", str(TRANSLATIONS), "-l", "fr")


if __name__ == "__main__":
    main()
