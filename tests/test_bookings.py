"""Booking rules at their edges, the lifecycle, pages, permissions and the calendar contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.errors import Conflict, NotAllowed, NotFound, QuotaExceeded, ValidationFailed
from portal.models import (
    Booking,
    BookingAttendance,
    BookingStatus,
    Closure,
    Notification,
    OpeningHours,
    Role,
    SchoolLevel,
)
from portal.services import bookings, calendar, holidays, resources
from portal.timeutil import SHANGHAI, local_datetime


def shanghai(*args) -> datetime:
    """An aware UTC instant given as Shanghai wall-clock time."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def request_for(day, start=time(9, 0), end=time(11, 0), **overrides) -> bookings.BookingRequest:
    values = dict(
        day=day,
        start=start,
        end=end,
        class_size=40,
        grade="初二（3）班",
        escorts=2,
        purpose="分组实验",
        contact_phone="13800138000",
        safety_accepted=True,
    )
    values.update(overrides)
    return bookings.BookingRequest(**values)


def count_bookings(db) -> int:
    return db.session.scalar(select(func.count(Booking.id)))


@pytest.fixture
def teacher(create_user):
    return create_user(Role.TEACHER)


@pytest.fixture
def lab(create_resource):
    return create_resource()


# Half-open intervals and overlaps ---------------------------------------------------------


def test_back_to_back_bookings_both_succeed_and_an_overlap_is_a_conflict_at_the_field(db, lab, teacher, create_user):
    now = shanghai(2026, 11, 2, 10, 0)
    day = date(2026, 11, 11)
    bookings.book(teacher, lab.id, request_for(day, time(9, 0), time(11, 0)), now=now)
    db.session.commit()
    other = create_user(Role.TEACHER)
    bookings.book(other, lab.id, request_for(day, time(11, 0), time(12, 0)), now=now)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        bookings.book(other, lab.id, request_for(day, time(10, 30), time(11, 30)), now=now)
    assert caught.value.field == "start"
    db.session.rollback()
    assert count_bookings(db) == 2


def test_rejected_and_cancelled_bookings_free_their_slot(db, lab, teacher, create_booking):
    day = date(2026, 11, 11)
    create_booking(resource=lab, day=day, status=BookingStatus.REJECTED)
    create_booking(resource=lab, day=day, status=BookingStatus.CANCELLED)
    outcome = bookings.book(teacher, lab.id, request_for(day), now=shanghai(2026, 11, 2, 10, 0))
    db.session.commit()
    assert len(outcome.created) == 1


# Lead time and the advance window at the Shanghai day boundary -------------------------------


def test_lead_time_counts_shanghai_days(db, create_resource, teacher):
    lab = create_resource(lead_days=3)
    day = date(2026, 11, 5)
    # 23:59 on 2 Nov in Shanghai: 5 Nov is three days ahead.
    bookings.book(teacher, lab.id, request_for(day), now=shanghai(2026, 11, 2, 23, 59))
    db.session.commit()
    # 00:30 on 3 Nov in Shanghai is still 2 Nov in UTC; the rule uses Shanghai's day.
    with pytest.raises(ValidationFailed) as caught:
        bookings.book(teacher, lab.id, request_for(day, time(14, 0), time(16, 0)), now=shanghai(2026, 11, 3, 0, 30))
    assert caught.value.field == "day"
    assert "2026-11-06" in str(caught.value.message)


def test_advance_window_edges_and_the_under_resourced_priority(db, create_resource, create_user, create_school):
    lab = create_resource(window_days=60, lead_days=3)
    teacher = create_user(Role.TEACHER)
    now = shanghai(2026, 10, 12, 0, 30)  # still 11 Oct in UTC
    bookings.book(teacher, lab.id, request_for(date(2026, 12, 11)), now=now)
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        bookings.book(teacher, lab.id, request_for(date(2026, 12, 12)), now=now)
    assert caught.value.field == "day"
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        bookings.book(
            teacher,
            lab.id,
            request_for(date(2026, 12, 11), time(14, 0), time(16, 0)),
            now=shanghai(2026, 10, 11, 23, 59),
        )
    db.session.rollback()
    remote = create_user(Role.TEACHER, school=create_school(under_resourced=True, district="chengkou"))
    bookings.book(remote, lab.id, request_for(date(2027, 1, 8)), now=now)  # 60 + 30 days
    db.session.commit()
    with pytest.raises(ValidationFailed):
        bookings.book(remote, lab.id, request_for(date(2027, 1, 11)), now=now)


def test_past_dates_are_refused(db, lab, teacher):
    with pytest.raises(ValidationFailed) as caught:
        bookings.book(teacher, lab.id, request_for(date(2026, 11, 1)), now=shanghai(2026, 11, 2, 10, 0))
    assert caught.value.field == "day"


# Holidays, make-up working days, closures, provisional years -----------------------------------


def test_a_make_up_working_saturday_opens_with_monday_hours(db, create_resource, teacher):
    weekdays_only = {0: [(time(8, 0), time(12, 0))], 4: [(time(14, 0), time(17, 0))]}
    lab = create_resource(hours=weekdays_only)
    now = shanghai(2026, 9, 25, 10, 0)
    info = holidays.day_info(date(2026, 10, 10))
    assert info.is_makeup_workday and not info.provisional
    outcome = bookings.book(teacher, lab.id, request_for(date(2026, 10, 10)), now=now)
    db.session.commit()
    assert len(outcome.created) == 1
    with pytest.raises(ValidationFailed) as caught:  # a Saturday that is not a make-up day stays closed
        bookings.book(teacher, lab.id, request_for(date(2026, 10, 17)), now=now)
    assert caught.value.field == "day"


def test_a_public_holiday_is_closed(db, lab, teacher):
    with pytest.raises(ValidationFailed) as caught:
        bookings.book(teacher, lab.id, request_for(date(2026, 10, 1)), now=shanghai(2026, 9, 20, 10, 0))
    assert caught.value.field == "day"
    assert "National Day" in str(caught.value.message) or "国庆" in str(caught.value.message)


def test_2027_uses_the_fallback_calendar_marked_provisional_and_admin_entries(
    db, create_resource, teacher, create_user
):
    now = shanghai(2026, 12, 20, 10, 0)
    info = holidays.day_info(date(2027, 2, 8))
    assert info.is_holiday and info.provisional and info.source == "fallback"
    lab = create_resource(window_days=120)
    with pytest.raises(ValidationFailed):
        bookings.book(teacher, lab.id, request_for(date(2027, 2, 8)), now=now)
    db.session.rollback()
    outcome = bookings.book(teacher, lab.id, request_for(date(2027, 1, 13)), now=now)
    db.session.commit()
    assert len(outcome.created) == 1
    # The admin enters a make-up Saturday from the State Council's notice: Friday's hours.
    admin = create_user(Role.ADMIN)
    friday_only = create_resource(hours={4: [(time(14, 0), time(17, 0))]}, window_days=120)
    resources.set_override(admin, date(2027, 2, 20), True, "春节调休", replaces_weekday=4)
    db.session.commit()
    assert not holidays.day_info(date(2027, 2, 20)).provisional
    bookings.book(teacher, friday_only.id, request_for(date(2027, 2, 20), time(14, 0), time(16, 0)), now=now)
    db.session.commit()


def test_resource_university_and_platform_closures(db, create_resource, teacher, create_user):
    lab = create_resource()
    admin = create_user(Role.ADMIN)
    now = shanghai(2026, 11, 2, 10, 0)
    resources.add_closure(admin, date(2026, 11, 10), date(2026, 11, 10), "设备检修", resource=lab)
    resources.add_closure(admin, date(2026, 11, 11), date(2026, 11, 11), "校运会", university=lab.university)
    resources.add_closure(admin, date(2026, 11, 12), date(2026, 11, 12), "全市统考")
    db.session.commit()
    for day, reason in [(10, "设备检修"), (11, "校运会"), (12, "全市统考")]:
        with pytest.raises(ValidationFailed) as caught:
            bookings.book(teacher, lab.id, request_for(date(2026, 11, day)), now=now)
        assert reason in str(caught.value.message)
        db.session.rollback()
    bookings.book(teacher, lab.id, request_for(date(2026, 11, 13)), now=now)
    db.session.commit()


def test_closure_input_errors_at_the_field(db, lab, create_user):
    admin = create_user(Role.ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        resources.add_closure(admin, date(2026, 11, 12), date(2026, 11, 10), "")
    assert set(caught.value.errors) == {"end_date", "reason"}
    manager = create_user(Role.RESOURCE_MANAGER)
    with pytest.raises(NotAllowed):
        resources.add_closure(manager, date(2026, 11, 10), date(2026, 11, 10), "x", resource=lab)
    with pytest.raises(NotAllowed):
        resources.add_closure(manager, date(2026, 11, 10), date(2026, 11, 10), "x")


# Bad input at the field ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end": time(9, 0)}, "end"),
        ({"start": time(7, 0), "end": time(9, 0)}, "start"),
        ({"start": time(11, 0), "end": time(15, 0)}, "start"),
        ({"start": time(9, 10), "end": time(10, 0)}, "start"),
        ({"class_size": 61}, "class_size"),
        ({"class_size": 41, "escorts": 2}, "escorts"),
        ({"escorts": 0}, "escorts"),
        ({"grade": " "}, "grade"),
        ({"purpose": ""}, "purpose"),
        ({"contact_phone": "abc"}, "contact_phone"),
        ({"safety_accepted": False}, "safety_accepted"),
        ({"day": None}, "day"),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_written(db, lab, teacher, overrides, field):
    values = dict(overrides)
    req = request_for(values.pop("day", date(2026, 11, 11)), **values)
    with pytest.raises(ValidationFailed) as caught:
        bookings.book(teacher, lab.id, req, now=shanghai(2026, 11, 2, 10, 0))
    assert field in caught.value.errors
    db.session.rollback()
    assert count_bookings(db) == 0


def test_unknown_and_inactive_resources(db, create_resource, teacher):
    with pytest.raises(NotFound):
        bookings.book(teacher, 999999, request_for(date(2026, 11, 11)))
    db.session.rollback()
    closed = create_resource(active=False)
    with pytest.raises(ValidationFailed):
        bookings.book(teacher, closed.id, request_for(date(2026, 11, 11)), now=shanghai(2026, 11, 2, 10, 0))


def test_only_teachers_book(db, lab, create_user):
    for role in (Role.STUDENT, Role.MENTOR, Role.RESOURCE_MANAGER, Role.ADMIN):
        with pytest.raises(NotAllowed):
            bookings.book(create_user(role), lab.id, request_for(date(2026, 11, 11)), now=shanghai(2026, 11, 2))
        db.session.rollback()


# Quotas -------------------------------------------------------------------------------------


def test_monthly_quota_per_school_counts_active_bookings_only(db, create_resource, teacher, create_user):
    lab = create_resource(monthly_quota=2)
    now = shanghai(2026, 10, 20, 10, 0)
    first = bookings.book(teacher, lab.id, request_for(date(2026, 11, 10)), now=now).created[0]
    db.session.commit()
    bookings.book(teacher, lab.id, request_for(date(2026, 11, 11)), now=now)
    db.session.commit()
    with pytest.raises(QuotaExceeded):
        bookings.book(teacher, lab.id, request_for(date(2026, 11, 12)), now=now)
    db.session.rollback()
    # Another teacher of the same school shares the school's quota; another school does not.
    colleague = create_user(Role.TEACHER, school=teacher.school)
    with pytest.raises(QuotaExceeded):
        bookings.book(colleague, lab.id, request_for(date(2026, 11, 13)), now=now)
    db.session.rollback()
    bookings.book(create_user(Role.TEACHER), lab.id, request_for(date(2026, 11, 13)), now=now)
    db.session.commit()
    bookings_next_month = bookings.book(teacher, lab.id, request_for(date(2026, 12, 1)), now=now)
    db.session.commit()
    assert bookings_next_month.created
    bookings.cancel(teacher, first, "换时间", now=now)
    db.session.commit()
    bookings.book(teacher, lab.id, request_for(date(2026, 11, 12)), now=now)
    db.session.commit()


# Weekly recurrence -------------------------------------------------------------------------


def test_recurrence_preview_and_partial_booking_in_one_step(db, create_resource, teacher, create_user, create_booking):
    lab = create_resource()
    admin = create_user(Role.ADMIN)
    now = shanghai(2026, 11, 2, 10, 0)
    create_booking(resource=lab, day=date(2026, 11, 18), start=time(10, 0), end=time(12, 0))  # another school
    resources.add_closure(admin, date(2026, 11, 25), date(2026, 11, 25), "实验室消毒", resource=lab)
    db.session.commit()
    req = request_for(date(2026, 11, 11), repeat_until=date(2026, 12, 2))
    checks = bookings.preview(teacher, lab, req, now=now)
    assert [(c.day.isoformat(), c.ok) for c in checks] == [
        ("2026-11-11", True),
        ("2026-11-18", False),
        ("2026-11-25", False),
        ("2026-12-02", True),
    ]
    assert "实验室消毒" in checks[2].problem
    assert count_bookings(db) == 1  # the preview wrote nothing
    outcome = bookings.book(teacher, lab.id, req, now=now)
    db.session.commit()
    assert [b.start_at for b in outcome.created] == [
        local_datetime(date(2026, 11, 11), time(9, 0)),
        local_datetime(date(2026, 12, 2), time(9, 0)),
    ]
    assert len({b.series_id for b in outcome.created}) == 1 and outcome.created[0].series_id
    assert [c.day for c in outcome.skipped] == [date(2026, 11, 18), date(2026, 11, 25)]


def test_recurrence_with_no_bookable_date_writes_nothing(db, create_resource, teacher, create_user):
    lab = create_resource()
    admin = create_user(Role.ADMIN)
    resources.add_closure(admin, date(2026, 11, 1), date(2026, 11, 30), "学期中闭馆", resource=lab)
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        bookings.book(
            teacher, lab.id, request_for(date(2026, 11, 11), repeat_until=date(2026, 11, 25)), now=shanghai(2026, 11, 2)
        )
    assert caught.value.field == "repeat_until"
    db.session.rollback()
    assert count_bookings(db) == 0


def test_recurrence_respects_the_quota_across_its_own_dates(db, create_resource, teacher):
    lab = create_resource(monthly_quota=2)
    outcome = bookings.book(
        teacher, lab.id, request_for(date(2026, 11, 4), repeat_until=date(2026, 11, 25)), now=shanghai(2026, 11, 1)
    )
    db.session.commit()
    assert len(outcome.created) == 2 and len(outcome.skipped) == 2


# Decisions, cancellation, check-in, notifications ------------------------------------------------


def notifications_of(db, user) -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def test_request_notifies_managers_and_approval_notifies_the_teacher(db, lab, teacher):
    booking = bookings.book(teacher, lab.id, request_for(date(2026, 11, 11)), now=shanghai(2026, 11, 2)).created[0]
    db.session.commit()
    manager = lab.managers[0]
    assert booking.status is BookingStatus.PENDING
    assert notifications_of(db, manager) == ["booking.requested"]
    assert bookings.pending_count(manager) == 1
    bookings.approve(manager, booking, "请提前十分钟到场", now=shanghai(2026, 11, 3))
    db.session.commit()
    assert booking.status is BookingStatus.APPROVED and booking.calendar_sequence == 1
    assert notifications_of(db, teacher) == ["booking.approved"]
    with pytest.raises(Conflict):
        bookings.reject(manager, booking, "晚了", now=shanghai(2026, 11, 3))


def test_reject_needs_a_note_and_only_the_resources_manager_decides(db, lab, teacher, create_user, create_booking):
    booking = create_booking(resource=lab, requested_by=teacher)
    with pytest.raises(ValidationFailed) as caught:
        bookings.reject(lab.managers[0], booking, "  ")
    assert caught.value.field == "note"
    db.session.rollback()
    stranger = create_user(Role.RESOURCE_MANAGER)
    with pytest.raises(NotAllowed):
        bookings.approve(stranger, booking)
    db.session.rollback()
    bookings.reject(lab.managers[0], booking, "当天有本科课程")
    db.session.commit()
    assert booking.status is BookingStatus.REJECTED
    assert notifications_of(db, teacher) == ["booking.rejected"]


def test_teacher_cancels_until_the_cutoff_then_only_the_manager(db, lab, teacher, create_booking):
    day = date(2026, 11, 11)
    booking = create_booking(resource=lab, requested_by=teacher, day=day, status=BookingStatus.APPROVED)
    start = local_datetime(day, time(9, 0))
    with pytest.raises(ValidationFailed) as caught:
        bookings.cancel(teacher, booking, "临时调课", now=start - timedelta(hours=24) + timedelta(seconds=1))
    assert caught.value.field == "reason"
    db.session.rollback()
    bookings.cancel(teacher, booking, "临时调课", now=start - timedelta(hours=24))
    db.session.commit()
    assert booking.status is BookingStatus.CANCELLED
    assert notifications_of(db, lab.managers[0]) == ["booking.cancelled"]
    late = create_booking(resource=lab, requested_by=teacher, day=day, status=BookingStatus.APPROVED)
    bookings.cancel(lab.managers[0], late, "停电", now=start - timedelta(hours=1))
    db.session.commit()
    assert late.status is BookingStatus.CANCELLED
    assert notifications_of(db, teacher) == ["booking.cancelled"]


def test_a_teacher_cannot_cancel_another_teachers_booking(db, lab, teacher, create_user, create_booking):
    booking = create_booking(resource=lab, requested_by=teacher)
    with pytest.raises(NotAllowed):
        bookings.cancel(create_user(Role.TEACHER), booking, "x")


def test_check_in_on_the_day(db, lab, teacher, create_booking):
    day = date(2026, 11, 11)
    booking = create_booking(resource=lab, requested_by=teacher, day=day, status=BookingStatus.APPROVED)
    manager = lab.managers[0]
    with pytest.raises(ValidationFailed):
        bookings.check_in(manager, booking, True, 30, now=shanghai(2026, 11, 10, 23, 0))
    db.session.rollback()
    with pytest.raises(ValidationFailed) as caught:
        bookings.check_in(manager, booking, True, 61, now=shanghai(2026, 11, 11, 9, 5))
    assert caught.value.field == "actual_count"
    db.session.rollback()
    bookings.check_in(manager, booking, True, 28, now=shanghai(2026, 11, 11, 9, 5))
    db.session.commit()
    assert booking.attendance is BookingAttendance.ATTENDED and booking.actual_count == 28
    other = create_booking(
        resource=lab, requested_by=teacher, day=day, start=time(14, 0), end=time(16, 0), status=BookingStatus.APPROVED
    )
    bookings.check_in(manager, other, False, None, now=shanghai(2026, 11, 11, 17, 0))
    db.session.commit()
    assert other.attendance is BookingAttendance.NO_SHOW
    # Recorded once: a second submission (a double click, a late correction) changes nothing.
    with pytest.raises(Conflict):
        bookings.check_in(manager, booking, True, 5, now=shanghai(2026, 11, 12, 9, 0))
    db.session.rollback()
    db.session.refresh(booking)
    assert booking.actual_count == 28
    assert not bookings.may_check_in_now(booking, shanghai(2026, 11, 12, 9, 0))


# Finding a slot ----------------------------------------------------------------------------


def test_time_first_search(db, create_resource, create_booking, create_school, teacher):
    day = date(2026, 11, 11)
    now = shanghai(2026, 11, 2)
    free = create_resource(name_zh="空闲实验室", capacity=45)
    booked = create_resource(name_zh="已约实验室", capacity=45)
    create_booking(resource=booked, day=day, start=time(14, 0), end=time(15, 0))
    create_resource(name_zh="小实验室", capacity=20)
    create_resource(name_zh="上午开放", capacity=50, hours={2: [(time(8, 0), time(12, 0))]})
    hits = bookings.search_free(day, time(14, 30), time(16, 30), 40, school=teacher.school, now=now)
    assert [h.resource.id for h in hits] == [free.id]
    assert hits[0].bookable
    too_soon = bookings.search_free(
        day, time(14, 30), time(16, 30), 40, school=teacher.school, now=shanghai(2026, 11, 10)
    )
    assert too_soon and not too_soon[0].bookable


def test_resource_list_filters(db, create_resource, create_school):
    beibei = create_school(level=SchoolLevel.UNIVERSITY, district="beibei")
    library = create_resource(kind=bookings.ResourceKind.LIBRARY, university=beibei, equipment="电子阅览座位 60 个")
    lab = create_resource(capacity=30)
    create_resource(active=False)
    assert {r.id for r in bookings.find_resources(bookings.ResourceFilters())} == {library.id, lab.id}
    assert [r.id for r in bookings.find_resources(bookings.ResourceFilters(district="beibei"))] == [library.id]
    assert [r.id for r in bookings.find_resources(bookings.ResourceFilters(min_capacity=40))] == [library.id]
    assert [r.id for r in bookings.find_resources(bookings.ResourceFilters(equipment="示波器"))] == [lab.id]
    assert [r.id for r in bookings.find_resources(bookings.ResourceFilters(kind=bookings.ResourceKind.LIBRARY))] == [
        library.id
    ]


def test_resource_availability_for_other_areas(db, lab, create_booking):
    day = date(2026, 11, 11)
    create_booking(resource=lab, day=day, start=time(9, 0), end=time(10, 0))
    at = lambda h0, h1: (local_datetime(day, time(h0)), local_datetime(day, time(h1)))  # noqa: E731
    assert bookings.resource_availability(lab.id, *at(10, 11)).is_free
    assert bookings.resource_availability(lab.id, *at(9, 10)).state == "booked"
    assert bookings.resource_availability(lab.id, *at(12, 13)).state == "outside_hours"
    assert bookings.resource_availability(lab.id, *local_day(date(2026, 10, 1))).state in ("closed", "outside_hours")
    assert (
        bookings.resource_availability(
            lab.id, local_datetime(date(2026, 10, 1), time(9)), local_datetime(date(2026, 10, 1), time(10))
        ).state
        == "closed"
    )


def local_day(day):
    return local_datetime(day, time(9)), local_datetime(day, time(10))


# Calendar contract ------------------------------------------------------------------------------


def test_calendar_providers(db, app, lab, teacher, create_user, create_booking):
    day = date(2026, 11, 11)
    mine = create_booking(resource=lab, requested_by=teacher, day=day, status=BookingStatus.APPROVED)
    other = create_booking(resource=lab, day=day, start=time(14, 0), end=time(16, 0))
    start, end = local_datetime(day, time.min), local_datetime(day + timedelta(days=1), time.min)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        entries = calendar.personal_entries(teacher, start, end)
        assert [e.source_id for e in entries] == [mine.id] and entries[0].status == "confirmed"
        manager_entries = calendar.personal_entries(lab.managers[0], start, end)
        assert {e.source_id for e in manager_entries} == {mine.id, other.id}
        assert {e.status for e in manager_entries} == {"confirmed", "tentative"}
        public = calendar.public_entries("resource", lab.id, start, end)
        assert [e.title for e in public] == ["已预约", "已预约"]
        assert all(not e.description and e.source_id is None for e in public)
        assert calendar.single_entry("booking", other.id, teacher) is None
        assert calendar.single_entry("booking", mine.id, None) is None
        assert calendar.single_entry("booking", mine.id, teacher).uid == entries[0].uid
    bookings.cancel(teacher, mine, "改期", now=shanghai(2026, 11, 2))
    db.session.commit()
    with app.test_request_context():
        cancelled = calendar.personal_entries(teacher, start, end)
        assert cancelled[0].status == "cancelled" and cancelled[0].sequence == 1


# Pages ----------------------------------------------------------------------------------------


def test_request_form_errors_sit_beside_the_field_and_write_nothing(db, client, login_as, lab, teacher, open_day):
    login_as(teacher)
    day = open_day(10)
    response = client.post(
        f"/bookings/resources/{lab.id}/request",
        data={
            "day": day.isoformat(),
            "start": "09:00",
            "end": "11:00",
            "class_size": "80",
            "grade": "初二（3）班",
            "escorts": "4",
            "purpose": "参观",
            "contact_phone": "13800138000",
            "safety_accepted": "y",
            "submit": "1",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="class_size-error"' in html
    assert count_bookings(db) == 0


def test_teacher_requests_through_the_form_and_sees_it_pending(db, client, login_as, lab, teacher, open_day):
    login_as(teacher)
    day = open_day(10)
    form = {
        "day": day.isoformat(),
        "start": "14:00",
        "end": "16:00",
        "class_size": "40",
        "grade": "初二（3）班",
        "escorts": "2",
        "purpose": "参观",
        "contact_phone": "13800138000",
        "safety_accepted": "y",
        "repeat_until": (day + timedelta(days=14)).isoformat(),
    }
    preview = client.post(f"/bookings/resources/{lab.id}/request", data=form | {"preview": "1"})
    assert preview.status_code == 200 and 'data-testid="recurrence-preview"' in preview.get_data(as_text=True)
    assert count_bookings(db) == 0
    response = client.post(f"/bookings/resources/{lab.id}/request", data=form | {"submit": "1"})
    assert response.status_code == 302
    assert count_bookings(db) >= 1
    page = client.get("/bookings/mine").get_data(as_text=True)
    assert 'data-status="pending"' in page


def test_permissions_per_role_on_pages(db, client, login_as, lab, teacher, create_user, create_booking):
    booking = create_booking(resource=lab, requested_by=teacher)
    other_teacher = create_user(Role.TEACHER)
    colleague = create_user(Role.TEACHER, school=teacher.school)
    student = create_user(Role.STUDENT)
    stranger_manager = create_user(Role.RESOURCE_MANAGER)
    manager = lab.managers[0]

    login_as(other_teacher)
    assert client.get(f"/bookings/{booking.id}").status_code == 403
    assert client.post(f"/bookings/{booking.id}/cancel", data={"reason": "x"}).status_code == 403
    assert client.get("/bookings/manage").status_code == 403
    assert client.get("/bookings/admin/all").status_code == 403
    login_as(colleague)
    assert client.get(f"/bookings/{booking.id}").status_code == 200
    assert client.post(f"/bookings/{booking.id}/cancel", data={"reason": "x"}).status_code == 403
    login_as(student)
    assert client.get(f"/bookings/resources/{lab.id}/request").status_code == 403
    assert client.get("/bookings/mine").status_code == 403
    assert client.get(f"/bookings/resources/{lab.id}").status_code == 200
    login_as(stranger_manager)
    assert client.post(f"/bookings/{booking.id}/decide", data={"approve": "1"}).status_code == 403
    assert client.get(f"/bookings/manage/resources/{lab.id}/edit").status_code == 403
    login_as(manager)
    assert client.get(f"/bookings/manage/resources/{lab.id}/edit").status_code == 200
    assert client.get("/bookings/admin/calendar").status_code == 403
    response = client.post(f"/bookings/{booking.id}/decide", data={"reject": "1", "note": ""})
    assert response.status_code == 422 and 'id="note-error"' in response.get_data(as_text=True)
    assert client.post(f"/bookings/{booking.id}/decide", data={"approve": "1"}).status_code == 302
    db.session.refresh(booking)
    assert booking.status is BookingStatus.APPROVED


def test_bad_ids_and_methods(client, login_as, create_user):
    login_as(create_user(Role.ADMIN))
    assert client.get("/bookings/999999").status_code == 404
    assert client.get("/bookings/resources/999999").status_code == 404
    assert client.get("/bookings/abc").status_code == 404
    assert client.get("/bookings/1/cancel").status_code == 405
    assert client.get("/bookings/search?day=notadate&start=25:00&end=x&class_size=-1").status_code == 200
    assert client.get("/bookings/?class_size=abc&university=zz").status_code == 200
    assert client.get("/bookings/manage/schedule?day=2026-13-45").status_code == 200


def test_manager_edits_resource_hours_and_closures_through_pages(db, client, login_as, lab):
    manager = lab.managers[0]
    login_as(manager)
    bad = client.post(f"/bookings/manage/resources/{lab.id}/hours", data={"mon": "9-11"})
    assert bad.status_code == 200 and 'id="mon-error"' in bad.get_data(as_text=True)
    ok = client.post(
        f"/bookings/manage/resources/{lab.id}/hours", data={"mon": "08:30-11:30, 14:00-17:00", "sat": "09:00-12:00"}
    )
    assert ok.status_code == 302
    hours = db.session.scalars(select(OpeningHours).where(OpeningHours.resource_id == lab.id)).all()
    assert sorted((h.weekday, h.opens) for h in hours) == [(0, time(8, 30)), (0, time(14, 0)), (5, time(9, 0))]
    added = client.post(
        f"/bookings/manage/resources/{lab.id}/closures",
        data={"scope": "resource", "start_date": "2026-12-20", "end_date": "2026-12-21", "reason": "年终盘点"},
    )
    assert added.status_code == 302
    assert db.session.scalar(select(func.count(Closure.id))) == 1


def test_manager_creates_a_resource(db, client, login_as, create_user, create_school):
    university = create_school(level=SchoolLevel.UNIVERSITY)
    manager = create_user(Role.RESOURCE_MANAGER, school=university)
    login_as(manager)
    response = client.post(
        "/bookings/manage/resources/new",
        data={
            "kind": "library",
            "university_id": str(university.id),
            "name_zh": "测试图书馆",
            "capacity": "0",
            "slot_minutes": "30",
            "lead_days": "3",
            "window_days": "60",
            "cancel_cutoff_hours": "24",
            "pupils_per_escort": "20",
        },
    )
    assert response.status_code == 200 and 'id="capacity-error"' in response.get_data(as_text=True)
    response = client.post(
        "/bookings/manage/resources/new",
        data={
            "kind": "library",
            "university_id": str(university.id),
            "name_zh": "测试图书馆",
            "capacity": "50",
            "slot_minutes": "30",
            "lead_days": "3",
            "window_days": "60",
            "cancel_cutoff_hours": "24",
            "pupils_per_escort": "20",
            "active": "y",
            "requires_approval": "y",
        },
    )
    assert response.status_code == 302


def test_week_view_shows_other_schools_only_as_booked(db, client, login_as, lab, teacher, create_booking, open_day):
    day = open_day(8)
    create_booking(resource=lab, day=day, start=time(9, 0), end=time(10, 0))
    create_booking(resource=lab, requested_by=teacher, day=day, start=time(14, 0), end=time(15, 0))
    login_as(teacher)
    html = client.get(f"/bookings/resources/{lab.id}?week={day.isoformat()}").get_data(as_text=True)
    assert 'data-state="booked"' in html and 'data-state="own"' in html and 'data-state="free"' in html
    assert "观察细胞结构" not in html  # nothing about the other school's visit


def test_a_2027_week_renders_with_the_provisional_marker(client, login_as, lab, teacher):
    login_as(teacher)
    html = client.get(f"/bookings/resources/{lab.id}?week=2027-02-08").get_data(as_text=True)
    assert "暂定" in html or "Provisional" in html


def test_list_pages_issue_a_bounded_number_of_queries(
    db, client, login_as, create_resource, create_booking, create_user, count_queries
):
    teacher = create_user(Role.TEACHER)
    admin = create_user(Role.ADMIN)
    first = create_resource()
    create_booking(resource=first, requested_by=teacher)

    def measure(user, url):
        login_as(user)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    small = {
        url: measure(u, url)
        for u, url in [
            (teacher, "/bookings/"),
            (teacher, "/bookings/mine"),
            (admin, "/bookings/manage"),
            (admin, "/bookings/admin/all"),
        ]
    }
    for n in range(8):
        resource = create_resource()
        create_booking(resource=resource, requested_by=teacher, day=date.today() + timedelta(days=10 + n))
    large = {
        url: measure(u, url)
        for u, url in [
            (teacher, "/bookings/"),
            (teacher, "/bookings/mine"),
            (admin, "/bookings/manage"),
            (admin, "/bookings/admin/all"),
        ]
    }
    assert large == small, (small, large)


def test_moving_a_resource_bumps_the_calendar_sequence_of_upcoming_bookings(db, lab, create_booking, open_day):
    upcoming = create_booking(resource=lab, day=open_day(5), status=BookingStatus.APPROVED)
    past = create_booking(resource=lab, day=date(2026, 1, 7), status=BookingStatus.APPROVED)
    data = resources.ResourceData(
        kind=lab.kind,
        university_id=lab.university_id,
        name_zh=lab.name_zh,
        capacity=lab.capacity,
        building="新理科楼",
        room="C301",
        manager_ids=[m.id for m in lab.managers],
        monthly_quota=None,
    )
    resources.update_resource(lab.managers[0], lab, data)
    db.session.commit()
    db.session.refresh(upcoming)
    db.session.refresh(past)
    assert (upcoming.calendar_sequence, past.calendar_sequence) == (1, 0)


def test_absurd_dates_never_500(db, client, login_as, lab, teacher):
    login_as(teacher)
    assert client.get(f"/bookings/resources/{lab.id}?week=9999-12-31").status_code == 200
    assert client.get("/bookings/search?day=9999-12-31&start=09:00&end=10:00&class_size=10").status_code == 200
    response = client.post(
        f"/bookings/resources/{lab.id}/request",
        data={
            "day": "9999-12-31",
            "start": "09:00",
            "end": "10:00",
            "class_size": "10",
            "escorts": "1",
            "grade": "x",
            "purpose": "x",
            "contact_phone": "13800138000",
            "safety_accepted": "y",
            "submit": "1",
            "repeat_until": "9999-12-31",
        },
    )
    assert response.status_code == 200 and 'id="day-error"' in response.get_data(as_text=True)
    assert count_bookings(db) == 0
