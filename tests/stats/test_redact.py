"""E-mail addresses, phone numbers and long numbers never reach the statistics.

Issue 9 reproduced three page views whose address and phone number ended up in the
rollups in clear: they and the other ways people write them are redacted at derivation,
before anything is stored or summed.
"""

from __future__ import annotations

import random
import re

import pytest
from pageviews import NOON, page_view
from phonenumbers import Leniency, PhoneNumberMatcher
from sqlalchemy import select

from webhook_app import clock, create_app
from webhook_app.config import ConfigError
from webhook_app.extensions import db
from webhook_app.stats import redact
from webhook_app.stats.derive import get_deriver
from webhook_app.stats.models import StatsEvent
from webhook_app.stats.redact import EMAIL, NUMBER, PHONE, Redactor
from webhook_app.stats.rollup import rollup
from webhook_app.stats.summary import summary

SALT = bytes(32)
REPRODUCED = [
    ("https://example.fr/?s=jeanne.martin%40example.fr", "/", EMAIL),
    ("https://example.fr/search/jeanne martin 06 12 34 56 78/", "/search/",
     f"jeanne martin {PHONE}"),
    ("https://example.fr/commande/jeanne.martin@example.fr/", f"/commande/{EMAIL}/", None),
]  # fmt: skip
FORMS = [
    ("https://example.fr/?s=Jeanne.Martin%40EXAMPLE.FR", "/", EMAIL),
    ("https://example.fr/?s=jeanne.martin@example.fr+devis", "/", f"{EMAIL} devis"),
    ("https://example.fr/?s=jeanne.martin%2540example.fr", "/", EMAIL),
    ("https://example.fr/?s=%C3%A9crire+%C3%A0+jeanne%2Bdevis%40example.co.uk.", "/",
     f"écrire à {EMAIL}."),
    ("https://example.fr/Commande/Jeanne.Martin%40Example.FR/suivi/", f"/Commande/{EMAIL}/suivi/",
     None),
    ("https://example.fr/compte/jeanne.martin@example.fr", f"/compte/{EMAIL}", None),
    ("https://example.fr/search/jeanne.martin%40example.fr/", "/search/", EMAIL),
    ("https://example.fr/search/jeanne+martin+06.12.34.56.78/", "/search/",
     f"jeanne martin {PHONE}"),
    ("https://example.fr/?s=06+12+34+56+78", "/", PHONE),
    ("https://example.fr/?s=06.12.34.56.78", "/", PHONE),
    ("https://example.fr/?s=06-12-34-56-78", "/", PHONE),
    ("https://example.fr/?s=0612345678", "/", PHONE),
    ("https://example.fr/?s=%2B33612345678", "/", PHONE),
    ("https://example.fr/?s=+33612345678", "/", PHONE),  # the "+" became a space
    ("https://example.fr/?s=%2B33+6+12+34+56+78", "/", PHONE),
    ("https://example.fr/?s=%2B33+(0)6+12+34+56+78", "/", PHONE),
    ("https://example.fr/?s=0033+6+12+34+56+78", "/", PHONE),
    ("https://example.fr/?s=0033612345678", "/", PHONE),
    ("https://example.fr/?s=t%C3%A9l+%EF%BC%90%EF%BC%96%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94"
     "%EF%BC%95%EF%BC%96%EF%BC%97%EF%BC%98", "/", f"tél {PHONE}"),
    ("https://example.fr/?s=rappel+0612345678svp", "/", f"rappel {PHONE}svp"),
    ("https://example.fr/?s=%2B44+20+7946+0958", "/", PHONE),
    ("https://example.fr/rappel/0612345678/", f"/rappel/{PHONE}/", None),
    ("https://example.fr/rappel/%2B33612345678/", f"/rappel/{PHONE}/", None),
    ("https://example.fr/?s=carte+4970+1012+3456+7890", "/", f"carte {NUMBER}"),
    ("https://example.fr/?s=FR76+3000+6000+0112+3456+7890+189", "/", f"fr{NUMBER}"),
    ("https://example.fr/commande/20261120004512/", f"/commande/{NUMBER}/", None),
    ("https://example.fr/?s=siret+732+829+320+00074", "/", f"siret {NUMBER}"),
]  # fmt: skip
KEPT = [
    ("https://example.fr/blog/2026/11/20/sauvegarde/", "/blog/2026/11/20/sauvegarde/", None),
    ("https://example.fr/?s=cartouche+hp+302+xl", "/", "cartouche hp 302 xl"),
    ("https://example.fr/?s=rendez-vous+2026-11-20", "/", "rendez-vous 2026-11-20"),
    ("https://example.fr/zone/69003/lyon/", "/zone/69003/lyon/", None),
    ("https://example.fr/commande/12345/", "/commande/12345/", None),
    ("https://example.fr/?s=%40gardien+sur+mastodon", "/", "@gardien sur mastodon"),
    ("https://example.fr/?s=tarif+10+000+%E2%82%AC", "/", "tarif 10 000 €"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "path", "terms"), REPRODUCED + FORMS + KEPT)
def test_the_visit_is_redacted_at_derivation(deriver, url, path, terms):
    visit = deriver.derive(url, "90.12.34.56", "Mozilla/5.0", None, None, SALT, "1")
    assert (visit.path, visit.search_terms) == (path, terms)


@pytest.mark.parametrize(
    "text",
    ["jeanne.martin@example.fr", "06 12 34 56 78", "+33 6 12 34 56 78", "4970101234567890",
     "[e-mail] [téléphone] [numéro]", "/commande/jeanne@example.fr/0612345678/"],
)  # fmt: skip
def test_redaction_is_idempotent(text):
    once = Redactor().redact(text)
    assert Redactor().redact(once) == once


def test_an_address_across_the_length_cap_still_goes(deriver):
    long_search = "mot " * 22 + "jeanne.martin@example.fr"  # the address spans character 100
    visit = deriver.derive(f"https://example.fr/?s={long_search}", None, None, None, None,
                           SALT, "1")  # fmt: skip
    assert "jeanne" not in visit.search_terms and visit.search_terms.endswith(EMAIL)
    long_path = "/" + "a" * 1010 + "/jeanne.martin@example.fr/"
    visit = deriver.derive(f"https://example.fr{long_path}", None, None, None, None, SALT, "1")
    assert visit.path.endswith(f"/{EMAIL}/") and "jeanne" not in visit.path


def test_many_numbers_in_one_text_all_go():
    # Past the matcher's budget for one text, the digit-run rule takes the rest.
    text = "0612345678 et " * 40
    redacted = Redactor().redact(text)
    assert not re.search(r"\d", redacted)
    assert redacted.count(PHONE) == redact.MAX_PHONES


def test_region_of_numbers_without_country_code():
    london = "020 7946 0958"  # eleven digits: no French number, with or without the 0
    assert Redactor("GB", 0).redact(london) == PHONE
    assert Redactor("FR", 0).redact(london) == london
    assert Redactor("FR", 0).redact("+44 20 7946 0958") == PHONE


def test_digit_run_threshold_and_off():
    assert Redactor(digit_run=5).redact("commande 12345") == f"commande {NUMBER}"
    assert Redactor(digit_run=6).redact("commande 12345") == "commande 12345"
    card = "4970 1012 3456 7890"
    assert Redactor(digit_run=0).redact(card) == card
    with pytest.raises(ValueError):
        Redactor("XX")
    with pytest.raises(ValueError):
        Redactor(digit_run=-1)


def test_the_cheap_check_never_skips_what_the_matcher_would_find():
    """The precheck exists for speed; it must not cost a phone number. Random texts of
    digits, the matcher's punctuation (an "x" included), letters and plus signs: whenever
    the matcher finds a number showing seven digits or more, the check said the text may
    hold one."""
    rng = random.Random(9)
    alphabet = "0123456789" * 4 + " .-/()+#~" * 2 + "abxXéー_@" + " ext "
    found = 0
    for _ in range(6000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 40)))
        for match in PhoneNumberMatcher(text, "FR", leniency=Leniency.POSSIBLE):
            if redact._written_digits(match) >= redact.MIN_PHONE_DIGITS:
                found += 1
                assert redact._PHONE_LIKE.search(text), text
    assert found > 300, "the random texts must hold numbers for this to prove anything"


def test_settings_reach_the_deriver_and_bad_ones_stop_the_service(tmp_path, secrets,
                                                                    monkeypatch):  # fmt: skip
    url = f"sqlite:///{tmp_path / 'g.db'}"
    app = create_app({**secrets, "DATABASE_URL": url, "STATS_PHONE_REGION": "be",
                      "STATS_DIGIT_RUN": "12"})  # fmt: skip
    assert (app.config["STATS_PHONE_REGION"], app.config["STATS_DIGIT_RUN"]) == ("BE", 12)
    with app.app_context():
        from webhook_app.stats.ingest import deriver

        assert deriver() is get_deriver(None, "BE", 12)
        assert (deriver().redactor.region, deriver().redactor.digit_run) == ("BE", 12)
    monkeypatch.setenv("GARDIEN_STATS_PHONE_REGION", "XX")
    with pytest.raises(ConfigError, match="GARDIEN_STATS_PHONE_REGION"):
        create_app({**secrets, "DATABASE_URL": url})
    monkeypatch.setenv("GARDIEN_STATS_PHONE_REGION", "FR")
    monkeypatch.setenv("GARDIEN_STATS_DIGIT_RUN", "-3")
    with pytest.raises(ConfigError, match="GARDIEN_STATS_DIGIT_RUN"):
        create_app({**secrets, "DATABASE_URL": url})


def test_stored_rows_rollups_and_summary_hold_no_address(app, post_events, send):
    """Through the API, on both backends: raw rows, rollups and the summary."""
    urls = [url for url, *_ in REPRODUCED + FORMS]
    with clock.frozen(NOON):
        answer = post_events([page_view(url) for url in urls]).get_json()
    assert answer["accepted"] == len(urls)
    with app.app_context():
        stored = db.session.execute(select(StatsEvent.path, StatsEvent.search_terms)).all()
        with clock.frozen(NOON.replace(day=21)):
            assert rollup() == 1
        answer = summary(1, NOON.date(), NOON.date())
    with clock.frozen(NOON.replace(day=21)):
        response = send("/v1/stats/summary?from=2026-11-20&to=2026-11-20", method="GET")
    assert response.get_json() == answer
    text = repr(stored) + repr(answer)
    for form in ("jeanne.martin", "example.fr", "12 34", "12345678", "2345678", "0112"):
        assert form not in text.lower()
    assert {"terms": EMAIL, "visits": 4} in answer["searches"]
    assert {"path": f"/commande/{EMAIL}/", "visits": 1} in answer["pages"]
