"""Field matching by whole words, on forms as their users label them (the form plugins are
driven through their hooks as in test_wp_form_plugins.py)."""

from __future__ import annotations

import uuid


def test_wpforms_labels_are_matched_by_words_not_substrings(site, gardien):
    gardien.stop()
    tag = uuid.uuid4().hex[:10]
    fields = {
        "0": {"name": "Économie visée", "value": "20 %", "id": 0, "type": "text"},
        "1": {"name": "Nombre de salariés", "value": "12", "id": 1, "type": "number"},
        "2": {"name": "Comment nous avez-vous connu ?", "value": "Salon", "id": 2, "type": "text"},
        "3": {"name": "Nom", "value": "Claire Petit", "id": 3, "type": "text"},
        "4": {"name": "E-mail", "value": f"claire.{tag}@example.fr", "id": 4, "type": "text"},
        "5": {"name": "Société", "value": "Petit SARL", "id": 5, "type": "text"},
        "6": {"name": "Votre demande", "value": f"Un devis {tag}", "id": 6, "type": "text"},
    }
    site.cli("wpforms", {"fields": fields})
    [row] = site.cli("open-outbox")
    body = row["body"]
    assert body["name"] == "Claire Petit"
    assert body["email"] == f"claire.{tag}@example.fr"
    assert body["company"] == "Petit SARL"
    assert body["message"] == f"Un devis {tag}"
    assert sorted(body["fields"].values()) == ["12", "20 %", "Salon"]
