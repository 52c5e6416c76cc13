"""How the dashboard names retention rules, periods and what a rule does at the end:
the policy file's labels and the public notice's wording, so that the dashboard, the
notice and the purge say the same thing."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from webhook_app import notice, policy
from webhook_app.stats.retention import DAY_RULE, SALT_RULE

from .blueprint import bp

# Lines of the purge report that are not categories of the policy file.
OTHER_RULES = {
    DAY_RULE: _l("Days of visit totals"),
    SALT_RULE: _l("Daily salts of visitor fingerprints"),
}


def language() -> str:
    """The page's language, as the policy file and the notice know it."""
    chosen = str(get_locale())
    return chosen if chosen in policy.LANGUAGES else policy.LANGUAGES[0]


def rule_label(key: str) -> Any:
    """A category of the policy (or another line of the purge report), in words."""
    category = policy.current().categories.get(key)
    if category is not None:
        return category.label[language()]
    return OTHER_RULES.get(key, key)


def period_label(period: str) -> str:
    """An ISO 8601 period as the notice writes it ("1 an", "25 months")."""
    return notice.period_label(period, language())


def at_end_label(action: str) -> str:
    """What a rule does at the end of its period, as the notice says it."""
    return notice.AT_END[language()].get(action, action)


@bp.context_processor
def retention_words() -> dict[str, Any]:
    """The helpers above, for the dashboard's templates."""
    return {"rule_label": rule_label, "period_label": period_label, "at_end_label": at_end_label}
