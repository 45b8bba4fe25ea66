"""Shared labs and libraries: find, request, decide, check in. Routes parse → permission →
one service call → commit → render; the rules are in portal.services.bookings/resources."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.bookings import bp
from blueprints.bookings.forms import (
    BookingForm,
    CancelForm,
    CheckInForm,
    ClosureForm,
    ConfirmForm,
    DecisionForm,
    FilterForm,
    HoursForm,
    OverrideForm,
    ResourceForm,
    SearchForm,
)
from blueprints.web import apply_domain_error, role_required
from portal import permissions
from portal.districts import district_choices
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db
from portal.models import Booking, BookingStatus, CalendarOverride, Closure, Resource, ResourceKind, Role, School
from portal.services import bookings, holidays, resources
from portal.timeutil import local_today

MANAGERS = (Role.RESOURCE_MANAGER, Role.ADMIN)


# Loaders: the object, or 404/403 -----------------------------------------------------------


def get_resource(resource_id: int, *, manage: bool = False) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        abort(404)
    if manage and not permissions.can_manage_resource(current_user, resource):
        abort(403)
    if not manage and not resource.active and not permissions.can_manage_resource(current_user, resource):
        abort(404)
    return resource


def get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    if not permissions.can_view_booking(current_user, booking):
        abort(403)
    return booking


def _parse_day(value: str | None, default: date | None) -> date | None:
    """A date from the query string, or `default` when missing, malformed or absurdly far."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    if day is not None and abs((day - local_today()).days) > 3660:
        return default
    return day


def _university_choices(blank: bool = True):
    choices = [(u.id, u.display_name()) for u in resources.universities()]
    return [(0, _("Any university"))] + choices if blank else choices


def _prepare_filters(form: FilterForm) -> bookings.ResourceFilters:
    form.university.choices = _university_choices()
    form.district.choices = [("", _("Any district"))] + district_choices(str(get_locale()))
    valid = form.validate()
    if not valid:
        return bookings.ResourceFilters()
    return bookings.ResourceFilters(
        kind=ResourceKind(form.kind.data) if form.kind.data else None,
        university_id=form.university.data or None,
        district=form.district.data or None,
        min_capacity=form.class_size.data,
        equipment=form.equipment.data,
    )


# Finding a slot -----------------------------------------------------------------------------


@bp.route("/")
def index():
    form = FilterForm(request.args)
    filters = _prepare_filters(form)
    found = bookings.find_resources(filters)
    return render_template("bookings/resources.html", form=form, resources=found)


@bp.route("/search")
def search():
    form = SearchForm(request.args)
    form.university.choices = _university_choices()
    form.district.choices = [("", _("Any district"))] + district_choices(str(get_locale()))
    hits = None
    day_info = None
    if request.args and form.validate():
        filters = bookings.ResourceFilters(
            kind=ResourceKind(form.kind.data) if form.kind.data else None,
            university_id=form.university.data or None,
            district=form.district.data or None,
            equipment=form.equipment.data,
        )
        hits = bookings.search_free(
            form.day.data,
            form.start.data,
            form.end.data,
            form.class_size.data,
            filters,
            school=current_user.school,
        )
        day_info = holidays.day_info(form.day.data)
    elif not request.args:
        form.day.data = local_today() + timedelta(days=7)
    return render_template("bookings/search.html", form=form, hits=hits, day_info=day_info)


@bp.route("/resources/<int:resource_id>")
def resource(resource_id: int):
    res = get_resource(resource_id)
    day = _parse_day(request.args.get("week"), local_today())
    monday = day - timedelta(days=day.weekday())
    week = bookings.week_view(res, monday, current_user)
    window = bookings.booking_window(res, current_user.school)
    return render_template(
        "bookings/resource.html",
        resource=res,
        week=week,
        monday=monday,
        window=window,
        prev_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        provisional=any(d.opening.info.provisional for d in week),
    )


# Requesting ---------------------------------------------------------------------------------


def _booking_request(form: BookingForm) -> bookings.BookingRequest:
    return bookings.BookingRequest(
        day=form.day.data,
        start=form.start.data,
        end=form.end.data,
        class_size=form.class_size.data,
        grade=form.grade.data or "",
        escorts=form.escorts.data,
        purpose=form.purpose.data or "",
        contact_phone=form.contact_phone.data or "",
        safety_accepted=bool(form.safety_accepted.data),
        repeat_until=form.repeat_until.data,
    )


@bp.route("/resources/<int:resource_id>/request", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def request_form(resource_id: int):
    res = get_resource(resource_id)
    form = BookingForm()
    checks = None
    if request.method == "GET":
        form.day.data = _parse_day(request.args.get("day"), None) if request.args.get("day") else None
        for name in ("start", "end"):
            value = request.args.get(name)
            if value:
                try:  # prefilled from the search page; a malformed value is simply not prefilled
                    form[name].process_formdata([value])
                except ValueError:
                    form[name].data = None
                form[name].errors = []
        size = request.args.get("class_size", type=int)
        if size and 1 <= size <= 10_000:
            form.class_size.data = size
            form.escorts.data = max(1, -(-size // res.pupils_per_escort))
        form.contact_phone.data = current_user.phone or ""
    elif form.validate_on_submit():
        data = _booking_request(form)
        try:
            if form.preview.data:
                checks = bookings.preview(current_user, res, data)
            else:
                outcome = bookings.book(current_user, res.id, data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            if checks is None:
                db.session.commit()
                if outcome.skipped:
                    flash(
                        _(
                            "%(n)d visits requested; %(m)d dates could not be booked (see the list below).",
                            n=len(outcome.created),
                            m=len(outcome.skipped),
                        ),
                        "warning",
                    )
                elif res.requires_approval:
                    flash(_("Your request has been sent. It is pending the manager's approval."), "success")
                else:
                    flash(_("Your booking is confirmed."), "success")
                return redirect(url_for("bookings.mine"))
    return render_template("bookings/request.html", resource=res, form=form, checks=checks)


@bp.route("/mine")
@role_required(Role.TEACHER)
def mine():
    upcoming, past = bookings.my_bookings(current_user)
    return render_template("bookings/mine.html", upcoming=upcoming, past=past)


@bp.route("/<int:booking_id>")
def detail(booking_id: int):
    booking = get_booking(booking_id)
    return _render_detail(booking)


def _render_detail(booking: Booking, decision=None, cancel=None, checkin=None, status: int = 200):
    return (
        render_template(
            "bookings/detail.html",
            booking=booking,
            decision_form=decision or DecisionForm(),
            cancel_form=cancel or CancelForm(),
            checkin_form=checkin or CheckInForm(actual_count=booking.class_size),
            teacher_may_cancel=bookings.teacher_may_still_cancel(booking),
            deadline=bookings.cancellation_deadline(booking),
            today=local_today(),
        ),
        status,
    )


@bp.route("/<int:booking_id>/decide", methods=["POST"])
@role_required(*MANAGERS)
def decide(booking_id: int):
    booking = get_booking(booking_id)
    if not permissions.can_decide_booking(current_user, booking):
        abort(403)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            if form.reject.data:
                bookings.reject(current_user, booking, form.note.data or "")
            else:
                bookings.approve(current_user, booking, form.note.data or "")
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            return _render_detail(get_booking(booking_id), decision=form, status=error.status_code)
        db.session.commit()
        flash(
            _("Rejected; the teacher has been told.")
            if form.reject.data
            else _("Approved; the teacher has been told."),
            "success",
        )
        return redirect(safe_back(url_for("bookings.todo")))
    return _render_detail(booking, decision=form, status=422)


def safe_back(default: str) -> str:
    from blueprints.web import safe_next

    target = request.form.get("next")
    return safe_next(target) if target else default


@bp.route("/<int:booking_id>/cancel", methods=["POST"])
def cancel(booking_id: int):
    booking = get_booking(booking_id)
    if not permissions.can_cancel_booking(current_user, booking):
        abort(403)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            bookings.cancel(current_user, booking, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            return _render_detail(get_booking(booking_id), cancel=form, status=error.status_code)
        db.session.commit()
        flash(_("The booking has been cancelled."), "success")
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    return _render_detail(booking, cancel=form, status=422)


@bp.route("/<int:booking_id>/check-in", methods=["POST"])
@role_required(*MANAGERS)
def check_in(booking_id: int):
    booking = get_booking(booking_id)
    if not permissions.can_check_in(current_user, booking):
        abort(403)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            bookings.check_in(current_user, booking, form.outcome.data == "attended", form.actual_count.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            return _render_detail(get_booking(booking_id), checkin=form, status=error.status_code)
        db.session.commit()
        flash(_("Attendance recorded."), "success")
        return redirect(safe_back(url_for("bookings.detail", booking_id=booking_id)))
    return _render_detail(booking, checkin=form, status=422)


# Managers -----------------------------------------------------------------------------------


@bp.route("/manage")
@role_required(*MANAGERS)
def todo():
    pending = bookings.pending_for_manager(current_user)
    return render_template("bookings/todo.html", pending=pending, decision_form=DecisionForm())


@bp.route("/manage/schedule")
@role_required(*MANAGERS)
def schedule():
    managed = resources.managed_resources(current_user)
    if not managed:
        return render_template("bookings/schedule.html", managed=[], resource=None)
    selected = request.args.get("resource_id", type=int) or managed[0].id
    res = next((r for r in managed if r.id == selected), None)
    if res is None:
        abort(404)
    day = _parse_day(request.args.get("day"), local_today())
    opening, day_bookings = bookings.day_schedule(res, day)
    return render_template(
        "bookings/schedule.html",
        managed=managed,
        resource=res,
        day=day,
        opening=opening,
        bookings=day_bookings,
        checkin_form=CheckInForm(),
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        today=local_today(),
    )


@bp.route("/manage/resources")
@role_required(*MANAGERS)
def manage_resources():
    return render_template("bookings/manage_resources.html", resources=resources.managed_resources(current_user))


def _resource_form_choices(form: ResourceForm, university_id: int | None) -> None:
    if current_user.is_admin:
        form.university_id.choices = _university_choices(blank=False)
    else:
        school = current_user.school
        form.university_id.choices = [(school.id, school.display_name())] if school else []
    form.manager_ids.choices = [
        (u.id, f"{u.display_name} ({u.school.display_name() if u.school else ''})")
        for u in resources.manager_choices(university_id if not current_user.is_admin else None)
    ]


def _resource_data(form: ResourceForm) -> resources.ResourceData:
    return resources.ResourceData(
        kind=ResourceKind(form.kind.data),
        university_id=form.university_id.data,
        name_zh=form.name_zh.data or "",
        name_en=form.name_en.data,
        building=form.building.data or "",
        room=form.room.data or "",
        capacity=form.capacity.data,
        description=form.description.data or "",
        equipment=form.equipment.data or "",
        safety_rules=form.safety_rules.data or "",
        active=bool(form.active.data),
        slot_minutes=form.slot_minutes.data,
        lead_days=form.lead_days.data,
        window_days=form.window_days.data,
        cancel_cutoff_hours=form.cancel_cutoff_hours.data,
        monthly_quota=form.monthly_quota.data,
        requires_approval=bool(form.requires_approval.data),
        pupils_per_escort=form.pupils_per_escort.data,
        manager_ids=list(form.manager_ids.data or []),
    )


@bp.route("/manage/resources/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def resource_new():
    if not permissions.can_create_resource(current_user):
        abort(403)
    form = ResourceForm()
    _resource_form_choices(form, current_user.school_id)
    if request.method == "GET" and not current_user.is_admin:
        form.manager_ids.data = [current_user.id]
    if form.validate_on_submit():
        try:
            res = resources.create_resource(current_user, _resource_data(form))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The resource has been added. Now set its opening hours."), "success")
            return redirect(url_for("bookings.resource_hours", resource_id=res.id))
    return render_template("bookings/resource_form.html", form=form, resource=None)


@bp.route("/manage/resources/<int:resource_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def resource_edit(resource_id: int):
    res = get_resource(resource_id, manage=True)
    form = ResourceForm(obj=res)
    _resource_form_choices(form, res.university_id)
    if request.method == "GET":
        form.kind.data = res.kind.value
        form.manager_ids.data = [m.id for m in res.managers]
    if form.validate_on_submit():
        try:
            resources.update_resource(current_user, res, _resource_data(form))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("bookings.manage_resources"))
    return render_template("bookings/resource_form.html", form=form, resource=res)


@bp.route("/manage/resources/<int:resource_id>/hours", methods=["GET", "POST"])
@role_required(*MANAGERS)
def resource_hours(resource_id: int):
    res = get_resource(resource_id, manage=True)
    form = HoursForm()
    if request.method == "GET":
        for weekday, name in enumerate(HoursForm.DAY_FIELDS):
            form[name].data = resources.format_intervals(res.hours, weekday)
    if form.validate_on_submit():
        try:
            week = {
                weekday: resources.parse_intervals(form[name].data, name)
                for weekday, name in enumerate(HoursForm.DAY_FIELDS)
            }
            resources.set_hours(current_user, res, week)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Opening hours saved."), "success")
            return redirect(url_for("bookings.resource", resource_id=res.id))
    return render_template("bookings/hours.html", form=form, resource=res)


@bp.route("/manage/resources/<int:resource_id>/closures", methods=["GET", "POST"])
@role_required(*MANAGERS)
def resource_closures(resource_id: int):
    res = get_resource(resource_id, manage=True)
    form = ClosureForm()
    form.scope.choices = [
        ("resource", _("This resource only")),
        ("university", _("Every resource of %(name)s", name=res.university.display_name())),
    ]
    if form.validate_on_submit():
        whole_university = form.scope.data == "university"
        try:
            resources.add_closure(
                current_user,
                form.start_date.data,
                form.end_date.data,
                form.reason.data,
                resource=None if whole_university else res,
                university=res.university if whole_university else None,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Closure added."), "success")
            return redirect(url_for("bookings.resource_closures", resource_id=res.id))
    closures = resources.closures_for_manager(current_user, res)
    return render_template("bookings/closures.html", form=form, resource=res, closures=closures, confirm=ConfirmForm())


@bp.route("/manage/closures/<int:closure_id>/delete", methods=["POST"])
@role_required(*MANAGERS)
def closure_delete(closure_id: int):
    closure = db.get_or_404(Closure, closure_id)
    if not resources.can_remove_closure(current_user, closure):
        abort(403)
    if ConfirmForm().validate_on_submit():
        resources.remove_closure(current_user, closure)
        db.session.commit()
        flash(_("Closure removed."), "success")
    return redirect(safe_back(url_for("bookings.manage_resources")))


# Administrators -----------------------------------------------------------------------------


@bp.route("/admin/all")
@role_required(Role.ADMIN)
def admin_all():
    status_value = request.args.get("status") or ""
    status = BookingStatus(status_value) if status_value in {s.value for s in BookingStatus} else None
    university_id = request.args.get("university", type=int) or None
    stmt = bookings.all_bookings_query(status=status, university_id=university_id)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template(
        "bookings/admin_all.html",
        page=page,
        status=status_value,
        university_id=university_id,
        universities=resources.universities(),
        statuses=list(BookingStatus),
    )


@bp.route("/admin/calendar", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_calendar():
    closure_form = ClosureForm(prefix="closure")
    universities = resources.universities()
    closure_form.scope.choices = [("0", _("The whole platform"))] + [
        (str(u.id), u.display_name()) for u in universities
    ]
    override_form = OverrideForm(prefix="override")
    if request.method == "POST" and request.form.get("which") == "closure" and closure_form.validate_on_submit():
        university = (
            db.session.get(School, int(closure_form.scope.data or 0)) if closure_form.scope.data != "0" else None
        )
        try:
            resources.add_closure(
                current_user,
                closure_form.start_date.data,
                closure_form.end_date.data,
                closure_form.reason.data,
                university=university,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(closure_form, error)
        else:
            db.session.commit()
            flash(_("Closure added."), "success")
            return redirect(url_for("bookings.admin_calendar"))
    elif request.method == "POST" and request.form.get("which") == "override" and override_form.validate_on_submit():
        weekday = override_form.replaces_weekday.data
        try:
            resources.set_override(
                current_user,
                override_form.day.data,
                override_form.kind.data == "workday",
                override_form.name.data,
                None if weekday is None or weekday < 0 else weekday,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(override_form, error)
        else:
            db.session.commit()
            flash(_("Calendar entry saved."), "success")
            return redirect(url_for("bookings.admin_calendar"))
    today = local_today()
    upcoming_years = sorted({today.year, (today + timedelta(days=120)).year})
    return render_template(
        "bookings/admin_calendar.html",
        closure_form=closure_form,
        override_form=override_form,
        closures=[c for c in resources.closures_for_manager(current_user) if c.resource_id is None],
        overrides=resources.list_overrides(),
        confirm=ConfirmForm(),
        years=[(year, holidays.is_official_year(year)) for year in upcoming_years],
    )


@bp.route("/admin/overrides/<int:override_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def override_delete(override_id: int):
    override = db.get_or_404(CalendarOverride, override_id)
    if ConfirmForm().validate_on_submit():
        try:
            resources.remove_override(current_user, override)
        except ValidationFailed as error:  # pragma: no cover - admin only
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("Calendar entry removed."), "success")
    return redirect(url_for("bookings.admin_calendar"))
