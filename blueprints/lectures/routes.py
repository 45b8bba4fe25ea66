"""Lecture pages: parse, check who may act, call one service, commit, render."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.lectures import bp
from blueprints.lectures.forms import (
    BookingForm,
    ClaimForm,
    ConfirmForm,
    DeliveryForm,
    FeedbackForm,
    OfferForm,
    OpenFilterForm,
    ReasonForm,
    RequestForm,
    RescheduleForm,
    TargetForm,
    windows_from,
)
from blueprints.web import apply_domain_error, role_required
from portal import permissions
from portal.districts import district_choices
from portal.errors import Conflict, ValidationFailed
from portal.extensions import db
from portal.i18n import fmt_datetime, fmt_time
from portal.models import LectureOffer, LectureRequest, LectureStatus, LectureTheme, Role
from portal.services import lectures as service
from portal.timeutil import local_datetime, to_local, utcnow

PER_PAGE = 20
FIELD_ERRORS = (ValidationFailed, Conflict)


# Loaders --------------------------------------------------------------------------------


def load_lecture(lecture_id: int) -> LectureRequest:
    """The lecture, or 404 when it does not exist or the user may not see it (a request of
    another school is not acknowledged to exist)."""
    lecture = service.get_lecture(lecture_id)
    if lecture is None or not permissions.can_view_lecture(current_user, lecture):
        abort(404)
    return lecture


def load_offer(offer_id: int) -> LectureOffer:
    offer = service.get_offer(offer_id)
    if offer is None:
        abort(404)
    return offer


# Helpers ----------------------------------------------------------------------------------


def _window_label(window) -> str:
    return f"{fmt_datetime(window.starts_at)} – {fmt_time(window.ends_at)}"


def _time_choices(form, lecture: LectureRequest) -> None:
    form.window_id.choices = [(w.id, _window_label(w)) for w in lecture.windows]


def _start_at(form, lecture: LectureRequest):
    """The optional start time, on the chosen window's (Beijing) date."""
    if not form.start_time.data:
        return None
    window = next((w for w in lecture.windows if w.id == form.window_id.data), None)
    if window is None:
        return None
    return local_datetime(to_local(window.starts_at).date(), form.start_time.data)


def _render_detail(lecture: LectureRequest, status: int = 200, **forms):
    claim_form = forms.get("claim_form") or ClaimForm(formdata=None)
    _time_choices(claim_form, lecture)
    reschedule_form = forms.get("reschedule_form") or RescheduleForm(formdata=None)
    _time_choices(reschedule_form, lecture)
    return (
        render_template(
            "lectures/detail.html",
            lecture=lecture,
            claim_form=claim_form,
            reschedule_form=reschedule_form,
            withdraw_form=forms.get("withdraw_form") or ReasonForm(formdata=None, prefix="withdraw"),
            cancel_form=forms.get("cancel_form") or ReasonForm(formdata=None, prefix="cancel"),
            confirm_form=ConfirmForm(formdata=None),
            delivery_form=forms.get("delivery_form") or DeliveryForm(formdata=None),
            feedback_form=forms.get("feedback_form") or FeedbackForm(formdata=None),
        ),
        status,
    )


def _request_data(form: RequestForm, windows) -> service.RequestData:
    return service.RequestData(
        topic=form.topic.data or "",
        theme=LectureTheme(form.theme.data),
        grades=list(form.grades.data or []),
        audience_size=form.audience_size.data,
        duration_minutes=form.duration_minutes.data,
        windows=windows,
        address=form.address.data or "",
        room=form.room.data or "",
        notes=form.notes.data or "",
    )


def _done(message: str, lecture_id: int):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("lectures.detail", lecture_id=lecture_id))


# Overview pages ------------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """Each role's own overview: a teacher's school requests, a mentor's lectures and service
    record, all requests for an admin."""
    if current_user.role is Role.TEACHER:
        lectures = service.school_requests(current_user.school_id) if current_user.school_id else []
        return render_template("lectures/teacher_index.html", lectures=lectures)
    if current_user.role is Role.MENTOR:
        upcoming, past = service.mentor_lectures(current_user)
        term = service.term_for()
        return render_template(
            "lectures/mentor_index.html",
            upcoming=upcoming,
            past=past,
            record=service.service_record(current_user, term),
            term=term,
            offers=service.offers_of(current_user),
        )
    if current_user.is_admin:
        status_value = request.args.get("status") or ""
        status = LectureStatus(status_value) if status_value in {s.value for s in LectureStatus} else None
        page = db.paginate(service.all_requests_query(status), per_page=PER_PAGE, error_out=False)
        return render_template(
            "lectures/admin_index.html", page=page, status=status_value, statuses=list(LectureStatus)
        )
    abort(403)


@bp.route("/open")
@login_required
def open_requests():
    """Open requests for mentors, filtered, fairest first."""
    if not permissions.can_browse_open_lectures(current_user):
        abort(403)
    form = OpenFilterForm(request.args)
    form.district.choices = [("", _("All districts"))] + district_choices(str(get_locale()))
    filters = service.OpenFilters()
    if form.validate():
        filters = service.OpenFilters(
            district=form.district.data or None,
            theme=LectureTheme(form.theme.data) if form.theme.data else None,
            grade=form.grade.data or None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
    page = db.paginate(service.open_requests_query(filters), per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("lectures/open.html", form=form, page=page, args=args)


# One request ----------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def new():
    if not permissions.can_post_lecture_request(current_user):
        abort(403)
    form = RequestForm()
    if request.method == "GET" and current_user.school:
        form.address.data = current_user.school.address or ""
    if form.validate_on_submit():
        windows = windows_from(form, "window", 3)
        if windows is not None:
            try:
                lecture = service.create_request(current_user, _request_data(form, windows))
            except FIELD_ERRORS as error:
                db.session.rollback()
                apply_domain_error(form, error)
            else:
                return _done(_("Your lecture request has been posted. Mentors can now sign up."), lecture.id)
    return render_template("lectures/request_form.html", form=form, lecture=None)


@bp.route("/<int:lecture_id>")
@login_required
def detail(lecture_id: int):
    return _render_detail(load_lecture(lecture_id))


@bp.route("/<int:lecture_id>/edit", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def edit(lecture_id: int):
    lecture = load_lecture(lecture_id)
    if not permissions.can_edit_lecture(current_user, lecture):
        abort(403)
    form = RequestForm(obj=lecture)
    if request.method == "GET":
        form.theme.data = lecture.theme.value
        form.grades.data = lecture.grade_codes
        for n, window in enumerate(lecture.windows, start=1):
            getattr(form, f"window{n}_date").data = to_local(window.starts_at).date()
            getattr(form, f"window{n}_start").data = to_local(window.starts_at).time()
            getattr(form, f"window{n}_end").data = to_local(window.ends_at).time()
    if form.validate_on_submit():
        windows = windows_from(form, "window", 3)
        if windows is not None:
            try:
                service.update_request(current_user, lecture.id, _request_data(form, windows))
            except FIELD_ERRORS as error:
                db.session.rollback()
                apply_domain_error(form, error)
            else:
                return _done(_("The request has been saved."), lecture.id)
    form.submit.label.text = _("Save")
    return render_template("lectures/request_form.html", form=form, lecture=lecture)


@bp.route("/<int:lecture_id>/claim", methods=["POST"])
@role_required(Role.MENTOR)
def claim(lecture_id: int):
    lecture = service.get_lecture(lecture_id)
    if lecture is None:
        abort(404)
    form = ClaimForm()
    _time_choices(form, lecture)
    if form.validate_on_submit():
        try:
            service.claim(current_user, lecture.id, form.window_id.data, _start_at(form, lecture))
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(_("You have claimed this lecture. The school will confirm it."), lecture.id)
    lecture = service.get_lecture(lecture_id)
    if not permissions.can_view_lecture(current_user, lecture):
        # Another mentor won the race: the request is no longer theirs to see.
        flash(_("This request is no longer open: another mentor may have claimed it."), "warning")
        return redirect(url_for("lectures.open_requests"), 303)
    return _render_detail(lecture, 422, claim_form=form)


@bp.route("/<int:lecture_id>/reschedule", methods=["POST"])
@role_required(Role.MENTOR)
def reschedule(lecture_id: int):
    lecture = load_lecture(lecture_id)
    form = RescheduleForm()
    _time_choices(form, lecture)
    if form.validate_on_submit():
        try:
            service.reschedule(current_user, lecture.id, form.window_id.data, _start_at(form, lecture))
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(_("The new time has been sent to the school for confirmation."), lecture.id)
    return _render_detail(load_lecture(lecture_id), 422, reschedule_form=form)


@bp.route("/<int:lecture_id>/confirm", methods=["POST"])
@role_required(Role.TEACHER)
def confirm(lecture_id: int):
    lecture = load_lecture(lecture_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.confirm(current_user, lecture.id)
        except FIELD_ERRORS as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            return _done(_("The lecture is confirmed. The mentor has been told."), lecture.id)
    return redirect(url_for("lectures.detail", lecture_id=lecture.id))


@bp.route("/<int:lecture_id>/withdraw", methods=["POST"])
@role_required(Role.MENTOR)
def withdraw(lecture_id: int):
    lecture = load_lecture(lecture_id)
    form = ReasonForm(prefix="withdraw")
    if form.validate_on_submit():
        try:
            service.withdraw(current_user, lecture.id, form.reason.data)
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("You have withdrawn. The request is open again for other mentors."), "success")
            return redirect(url_for("lectures.index"))
    return _render_detail(load_lecture(lecture_id), 422, withdraw_form=form)


@bp.route("/<int:lecture_id>/cancel", methods=["POST"])
@role_required(Role.TEACHER, Role.ADMIN)
def cancel(lecture_id: int):
    lecture = load_lecture(lecture_id)
    if not permissions.can_cancel_lecture(current_user, lecture):
        abort(403)
    form = ReasonForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            service.cancel(current_user, lecture.id, form.reason.data)
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(_("The lecture has been cancelled."), lecture.id)
    return _render_detail(load_lecture(lecture_id), 422, cancel_form=form)


@bp.route("/<int:lecture_id>/delivery", methods=["POST"])
@role_required(Role.MENTOR)
def delivery(lecture_id: int):
    lecture = load_lecture(lecture_id)
    form = DeliveryForm()
    if form.validate_on_submit():
        try:
            service.record_delivery(current_user, lecture.id, form.attendance.data, form.notes.data or "")
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(_("Delivery recorded. The school has been asked for feedback."), lecture.id)
    return _render_detail(load_lecture(lecture_id), 422, delivery_form=form)


@bp.route("/<int:lecture_id>/feedback", methods=["POST"])
@role_required(Role.TEACHER)
def feedback(lecture_id: int):
    lecture = load_lecture(lecture_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            service.give_feedback(current_user, lecture.id, form.rating.data, form.comment.data or "")
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(_("Thank you for your feedback."), lecture.id)
    return _render_detail(load_lecture(lecture_id), 422, feedback_form=form)


# Offers ---------------------------------------------------------------------------------------


@bp.route("/offers")
@login_required
def offers():
    return render_template("lectures/offers.html", offers=service.bookable_offers())


@bp.route("/offers/new", methods=["GET", "POST"])
@role_required(Role.MENTOR)
def offer_new():
    form = OfferForm()
    if form.validate_on_submit():
        slots = windows_from(form, "slot", 3)
        if slots is not None:
            try:
                offer = service.create_offer(
                    current_user,
                    service.OfferData(
                        topic=form.topic.data or "",
                        theme=LectureTheme(form.theme.data),
                        abstract=form.abstract.data or "",
                        grades=list(form.grades.data or []),
                        slots=slots,
                    ),
                )
            except FIELD_ERRORS as error:
                db.session.rollback()
                apply_domain_error(form, error)
            else:
                db.session.commit()
                flash(_("Your offer is published. Schools can now book it."), "success")
                return redirect(url_for("lectures.offer_detail", offer_id=offer.id))
    return render_template("lectures/offer_form.html", form=form)


def _render_offer(offer: LectureOffer, form: BookingForm | None = None, status: int = 200):
    if form is None:
        form = BookingForm(formdata=None)
        if current_user.school:
            form.address.data = current_user.school.address or ""
    form.slot_id.choices = [
        (s.id, f"{fmt_datetime(s.starts_at)} – {fmt_time(s.ends_at)}")
        for s in offer.slots
        if s.request_id is None and s.starts_at > utcnow()
    ]
    return render_template("lectures/offer_detail.html", offer=offer, form=form, close_form=ConfirmForm()), status


@bp.route("/offers/<int:offer_id>")
@login_required
def offer_detail(offer_id: int):
    return _render_offer(load_offer(offer_id))


@bp.route("/offers/<int:offer_id>/book", methods=["POST"])
@role_required(Role.TEACHER)
def offer_book(offer_id: int):
    offer = load_offer(offer_id)
    if not permissions.can_book_lecture_offer(current_user, offer):
        abort(403)
    form = BookingForm()
    form.slot_id.choices = [(s.id, "") for s in offer.slots]
    if form.validate_on_submit():
        try:
            lecture = service.book_offer(
                current_user,
                offer.id,
                form.slot_id.data,
                service.BookingData(
                    grades=list(form.grades.data or []),
                    audience_size=form.audience_size.data,
                    address=form.address.data or "",
                    room=form.room.data or "",
                    notes=form.notes.data or "",
                ),
            )
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(_("The lecture is booked and confirmed. The mentor has been told."), lecture.id)
    return _render_offer(load_offer(offer_id), form, 422)


@bp.route("/offers/<int:offer_id>/close", methods=["POST"])
@role_required(Role.MENTOR)
def offer_close(offer_id: int):
    offer = load_offer(offer_id)
    if not permissions.can_manage_lecture_offer(current_user, offer):
        abort(403)
    if ConfirmForm().validate_on_submit():
        service.close_offer(current_user, offer.id)
        db.session.commit()
        flash(_("The offer is closed. Lectures already booked stay as they are."), "success")
    return redirect(url_for("lectures.offer_detail", offer_id=offer.id))


# Admin: service targets and records -------------------------------------------------------------


@bp.route("/targets", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def targets():
    terms = service.selectable_terms()
    form = TargetForm()
    form.term.choices = [(t.code, t.label) for t in terms]
    chosen = service.term_by_code(request.values.get("term") or "") or service.term_for()
    if request.method == "GET":
        form.term.data = chosen.code
        current = service.get_target(chosen)
        if current is not None:
            form.min_lectures.data = current.min_lectures
            form.min_hours.data = current.min_hours
    if form.validate_on_submit():
        try:
            service.set_target(current_user, form.term.data, form.min_lectures.data, form.min_hours.data)
        except FIELD_ERRORS as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The service target has been saved."), "success")
            return redirect(url_for("lectures.targets", term=form.term.data))
    return render_template(
        "lectures/targets.html",
        form=form,
        term=chosen,
        terms=terms,
        target=service.get_target(chosen),
        records=service.service_records(chosen),
    )
