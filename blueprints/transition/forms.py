"""Forms of the transition area. Types are parsed here; every rule lives in the service."""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from blueprints.forms import ConfirmForm, Form  # noqa: F401  (ConfirmForm re-exported for the routes)
from portal.models.transition import (
    ADJUSTMENT_LABELS,
    CONSENT_SUBJECT_LABELS,
    GROUP_ROLE_LABELS,
    MODE_LABELS,
    PHASE_LABELS,
    RISK_LABELS,
    Phase,
)
from portal.timeutil import SHANGHAI


def aware(value):
    """A wall-clock time typed in Shanghai, as aware UTC."""
    return value.replace(tzinfo=SHANGHAI).astimezone(UTC) if value else None


INT_MESSAGE = _l("Enter a whole number.")
NUMBER_MESSAGE = _l("Enter a number.")


class GroupForm(Form):
    name = StringField(
        _l("Group name"), validators=[DataRequired(message=_l("Give the group a name.")), Length(max=120)]
    )
    mentor_id = SelectField(_l("Party-member mentor"), coerce=int)
    submit = SubmitField(_l("Create group"))


class MemberForm(Form):
    email = EmailField(_l("Member's email"), validators=[DataRequired(message=_l("Enter the member's email address."))])
    role = SelectField(_l("Role in the group"), choices=[(r.value, label) for r, label in GROUP_ROLE_LABELS.items()])
    submit = SubmitField(_l("Add member"))


class ReplaceForm(Form):
    email = EmailField(
        _l("Email of the replacement"), validators=[DataRequired(message=_l("Enter the member's email address."))]
    )
    submit = SubmitField(_l("Replace"))


class PlanForm(Form):
    student_email = EmailField(
        _l("Student's email"), validators=[DataRequired(message=_l("Enter the student's email address."))]
    )
    origin_school_id = SelectField(_l("Senior high school of origin"), coerce=int)
    start_date = DateField(_l("Start date"), validators=[DataRequired(message=_l("Choose the start date."))])
    submit = SubmitField(_l("Open plan"))


class HandoverForm(Form):
    student_id = SelectField(_l("Student"), coerce=int)
    group_id = SelectField(_l("Receiving working group"), coerce=int)
    start_date = DateField(
        _l("Expected start at university"), validators=[DataRequired(message=_l("Choose the start date."))]
    )
    handover_notes = TextAreaField(
        _l("Handover notes"),
        validators=[DataRequired(message=_l("Write the handover notes.")), Length(max=5000)],
    )
    submit = SubmitField(_l("Hand over"))


class HandoverNotesForm(Form):
    handover_notes = TextAreaField(
        _l("Handover notes"), validators=[DataRequired(message=_l("Write the handover notes.")), Length(max=5000)]
    )
    submit = SubmitField(_l("Save notes"))


class AcceptForm(Form):
    start_date = DateField(_l("Start date"), validators=[DataRequired(message=_l("Choose the start date."))])
    submit = SubmitField(_l("Accept into the group"))


class CheckInForm(Form):
    held_at = DateTimeLocalField(
        _l("When it took place"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message=_l("Enter the date and time of the check-in."))],
    )
    mode = SelectField(_l("Mode"), choices=[(m.value, label) for m, label in MODE_LABELS.items()])
    courses_passed = IntegerField(_l("Courses passed"), validators=[Optional()])
    courses_failed = IntegerField(_l("Courses failed"), validators=[Optional()])
    gpa = FloatField(_l("GPA (4-point scale)"), validators=[Optional()])
    attendance_rate = IntegerField(_l("Attendance rate (%)"), validators=[Optional()])
    missed_assignments = IntegerField(_l("Missed assignments"), validators=[Optional()])
    mood = IntegerField(_l("Mood self-rating (1–10)"), validators=[Optional()])
    scale_name = StringField(_l("Standardized scale"), validators=[Optional(), Length(max=60)])
    scale_score = FloatField(_l("Scale score"), validators=[Optional()])
    notes_academic = TextAreaField(_l("Academic guidance notes"), validators=[Optional(), Length(max=5000)])
    notes_psychological = TextAreaField(_l("Psychological support notes"), validators=[Optional(), Length(max=5000)])
    notes_career = TextAreaField(_l("Career guidance notes"), validators=[Optional(), Length(max=5000)])
    follow_ups = TextAreaField(_l("Follow-ups"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record check-in"))


class ScheduleForm(Form):
    starts_at = DateTimeLocalField(
        _l("Date and time"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message=_l("Enter the date and time of the check-in."))],
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), default=45, validators=[DataRequired(message=_l("Enter the duration."))]
    )
    mode = SelectField(_l("Mode"), choices=[(m.value, label) for m, label in MODE_LABELS.items()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Set the time"))


class PhaseForm(Form):
    phase = SelectField(
        _l("New phase"),
        choices=[(p.value, PHASE_LABELS[p]) for p in (Phase.INTENSIVE, Phase.STABLE, Phase.CLOSED)],
    )
    reason = TextAreaField(
        _l("Reason for the decision"),
        validators=[DataRequired(message=_l("Give the reason for this decision.")), Length(max=500)],
    )
    submit = SubmitField(_l("Change phase"))


class RiskForm(Form):
    level = SelectField(
        _l("Risk level"),
        choices=[("", _l("Use the computed level"))] + [(r.value, label) for r, label in RISK_LABELS.items()],
    )
    reason = StringField(
        _l("Reason"), validators=[DataRequired(message=_l("Give the reason for the override.")), Length(max=300)]
    )
    submit = SubmitField(_l("Set risk level"))


class GoalsForm(Form):
    goal_academic = TextAreaField(_l("Academic goal (cadres: daily support, study habits, questions)"))
    goal_psychological = TextAreaField(_l("Psychological goal (activist: peer support)"))
    goal_career = TextAreaField(_l("Career goal (mentor: guidance and decisions)"))
    submit = SubmitField(_l("Save goals"))


class AdjustmentForm(Form):
    level = SelectField(_l("Kind of adjustment"), choices=[(a.value, label) for a, label in ADJUSTMENT_LABELS.items()])
    rationale = TextAreaField(
        _l("Rationale"), validators=[DataRequired(message=_l("Explain the rationale.")), Length(max=2000)]
    )
    submit = SubmitField(_l("Log adjustment"))


class EscalationForm(Form):
    summary = TextAreaField(_l("Issue"), validators=[DataRequired(message=_l("Describe the issue.")), Length(max=500)])
    submit = SubmitField(_l("Raise issue"))


class HandleForm(Form):
    outcome = TextAreaField(
        _l("Outcome at your level"), validators=[DataRequired(message=_l("Record the outcome.")), Length(max=500)]
    )
    decision = SelectField(
        _l("Decision"), choices=[("resolve", _l("Resolved at this level")), ("escalate", _l("Pass to the next level"))]
    )
    submit = SubmitField(_l("Record"))


class ConsentForm(Form):
    subject = SelectField(_l("Who consents"), choices=[(s.value, label) for s, label in CONSENT_SUBJECT_LABELS.items()])
    given_by_name = StringField(_l("Name of the person consenting"), validators=[Optional(), Length(max=80)])
    relationship_to_student = StringField(
        _l("Relationship to the student (guardian)"), validators=[Optional(), Length(max=40)]
    )
    scope_academic = BooleanField(_l("Academic guidance notes"), default=True)
    scope_psychological = BooleanField(_l("Psychological support notes"), default=True)
    scope_career = BooleanField(_l("Career guidance notes"), default=True)
    given_on = DateField(_l("Date of consent"), validators=[DataRequired(message=_l("Enter the date of consent."))])
    submit = SubmitField(_l("Record consent"))


class AdminAccessForm(Form):
    reason = TextAreaField(
        _l("Reason for opening this plan"),
        validators=[DataRequired(message=_l("State why you need to open this plan.")), Length(max=300)],
    )
    submit = SubmitField(_l("Open with audit"))


class ThresholdsForm(Form):
    high_failed_courses = IntegerField(
        _l("High risk: failed courses at least"), validators=[DataRequired(message=INT_MESSAGE)]
    )
    high_attendance_below = IntegerField(
        _l("High risk: and attendance below (%)"), validators=[DataRequired(message=INT_MESSAGE)]
    )
    medium_gpa_drop = FloatField(
        _l("Medium risk: GPA fell by at least"), validators=[DataRequired(message=NUMBER_MESSAGE)]
    )
    medium_missed_assignments = IntegerField(
        _l("Medium risk: missed assignments at least"), validators=[DataRequired(message=INT_MESSAGE)]
    )
    low_failed_courses = IntegerField(
        _l("Low risk: failed courses at least"), validators=[DataRequired(message=INT_MESSAGE)]
    )
    low_attendance_below = IntegerField(
        _l("Low risk: or attendance below (%)"), validators=[DataRequired(message=INT_MESSAGE)]
    )
    submit = SubmitField(_l("Save thresholds"))
