"""The breach register: facts and history, the workflow and its reasons, the 72-hour
deadline on the service clock, containment (sessions, passwords, secrets with a grace
period), the people to notify, the letter, the export; never purged (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from webhook_app import clients, clock, incidents, managers, messages, policy, retention, sites
from webhook_app.crypto import email_indexes
from webhook_app.extensions import db
from webhook_app.models import AuditEntry, Incident, IncidentEvent, Manager

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ACTOR = "manager:1"


def new_incident(**fields) -> Incident:
    with clock.frozen(T0):
        return incidents.record({"nature": "Vol d'un ordinateur portable",
                                 "detected_at": T0 - timedelta(hours=2), **fields}, ACTOR)


def audit_actions() -> list[str]:
    return [entry.action for entry in db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.id)) if entry.action.startswith("incident.")]


def test_an_incident_is_recorded_edited_and_its_history_names_fields_not_values(app):
    with app.app_context():
        incident = new_incident(categories=["contact", "client"], people_count="12",
                                contact="Gérante, 06 00 00 00 00")
        db.session.commit()
        with clock.frozen(T0 + timedelta(hours=1)):
            incidents.edit(incident.id, {"measures": "Mots de passe changés",
                                         "people_count": 12}, ACTOR)
        db.session.commit()
        events = db.session.scalars(select(IncidentEvent).order_by(IncidentEvent.id)).all()
        assert [event.action for event in events] == ["record", "edit"]
        assert events[1].fields == ["measures"], "an unchanged value is no change"
        assert "Mots" not in str(events[1].fields)
        assert audit_actions() == ["incident.record", "incident.edit"]
        raw = db.session.execute(db.text("SELECT nature, contact FROM incidents")).one()
        assert "ordinateur" not in raw[0] and "06 00" not in raw[1], "free texts encrypted"
        with pytest.raises(incidents.IncidentError):
            incidents.edit(incident.id, {"categories": ["nope"]}, ACTOR)
        with pytest.raises(incidents.IncidentError), clock.frozen(T0):
            incidents.record({"nature": "x", "detected_at": T0 + timedelta(hours=1)}, ACTOR)
        with pytest.raises(incidents.IncidentError), clock.frozen(T0):
            incidents.record({"nature": " ", "detected_at": T0}, ACTOR)


def test_the_deadline_is_72_hours_after_detection_on_the_service_clock(app):
    with app.app_context():
        incident = new_incident()
        assert incidents.deadline(incident) == T0 + timedelta(hours=70)
        assert incidents.countdown(incident, T0) == (70, 0)
        assert incidents.countdown(incident, T0 + timedelta(hours=69, minutes=15)) == (0, 45)
        assert not incidents.late(incident, T0 + timedelta(hours=70))
        assert incidents.late(incident, T0 + timedelta(hours=70, seconds=1))
        assert incidents.countdown(incident, T0 + timedelta(hours=71)) is None


def advance_to_contained(incident_id: int) -> None:
    with clock.frozen(T0):
        incidents.advance(incident_id, incidents.ASSESSED, ACTOR)
        incidents.advance(incident_id, incidents.CONTAINED, ACTOR)


def test_the_workflow_asks_its_reasons_and_a_late_notification_its_delay(app):
    with app.app_context():
        incident = new_incident()
        with clock.frozen(T0), pytest.raises(incidents.IncidentError):
            incidents.advance(incident.id, incidents.CLOSED, ACTOR)
        advance_to_contained(incident.id)
        later = T0 + timedelta(hours=80)
        with clock.frozen(later):
            with pytest.raises(incidents.IncidentError, match="reference"):
                incidents.advance(incident.id, incidents.AUTHORITY_NOTIFIED, ACTOR)
            with pytest.raises(incidents.IncidentError, match="delay"):
                incidents.advance(incident.id, incidents.AUTHORITY_NOTIFIED, ACTOR,
                                  reference="CNIL-123")
            incidents.advance(incident.id, incidents.AUTHORITY_NOTIFIED, ACTOR,
                              reference="CNIL-123", delay_reasons="Week-end")
            assert incidents.late(incident, later)
            assert incident.authority_by == ACTOR and incident.authority_at == later
            with pytest.raises(incidents.IncidentError, match="34"):
                incidents.advance(incident.id, incidents.PEOPLE_NOT_NOTIFIED, ACTOR)
            incidents.advance(incident.id, incidents.PEOPLE_NOT_NOTIFIED, ACTOR,
                              reasoning="Données chiffrées (article 34(3)(a))")
            incidents.advance(incident.id, incidents.CLOSED, ACTOR)
        db.session.commit()
        assert incident.status == incidents.CLOSED and incident.closed_at == later


def test_a_notification_in_time_needs_no_delay_reasons(app):
    with app.app_context():
        incident = new_incident()
        advance_to_contained(incident.id)
        with clock.frozen(T0 + timedelta(hours=5)):
            incidents.advance(incident.id, incidents.AUTHORITY_NOTIFIED, ACTOR,
                              reference="CNIL-1", notified_at=T0 + timedelta(hours=4))
        assert incident.delay_reasons is None
        assert not incidents.late(incident, T0 + timedelta(days=10))


def test_no_purge_years_later_and_no_site_removal_touches_the_register(app, store_message):
    with app.app_context():
        sites.add("atelier")
        db.session.commit()
        incident = new_incident()
        advance_to_contained(incident.id)
        db.session.commit()
        store_message(at=T0)
        sites.remove("atelier", ACTOR)
        db.session.commit()
        retention.purge(T0 + timedelta(days=365 * 30))
        db.session.expire_all()
        kept = db.session.get(Incident, incident.id)
        assert kept is not None and kept.nature == "Vol d'un ordinateur portable"
        assert [event.action for event in kept.events] == ["record", "status", "status"]


def test_contain_ends_sessions_voids_passwords_and_rotates_with_a_grace_period(
        app, send):
    with app.app_context():
        sites.add("atelier", "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3OA==")
        first = managers.add("gerante@example.fr", "cli:test")
        managers.redeem(managers.link_token("gerante@example.fr", managers.INVITE),
                        "correct horse battery staple")
        db.session.commit()
        old_epoch = first.session_epoch
        incident = new_incident()
        db.session.commit()
        with clock.frozen(T0):
            done = incidents.contain(incident.id, ACTOR, rotate=["atelier"], grace_hours=4,
                                     disable=[])
        db.session.commit()
        manager = db.session.get(Manager, first.id)
        assert manager.session_epoch > old_epoch and manager.password_hash is None
        [(reset_for, token)] = done.resets
        assert reset_for.id == first.id and token
        with clock.frozen(T0):
            assert managers.read_token(token)[0] == managers.RESET
        assert incident.status == incidents.CONTAINED and incident.contain_by == ACTOR
        assert "manager.force_reset" in [entry.action for entry in db.session.scalars(
            select(AuditEntry))]
        new_secret = done.secrets["atelier"]
    old = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3OA=="
    body = {"name": "Jeanne", "email": "jeanne@example.fr", "message": "Bonjour"}
    with clock.frozen(T0 + timedelta(hours=3, minutes=59)):
        assert send("/v1/contact", body, site="atelier", secret=old).status_code == 201
    with clock.frozen(T0 + timedelta(hours=4)):
        assert send("/v1/contact", body, site="atelier", secret=old).status_code == 401
        assert send("/v1/contact", body, site="atelier", secret=new_secret).status_code == 201


def test_people_are_chosen_by_category_site_and_period_without_decoys(app, store_message):
    with app.app_context():
        sites.add("atelier")
        sites.add("autre")
        db.session.commit()
        ids = sites.slugs()
        by_slug = {slug: site_id for site_id, slug in ids.items()}
        inside = T0 - timedelta(days=3)
        store_message("a@example.fr", at=inside, site_id=by_slug["atelier"])
        store_message("A@example.fr", at=inside + timedelta(hours=1),
                      site_id=by_slug["atelier"])  # the same person again
        store_message("decoy-site@example.fr", at=inside, site_id=by_slug["autre"])
        store_message("decoy-period@example.fr", at=T0 - timedelta(days=40),
                      site_id=by_slug["atelier"])
        erased = store_message("decoy-erased@example.fr", at=inside,
                               site_id=by_slug["atelier"])
        held = store_message("held@example.fr", at=inside, site_id=by_slug["atelier"])
        with clock.frozen(inside):
            messages.hold(held, "Menaces", ACTOR)
            clients.add("atelier", {"name": "Client", "email": "client@example.fr"}, ACTOR)
            messages.erase_one(erased, ACTOR)
        db.session.commit()
        selection = incidents.Selection(("contact", "client"), ("atelier",),
                                        T0 - timedelta(days=7), T0)
        found = {person.email: person for person in incidents.people(selection)}
        assert set(found) == {"a@example.fr", "client@example.fr"}
        assert found["a@example.fr"].categories == {"contact"}
        with_holds = incidents.Selection(("legal_hold",), ("atelier",),
                                         T0 - timedelta(days=7), T0)
        assert [p.email for p in incidents.people(with_holds)] == ["held@example.fr"]
        assert found["a@example.fr"].index in email_indexes("a@example.fr")
        incident = new_incident()
        with clock.frozen(T0):
            exported = incidents.export_people(incident.id, selection, ACTOR)
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "incident.people_export")).one()
        assert entry.count == len(exported) == 2 and "@" not in (entry.detail or "")
        with pytest.raises(incidents.IncidentError):
            incidents.people(incidents.Selection(("invoice",), ("atelier",), T0, T0))


def test_the_letter_names_the_incident_s_facts_in_french_and_english(app):
    with app.app_context():
        incident = new_incident(categories=["contact"], consequences="Hameçonnage possible",
                                measures="Secret changé", contact="dpo@example.fr")
        french = incidents.notification_text(incident, "fr")
        english = incidents.notification_text(incident, "en")
        for text in (french, english):
            for fact in ("Vol d'un ordinateur portable", "Hameçonnage possible",
                         "Secret changé", "dpo@example.fr"):
                assert fact in text
        assert "Messages de contact" in french and "Contact messages" in english
        assert policy.CONTACT in incident.categories


def test_the_export_and_the_cli_show_the_register(app, runner):
    with app.app_context():
        number = new_incident().id
        db.session.commit()
        rows = incidents.register(ACTOR)
        db.session.commit()
        assert rows[0]["nature"] == "Vol d'un ordinateur portable"
        assert rows[0]["history"][0]["action"] == "record"
        assert "incident.export" in audit_actions()
    listed = runner.invoke(args=["incidents", "list"])
    assert listed.exit_code == 0 and f"{number}\tdetected" in listed.output
    shown = runner.invoke(args=["incidents", "show", str(number)])
    assert shown.exit_code == 0 and "Vol d'un ordinateur" in shown.output
    assert runner.invoke(args=["incidents", "show", "999"]).exit_code == 1
