"""The managers: who may use the dashboard, their passwords, second factor and links.

A manager is added by address (``flask … managers add``) and chooses a password on the
page an invitation link opens. Invitations and password resets are links signed with
itsdangerous under the service's secret key: valid one hour on the service clock, and
once, because using one moves the manager's ``session_epoch``, which every link and
session carries. The very first manager comes from a setup link, valid while no manager
exists (``make run`` prints it).

Passwords are hashed with argon2id (``argon2-cffi``). An optional second factor is a TOTP
code (``pyotp``, 30-second steps on the service clock), never accepted twice.
Functions add to the caller's transaction and never commit; refusals are
:class:`ManagerError`, whose messages name nobody.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from . import audit, clock
from .addresses import is_email, normalise_email
from .crypto import email_index, email_indexes
from .errors import DomainError
from .extensions import db
from .models import Manager

LINK_SECONDS = 3600
LINK_SALT = "gardien.manager-link"
SETUP, INVITE, RESET = "setup", "invite", "reset"
MIN_PASSWORD = 12
MAX_PASSWORD = 1000
TOTP_ISSUER = "Gardien"
LANGUAGES = ("fr", "en")

_hasher = PasswordHasher()


class ManagerError(DomainError):
    """A manager operation that cannot be done; the message names nobody."""


def actor(manager: Manager) -> str:
    """How the audit log names a manager: by number, never by address."""
    return f"manager:{manager.id}"


# ------------------------------------------------------------------------------ accounts


def find(address: str) -> Manager | None:
    """The manager with this address (under any configured index key), or None."""
    return db.session.scalar(
        select(Manager).where(Manager.email_index.in_(email_indexes(address)))
    )


def get(manager_id: int) -> Manager | None:
    """The manager with this id, or None."""
    return db.session.get(Manager, manager_id)


def count() -> int:
    """How many managers exist, disabled ones included."""
    return db.session.scalar(select(func.count()).select_from(Manager)) or 0


def add(address: str, by: str) -> Manager:
    """A new manager, without a password until they follow their invitation link."""
    address = normalise_email(address)
    if not is_email(address):
        raise ManagerError("the e-mail address is not valid")
    if find(address) is not None:
        raise ManagerError("a manager with this address exists already")
    manager = Manager(
        email=address, email_index=email_index(address), session_epoch=0,
        created_at=clock.now(),
    )
    db.session.add(manager)
    db.session.flush()
    audit.record("manager.add", actor=by, record_ids=[manager.id], subject=manager.email_index)
    return manager


def listing() -> list[Manager]:
    """Every manager, oldest first."""
    return list(db.session.scalars(select(Manager).order_by(Manager.created_at, Manager.id)))


def _existing(address: str) -> Manager:
    manager = find(address)
    if manager is None:
        raise ManagerError("no manager has this address")
    return manager


def disable(address: str, by: str) -> Manager:
    """Stop a manager: their sessions end at their next request, their links are void."""
    manager = _existing(address)
    manager.disabled_at = manager.disabled_at or clock.now()
    manager.session_epoch += 1
    audit.record("manager.disable", actor=by, record_ids=[manager.id],
                 subject=manager.email_index)
    return manager


def enable(address: str, by: str) -> Manager:
    """Let a disabled manager in again (with a reset link if they lost their password)."""
    manager = _existing(address)
    manager.disabled_at = None
    audit.record("manager.enable", actor=by, record_ids=[manager.id],
                 subject=manager.email_index)
    return manager


def set_language(manager: Manager, language: str) -> None:
    """Remember the language the manager chose for the dashboard."""
    if language not in LANGUAGES:
        raise ManagerError("unknown language")
    manager.language = language


def end_sessions(manager: Manager) -> None:
    """End every session of the manager and void their links (a breach, a lost phone)."""
    manager.session_epoch += 1


def force_new_password(manager: Manager, by: str) -> str | None:
    """After a breach: end the manager's sessions, void their password (they choose a new
    one from a reset link), and return that link's token (None for a disabled manager,
    who gets no link)."""
    end_sessions(manager)
    manager.password_hash = None
    audit.record("manager.force_reset", actor=by, record_ids=[manager.id],
                 subject=manager.email_index)
    if manager.disabled_at is not None:
        return None
    return _serializer().dumps({"p": RESET, "m": manager.id, "e": manager.session_epoch})


# ------------------------------------------------------------------------------ links


class _ClockSigner(TimestampSigner):
    """itsdangerous's timestamps from the service clock, so tests move time, not wait."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=LINK_SALT, signer=_ClockSigner
    )


def setup_token() -> str | None:
    """A link token to set up the first manager; None once a manager exists."""
    if count():
        return None
    return _serializer().dumps({"p": SETUP})


def link_token(address: str, purpose: str) -> str:
    """An invitation (``invite``) or password reset (``reset``) token for a manager."""
    if purpose not in (INVITE, RESET):
        raise ManagerError("unknown kind of link")
    manager = _existing(address)
    if manager.disabled_at is not None:
        raise ManagerError("this manager is disabled: enable them first")
    return _serializer().dumps({"p": purpose, "m": manager.id, "e": manager.session_epoch})


def read_token(token: str) -> tuple[str, Manager | None]:
    """What a link token is for, and whose; :class:`ManagerError` when it is not valid
    (forged, older than an hour, used, or its manager disabled)."""
    try:
        payload = _serializer().loads(token, max_age=LINK_SECONDS)
    except BadSignature:
        raise ManagerError("this link is not valid or has expired") from None
    purpose = payload.get("p") if isinstance(payload, dict) else None
    if purpose == SETUP:
        if count():
            raise ManagerError("this link is not valid or has expired")
        return SETUP, None
    manager = get(payload.get("m")) if purpose in (INVITE, RESET) else None
    if (manager is None or manager.disabled_at is not None
            or manager.session_epoch != payload.get("e")):
        raise ManagerError("this link is not valid or has expired")
    return str(purpose), manager


def redeem(token: str, password: str, address: str | None = None) -> Manager:
    """Use a link: set the password (and, for the first setup, create the manager with
    ``address``). The link is then void."""
    purpose, manager = read_token(token)
    check_password(password)
    if manager is None:
        manager = add(address or "", by="setup")
    manager.password_hash = _hasher.hash(password)
    manager.session_epoch += 1
    audit.record(f"manager.{purpose}", actor=actor(manager), record_ids=[manager.id],
                 subject=manager.email_index)
    return manager


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing (or absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise ManagerError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ManagerError("this password is too long")


# ------------------------------------------------------------------------------ sign-in


def authenticate(address: str, password: str) -> Manager | None:
    """The manager this address and password open, or None.

    An unknown address, a disabled manager and a wrong password take the same time (a
    hash is verified in every case), so the answer tells nothing about who exists.
    """
    manager = find(address) if is_email(normalise_email(address)) else None
    stored = manager.password_hash if manager is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if manager is None or stored is None or manager.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(stored):
        manager.password_hash = _hasher.hash(password)
    return manager


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher.hash("no manager has this password"))
    return _DUMMY[0]


def signed_in(manager: Manager) -> None:
    """Record a sign-in (time and audit entry)."""
    manager.last_login_at = clock.now()
    audit.record("manager.login", actor=actor(manager), record_ids=[manager.id])


# ------------------------------------------------------------------------------ TOTP


def new_totp_secret() -> str:
    """A fresh secret for an authenticator app (shown once, kept only once confirmed)."""
    return pyotp.random_base32()


def totp_uri(manager: Manager, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=manager.email, issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (30 s) of ``at``, or the one just before or after, whose code is
    ``code``; None if none is."""
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    step = totp.timecode(at)
    for candidate in (step, step - 1, step + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            return candidate
    return None


def enable_totp(manager: Manager, secret: str, code: str) -> None:
    """Turn the second factor on, once a code of the new secret proves the app has it."""
    step = _matching_step(secret, code, clock.now())
    if step is None:
        raise ManagerError("this code does not match: try the next one")
    manager.totp_secret = secret
    manager.totp_last_step = step
    audit.record("manager.totp_on", actor=actor(manager), record_ids=[manager.id])


def disable_totp(manager: Manager) -> None:
    """Turn the second factor off."""
    manager.totp_secret = None
    manager.totp_last_step = None
    audit.record("manager.totp_off", actor=actor(manager), record_ids=[manager.id])


def verify_totp(manager: Manager, code: str) -> bool:
    """Whether ``code`` is the manager's current code, not used before."""
    if manager.totp_secret is None:
        return False
    step = _matching_step(manager.totp_secret, code, clock.now())
    if step is None or (manager.totp_last_step is not None and step <= manager.totp_last_step):
        return False
    manager.totp_last_step = step
    return True
