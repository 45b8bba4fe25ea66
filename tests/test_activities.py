"""Activity series: eligibility, registration, waitlist and promotion, class blocks,
cancellation, attendance (list and QR), feedback, permissions, calendar providers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.models import (
    ActivitySession,
    Attendance,
    Audience,
    Feedback,
    Notification,
    Registration,
    RegistrationStatus,
    Role,
    SchoolLevel,
)
from portal.services import activities, calendar, commitments
from portal.timeutil import utcnow

ADMITTED, WAITLISTED, CANCELLED = (
    RegistrationStatus.ADMITTED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
)


def _register(*args, **kwargs) -> Registration:
    """One registration is one transaction, as in a request."""
    from portal.extensions import db

    registration = activities.register(*args, **kwargs)
    db.session.commit()
    return registration


def _count(db, model, **where):
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


# Eligibility and bad input ------------------------------------------------------------------


def test_student_of_an_eligible_level_is_admitted(db, create_activity_session, create_student):
    session = create_activity_session(levels=[SchoolLevel.JUNIOR_HIGH])
    student = create_student(SchoolLevel.JUNIOR_HIGH)
    registration = _register(student, session.id)
    db.session.commit()
    assert registration.status is ADMITTED
    assert db.session.get(ActivitySession, session.id).seats_taken == 1


def test_ineligible_level_is_refused_and_nothing_written(db, create_activity_session, create_student):
    session = create_activity_session(levels=[SchoolLevel.PRIMARY])
    student = create_student(SchoolLevel.SENIOR_HIGH)
    with pytest.raises(ValidationFailed) as error:
        _register(student, session.id)
    db.session.rollback()
    assert "小学" in str(error.value) or "Primary" in str(error.value)
    assert _count(db, Registration) == 0


@pytest.mark.parametrize(
    "opens,closes,message",
    [(timedelta(days=1), timedelta(days=2), "opens"), (-timedelta(days=2), -timedelta(hours=1), "closed")],
)
def test_registration_outside_the_window_is_refused(
    db, create_activity_session, create_student, opens, closes, message
):
    now = utcnow()
    session = create_activity_session(registration_opens_at=now + opens, registration_closes_at=now + closes)
    with pytest.raises(Conflict):
        _register(create_student(), session.id)
    db.session.rollback()
    assert _count(db, Registration) == 0


def test_registering_twice_is_refused(db, create_activity_session, create_student):
    session = create_activity_session()
    student = create_student()
    _register(student, session.id)
    db.session.commit()
    with pytest.raises(Conflict):
        _register(student, session.id)
    db.session.rollback()
    assert _count(db, Registration) == 1
    assert db.session.get(ActivitySession, session.id).seats_taken == 1


def test_cancelled_then_registering_again_is_allowed(db, create_activity_session, create_student):
    session = create_activity_session()
    student = create_student()
    first = _register(student, session.id)
    db.session.commit()
    activities.cancel_registration(student, first.id)
    db.session.commit()
    again = _register(student, session.id)
    db.session.commit()
    assert again.status is ADMITTED
    assert db.session.get(ActivitySession, session.id).seats_taken == 1


def test_other_roles_cannot_register(db, create_activity_session, create_user):
    session = create_activity_session()
    for role in (Role.MENTOR, Role.RESOURCE_MANAGER, Role.ADMIN):
        with pytest.raises(NotAllowed):
            _register(create_user(role), session.id)
        db.session.rollback()


def test_student_cannot_register_for_a_teachers_seminar(db, create_series, create_activity_session, create_student):
    series = create_series(audience=Audience.TEACHERS)
    session = create_activity_session(series=series)
    with pytest.raises(NotAllowed):
        _register(create_student(), session.id)


def test_teacher_registers_themself_for_a_teachers_seminar(db, create_series, create_activity_session, create_user):
    series = create_series(audience=Audience.TEACHERS)
    session = create_activity_session(series=series)
    teacher = create_user(Role.TEACHER)
    registration = _register(teacher, session.id)
    assert registration.seats == 1 and not registration.is_class


def test_unknown_session_is_not_found(db, create_student):
    with pytest.raises(NotFound):
        _register(create_student(), 999999)


def test_private_series_is_hidden_from_anonymous_but_open_to_members(
    db, client, create_series, create_activity_session, create_student, login_as
):
    series = create_series(is_public=False)
    session = create_activity_session(series=series)
    assert client.get(f"/activities/sessions/{session.id}").status_code == 404
    assert client.get(f"/activities/series/{series.id}").status_code == 404
    assert "参观红岩" not in client.get(f"/activities/?date={session.starts_at.date()}").get_data(as_text=True)
    login_as(create_student())
    assert client.get(f"/activities/sessions/{session.id}").status_code == 200


# Class blocks -----------------------------------------------------------------------------


def test_class_is_admitted_whole_or_waitlisted_whole(db, create_activity_session, create_user, create_student):
    session = create_activity_session(capacity=30)
    for _ in range(5):
        _register(create_student(), session.id)
    db.session.commit()
    teacher = create_user(Role.TEACHER)
    block = _register(teacher, session.id, class_label="初二（3）班", seats=26)
    db.session.commit()
    assert block.status is WAITLISTED  # 25 seats left: the class of 26 is never split
    assert db.session.get(ActivitySession, session.id).seats_taken == 5
    fits = _register(create_user(Role.TEACHER), session.id, class_label="初二（1）班", seats=20)
    db.session.commit()
    assert fits.status is WAITLISTED  # strict order: it does not pass the waiting block


@pytest.mark.parametrize("seats", [0, -3, 31])
def test_class_size_out_of_range_is_refused(db, create_activity_session, create_user, seats):
    session = create_activity_session(capacity=30)
    with pytest.raises(ValidationFailed) as error:
        _register(create_user(Role.TEACHER), session.id, class_label="三班", seats=seats)
    assert error.value.field == "seats"
    db.session.rollback()
    assert _count(db, Registration) == 0


def test_teacher_must_name_the_class_and_may_register_two_classes(db, create_activity_session, create_user):
    session = create_activity_session(capacity=60)
    teacher = create_user(Role.TEACHER)
    with pytest.raises(ValidationFailed):
        _register(teacher, session.id, class_label="", seats=10)
    db.session.rollback()
    _register(teacher, session.id, class_label="一班", seats=20)
    _register(teacher, session.id, class_label="二班", seats=20)
    db.session.commit()
    with pytest.raises(Conflict):
        _register(teacher, session.id, class_label="一班", seats=5)
    db.session.rollback()
    assert db.session.get(ActivitySession, session.id).seats_taken == 40


def test_teacher_class_level_is_the_school_level(db, create_activity_session, create_user, create_school):
    session = create_activity_session(levels=[SchoolLevel.PRIMARY])
    teacher = create_user(Role.TEACHER, school=create_school(level=SchoolLevel.SENIOR_HIGH))
    with pytest.raises(ValidationFailed):
        _register(teacher, session.id, class_label="高一（2）班", seats=10)


# Waitlist and promotion ---------------------------------------------------------------------


def test_waitlist_in_order_and_promotion_on_cancellation(db, create_activity_session, create_student):
    session = create_activity_session(capacity=2)
    students = [create_student() for _ in range(4)]
    regs = [_register(s, session.id) for s in students]
    db.session.commit()
    assert [r.status for r in regs] == [ADMITTED, ADMITTED, WAITLISTED, WAITLISTED]
    assert activities.waitlist_position(regs[3]) == 2
    assert activities.waitlist_positions(regs) == {regs[0].id: None, regs[1].id: None, regs[2].id: 1, regs[3].id: 2}
    activities.cancel_registration(students[0], regs[0].id)
    db.session.commit()
    statuses = {r.id: db.session.get(Registration, r.id).status for r in regs}
    assert statuses[regs[0].id] is CANCELLED
    assert statuses[regs[2].id] is ADMITTED  # the first in the queue, not the last
    assert statuses[regs[3].id] is WAITLISTED
    assert activities.waitlist_position(db.session.get(Registration, regs[3].id)) == 1
    assert db.session.get(ActivitySession, session.id).seats_taken == 2
    note = db.session.scalar(select(Notification).where(Notification.user_id == students[2].id))
    assert note is not None and note.kind == "activity_promoted"
    assert _count(db, Notification, user_id=students[3].id) == 0


def test_a_new_entry_does_not_pass_the_waitlist(db, create_activity_session, create_student, create_user):
    session = create_activity_session(capacity=10)
    _register(create_user(Role.TEACHER), session.id, class_label="A", seats=8)
    waiting = _register(create_user(Role.TEACHER), session.id, class_label="B", seats=5)
    late = _register(create_student(), session.id)
    db.session.commit()
    assert waiting.status is WAITLISTED
    assert late.status is WAITLISTED  # 2 seats are free, but class B asked first


def test_promotion_respects_block_sizes_in_order(db, create_activity_session, create_student, create_user):
    session = create_activity_session(capacity=10)
    first_teacher = create_user(Role.TEACHER)
    a = _register(first_teacher, session.id, class_label="A", seats=10)
    b = _register(create_user(Role.TEACHER), session.id, class_label="B", seats=6)
    single = _register(create_student(), session.id)
    c = _register(create_user(Role.TEACHER), session.id, class_label="C", seats=3)
    db.session.commit()
    activities.cancel_registration(first_teacher, a.id)
    db.session.commit()
    status = {x.id: db.session.get(Registration, x.id).status for x in (b, single, c)}
    # 10 seats free: B (6) then the single student (1) then C (3) all fit, in order.
    assert status == {b.id: ADMITTED, single.id: ADMITTED, c.id: ADMITTED}
    assert db.session.get(ActivitySession, session.id).seats_taken == 10


def test_blocked_queue_head_holds_later_entries(db, create_activity_session, create_student, create_user):
    session = create_activity_session(capacity=10)
    s1, s2 = create_student(), create_student()
    r1 = _register(s1, session.id)
    _register(s2, session.id)
    _register(create_user(Role.TEACHER), session.id, class_label="A", seats=8)
    big = _register(create_user(Role.TEACHER), session.id, class_label="B", seats=9)
    small = _register(create_student(), session.id)
    db.session.commit()
    activities.cancel_registration(s1, r1.id)
    db.session.commit()
    assert db.session.get(Registration, big.id).status is WAITLISTED
    assert db.session.get(Registration, small.id).status is WAITLISTED


def test_raising_capacity_promotes_the_waitlist(db, create_activity_session, create_student):
    session = create_activity_session(capacity=1)
    organizer = session.series.organizers[0]
    regs = [_register(create_student(), session.id) for _ in range(3)]
    db.session.commit()
    data = _session_data(session, capacity=3)
    activities.update_session(organizer, db.session.get(ActivitySession, session.id), data)
    db.session.commit()
    assert [db.session.get(Registration, r.id).status for r in regs] == [ADMITTED] * 3


def test_capacity_cannot_drop_below_seats_taken(db, create_activity_session, create_student):
    session = create_activity_session(capacity=3)
    organizer = session.series.organizers[0]
    for _ in range(3):
        _register(create_student(), session.id)
    db.session.commit()
    with pytest.raises(ValidationFailed) as error:
        activities.update_session(organizer, session, _session_data(session, capacity=2))
    assert error.value.field == "capacity"


def test_cancellation_after_registration_closes_is_refused(db, create_activity_session, create_student):
    session = create_activity_session()
    student = create_student()
    registration = _register(student, session.id)
    db.session.commit()
    with pytest.raises(Conflict):
        activities.cancel_registration(student, registration.id, now=session.registration_closes_at)
    db.session.rollback()
    assert db.session.get(Registration, registration.id).status is ADMITTED


def test_someone_else_cannot_cancel_my_registration(db, create_activity_session, create_student):
    session = create_activity_session()
    registration = _register(create_student(), session.id)
    db.session.commit()
    with pytest.raises(NotFound):
        activities.cancel_registration(create_student(), registration.id)


def test_organizer_cancelling_a_session_tells_everyone(db, create_activity_session, create_student):
    session = create_activity_session(capacity=1)
    a, b = create_student(), create_student()
    _register(a, session.id)
    _register(b, session.id)
    db.session.commit()
    activities.cancel_session(session.series.organizers[0], db.session.get(ActivitySession, session.id))
    db.session.commit()
    assert _count(db, Notification, kind="activity_cancelled") == 2
    with pytest.raises(Conflict):
        _register(create_student(), session.id)


# Attendance ----------------------------------------------------------------------------------


def _started(create_activity_session, **overrides):
    now = utcnow()
    return create_activity_session(
        starts_at=now - timedelta(minutes=30),
        registration_opens_at=now - timedelta(days=3),
        registration_closes_at=now - timedelta(hours=2),
        **overrides,
    )


def _admit(db, session, user, **kwargs):
    """A registration made while registration was open."""
    registration = Registration(
        session_id=session.id,
        user_id=user.id,
        status=ADMITTED,
        queue_number=_count(db, Registration) + 1,
        seats=kwargs.get("seats", 1),
        class_label=kwargs.get("class_label", ""),
    )
    db.session.add(registration)
    db.session.get(ActivitySession, session.id).seats_taken += registration.seats
    db.session.commit()
    return registration


def test_organizer_marks_attendance_from_the_list(db, create_activity_session, create_student, create_user):
    session = _started(create_activity_session)
    organizer = session.series.organizers[0]
    present, absent = create_student(), create_student()
    _admit(db, session, present)
    _admit(db, session, absent)
    block = _admit(db, session, create_user(Role.TEACHER), seats=20, class_label="五（1）班")
    activities.record_attendance(organizer, session, {present.id}, {block.id: 18})
    db.session.commit()
    assert set(activities.attendance_by_user(session)) == {present.id}
    assert db.session.get(Registration, block.id).attended_seats == 18
    with pytest.raises(ValidationFailed):
        activities.record_attendance(organizer, session, {present.id}, {block.id: 21})
    db.session.rollback()
    activities.record_attendance(organizer, session, set(), {})
    db.session.commit()
    assert activities.attendance_by_user(session) == {}


def test_attendance_by_a_stranger_is_refused(db, create_activity_session, create_user):
    session = _started(create_activity_session)
    with pytest.raises(NotAllowed):
        activities.record_attendance(create_user(Role.MENTOR), session, set(), {})


def test_qr_check_in_for_a_registered_student(db, create_activity_session, create_student):
    session = _started(create_activity_session)
    student = create_student()
    _admit(db, session, student)
    token = activities.checkin_token(session)
    attendance = activities.check_in_with_token(student, session.id, token)
    db.session.commit()
    assert attendance.method.value == "qr"
    # Scanning twice does not count twice.
    activities.check_in_with_token(student, session.id, token)
    db.session.commit()
    assert _count(db, Attendance) == 1
    record = activities.participation_record(student)
    assert record.count == 1 and record.total_hours == 2.0


def test_qr_check_in_for_a_pupil_who_came_with_their_class(
    db, create_activity_session, create_student, create_user, create_school
):
    session = _started(create_activity_session)
    school = create_school(level=SchoolLevel.PRIMARY)
    _admit(db, session, create_user(Role.TEACHER, school=school), seats=25, class_label="四（2）班")
    pupil = create_student(school=school)
    activities.check_in_with_token(pupil, session.id, activities.checkin_token(session))
    db.session.commit()
    assert _count(db, Attendance) == 1


def test_expired_foreign_and_forged_codes_are_refused(app, db, create_activity_session, create_student):
    session = _started(create_activity_session)
    other = _started(create_activity_session)
    student = create_student()
    _admit(db, session, student)
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=activities.CHECKIN_SALT)
    old = serializer.dumps({"session": session.id})
    import itsdangerous.timed

    # A code signed 16 minutes ago, made with the real signer's clock moved back.
    original = itsdangerous.timed.TimestampSigner.get_timestamp
    itsdangerous.timed.TimestampSigner.get_timestamp = lambda self: int(utcnow().timestamp()) - 16 * 60
    try:
        old = serializer.dumps({"session": session.id})
    finally:
        itsdangerous.timed.TimestampSigner.get_timestamp = original
    cases = [
        (old, "expired"),
        (activities.checkin_token(other), "different session"),
        (URLSafeTimedSerializer("another-key", salt=activities.CHECKIN_SALT).dumps({"session": session.id}), "valid"),
        ("garbage", "valid"),
    ]
    from flask_babel import force_locale

    for token, message in cases:
        with pytest.raises(ValidationFailed) as error, force_locale("en"):
            activities.check_in_with_token(student, session.id, token)
        with force_locale("en"):
            assert message in str(error.value)
        db.session.rollback()
    assert _count(db, Attendance) == 0


def test_qr_check_in_without_a_place_is_refused(db, create_activity_session, create_student):
    session = _started(create_activity_session)
    with pytest.raises(Conflict):
        activities.check_in_with_token(create_student(), session.id, activities.checkin_token(session))
    db.session.rollback()
    assert _count(db, Attendance) == 0


def test_qr_check_in_outside_the_session_time_is_refused(db, create_activity_session, create_student):
    session = create_activity_session()  # next week
    student = create_student()
    _register(student, session.id)
    db.session.commit()
    with pytest.raises(Conflict):
        activities.check_in_with_token(student, session.id, activities.checkin_token(session))


# Feedback ---------------------------------------------------------------------------------------


def _finished(create_activity_session, **overrides):
    now = utcnow()
    return create_activity_session(
        starts_at=now - timedelta(hours=3),
        registration_opens_at=now - timedelta(days=3),
        registration_closes_at=now - timedelta(hours=4),
        **overrides,
    )


def test_attendee_answers_the_survey_once(db, create_activity_session, create_student):
    session = _finished(create_activity_session)
    student = create_student()
    registration = _admit(db, session, student)
    db.session.add(
        Attendance(
            session_id=session.id,
            user_id=student.id,
            registration_id=registration.id,
            method=activities.AttendanceMethod.LIST,
            checked_in_at=utcnow(),
        )
    )
    db.session.commit()
    assert activities.feedback_status(student, session)[0] is True
    activities.submit_feedback(student, session, 5, "讲解很生动")
    db.session.commit()
    with pytest.raises(Conflict):
        activities.submit_feedback(student, session, 4)
    db.session.rollback()
    summary = activities.session_feedback(session)
    assert summary.count == 1 and summary.average == 5 and summary.comments == ["讲解很生动"]
    series_summary, per_session = activities.series_feedback(session.series)
    assert series_summary.count == 1 and per_session[0][0].id == session.id


def test_feedback_rules(db, create_activity_session, create_student, create_user):
    session = _finished(create_activity_session)
    attendee, absent = create_student(), create_student()
    _admit(db, session, absent)
    registration = _admit(db, session, attendee)
    db.session.add(
        Attendance(
            session_id=session.id,
            user_id=attendee.id,
            registration_id=registration.id,
            method=activities.AttendanceMethod.QR,
            checked_in_at=utcnow(),
        )
    )
    db.session.commit()
    with pytest.raises(NotAllowed):
        activities.submit_feedback(absent, session, 3)
    for bad in (0, 6, None):
        with pytest.raises(ValidationFailed):
            activities.submit_feedback(attendee, session, bad)
    with pytest.raises(Conflict):
        activities.submit_feedback(attendee, session, 4, now=session.ends_at - timedelta(minutes=1))
    with pytest.raises(Conflict):
        activities.submit_feedback(attendee, session, 4, now=session.ends_at + timedelta(days=31))
    db.session.rollback()
    assert _count(db, Feedback) == 0
    # A teacher whose class came answers for the class.
    teacher = create_user(Role.TEACHER)
    block = _admit(db, session, teacher, seats=10, class_label="一班")
    block.attended_seats = 9
    db.session.commit()
    activities.submit_feedback(teacher, session, 4)
    db.session.commit()
    assert _count(db, Feedback) == 1


# Host mentors and the calendar contract ------------------------------------------------------


def _session_data(session, **overrides) -> activities.SessionData:
    values = dict(
        title_zh=session.title_zh,
        title_en=session.title_en,
        format=session.format,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        capacity=session.capacity,
        registration_opens_at=session.registration_opens_at,
        registration_closes_at=session.registration_closes_at,
        eligible_levels=session.levels,
        venue_kind=session.venue_kind,
        venue_school_id=session.venue_school_id,
        venue_name=session.venue_name,
        venue_address=session.venue_address,
        district=session.district,
        host_id=session.host_id,
    )
    values.update(overrides)
    return activities.SessionData(**values)


def test_host_mentor_is_never_double_booked(db, create_series, create_activity_session, create_user):
    mentor = create_user(Role.MENTOR)
    series = create_series(organizers=[mentor])
    first = create_activity_session(series=series, host_id=mentor.id)
    # Same time at 渣滓洞: overlaps.
    data = _session_data(first, venue_name="渣滓洞", district="shapingba", title_zh="渣滓洞参观")
    with pytest.raises(Conflict) as error:
        activities.create_session(mentor, series, data)
    assert error.value.field == "host_id"
    db.session.rollback()
    # Thirty minutes after the end at another place: inside the travel buffer.
    later = _session_data(
        first,
        venue_name="渣滓洞",
        district="shapingba",
        starts_at=first.ends_at + timedelta(minutes=30),
        ends_at=first.ends_at + timedelta(hours=2),
    )
    with pytest.raises(Conflict):
        activities.create_session(mentor, series, later)
    db.session.rollback()
    # Right after, at the same place: fine (half-open, no travel).
    same_place = _session_data(first, starts_at=first.ends_at, ends_at=first.ends_at + timedelta(hours=1))
    created = activities.create_session(mentor, series, same_place)
    db.session.commit()
    assert commitments.find_clash(mentor, created.starts_at, created.ends_at, created.place_key) is not None
    # Moving a session onto its own time is not a clash with itself.
    activities.update_session(mentor, created, _session_data(created, title_zh="改名"))
    db.session.commit()


def test_calendar_providers(db, create_series, create_activity_session, create_student, create_user, create_school):
    school = create_school(level=SchoolLevel.PRIMARY)
    mentor = create_user(Role.MENTOR)
    series = create_series(organizers=[mentor])
    hidden = create_series(is_public=False)
    at_school = create_activity_session(
        series=series, venue_kind=activities.VenueKind.SCHOOL, venue_school_id=school.id, venue_name=None, capacity=1
    )
    private = create_activity_session(series=hidden)
    student, waiting = create_student(), create_student()
    _register(student, at_school.id)
    _register(waiting, at_school.id)
    _register(student, private.id)
    db.session.commit()
    start, end = utcnow(), utcnow() + timedelta(days=30)
    mine = calendar.personal_entries(student, start, end)
    assert {e.source_id for e in mine} == {at_school.id, private.id}
    assert all(e.status == "confirmed" for e in mine)
    tentative = calendar.personal_entries(waiting, start, end)
    assert [e.status for e in tentative] == ["tentative"]
    assert "候补" in tentative[0].title or "Waitlist" in tentative[0].title
    assert {e.source_id for e in calendar.personal_entries(mentor, start, end)} == {at_school.id}
    assert [e.source_id for e in calendar.public_entries("series", series.id, start, end)] == [at_school.id]
    assert calendar.public_entries("series", hidden.id, start, end) == []
    assert [e.source_id for e in calendar.public_entries("school", school.id, start, end)] == [at_school.id]
    assert calendar.single_entry("session", private.id, None) is None
    assert calendar.single_entry("session", private.id, student) is not None
    assert calendar.single_entry("session", at_school.id, waiting).status == "tentative"
    # Cancelling bumps the sequence; the entry stays as cancelled for two weeks.
    before = calendar.single_entry("session", at_school.id, None).sequence
    activities.cancel_session(mentor, db.session.get(ActivitySession, at_school.id))
    db.session.commit()
    entry = calendar.single_entry("session", at_school.id, None)
    assert entry.status == "cancelled" and entry.sequence == before + 1
    assert [e.status for e in calendar.public_entries("series", series.id, start, end)] == ["cancelled"]
    cancelled = db.session.get(ActivitySession, at_school.id)
    cancelled.cancelled_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert calendar.public_entries("series", series.id, start, end) == []
    # Withdrawn registrations are not listed at all.
    reg = db.session.scalar(
        select(Registration).where(Registration.user_id == student.id, Registration.session_id == private.id)
    )
    reg.status = CANCELLED
    db.session.commit()
    assert private.id not in {e.source_id for e in calendar.personal_entries(student, start, end)}
    assert entry.uid == calendar.entry_uid("session", at_school.id) and "session" not in entry.uid


def test_personal_provider_query_count_is_bounded(
    db, create_series, create_activity_session, create_student, count_queries
):
    student = create_student()
    series = create_series()
    for i in range(8):
        session = create_activity_session(series=series, starts_at=utcnow() + timedelta(days=i + 1))
        _register(student, session.id)
        db.session.commit()
    db.session.expire_all()
    with count_queries() as counter:
        entries = calendar.personal_entries(student, utcnow(), utcnow() + timedelta(days=30))
    assert len(entries) == 8
    assert counter.count <= 6, counter.statements


def test_moving_a_hosted_session_onto_another_commitment_is_refused(
    db, create_series, create_activity_session, create_user
):
    mentor = create_user(Role.MENTOR)
    series = create_series(organizers=[mentor])
    first = create_activity_session(series=series, host_id=mentor.id)
    second = create_activity_session(
        series=series,
        host_id=mentor.id,
        starts_at=first.starts_at + timedelta(days=1),
        venue_name="白公馆",
        district="shapingba",
    )
    moved = _session_data(
        second,
        starts_at=first.starts_at,
        ends_at=first.ends_at,
        registration_closes_at=first.starts_at - timedelta(hours=1),
    )
    with pytest.raises(Conflict) as error:
        activities.update_session(mentor, db.session.get(ActivitySession, second.id), moved)
    assert error.value.field == "host_id"
    db.session.rollback()
    assert db.session.get(ActivitySession, second.id).starts_at == first.starts_at + timedelta(days=1)
    # Assigning a free mentor as host at the clashing time works; the busy one is refused.
    other = create_user(Role.MENTOR)
    activities.update_session(
        mentor, db.session.get(ActivitySession, second.id), _session_data(second, host_id=other.id)
    )
    db.session.commit()
    assert db.session.get(ActivitySession, second.id).host_id == other.id


def test_known_place_fills_address_and_district(db, create_series):
    series = create_series()
    organizer = series.organizers[0]
    start = utcnow() + timedelta(days=5)
    session = activities.create_session(
        organizer,
        series,
        activities.SessionData(
            title_zh="白公馆参观",
            format=activities.ActivityFormat.VISIT,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            capacity=20,
            registration_opens_at=utcnow(),
            registration_closes_at=start,
            eligible_levels=[SchoolLevel.SENIOR_HIGH],
            venue_kind=activities.VenueKind.PLACE,
            venue_name="白公馆",
        ),
    )
    assert session.district == "shapingba" and session.venue_address
    assert session.place_key == "venue:白公馆"


def test_waiting_counts_per_session(db, create_activity_session, create_student):
    session = create_activity_session(capacity=1)
    for _ in range(3):
        _register(create_student(), session.id)
    assert activities.waiting_counts([session.id]) == {session.id: 2}
    assert activities.waiting_counts([]) == {}
