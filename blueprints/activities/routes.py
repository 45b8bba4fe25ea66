"""Activity series pages: the public calendar, session pages, registration, organizing,
attendance (list and QR), feedback and the participation record."""

from __future__ import annotations

from datetime import date, datetime

import segno
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.activities import bp
from blueprints.activities import calendar_view as cal
from blueprints.activities.forms import (
    ClassRegistrationForm,
    ConfirmForm,
    FeedbackForm,
    SeriesForm,
    SessionForm,
)
from blueprints.web import apply_domain_error, is_safe_next, role_required
from portal import permissions
from portal.districts import DISTRICTS, district_choices
from portal.errors import DomainError
from portal.extensions import db
from portal.models import (
    FORMAT_LABELS,
    KNOWN_PLACES,
    LEVEL_LABELS,
    ActivityFormat,
    ActivitySeries,
    ActivitySession,
    Audience,
    Role,
    School,
    SchoolLevel,
    User,
    VenueKind,
)
from portal.services import activities
from portal.timeutil import SHANGHAI, local_datetime, local_today, to_local, utcnow

# Loaders: the object, or 404 / 403 ------------------------------------------------------


def _viewer() -> User | None:
    return current_user if current_user.is_authenticated else None


def get_series(series_id: int, *, manage: bool = False) -> ActivitySeries:
    series = db.session.get(ActivitySeries, series_id)
    if series is None or not permissions.can_view_series(_viewer(), series):
        abort(404)
    if manage and not permissions.can_manage_series(current_user, series):
        abort(403)
    return series


def get_session(session_id: int, *, manage: bool = False, attendance: bool = False) -> ActivitySession:
    session = db.session.get(ActivitySession, session_id)
    if session is None or not permissions.can_view_session(_viewer(), session):
        abort(404)
    if manage and not permissions.can_manage_session(current_user, session):
        abort(403)
    if attendance and not permissions.can_take_attendance(current_user, session):
        abort(403)
    return session


def _fail(error: DomainError, form=None) -> None:
    db.session.rollback()
    if form is None:
        flash(str(error.message), "danger")
    else:
        apply_domain_error(form, error)


# Public calendar --------------------------------------------------------------------------


def _parse_filters(series_list: list[ActivitySeries]) -> tuple[activities.CalendarFilters, dict]:
    """Unknown or malformed filter values are ignored, never an error page."""
    args = request.args
    filters = activities.CalendarFilters()
    chosen: dict[str, str] = {}
    series_id = args.get("series", type=int)
    if series_id and any(s.id == series_id for s in series_list):
        filters.series_id = series_id
        chosen["series"] = str(series_id)
    level = args.get("level", "")
    if level in {lv.value for lv in SchoolLevel}:
        filters.level = SchoolLevel(level)
        chosen["level"] = level
    fmt = args.get("format", "")
    if fmt in {f.value for f in ActivityFormat}:
        filters.format = ActivityFormat(fmt)
        chosen["format"] = fmt
    district = args.get("district", "")
    if district in DISTRICTS:
        filters.district = district
        chosen["district"] = district
    return filters, chosen


# Calendar navigation adds and subtracts months; far-off years would overflow `date`.
CALENDAR_YEARS = (1900, 9000)


def _anchor() -> date:
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return local_today()
    return day if CALENDAR_YEARS[0] <= day.year <= CALENDAR_YEARS[1] else local_today()


@bp.route("/")
def public_calendar():
    view = request.args.get("view", "month")
    if view not in cal.VIEWS:
        view = "month"
    anchor = _anchor()
    today = local_today()
    series_list = activities.visible_series(_viewer())
    filters, chosen = _parse_filters(series_list)
    first, last = cal.date_range(view, anchor)
    start, end = cal.utc_bounds(first, last)
    sessions = activities.sessions_between(_viewer(), start, end, filters)
    day_list = cal.days(view, anchor, today, sessions)
    previous, following = cal.navigation(view, anchor)
    title = cal.week_title(first) if view == "week" else cal.month_title(anchor)
    return render_template(
        "activities/calendar.html",
        view=view,
        anchor=anchor,
        today=today,
        title=title,
        weekdays=cal.weekday_names(),
        days=day_list,
        weeks=cal.weeks(day_list),
        day_title=cal.day_title,
        previous=previous,
        following=following,
        sessions=sessions,
        waiting=activities.waiting_counts(s.id for s in sessions),
        series_list=series_list,
        chosen=chosen,
        levels=LEVEL_LABELS,
        formats=FORMAT_LABELS,
        districts=district_choices(str(get_locale())),
    )


@bp.route("/series")
def public_series_list():
    return render_template("activities/series_list.html", series_list=activities.visible_series(_viewer()))


@bp.route("/series/<int:series_id>")
def public_series(series_id: int):
    series = get_series(series_id)
    sessions = activities.list_sessions(series)
    return render_template(
        "activities/series.html",
        series=series,
        sessions=sessions,
        waiting=activities.waiting_counts(s.id for s in sessions),
        following=activities.is_following(_viewer(), series),
        confirm=ConfirmForm(),
        now=utcnow(),
    )


def _ics_link(session: ActivitySession) -> str:
    """The single-event download, served by the feeds area from the same calendar entry."""
    return url_for("feeds.public_event", kind="session", record_id=session.id)


@bp.route("/sessions/<int:session_id>")
def public_session(session_id: int):
    session = get_session(session_id)
    viewer = _viewer()
    mine = activities.registrations_of(viewer, session) if viewer else []
    positions = activities.waitlist_positions(mine)
    may_feedback, answered = activities.feedback_status(viewer, session) if viewer else (False, None)
    return render_template(
        "activities/session.html",
        session=session,
        waiting=activities.waiting_counts([session.id]),
        mine=mine,
        positions=positions,
        confirm=ConfirmForm(),
        ics_link=_ics_link(session),
        following=activities.is_following(viewer, session.series),
        may_feedback=may_feedback,
        answered=answered,
        now=utcnow(),
        waitlist_rule=activities.WAITLIST_RULE,
    )


# Registration ---------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/register", methods=["POST"])
@role_required(Role.STUDENT, Role.TEACHER)
def register(session_id: int):
    """A student registers themself; a teacher registers themself for a teachers' seminar."""
    get_session(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        registration = activities.register(current_user, session_id)
    except DomainError as error:
        _fail(error)
    else:
        db.session.commit()
        if registration.status is activities.ADMITTED:
            flash(_("You are registered."), "success")
        else:
            flash(_("The session is full: you are on the waitlist. We will tell you when a seat frees up."), "info")
    return redirect(url_for("activities.public_session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/register-class", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def register_class(session_id: int):
    session = get_session(session_id)
    form = ClassRegistrationForm()
    if form.validate_on_submit():
        try:
            registration = activities.register(
                current_user, session_id, class_label=form.class_label.data, seats=form.seats.data
            )
        except DomainError as error:
            _fail(error, form)
        else:
            db.session.commit()
            if registration.status is activities.ADMITTED:
                flash(_("Your class of %(n)d is registered.", n=registration.seats), "success")
            else:
                flash(
                    _("Your class of %(n)d is on the waitlist as one block.", n=registration.seats),
                    "info",
                )
            return redirect(url_for("activities.public_session", session_id=session_id))
        session = get_session(session_id)
    return render_template(
        "activities/register_class.html", session=session, form=form, waitlist_rule=activities.WAITLIST_RULE
    )


@bp.route("/registrations/<int:registration_id>/cancel", methods=["POST"])
@login_required
def cancel_registration(registration_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        registration = activities.cancel_registration(current_user, registration_id)
    except DomainError as error:
        if error.status_code == 404:
            abort(404)
        _fail(error)
        session_id = db.session.get(activities.Registration, registration_id).session_id
    else:
        session_id = registration.session_id
        db.session.commit()
        flash(_("The registration is cancelled."), "success")
    back = request.form.get("back")
    return redirect(back if is_safe_next(back) else url_for("activities.public_session", session_id=session_id))


@bp.route("/series/<int:series_id>/follow", methods=["POST"])
@login_required
def follow_series(series_id: int):
    series = get_series(series_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    follow = request.form.get("follow", "1") == "1"
    activities.follow_series(current_user, series, follow)
    db.session.commit()
    flash(
        _("You will be told about new sessions in this series.") if follow else _("You no longer follow this series."),
        "success",
    )
    return redirect(url_for("activities.public_series", series_id=series_id))


@bp.route("/mine")
@login_required
def mine():
    registrations = activities.my_registrations(current_user)
    hosted = activities.hosted_sessions(current_user) if current_user.role is Role.MENTOR else []
    return render_template(
        "activities/mine.html",
        registrations=registrations,
        hosted=hosted,
        positions=activities.waitlist_positions(registrations),
        confirm=ConfirmForm(),
        now=utcnow(),
    )


@bp.route("/record")
@role_required(Role.STUDENT)
def participation_record():
    record = activities.participation_record(current_user)
    return render_template("activities/record.html", record=record, printed_on=local_today())


# Organizing -----------------------------------------------------------------------------


def _mentor_choices() -> list[tuple[int, str]]:
    mentors = db.session.scalars(
        select(User).where(User.role == Role.MENTOR, User.active.is_(True)).order_by(User.display_name)
    )
    return [(m.id, m.display_name) for m in mentors]


@bp.route("/manage")
@role_required(Role.ADMIN, Role.MENTOR)
def manage():
    return render_template("activities/manage.html", series_list=activities.managed_series(current_user))


def _series_data(form: SeriesForm) -> activities.SeriesData:
    return activities.SeriesData(
        title_zh=form.title_zh.data or "",
        title_en=form.title_en.data,
        theme=form.theme.data or "",
        description_zh=form.description_zh.data or "",
        description_en=form.description_en.data,
        audience=Audience(form.audience.data),
        target_levels=[SchoolLevel(v) for v in form.target_levels.data or []],
        is_public=form.is_public.data,
        organizer_ids=list(form.organizer_ids.data or []),
    )


@bp.route("/manage/series/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def series_new():
    form = SeriesForm()
    form.organizer_ids.choices = _mentor_choices()
    if request.method == "GET":
        form.is_public.data = True
        if current_user.role is Role.MENTOR:
            form.organizer_ids.data = [current_user.id]
    if form.validate_on_submit():
        try:
            series = activities.create_series(current_user, _series_data(form))
        except DomainError as error:
            _fail(error, form)
        else:
            db.session.commit()
            flash(_("The series is created. Now add its sessions."), "success")
            return redirect(url_for("activities.public_series", series_id=series.id))
    return render_template("activities/series_form.html", form=form, series=None)


@bp.route("/manage/series/<int:series_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def series_edit(series_id: int):
    series = get_series(series_id, manage=True)
    form = SeriesForm(obj=series if request.method == "GET" else None)
    form.organizer_ids.choices = _mentor_choices()
    if request.method == "GET":
        form.audience.data = series.audience.value
        form.target_levels.data = [lv.value for lv in series.levels]
        form.organizer_ids.data = [o.id for o in series.organizers]
    if form.validate_on_submit():
        try:
            activities.update_series(current_user, series, _series_data(form))
        except DomainError as error:
            _fail(error, form)
            series = get_series(series_id, manage=True)
        else:
            db.session.commit()
            flash(_("The series is saved."), "success")
            return redirect(url_for("activities.public_series", series_id=series_id))
    return render_template("activities/series_form.html", form=form, series=series)


def _session_form(form: SessionForm) -> SessionForm:
    schools = db.session.scalars(select(School).where(School.active.is_(True)).order_by(School.level, School.name_zh))
    form.venue_school_id.choices = [(0, "—")] + [(s.id, s.display_name()) for s in schools]
    form.venue_resource_id.choices = {"": [(0, "—")]} | activities.venue_resource_choices()
    form.district.choices = [("", "—")] + district_choices(str(get_locale()))
    form.host_id.choices = [(0, _("No host"))] + _mentor_choices()
    return form


def _aware(value: datetime | None) -> datetime | None:
    """A datetime-local input is Shanghai wall-clock time."""
    return value.replace(tzinfo=SHANGHAI) if value is not None else None


def _session_data(form: SessionForm) -> activities.SessionData:
    return activities.SessionData(
        title_zh=form.title_zh.data or "",
        title_en=form.title_en.data,
        description=form.description.data or "",
        format=ActivityFormat(form.format.data),
        starts_at=local_datetime(form.day.data, form.start_time.data),
        ends_at=local_datetime(form.day.data, form.end_time.data),
        capacity=form.capacity.data,
        registration_opens_at=_aware(form.registration_opens_at.data),
        registration_closes_at=_aware(form.registration_closes_at.data),
        eligible_levels=[SchoolLevel(v) for v in form.eligible_levels.data or []],
        venue_kind=VenueKind(
            form.venue_kind.data if form.venue_kind.data in ("school", "place", "resource") else "place"
        ),
        venue_school_id=form.venue_school_id.data or None,
        venue_resource_id=form.venue_resource_id.data or None,
        venue_name=form.venue_name.data,
        venue_address=form.venue_address.data,
        district=form.district.data or None,
        host_id=form.host_id.data or None,
    )


def _fill_session_form(form: SessionForm, session: ActivitySession) -> None:
    start, end = to_local(session.starts_at), to_local(session.ends_at)
    form.title_zh.data, form.title_en.data, form.description.data = (
        session.title_zh,
        session.title_en,
        session.description,
    )
    form.format.data = session.format.value
    form.day.data, form.start_time.data, form.end_time.data = start.date(), start.time(), end.time()
    form.venue_kind.data = session.venue_kind.value
    form.venue_school_id.data = session.venue_school_id or 0
    form.venue_resource_id.data = session.venue_resource_id or 0
    form.venue_name.data, form.venue_address.data = session.venue_name, session.venue_address
    form.district.data = session.district
    form.capacity.data = session.capacity
    opens, closes = to_local(session.registration_opens_at), to_local(session.registration_closes_at)
    form.registration_opens_at.data = opens.replace(tzinfo=None)
    form.registration_closes_at.data = closes.replace(tzinfo=None)
    form.eligible_levels.data = [lv.value for lv in session.levels]
    form.host_id.data = session.host_id or 0


@bp.route("/manage/series/<int:series_id>/sessions/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def session_new(series_id: int):
    series = get_series(series_id, manage=True)
    form = _session_form(SessionForm())
    if request.method == "GET":
        form.eligible_levels.data = [lv.value for lv in series.levels]
        form.registration_opens_at.data = to_local(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
        if series.audience is Audience.TEACHERS:
            form.format.data = ActivityFormat.SEMINAR.value
    if form.validate_on_submit():
        try:
            session = activities.create_session(current_user, series, _session_data(form))
        except DomainError as error:
            _fail(error, form)
            series = get_series(series_id, manage=True)
        else:
            db.session.commit()
            flash(_("The session is added."), "success")
            return redirect(url_for("activities.public_session", session_id=session.id))
    return render_template(
        "activities/session_form.html", form=form, series=series, session=None, known_places=KNOWN_PLACES
    )


@bp.route("/manage/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def session_edit(session_id: int):
    session = get_session(session_id, manage=True)
    form = _session_form(SessionForm())
    if request.method == "GET":
        _fill_session_form(form, session)
    if form.validate_on_submit():
        try:
            activities.update_session(current_user, session, _session_data(form))
        except DomainError as error:
            _fail(error, form)
            session = get_session(session_id, manage=True)
        else:
            db.session.commit()
            flash(_("The session is saved."), "success")
            return redirect(url_for("activities.public_session", session_id=session_id))
    return render_template(
        "activities/session_form.html",
        form=form,
        series=session.series,
        session=session,
        known_places=KNOWN_PLACES,
        confirm=ConfirmForm(),
    )


@bp.route("/manage/sessions/<int:session_id>/cancel", methods=["POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def session_cancel(session_id: int):
    session = get_session(session_id, manage=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        activities.cancel_session(current_user, session)
    except DomainError as error:
        _fail(error)
    else:
        db.session.commit()
        flash(_("The session is cancelled and everyone registered has been told."), "success")
    return redirect(url_for("activities.public_session", session_id=session_id))


# Attendance ------------------------------------------------------------------------------


@bp.route("/manage/sessions/<int:session_id>/roster", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def roster(session_id: int):
    session = get_session(session_id, attendance=True)
    form = ConfirmForm()
    errors: dict = {}
    if form.validate_on_submit():
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        counts: dict[int, int] = {}
        for key, value in request.form.items():
            if key.startswith("class_") and key[6:].isdigit():
                try:
                    counts[int(key[6:])] = int(value) if value.strip() else 0
                except ValueError:
                    counts[int(key[6:])] = -1
        try:
            activities.record_attendance(current_user, session, present, counts)
        except DomainError as error:
            db.session.rollback()
            errors = {k: str(v) for k, v in error.errors.items()}
            flash(str(error.message), "danger")
            session = get_session(session_id, attendance=True)
        else:
            db.session.commit()
            flash(_("Attendance is saved."), "success")
            return redirect(url_for("activities.roster", session_id=session_id))
    registrations = activities.session_roster(session)
    return render_template(
        "activities/roster.html",
        session=session,
        registrations=registrations,
        attended=activities.attendance_by_user(session),
        form=form,
        errors=errors,
        positions={r.id: i for i, r in enumerate([r for r in registrations if r.status is activities.WAITLISTED], 1)},
    )


@bp.route("/manage/sessions/<int:session_id>/check-in-code")
@role_required(Role.ADMIN, Role.MENTOR)
def checkin_code(session_id: int):
    session = get_session(session_id, attendance=True)
    token = activities.checkin_token(session)
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
        "activities.check_in", session_id=session.id, t=token
    )
    svg = segno.make(url, error="m").svg_inline(scale=8, border=2)
    return render_template(
        "activities/checkin_code.html",
        session=session,
        svg=svg,
        url=url,
        refresh_seconds=activities.CHECKIN_MAX_AGE_SECONDS // 3,
    )


@bp.route("/sessions/<int:session_id>/check-in", methods=["GET", "POST"])
@role_required(Role.STUDENT)
def check_in(session_id: int):
    """The scanned code opens this page; checking in is a POST (one tap), never a side effect of GET."""
    session = get_session(session_id)
    token = request.values.get("t", "")
    form = ConfirmForm()
    done = None
    if form.validate_on_submit():
        try:
            done = activities.check_in_with_token(current_user, session_id, token)
        except DomainError as error:
            _fail(error)
        else:
            db.session.commit()
            flash(_("You are checked in. Welcome!"), "success")
            return redirect(url_for("activities.public_session", session_id=session_id))
        session = get_session(session_id)
    return render_template("activities/check_in.html", session=session, token=token, form=form, done=done)


# Feedback -----------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback(session_id: int):
    session = get_session(session_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            activities.submit_feedback(current_user, session, int(form.rating.data), form.comment.data or "")
        except DomainError as error:
            _fail(error, form)
            session = get_session(session_id)
        else:
            db.session.commit()
            flash(_("Thank you for your feedback."), "success")
            return redirect(url_for("activities.public_session", session_id=session_id))
    may, answered = activities.feedback_status(current_user, session)
    if request.method == "GET" and not may:
        flash(
            _("You have already answered this survey.")
            if answered
            else _("The survey is for people who attended, once the session has ended."),
            "info",
        )
        return redirect(url_for("activities.public_session", session_id=session_id))
    return render_template("activities/feedback.html", session=session, form=form)


@bp.route("/manage/sessions/<int:session_id>/results")
@role_required(Role.ADMIN, Role.MENTOR)
def session_results(session_id: int):
    session = get_session(session_id, manage=True)
    return render_template(
        "activities/results.html", session=session, series=session.series, summary=activities.session_feedback(session)
    )


@bp.route("/manage/series/<int:series_id>/results")
@role_required(Role.ADMIN, Role.MENTOR)
def series_results(series_id: int):
    series = get_series(series_id, manage=True)
    summary, per_session = activities.series_feedback(series)
    return render_template(
        "activities/results.html", session=None, series=series, summary=summary, per_session=per_session
    )


@bp.app_template_global()
def activity_day_link(day: date, **chosen) -> str:
    return url_for("activities.public_calendar", view="list", date=day.isoformat(), **chosen) + f"#day-{day}"


@bp.app_template_filter("hm")
def _hm(value: datetime) -> str:
    return to_local(value).strftime("%H:%M")
