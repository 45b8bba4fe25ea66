from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField

from blueprints.forms import Form


class PreferencesForm(Form):
    locale = SelectField(
        _l("Language"),
        choices=[("", _l("Follow my browser")), ("zh_Hans_CN", "简体中文"), ("en", "English")],
    )
    submit = SubmitField(_l("Save"))
