"""Forms of the lectures area. Times are entered as a date plus wall-clock times in
Beijing time; `windows_from` turns them into aware datetimes for the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.forms import ConfirmForm, Form  # noqa: F401  (ConfirmForm re-exported for the routes)
from portal.models import GRADE_LABELS, THEME_LABELS
from portal.services.lectures import Window
from portal.timeutil import local_datetime

THEME_CHOICES = [(theme.value, label) for theme, label in THEME_LABELS.items()]
GRADE_CHOICES = list(GRADE_LABELS.items())


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _grades_field(label):
    return MultiCheckboxField(label, choices=GRADE_CHOICES)


def _window_fields(cls, prefix: str, count: int, date_label, required_first: bool) -> None:
    for n in range(1, count + 1):
        setattr(cls, f"{prefix}{n}_date", DateField(date_label(n), validators=[Optional()]))
        setattr(cls, f"{prefix}{n}_start", TimeField(_l("From"), validators=[Optional()]))
        setattr(cls, f"{prefix}{n}_end", TimeField(_l("To"), validators=[Optional()]))


def windows_from(form, prefix: str, count: int) -> list[Window] | None:
    """The filled-in windows, or None after putting a message beside an incomplete one."""
    windows: list[Window] = []
    complete = True
    for n in range(1, count + 1):
        day = getattr(form, f"{prefix}{n}_date")
        start = getattr(form, f"{prefix}{n}_start")
        end = getattr(form, f"{prefix}{n}_end")
        if day.errors or start.errors or end.errors:
            complete = False
            continue
        if not (day.data or start.data or end.data):
            continue
        if not day.data:
            day.errors = [str(_l("Enter the date."))]
            complete = False
        elif not start.data:
            start.errors = [str(_l("Enter the start time."))]
            complete = False
        elif not end.data:
            end.errors = [str(_l("Enter the end time."))]
            complete = False
        else:
            windows.append(Window(n, local_datetime(day.data, start.data), local_datetime(day.data, end.data)))
    return windows if complete else None


class RequestForm(Form):
    topic = StringField(_l("Topic"), validators=[DataRequired(message=_l("Enter a topic.")), Length(max=200)])
    theme = SelectField(_l("Theme"), choices=THEME_CHOICES)
    grades = _grades_field(_l("Audience grades"))
    audience_size = IntegerField(
        _l("Audience size"), validators=[InputRequired(message=_l("Enter how many will attend."))]
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"),
        default=90,
        validators=[InputRequired(message=_l("Enter how long the lecture should last."))],
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)])
    notes = TextAreaField(_l("Notes for the mentor"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Post the request"))


_window_fields(RequestForm, "window", 3, lambda n: _l("Date (option %(n)d)", n=n), True)


class ClaimForm(Form):
    window_id = RadioField(_l("Time"), coerce=int, validators=[InputRequired(message=_l("Choose a time."))])
    start_time = TimeField(_l("Start at (optional, within the window)"), validators=[Optional()])
    submit = SubmitField(_l("Claim this lecture"))


class RescheduleForm(ClaimForm):
    submit = SubmitField(_l("Move to this time"))


class ReasonForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Give a reason, so the other side understands.")), Length(max=300)],
    )
    submit = SubmitField(_l("Submit"))


class DeliveryForm(Form):
    attendance = IntegerField(
        _l("Attendance"), validators=[InputRequired(message=_l("Enter how many people attended (at least one)."))]
    )
    notes = TextAreaField(_l("Notes on the lecture"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record delivery"))


class FeedbackForm(Form):
    rating = RadioField(
        _l("Rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Send feedback"))


def _within_ten_years(form, field):
    """A filter date far outside any plausible window would overflow date arithmetic."""
    from portal.timeutil import local_today

    if field.data and abs((field.data - local_today()).days) > 3660:
        raise ValidationError(_l("Choose a date within ten years of today."))


class OpenFilterForm(Form):
    class Meta:
        csrf = False

    district = SelectField(_l("District or county"), validators=[Optional()])
    theme = SelectField(_l("Theme"), choices=[("", _l("All themes"))] + THEME_CHOICES, validators=[Optional()])
    grade = SelectField(_l("Grade"), choices=[("", _l("All grades"))] + GRADE_CHOICES, validators=[Optional()])
    date_from = DateField(_l("From date"), validators=[Optional(), _within_ten_years])
    date_to = DateField(_l("To date"), validators=[Optional(), _within_ten_years])


class OfferForm(Form):
    topic = StringField(_l("Topic"), validators=[DataRequired(message=_l("Enter a topic.")), Length(max=200)])
    theme = SelectField(_l("Theme"), choices=THEME_CHOICES)
    abstract = TextAreaField(_l("Abstract"), validators=[Optional(), Length(max=4000)])
    grades = _grades_field(_l("Suitable for grades"))
    submit = SubmitField(_l("Publish the offer"))


_window_fields(OfferForm, "slot", 3, lambda n: _l("Date (time %(n)d)", n=n), True)


class BookingForm(Form):
    slot_id = RadioField(_l("Time"), coerce=int, validators=[InputRequired(message=_l("Choose a time."))])
    grades = _grades_field(_l("Audience grades"))
    audience_size = IntegerField(
        _l("Audience size"), validators=[InputRequired(message=_l("Enter how many will attend."))]
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)])
    notes = TextAreaField(_l("Notes for the mentor"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Book this lecture"))


class TargetForm(Form):
    term = SelectField(_l("Term"))
    min_lectures = IntegerField(
        _l("Minimum lectures per mentor"),
        validators=[
            InputRequired(message=_l("Enter a number of lectures from 0 to 100.")),
            NumberRange(min=0, max=100, message=_l("Enter a number of lectures from 0 to 100.")),
        ],
    )
    min_hours = IntegerField(
        _l("Minimum hours per mentor"),
        validators=[
            InputRequired(message=_l("Enter a number of hours from 0 to 300.")),
            NumberRange(min=0, max=300, message=_l("Enter a number of hours from 0 to 300.")),
        ],
    )
    submit = SubmitField(_l("Save the target"))
