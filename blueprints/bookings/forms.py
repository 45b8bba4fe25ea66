from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
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

from blueprints.forms import ConfirmForm, Form  # noqa: F401  (ConfirmForm re-exported for the routes)
from portal.models import RESOURCE_KIND_LABELS, WEEKDAY_LABELS


def kind_choices(blank: bool = True):
    choices = [(k.value, label) for k, label in RESOURCE_KIND_LABELS.items()]
    return [("", _l("Any kind"))] + choices if blank else choices


class FilterForm(Form):
    """The resource list's filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), choices=kind_choices(), validators=[Optional()])
    university = SelectField(_l("University"), coerce=int, validators=[Optional()])
    district = SelectField(_l("District"), validators=[Optional()])
    class_size = IntegerField(
        _l("Class size"), validators=[Optional(), NumberRange(min=1, max=2000, message=_l("Enter 1 to 2000."))]
    )
    equipment = StringField(_l("Equipment"), validators=[Optional(), Length(max=60)])


class SearchForm(FilterForm):
    """Time-first search: a date, a time range and a class size."""

    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose a date."))])
    start = TimeField(_l("From"), validators=[InputRequired(message=_l("Choose a start time."))])
    end = TimeField(_l("To"), validators=[InputRequired(message=_l("Choose an end time."))])
    class_size = IntegerField(
        _l("Class size"),
        validators=[
            InputRequired(message=_l("Enter the number of pupils.")),
            NumberRange(min=1, max=2000, message=_l("Enter 1 to 2000.")),
        ],
    )

    def validate_day(self, field):
        from portal.timeutil import local_today

        if field.data and abs((field.data - local_today()).days) > 3660:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("Choose a date within the next few years."))

    def validate_end(self, field):
        if field.data and self.start.data and field.data <= self.start.data:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("The end must be after the start."))


class BookingForm(Form):
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose a date."))])
    start = TimeField(_l("Start"), validators=[InputRequired(message=_l("Choose a start time."))])
    end = TimeField(_l("End"), validators=[InputRequired(message=_l("Choose an end time."))])
    class_size = IntegerField(
        _l("Number of pupils"), validators=[InputRequired(message=_l("Enter the number of pupils (at least 1)."))]
    )
    grade = StringField(
        _l("Grade or class"),
        validators=[DataRequired(message=_l("Enter the grade or class, e.g. 初二（3）班.")), Length(max=40)],
    )
    escorts = IntegerField(
        _l("Accompanying teachers"),
        validators=[InputRequired(message=_l("At least one accompanying teacher is required."))],
    )
    purpose = TextAreaField(
        _l("Purpose of the visit"),
        validators=[DataRequired(message=_l("Say what the class will do there.")), Length(max=2000)],
    )
    contact_phone = StringField(
        _l("Contact phone on the day"),
        validators=[DataRequired(message=_l("Enter a phone number for the day of the visit.")), Length(max=32)],
    )
    repeat_until = DateField(_l("Repeat weekly until (optional)"), validators=[Optional()])
    safety_accepted = BooleanField(_l("I have read the safety rules and will brief my pupils"))
    preview = SubmitField(_l("Check the dates"))
    submit = SubmitField(_l("Send request"))


class DecisionForm(Form):
    note = TextAreaField(_l("Note to the teacher"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class CancelForm(Form):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        validators=[DataRequired(message=_l("Give a reason (it is sent to the other side).")), Length(max=500)],
    )
    submit = SubmitField(_l("Cancel the booking"))


class CheckInForm(Form):
    outcome = RadioField(
        _l("Outcome"),
        choices=[("attended", _l("The class came")), ("no_show", _l("No-show"))],
        default="attended",
        validators=[InputRequired(message=_l("Choose whether the class came."))],
    )
    actual_count = IntegerField(_l("Pupils who came"), validators=[Optional()])
    submit = SubmitField(_l("Record attendance"))


class ResourceForm(Form):
    kind = SelectField(_l("Kind"), choices=kind_choices(blank=False))
    university_id = SelectField(_l("University"), coerce=int)
    name_zh = StringField(
        _l("Name (Chinese)"), validators=[DataRequired(message=_l("Enter the Chinese name.")), Length(max=120)]
    )
    name_en = StringField(_l("Name (English, optional)"), validators=[Optional(), Length(max=160)])
    building = StringField(_l("Building"), validators=[Optional(), Length(max=120)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=60)])
    capacity = IntegerField(
        _l("Capacity (visitors at one time)"),
        validators=[InputRequired(message=_l("The capacity must be at least 1."))],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    equipment = TextAreaField(_l("Equipment (one item a line)"), validators=[Optional(), Length(max=4000)])
    safety_rules = TextAreaField(_l("Safety rules teachers must accept"), validators=[Optional(), Length(max=4000)])
    slot_minutes = SelectField(
        _l("Booking granularity"),
        coerce=int,
        choices=[(15, _l("15 minutes")), (30, _l("30 minutes")), (60, _l("1 hour"))],
        default=30,
    )
    lead_days = IntegerField(
        _l("Minimum lead time (days)"),
        default=3,
        validators=[InputRequired(message=_l("Enter between 0 and 60 days."))],
    )
    window_days = IntegerField(
        _l("Maximum advance window (days)"),
        default=60,
        validators=[InputRequired(message=_l("Enter between 1 and 366 days."))],
    )
    cancel_cutoff_hours = IntegerField(
        _l("Teachers may cancel until (hours before)"),
        default=24,
        validators=[InputRequired(message=_l("Enter between 0 and 336 hours."))],
    )
    monthly_quota = IntegerField(
        _l("Bookings per school per month (empty: no limit)"), default=4, validators=[Optional()]
    )
    pupils_per_escort = IntegerField(
        _l("Pupils per accompanying teacher"),
        default=20,
        validators=[InputRequired(message=_l("Enter between 1 and 100 pupils."))],
    )
    requires_approval = BooleanField(_l("Requests need a manager's approval"), default=True)
    active = BooleanField(_l("Open for booking"), default=True)
    manager_ids = SelectMultipleField(_l("Managers"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Save"))


class HoursForm(Form):
    mon = StringField(WEEKDAY_LABELS[0], validators=[Optional(), Length(max=120)])
    tue = StringField(WEEKDAY_LABELS[1], validators=[Optional(), Length(max=120)])
    wed = StringField(WEEKDAY_LABELS[2], validators=[Optional(), Length(max=120)])
    thu = StringField(WEEKDAY_LABELS[3], validators=[Optional(), Length(max=120)])
    fri = StringField(WEEKDAY_LABELS[4], validators=[Optional(), Length(max=120)])
    sat = StringField(WEEKDAY_LABELS[5], validators=[Optional(), Length(max=120)])
    sun = StringField(WEEKDAY_LABELS[6], validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Save opening hours"))

    DAY_FIELDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ClosureForm(Form):
    scope = SelectField(_l("Applies to"), validators=[Optional()])
    start_date = DateField(_l("First day"), validators=[InputRequired(message=_l("Enter the first day."))])
    end_date = DateField(_l("Last day"), validators=[InputRequired(message=_l("Enter the last day."))])
    reason = StringField(
        _l("Reason (shown to teachers)"),
        validators=[DataRequired(message=_l("Say why (it is shown to teachers).")), Length(max=200)],
    )
    submit = SubmitField(_l("Add closure"))


class OverrideForm(Form):
    day = DateField(_l("Day"), validators=[InputRequired(message=_l("Enter the day."))])
    kind = SelectField(
        _l("Type"), choices=[("holiday", _l("Public holiday (closed)")), ("workday", _l("Make-up working day (open)"))]
    )
    replaces_weekday = SelectField(
        _l("Opens with the hours of"),
        coerce=int,
        choices=[(-1, _l("Monday (default)"))] + [(i, WEEKDAY_LABELS[i]) for i in range(5)],
        default=-1,
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Enter a name, e.g. 春节 or 国庆节调休.")), Length(max=120)]
    )
    submit = SubmitField(_l("Save"))
