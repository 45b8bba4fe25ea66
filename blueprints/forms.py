"""The base form: CSRF from Flask-WTF, WTForms' own catalogues for its built-in messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.i18n import get_translations

from portal.i18n import is_chinese

_TRANSLATIONS: dict[str, object] = {}


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            key = "zh" if is_chinese() else "en"
            if key not in _TRANSLATIONS:
                _TRANSLATIONS[key] = get_translations([key])
            return _TRANSLATIONS[key]


class ConfirmForm(Form):
    """An empty form: a POST button with a CSRF token, for actions that need no input."""

    submit = SubmitField(_l("Confirm"))
