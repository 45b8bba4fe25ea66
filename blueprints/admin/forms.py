from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.forms import ConfirmForm, Form  # noqa: F401  (ConfirmForm re-exported for the routes)
from portal.models import LEVEL_LABELS, ROLE_LABELS


class UserForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(message=_l("Enter an email address.")), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=80)])
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    school_id = SelectField(_l("School"), coerce=int, validate_choice=True)
    locale = SelectField(
        _l("Language"), choices=[("", _l("Follow the browser")), ("zh_Hans_CN", "简体中文"), ("en", "English")]
    )
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    grade = StringField(_l("Grade or class"), validators=[Optional(), Length(max=40)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class SchoolForm(Form):
    name_zh = StringField(
        _l("Chinese name"), validators=[DataRequired(message=_l("Enter the school's Chinese name.")), Length(max=120)]
    )
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=160)])
    level = SelectField(_l("Level"), choices=[(lv.value, label) for lv, label in LEVEL_LABELS.items()])
    district = SelectField(_l("District or county"))
    under_resourced = BooleanField(_l("Under-resourced district (gets priority booking)"))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))
