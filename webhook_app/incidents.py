"""The breach register (GDPR article 33(5)) and the seed's procedure for a data breach.

The seed's policy promises three steps: block any unwanted access (:func:`contain`),
warn the people whose data leaked (:func:`people`, :func:`notification_text`), contact
the competent authority (:func:`advance` to ``authority_notified``, with the reference
and date, or ``authority_not_notified`` with the reasoning). Each step is a checklist
item of the incident with who did it and when.

An incident moves detected → assessed → contained → authority notified or not →
people notified or not (article 34(3): the reasoning when not) → closed. Every change
appends an :class:`IncidentEvent` (who, when, the names of the fields changed, never
their values) and an audit entry ``incident.*``. Incidents are never deleted: no purge
rule reads their tables and they hold no foreign key to a site.

The authority must be notified within 72 hours of detection (article 33(1)), counted on
the service clock; a notification after that needs the reasons for the delay.

Functions add to the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, select

from . import audit, clock, managers, policy, sites
from .errors import DomainError
from .extensions import db
from .models import Client, ContactMessage, Incident, IncidentEvent, Manager

NOTIFY_WITHIN = timedelta(hours=72)

DETECTED, ASSESSED, CONTAINED = "detected", "assessed", "contained"
AUTHORITY_NOTIFIED, AUTHORITY_NOT_NOTIFIED = "authority_notified", "authority_not_notified"
PEOPLE_NOTIFIED, PEOPLE_NOT_NOTIFIED = "people_notified", "people_not_notified"
CLOSED = "closed"
STATUSES = (DETECTED, ASSESSED, CONTAINED, AUTHORITY_NOTIFIED, AUTHORITY_NOT_NOTIFIED,
            PEOPLE_NOTIFIED, PEOPLE_NOT_NOTIFIED, CLOSED)
# Where each status may go next.
NEXT: dict[str, tuple[str, ...]] = {
    DETECTED: (ASSESSED,),
    ASSESSED: (CONTAINED,),
    CONTAINED: (AUTHORITY_NOTIFIED, AUTHORITY_NOT_NOTIFIED),
    AUTHORITY_NOTIFIED: (PEOPLE_NOTIFIED, PEOPLE_NOT_NOTIFIED),
    AUTHORITY_NOT_NOTIFIED: (PEOPLE_NOTIFIED, PEOPLE_NOT_NOTIFIED),
    PEOPLE_NOTIFIED: (CLOSED,),
    PEOPLE_NOT_NOTIFIED: (CLOSED,),
    CLOSED: (),
}
# Before the authority decided, the 72-hour countdown runs.
UNDECIDED = (DETECTED, ASSESSED, CONTAINED)

# The seed's three steps, in its order.
CONTAIN, PEOPLE, AUTHORITY = "contain", "people", "authority"
STEPS = (CONTAIN, PEOPLE, AUTHORITY)

# What the manager writes about an incident (free texts are encrypted).
TEXTS = ("nature", "consequences", "measures", "contact")
NUMBERS = ("people_count", "records_count")
EDITABLE = (*TEXTS, *NUMBERS, "categories", "detected_at")
MAX_TEXT = 5000

# The categories of people whose records :func:`people` can find.
PEOPLE_CATEGORIES = (policy.CONTACT, policy.LEGAL_HOLD, policy.CLIENT)


class IncidentError(DomainError):
    """An incident operation that cannot be done (unknown incident, missing reasoning…)."""


# ------------------------------------------------------------------------------ time


def deadline(incident: Incident) -> datetime:
    """When the authority must have been notified: 72 hours after detection."""
    return clock.as_utc(incident.detected_at) + NOTIFY_WITHIN


def remaining(incident: Incident, now: datetime) -> timedelta:
    """Time left before :func:`deadline` at ``now`` (negative once it has passed)."""
    return deadline(incident) - now


def late(incident: Incident, now: datetime) -> bool:
    """Whether the authority was (or, still undecided, is being) notified after 72 h."""
    if incident.authority_notified_at is not None:
        return clock.as_utc(incident.authority_notified_at) > deadline(incident)
    return incident.status in UNDECIDED and now > deadline(incident)


def countdown(incident: Incident, now: datetime) -> tuple[int, int] | None:
    """Whole hours and minutes left while the countdown runs (None once decided or late)."""
    if incident.status not in UNDECIDED:
        return None
    left = remaining(incident, now)
    if left <= timedelta(0):
        return None
    minutes = int(left.total_seconds() // 60)
    return minutes // 60, minutes % 60


# ------------------------------------------------------------------------------ register


def categories() -> dict[str, dict[str, str]]:
    """The policy's published categories an incident may concern, with their labels."""
    return {key: category.label for key, category in policy.current().categories.items()
            if category.published}


def get(incident_id: int | str) -> Incident:
    """The incident with this number, or :class:`IncidentError`."""
    number = int(incident_id) if str(incident_id).isdigit() else None
    incident = None if number is None else db.session.get(Incident, number)
    if incident is None:
        raise IncidentError("no such incident")
    return incident


def listing() -> list[Incident]:
    """Every incident: open ones first (the nearest deadline first), then closed ones."""
    closed_last = case((Incident.status == CLOSED, 1), else_=0)
    return list(db.session.scalars(
        select(Incident).order_by(closed_last, Incident.detected_at, Incident.id)
    ))


def _clean(changes: Mapping[str, object]) -> dict[str, object]:
    """The changes checked: texts trimmed, numbers whole and not negative, categories
    the policy's, a detection time not in the future."""
    cleaned: dict[str, object] = {}
    known = categories()
    for name, value in changes.items():
        if name not in EDITABLE:
            raise IncidentError("unknown field of an incident")
        if name in TEXTS:
            text = (str(value) if value is not None else "").strip()
            if len(text) > MAX_TEXT:
                raise IncidentError("a text of an incident is too long")
            cleaned[name] = text or None
        elif name in NUMBERS:
            if value in (None, ""):
                cleaned[name] = None
                continue
            try:
                number = int(str(value))
            except ValueError:
                raise IncidentError("a number of people or records must be a whole number") \
                    from None
            if number < 0:
                raise IncidentError("a number of people or records cannot be negative")
            cleaned[name] = number
        elif name == "categories":
            chosen = list(dict.fromkeys(value or []))  # type: ignore[call-overload]
            if any(key not in known for key in chosen):
                raise IncidentError("unknown data category")
            cleaned[name] = chosen
        elif name == "detected_at":
            if not isinstance(value, datetime):
                raise IncidentError("the detection time is missing")
            if clock.as_utc(value) > clock.now():
                raise IncidentError("the detection time cannot be in the future")
            cleaned[name] = clock.as_utc(value)
    if "nature" in cleaned and not cleaned["nature"]:
        raise IncidentError("describe the nature of the breach")
    return cleaned


def _event(incident: Incident, action: str, fields: Iterable[str], actor: str,
           detail: str | None = None) -> IncidentEvent:
    names = sorted(fields)
    event = IncidentEvent(incident=incident, at=clock.now(), actor=actor, action=action,
                          fields=names)
    db.session.add(event)
    audit.record(f"incident.{action}", actor=actor, record_ids=[incident.id],
                 detail=detail or ("fields: " + ", ".join(names) if names else None))
    return event


def record(fields: Mapping[str, object], actor: str) -> Incident:
    """Open an incident (status ``detected``); ``nature`` and ``detected_at`` are needed."""
    cleaned = _clean({"detected_at": fields.get("detected_at"), **fields})
    if not cleaned.get("nature"):
        raise IncidentError("describe the nature of the breach")
    incident = Incident(status=DETECTED, recorded_at=clock.now(), recorded_by=actor,
                        **{"categories": [], **cleaned})
    db.session.add(incident)
    db.session.flush()
    _event(incident, "record", cleaned, actor)
    return incident


def edit(incident_id: int | str, changes: Mapping[str, object], actor: str) -> Incident:
    """Change the facts of an incident; the history names the fields that changed."""
    incident = get(incident_id)
    cleaned = _clean(changes)
    changed = [name for name, value in cleaned.items() if getattr(incident, name) != value]
    if not changed:
        raise IncidentError("nothing changed")
    for name in changed:
        setattr(incident, name, cleaned[name])
    _event(incident, "edit", changed, actor)
    return incident


def _step(incident: Incident, step: str, actor: str, at: datetime | None = None) -> list[str]:
    setattr(incident, f"{step}_at", at or clock.now())
    setattr(incident, f"{step}_by", actor)
    return [f"{step}_at", f"{step}_by"]


def check_step(incident_id: int | str, step: str, actor: str) -> Incident:
    """Tick one of the seed's steps on the checklist (who and when), e.g. an authority
    other than the CNIL contacted, or access blocked by hand."""
    incident = get(incident_id)
    if step not in STEPS:
        raise IncidentError("unknown step")
    if getattr(incident, f"{step}_at") is not None:
        raise IncidentError("this step is done already")
    _event(incident, "step", _step(incident, step, actor), actor, detail=f"step={step}")
    return incident


def _required(value: str | None, refusal: IncidentError) -> str:
    text = (value or "").strip()
    if not text:
        raise refusal
    if len(text) > MAX_TEXT:
        raise IncidentError("a text of an incident is too long")
    return text


def advance(
    incident_id: int | str, status: str, actor: str, *,
    reference: str | None = None, notified_at: datetime | None = None,
    reasoning: str | None = None, delay_reasons: str | None = None,
) -> Incident:
    """Move an incident to its next status, with what that status needs:

    - ``authority_notified``: the notification's reference and date, and the reasons for
      the delay when that date is more than 72 hours after detection (article 33(1));
    - ``authority_not_notified`` and ``people_not_notified``: the reasoning (article 34(3)
      for the people);
    - ``people_notified``: when they were notified (now if not given).
    """
    incident = get(incident_id)
    if status not in NEXT.get(incident.status, ()):
        raise IncidentError("this incident cannot move to that status now")
    now = clock.now()
    changed = ["status"]
    if status in (AUTHORITY_NOTIFIED, PEOPLE_NOTIFIED):
        when = clock.as_utc(notified_at) if notified_at is not None else now
        if when > now:
            raise IncidentError("the notification date cannot be in the future")
        if when < clock.as_utc(incident.detected_at):
            raise IncidentError("the notification date is before the detection")
    if status == AUTHORITY_NOTIFIED:
        ref = _required(reference, IncidentError("give the reference of the notification"))
        if len(ref) > 100:
            raise IncidentError("the reference is too long")
        if when > deadline(incident):
            incident.delay_reasons = _required(delay_reasons, IncidentError(
                "notified after 72 hours: give the reasons for the delay"))
            changed.append("delay_reasons")
        incident.authority_reference = ref
        incident.authority_notified_at = when
        changed += ["authority_reference", "authority_notified_at"]
        if incident.authority_at is None:
            changed += _step(incident, AUTHORITY, actor, when)
    elif status == AUTHORITY_NOT_NOTIFIED:
        incident.authority_reasoning = _required(
            reasoning, IncidentError("say why the authority is not notified"))
        changed.append("authority_reasoning")
    elif status == PEOPLE_NOTIFIED:
        incident.people_notified_at = when
        changed.append("people_notified_at")
        if incident.people_at is None:
            changed += _step(incident, PEOPLE, actor, when)
    elif status == PEOPLE_NOT_NOTIFIED:
        incident.people_reasoning = _required(
            reasoning, IncidentError("say why the people are not notified (article 34(3))"))
        changed.append("people_reasoning")
    elif status == CLOSED:
        incident.closed_at = now
        changed.append("closed_at")
    incident.status = status
    _event(incident, "status", changed, actor, detail=f"status={status}")
    return incident


# ------------------------------------------------------------------------------ step 1


@dataclass
class Containment:
    """What :func:`contain` did: the new secret of each site (shown once), the sites
    disabled, and a password reset token for each manager (None: a disabled manager)."""

    secrets: dict[str, str] = field(default_factory=dict)
    disabled: list[str] = field(default_factory=list)
    resets: list[tuple[Manager, str | None]] = field(default_factory=list)
    grace: timedelta = timedelta(0)


MAX_GRACE_HOURS = 24 * 7


def contain(
    incident_id: int | str, actor: str, *, rotate: Sequence[str] = (),
    grace_hours: int = 0, disable: Sequence[str] = (),
) -> Containment:
    """Step 1, block any unwanted access, at once: end every manager's session (the one
    acting included), void every password (each manager gets a reset link), give each
    site of ``rotate`` a new secret while its old ones keep signing ``grace_hours`` more,
    and disable the sites of ``disable``. All in the caller's one transaction."""
    incident = get(incident_id)
    if incident.status == CLOSED:
        raise IncidentError("this incident is closed")
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise IncidentError("the grace period is between 0 and 168 hours")
    done = Containment(grace=timedelta(hours=grace_hours))
    for slug in dict.fromkeys(rotate):
        done.secrets[slug] = sites.rotate(slug, grace=done.grace)
    for slug in dict.fromkeys(disable):
        sites.disable(slug, actor)
        done.disabled.append(slug)
    for manager in managers.listing():
        done.resets.append((manager, managers.force_new_password(manager, actor)))
    changed = _step(incident, CONTAIN, actor)
    if incident.status in (DETECTED, ASSESSED):
        incident.status = CONTAINED
        changed.append("status")
    _event(incident, "contain", changed, actor,
           detail=f"rotated={len(done.secrets)} grace_hours={grace_hours} "
                  f"disabled={len(done.disabled)} managers={len(done.resets)}")
    return done


# ------------------------------------------------------------------------------ step 2


@dataclass(frozen=True)
class Selection:
    """Whose records the breach may have exposed: categories, sites, a period
    (``start`` included, ``end`` excluded)."""

    categories: tuple[str, ...]
    site_slugs: tuple[str, ...]
    start: datetime
    end: datetime


@dataclass
class Person:
    """One address to notify, with the categories and sites it was found in."""

    email: str
    index: str
    categories: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)


def _checked(selection: Selection) -> dict[int, str]:
    if not selection.categories:
        raise IncidentError("choose at least one data category")
    if any(key not in PEOPLE_CATEGORIES for key in selection.categories):
        raise IncidentError("unknown data category")
    if not selection.site_slugs:
        raise IncidentError("choose at least one site")
    if selection.end <= selection.start:
        raise IncidentError("the period ends before it starts")
    by_slug = {slug: site_id for site_id, slug in sites.slugs().items()}
    if any(slug not in by_slug for slug in selection.site_slugs):
        raise IncidentError("unknown site")
    return {by_slug[slug]: slug for slug in selection.site_slugs}


def people(selection: Selection) -> list[Person]:
    """The people whose records match: contact messages and messages under legal hold
    received, and client records created, on those sites in the period; one entry per
    address (deduplicated by blind index), in the order first found. Anonymised clients
    and erased messages have no address left, so they are not found."""
    chosen = _checked(selection)
    found: dict[str, Person] = {}

    def add(index: str | None, email: str | None, category: str, site_id: int) -> None:
        if not index or not email:
            return
        person = found.setdefault(index, Person(email=email, index=index))
        person.categories.add(category)
        person.sites.add(chosen[site_id])

    message_kinds = [key for key in selection.categories
                     if key in (policy.CONTACT, policy.LEGAL_HOLD)]
    if message_kinds:
        rows = db.session.execute(
            select(ContactMessage.email_index, ContactMessage.personal,
                   ContactMessage.retention, ContactMessage.site_id)
            .where(ContactMessage.site_id.in_(list(chosen)),
                   ContactMessage.received_at >= selection.start,
                   ContactMessage.received_at < selection.end,
                   ContactMessage.retention.in_(message_kinds))
            .order_by(ContactMessage.received_at, ContactMessage.id)
            .execution_options(yield_per=1000)
        )
        for index, personal, kind, site_id in rows:
            add(index, (personal or {}).get("email"), kind, site_id)
    if policy.CLIENT in selection.categories:
        rows = db.session.execute(
            select(Client.email_index, Client.personal, Client.site_id)
            .where(Client.site_id.in_(list(chosen)),
                   Client.created_at >= selection.start, Client.created_at < selection.end,
                   Client.anonymised_at.is_(None))
            .order_by(Client.created_at, Client.id)
            .execution_options(yield_per=1000)
        )
        for index, personal, site_id in rows:
            add(index, (personal or {}).get("email"), policy.CLIENT, site_id)
    return list(found.values())


def export_people(incident_id: int | str, selection: Selection, actor: str) -> list[Person]:
    """:func:`people`, for a download of their addresses: audited with the count (never
    an address) and ticked as the incident's "people" work in its history."""
    incident = get(incident_id)
    found = people(selection)
    audit.record("incident.people_export", actor=actor, record_ids=[incident.id],
                 count=len(found),
                 detail=f"categories={','.join(selection.categories)} "
                        f"sites={len(selection.site_slugs)}")
    db.session.add(IncidentEvent(incident=incident, at=clock.now(), actor=actor,
                                 action="people_export", fields=[]))
    return found


NOTIFICATION = {
    "fr": (
        "Objet : violation de vos données personnelles\n\n"
        "Madame, Monsieur,\n\n"
        "Nous vous informons qu'une violation de données personnelles vous concernant "
        "a été constatée le {detected}.\n\n"
        "Nature de la violation : {nature}\n\n"
        "Données concernées : {categories}\n\n"
        "Conséquences probables : {consequences}\n\n"
        "Mesures prises ou envisagées pour y remédier et en limiter les effets : "
        "{measures}\n\n"
        "Pour toute question, vous pouvez contacter : {contact}\n\n"
        "Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).\n"
    ),
    "en": (
        "Subject: a breach of your personal data\n\n"
        "Dear Sir or Madam,\n\n"
        "We inform you that a breach of personal data concerning you was detected on "
        "{detected}.\n\n"
        "Nature of the breach: {nature}\n\n"
        "Data concerned: {categories}\n\n"
        "Likely consequences: {consequences}\n\n"
        "Measures taken or proposed to address it and mitigate its effects: {measures}\n\n"
        "For any question, please contact: {contact}\n\n"
        "You may also lodge a complaint with the CNIL (www.cnil.fr), the French data "
        "protection authority.\n"
    ),
}
NOT_GIVEN = {"fr": "(à compléter)", "en": "(to be completed)"}


def notification_text(incident: Incident, language: str) -> str:
    """The letter to the people concerned, in ``language`` (fr or en), filled with the
    facts article 34(2) asks for: nature, contact point, likely consequences, measures."""
    if language not in NOTIFICATION:
        raise IncidentError("unknown language")
    labels = categories()
    missing = NOT_GIVEN[language]
    return NOTIFICATION[language].format(
        detected=clock.as_utc(incident.detected_at).strftime("%Y-%m-%d %H:%M UTC"),
        nature=incident.nature,
        categories=", ".join(labels.get(key, {}).get(language, key)
                             for key in incident.categories) or missing,
        consequences=incident.consequences or missing,
        measures=incident.measures or missing,
        contact=incident.contact or missing,
    )


# ------------------------------------------------------------------------------ export


EXPORTED = ("id", "status", "nature", "categories", "people_count", "records_count",
            "consequences", "measures", "contact", "detected_at", "deadline", "late",
            "recorded_at", "recorded_by", "authority_reference", "authority_notified_at",
            "authority_reasoning", "delay_reasons", "people_notified_at", "people_reasoning",
            "closed_at", "contain_at", "contain_by", "people_at", "people_by", "authority_at",
            "authority_by")


def _value(value: object) -> object:
    if isinstance(value, datetime):
        return clock.format_rfc3339(value)
    return value


def as_dict(incident: Incident, now: datetime) -> dict[str, object]:
    """An incident as the register's export writes it (times in RFC 3339 UTC)."""
    values: dict[str, object] = {}
    for name in EXPORTED:
        if name == "deadline":
            values[name] = _value(deadline(incident))
        elif name == "late":
            values[name] = late(incident, now)
        else:
            values[name] = _value(getattr(incident, name))
    values["history"] = [
        {"at": _value(event.at), "actor": event.actor, "action": event.action,
         "fields": list(event.fields)} for event in incident.events
    ]
    return values


def register(actor: str) -> list[dict[str, object]]:
    """Every incident with its history, for the authority (audited ``incident.export``)."""
    now = clock.now()
    found = [as_dict(incident, now) for incident in listing()]
    audit.record("incident.export", actor=actor, record_ids=[str(row["id"]) for row in found],
                 count=len(found))
    return found
