"""WordPress's privacy tools with the service unreachable: a clear error, never a fake success;
the retention table falls back to a sentence."""

from __future__ import annotations

import re

import requests


def ajax_privacy_page(
    site, admin, screen: str, action: str, kind: str, email: str, key: str
) -> dict:
    """Run one page of Tools → Export/Erase Personal Data the way the admin screen's script does."""
    request = site.cli("privacy-request", {"email": email, "type": kind})
    page = admin.get(f"{site.url}/wp-admin/{screen}", timeout=30)
    nonce = re.search(
        rf'data-request-id="{request["request_id"]}"[^>]*data-nonce="([0-9a-f]+)"', page.text
    ) or re.search(
        rf'data-nonce="([0-9a-f]+)"[^>]*data-request-id="{request["request_id"]}"', page.text
    )
    assert nonce, f"no row for the request on {screen}"
    response = admin.post(
        f"{site.url}/wp-admin/admin-ajax.php",
        data={
            "action": action,
            key: request["index"],
            "id": request["request_id"],
            "page": 1,
            "security": nonce[1],
            "sendAsEmail": "false",
        },
        timeout=60,
    )
    assert response.status_code == 200
    return response.json()


def test_export_fails_clearly_when_the_service_is_down(site, gardien):
    admin = site.login()
    gardien.stop()
    answer = ajax_privacy_page(
        site,
        admin,
        "export-personal-data.php",
        "wp-privacy-export-personal-data",
        "export_personal_data",
        "jeanne.export@example.fr",
        "exporter",
    )
    assert answer["success"] is False
    assert answer["data"][0]["code"] == "gardien_unreachable"
    assert "could not be reached" in answer["data"][0]["message"]


def test_erasure_fails_clearly_when_the_service_is_down(site, gardien):
    admin = site.login()
    gardien.stop()
    answer = ajax_privacy_page(
        site,
        admin,
        "erase-personal-data.php",
        "wp-privacy-erase-personal-data",
        "remove_personal_data",
        "jeanne.erase@example.fr",
        "eraser",
    )
    assert answer["success"] is False
    assert answer["data"][0]["code"] == "gardien_unreachable"


def test_retention_table_falls_back_when_the_service_is_down(site, gardien):
    gardien.stop()
    page = requests.get(f"{site.url}/?page_id={site.pages['privacy_page']}", timeout=30)
    assert page.status_code == 200
    assert "gardien-retention-table--unavailable" in page.text
    assert "temporarily unavailable" in page.text


def test_consent_line_falls_back_to_the_privacy_policy_when_the_policy_is_unknown(site, gardien):
    gardien.stop()
    html = site.cli("render-form")["html"]
    assert "for the period stated in the privacy policy" in html
    assert f"?page_id={site.pages['privacy_page']}" in html
