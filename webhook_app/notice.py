"""The published privacy notice (``GET /v1/policy``), made from the policy file.

The purge reads the same file, so what the notice promises and what the purge does
cannot drift apart.
"""

from __future__ import annotations

import isodate
from markupsafe import escape

from . import policy
from .policy import LANGUAGES, Category, Policy

UNITS = {
    "fr": {"years": ("an", "ans"), "months": ("mois", "mois"), "days": ("jour", "jours")},
    "en": {"years": ("year", "years"), "months": ("month", "months"), "days": ("day", "days")},
}
STARTS = {
    "fr": {
        "receipt": "à la réception", "flag": "au signalement",
        "last_activity": "à la dernière activité (message, devis, facture, règlement)",
        "invoice_date": "à la date de la facture", "visit": "à la visite",
        "event": "à l'événement", "request": "à la demande", "erasure": "à l'effacement",
    },
    "en": {
        "receipt": "from receipt", "flag": "from the flag",
        "last_activity": "from the last activity (message, quote, invoice, payment)",
        "invoice_date": "from the invoice date", "visit": "from the visit",
        "event": "from the event", "request": "from the request", "erasure": "from the erasure",
    },
}
AT_END = {
    "fr": {"delete": "suppression", "anonymise": "anonymisation"},
    "en": {"delete": "deletion", "anonymise": "anonymisation"},
}
HEADINGS = {
    "fr": ("Données", "Finalité", "Base légale", "Durée", "Point de départ", "À l'issue",
           "Destinataires"),
    "en": ("Data", "Purpose", "Legal basis", "Period", "Starts", "At the end", "Recipients"),
}


def default_language() -> str:
    """The language of published texts: ``LANGUAGE`` setting, else the policy file's."""
    from flask import current_app

    chosen = current_app.config.get("LANGUAGE") or policy.current().language
    return chosen if chosen in LANGUAGES else "fr"


def period_label(period: str, language: str) -> str:
    """``P1Y`` → ``1 an`` / ``1 year``; ``P25M`` → ``25 mois``; mixed parts joined."""
    duration = isodate.parse_duration(period)
    if isinstance(duration, isodate.Duration):  # has years or months
        years, months, days = int(duration.years), int(duration.months), duration.tdelta.days
    else:
        years, months, days = 0, 0, duration.days
    parts = []
    for unit, amount in (("years", years), ("months", months), ("days", days)):
        if amount:
            singular, plural = UNITS[language][unit]
            parts.append(f"{amount} {singular if amount == 1 else plural}")
    return " ".join(parts)


def published(policy: Policy, language: str) -> dict:
    """The ``GET /v1/policy`` document in ``language`` (``fr`` or ``en``)."""
    categories = entries(policy, language)
    return {"language": language, "categories": categories, "html": _table(categories, language)}


def entries(policy: Policy, language: str, *, unpublished: bool = False) -> list[dict]:
    """The notice's lines, one per category, in ``language``; with ``unpublished`` the
    categories the public notice leaves out too (the dashboard shows every rule)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    return [
        _category(category, language)
        for category in policy.categories.values()
        if category.published or unpublished
    ]


def _category(category: Category, language: str) -> dict:
    period = period_label(category.period, language)
    return {
        "key": category.key,
        "label": category.label[language],
        "data": category.data[language],
        # The period comes from the file's `period`, never from prose beside it.
        "purpose": category.purpose[language].replace("{period}", period),
        "legal_basis": category.legal_basis[language],
        "period": category.period,
        "period_label": period,
        "starts": category.starts,
        "at_end": category.at_end,
        "recipients": [dict(recipient) for recipient in category.recipients],
    }


def _table(categories: list[dict], language: str) -> str:
    """An HTML table, every value escaped, ready for the plugin's privacy page."""
    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in ("", *HEADINGS[language]))
    rows = []
    for entry in categories:
        cells = [
            "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in entry["data"]) + "</ul>",
            escape(entry["purpose"]),
            escape(entry["legal_basis"]),
            escape(entry["period_label"]),
            escape(STARTS[language].get(entry["starts"], entry["starts"])),
            escape(AT_END[language][entry["at_end"]]),
            escape(", ".join(f"{r['name']} ({r['country']})" for r in entry["recipients"])),
        ]
        rows.append(
            f"<tr><th scope=\"row\">{escape(entry['label'])}</th>"
            + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
        )
    return (
        "<table class=\"gardien-retention\"><thead><tr>" + head + "</tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )
