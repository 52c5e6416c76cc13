"""The French translation is complete, compiled, and loaded by WordPress."""

from __future__ import annotations

import subprocess

from wp_stack import PLUGIN_DIR

LANGUAGES = PLUGIN_DIR / "languages"


def test_every_string_of_the_code_is_translated(tmp_path):
    pot = tmp_path / "gardien.pot"
    sources = sorted(
        str(path.relative_to(PLUGIN_DIR)) for path in (PLUGIN_DIR / "src").rglob("*.php")
    )
    subprocess.run(
        [
            "xgettext",
            "-L",
            "PHP",
            "--from-code=UTF-8",
            "-k",
            "-k__",
            "-k_e",
            "-kesc_html__",
            "-kesc_html_e",
            "-kesc_attr__",
            "-kesc_attr_e",
            "-k_n:1,2",
            "-k_x:1,2c",
            "-o",
            str(pot),
            *sources,
        ],
        cwd=PLUGIN_DIR,
        check=True,
        capture_output=True,
    )
    compared = subprocess.run(
        ["msgcmp", str(LANGUAGES / "gardien-fr_FR.po"), str(pot)], capture_output=True, text=True
    )
    assert compared.returncode == 0, compared.stderr
    statistics = subprocess.run(
        [
            "msgfmt",
            "--check",
            "--statistics",
            "-o",
            "/dev/null",
            str(LANGUAGES / "gardien-fr_FR.po"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics


def test_the_shipped_mo_is_the_compiled_po(tmp_path):
    compiled = tmp_path / "gardien-fr_FR.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(LANGUAGES / "gardien-fr_FR.po")], check=True
    )
    assert compiled.read_bytes() == (LANGUAGES / "gardien-fr_FR.mo").read_bytes()


def test_the_form_speaks_french_on_a_french_site(site):
    html = site.cli("render-form", {"locale": "fr_FR"})["html"]
    assert ">Envoyer</button>" in html
    assert "J’accepte que Atelier Test conserve mon nom" in html
    assert "Adresse e-mail" in html
