from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.forms import ConfirmForm, Form  # noqa: F401  (ConfirmForm re-exported for the routes)
from portal.models import AUDIENCE_LABELS, FORMAT_LABELS, LEVEL_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def level_choices():
    return [(lv.value, label) for lv, label in LEVEL_LABELS.items()]


class SeriesForm(Form):
    title_zh = StringField(
        _l("Title (Chinese)"), validators=[DataRequired(message=_l("Enter the Chinese title.")), Length(max=120)]
    )
    title_en = StringField(_l("Title (English, optional)"), validators=[Optional(), Length(max=160)])
    theme = StringField(_l("Theme"), validators=[Optional(), Length(max=80)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Optional(), Length(max=5000)])
    description_en = TextAreaField(_l("Description (English, optional)"), validators=[Optional(), Length(max=5000)])
    audience = SelectField(_l("Audience"), choices=[(a.value, label) for a, label in AUDIENCE_LABELS.items()])
    target_levels = MultiCheckboxField(_l("Target levels"), choices=level_choices, validate_choice=True)
    is_public = BooleanField(_l("Public: shown to visitors without an account and in public calendar feeds"))
    organizer_ids = MultiCheckboxField(_l("Organizers (mentors)"), coerce=int, validate_choice=True)
    submit = SubmitField(_l("Save"))


class SessionForm(Form):
    title_zh = StringField(
        _l("Title (Chinese)"), validators=[DataRequired(message=_l("Enter the Chinese title.")), Length(max=120)]
    )
    title_en = StringField(_l("Title (English, optional)"), validators=[Optional(), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    format = SelectField(_l("Format"), choices=[(f.value, label) for f, label in FORMAT_LABELS.items()])
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date."))])
    start_time = TimeField(_l("Starts at"), validators=[InputRequired(message=_l("Enter the start time."))])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired(message=_l("Enter the end time."))])
    venue_kind = RadioField(
        _l("Venue"),
        choices=[
            ("school", _l("A school or university")),
            ("place", _l("A named outside place")),
            ("resource", _l("A lab or library on the portal")),
        ],
        default="place",
    )
    venue_school_id = SelectField(_l("School"), coerce=int, validate_choice=False)
    venue_resource_id = SelectField(_l("Lab or library"), coerce=int, validate_choice=False)
    venue_name = StringField(_l("Place"), validators=[Optional(), Length(max=120)])
    venue_address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    district = SelectField(_l("District or county"), validate_choice=False)
    capacity = IntegerField(
        _l("Capacity (seats)"),
        validators=[
            InputRequired(message=_l("Enter the number of seats.")),
            NumberRange(min=1, max=5000, message=_l("Enter a number from 1 to 5000.")),
        ],
    )
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(message=_l("Enter when registration opens."))],
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(message=_l("Enter when registration closes."))],
    )
    eligible_levels = MultiCheckboxField(_l("Eligible levels"), choices=level_choices, validate_choice=True)
    host_id = SelectField(_l("Host mentor"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save"))


class ClassRegistrationForm(Form):
    class_label = StringField(
        _l("Class"),
        validators=[DataRequired(message=_l("Enter the class, e.g. 初二（3）班.")), Length(max=60)],
    )
    seats = IntegerField(
        _l("Number of pupils"),
        validators=[InputRequired(message=_l("Enter the number of pupils."))],
    )
    submit = SubmitField(_l("Register the class"))


class FeedbackForm(Form):
    rating = RadioField(
        _l("How satisfied were you?"),
        choices=[
            ("5", _l("5 – very satisfied")),
            ("4", _l("4 – satisfied")),
            ("3", _l("3 – neutral")),
            ("2", _l("2 – dissatisfied")),
            ("1", _l("1 – very dissatisfied")),
        ],
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Send"))
