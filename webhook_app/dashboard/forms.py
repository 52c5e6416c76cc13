"""The dashboard's forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from webhook_app.managers import MAX_PASSWORD, MIN_PASSWORD


class SignInForm(FlaskForm):
    """Address and password."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    """A code of the authenticator app."""

    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)],
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class SetupForm(PasswordForm):
    """The first manager: their address and password."""

    email = EmailField(_l("Your e-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})


class ConfirmForm(FlaskForm):
    """A form whose only field is its CSRF token (a button that changes something)."""
