"""Cross-level lectures: lifecycle, no double booking (with the travel buffer), offers,
feedback rules, fair ordering, service records and the calendar contract (service level)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.models import (
    AuditEntry,
    LectureOfferSlot,
    LectureRequest,
    LectureStatus,
    LectureTheme,
    Notification,
    Role,
    SchoolLevel,
)
from portal.services import calendar, commitments
from portal.services import lectures as service
from portal.timeutil import utcnow
from tests.fixtures_lectures import local_at


def request_data(**overrides) -> service.RequestData:
    values = {
        "topic": "理想信念与青春担当",
        "theme": LectureTheme.IDEALS,
        "grades": ["j2", "j3"],
        "audience_size": 200,
        "duration_minutes": 90,
        "windows": [service.Window(1, local_at(5, 14), local_at(5, 17))],
        "address": "城口县葛城街道",
        "room": "阶梯教室",
        "notes": "请准备PPT",
    }
    values.update(overrides)
    return service.RequestData(**values)


def notes_for(db, user, kind=None):
    stmt = select(Notification).where(Notification.user_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt))


def count_lectures(db) -> int:
    return db.session.scalar(select(func.count(LectureRequest.id)))


def move_to_past(db, lecture):
    """Let the lecture's day pass (delivery can only be recorded once it has started)."""
    lecture.starts_at = utcnow() - timedelta(hours=3)
    lecture.ends_at = lecture.starts_at + timedelta(minutes=lecture.duration_minutes)
    db.session.commit()


# Lifecycle -------------------------------------------------------------------------------


def test_full_lifecycle_notifies_the_other_side_at_each_step(db, create_user, school_teacher):
    teacher = school_teacher(district="chengkou", under_resourced=True)
    mentor = create_user(Role.MENTOR)
    lecture = service.create_request(teacher, request_data())
    db.session.commit()
    assert lecture.status is LectureStatus.OPEN
    assert lecture.grade_codes == ["j2", "j3"]

    window = lecture.windows[0]
    service.claim(mentor, lecture.id, window.id, local_at(5, 15))
    db.session.commit()
    assert lecture.status is LectureStatus.CLAIMED
    assert lecture.mentor_id == mentor.id
    assert lecture.starts_at == local_at(5, 15)
    assert lecture.ends_at == local_at(5, 16, 30)
    assert len(notes_for(db, teacher, "lecture_claimed")) == 1
    sequence_after_claim = lecture.calendar_sequence

    service.confirm(teacher, lecture.id)
    db.session.commit()
    assert lecture.status is LectureStatus.CONFIRMED
    assert len(notes_for(db, mentor, "lecture_confirmed")) == 1
    assert lecture.calendar_sequence == sequence_after_claim + 1

    move_to_past(db, lecture)
    service.record_delivery(mentor, lecture.id, 180, "互动热烈")
    db.session.commit()
    assert lecture.status is LectureStatus.DELIVERED
    assert lecture.attendance == 180
    assert len(notes_for(db, teacher, "lecture_delivered")) == 1

    service.give_feedback(teacher, lecture.id, 5, "学生收获很大")
    db.session.commit()
    assert lecture.status is LectureStatus.REVIEWED
    assert lecture.rating == 5
    assert len(notes_for(db, mentor, "lecture_feedback")) == 1


def test_mentor_withdrawal_reopens_the_request_for_others(db, create_user, create_lecture):
    mentor, other = create_user(Role.MENTOR), create_user(Role.MENTOR)
    lecture = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)
    with pytest.raises(ValidationFailed) as missing:
        service.withdraw(mentor, lecture.id, "  ")
    assert missing.value.field == "reason"
    db.session.rollback()
    service.withdraw(mentor, lecture.id, "临时出差")
    db.session.commit()
    assert lecture.status is LectureStatus.OPEN
    assert lecture.mentor_id is None and lecture.starts_at is None
    assert "临时出差" in notes_for(db, lecture.requested_by, "lecture_withdrawn")[0].body
    service.claim(other, lecture.id, lecture.windows[1].id)
    db.session.commit()
    assert lecture.mentor_id == other.id


def test_only_the_mentor_withdraws_and_only_the_school_cancels(db, create_user, create_lecture, school_teacher):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture(mentor=mentor)
    with pytest.raises(NotAllowed):
        service.withdraw(create_user(Role.MENTOR), lecture.id, "不是我的")
    db.session.rollback()
    with pytest.raises(NotAllowed):
        service.cancel(school_teacher(), lecture.id, "别的学校")
    db.session.rollback()
    with pytest.raises(NotAllowed):
        service.cancel(mentor, lecture.id, "导师应撤回而非取消")
    db.session.rollback()
    service.cancel(lecture.requested_by, lecture.id, "学校临时安排考试")
    db.session.commit()
    assert lecture.status is LectureStatus.CANCELLED
    assert lecture.cancel_reason == "学校临时安排考试"
    assert len(notes_for(db, mentor, "lecture_cancelled")) == 1
    with pytest.raises(Conflict):
        service.cancel(lecture.requested_by, lecture.id, "再次取消")


def test_admin_cancellation_tells_both_sides(db, create_user, create_lecture):
    mentor, admin = create_user(Role.MENTOR), create_user(Role.ADMIN)
    lecture = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)
    service.cancel(admin, lecture.id, "场地安全检查")
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "lecture_request")).one()
    assert (entry.actor_id, entry.object_id, entry.reason) == (admin.id, lecture.id, "场地安全检查")
    assert len(notes_for(db, mentor, "lecture_cancelled")) == 1
    assert len(notes_for(db, lecture.requested_by, "lecture_cancelled")) == 1


def test_reschedule_moves_within_windows_and_needs_confirmation_again(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)
    sequence = lecture.calendar_sequence
    service.reschedule(mentor, lecture.id, lecture.windows[1].id, local_at(4, 15))
    db.session.commit()
    assert lecture.starts_at == local_at(4, 15)
    assert lecture.status is LectureStatus.CLAIMED
    assert lecture.calendar_sequence == sequence + 1
    assert len(notes_for(db, lecture.requested_by, "lecture_rescheduled")) == 1
    # Moving within its own time does not clash with itself.
    service.reschedule(mentor, lecture.id, lecture.windows[1].id, local_at(4, 15, 30))
    db.session.commit()
    assert lecture.starts_at == local_at(4, 15, 30)


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"windows": [service.Window(1, local_at(-1, 14), local_at(-1, 17))]}, "window1_date"),
        ({"windows": [service.Window(1, local_at(5, 17), local_at(5, 14))]}, "window1_end"),
        ({"windows": [service.Window(1, local_at(5, 14), local_at(5, 15))]}, "window1_end"),
        ({"windows": []}, "window1_date"),
        ({"audience_size": 0}, "audience_size"),
        ({"audience_size": -5}, "audience_size"),
        ({"audience_size": None}, "audience_size"),
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"grades": []}, "grades"),
        ({"grades": ["x9"]}, "grades"),
        ({"topic": "   "}, "topic"),
    ],
)
def test_bad_request_input_is_refused_at_the_field_and_nothing_written(db, school_teacher, overrides, field):
    teacher = school_teacher()
    with pytest.raises(ValidationFailed) as error:
        service.create_request(teacher, request_data(**overrides))
    assert field in error.value.errors
    assert str(error.value.errors[field])
    db.session.rollback()
    assert count_lectures(db) == 0


def test_second_window_errors_name_the_second_window(db, school_teacher):
    windows = [
        service.Window(1, local_at(5, 14), local_at(5, 17)),
        service.Window(2, local_at(6, 17), local_at(6, 16)),
    ]
    with pytest.raises(ValidationFailed) as error:
        service.create_request(school_teacher(), request_data(windows=windows))
    assert set(error.value.errors) == {"window2_end"}


def test_only_school_teachers_post_requests(db, create_user):
    for role in (Role.MENTOR, Role.STUDENT, Role.RESOURCE_MANAGER, Role.ADMIN):
        with pytest.raises(NotAllowed):
            service.create_request(create_user(role), request_data())
    university_teacher = create_user(Role.TEACHER, school=None)
    with pytest.raises(NotAllowed):
        service.create_request(university_teacher, request_data())
    assert count_lectures(db) == 0


def test_teacher_cannot_edit_another_schools_request_or_a_claimed_one(db, create_user, create_lecture, school_teacher):
    lecture = create_lecture()
    with pytest.raises(NotAllowed):
        service.update_request(school_teacher(), lecture.id, request_data(topic="篡改"))
    db.session.rollback()
    assert db.session.get(LectureRequest, lecture.id).topic == "红岩精神与新时代青年"
    colleague = create_user(Role.TEACHER, school_id=lecture.school_id)
    service.update_request(colleague, lecture.id, request_data(topic="改为理想信念"))
    db.session.commit()
    assert lecture.topic == "改为理想信念" and len(lecture.windows) == 1
    service.claim(create_user(Role.MENTOR), lecture.id, lecture.windows[0].id)
    db.session.commit()
    with pytest.raises(Conflict):
        service.update_request(colleague, lecture.id, request_data(topic="太迟了"))


def test_claim_refuses_non_open_requests_foreign_windows_and_bad_start(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture()
    other = create_lecture()
    with pytest.raises(ValidationFailed) as foreign:
        service.claim(mentor, lecture.id, other.windows[0].id)
    assert foreign.value.field == "window_id"
    db.session.rollback()
    with pytest.raises(ValidationFailed) as outside:
        service.claim(mentor, lecture.id, lecture.windows[0].id, local_at(3, 16))  # 16:00 + 90 min > 17:00
    assert outside.value.field == "start_time"
    db.session.rollback()
    with pytest.raises(NotAllowed):
        service.claim(lecture.requested_by, lecture.id, lecture.windows[0].id)
    db.session.rollback()
    service.claim(mentor, lecture.id, lecture.windows[0].id)
    db.session.commit()
    with pytest.raises(Conflict):
        service.claim(create_user(Role.MENTOR), lecture.id, lecture.windows[1].id)
    db.session.rollback()
    cancelled = create_lecture(status=LectureStatus.CANCELLED)
    with pytest.raises(Conflict):
        service.claim(mentor, cancelled.id, cancelled.windows[0].id)


# No double booking -----------------------------------------------------------------------


def test_overlapping_claim_is_refused(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    first = create_lecture()
    second = create_lecture()
    service.claim(mentor, first.id, first.windows[0].id, local_at(3, 14))
    db.session.commit()
    with pytest.raises(Conflict) as clash:
        service.claim(mentor, second.id, second.windows[0].id, local_at(3, 15))
    assert clash.value.field == "window_id"
    db.session.rollback()
    assert db.session.get(LectureRequest, second.id).status is LectureStatus.OPEN


def test_travel_buffer_between_different_schools(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    first = create_lecture(windows=[(local_at(3, 9), local_at(3, 12))])
    first_school_teacher = first.requested_by
    elsewhere = create_lecture(windows=[(local_at(3, 10), local_at(3, 17))])
    same_school = create_lecture(teacher=first_school_teacher, windows=[(local_at(3, 10), local_at(3, 17))])
    service.claim(mentor, first.id, first.windows[0].id, local_at(3, 9))  # 09:00–10:30
    db.session.commit()
    # 30 minutes later at another school: less than the 60-minute buffer.
    with pytest.raises(Conflict):
        service.claim(mentor, elsewhere.id, elsewhere.windows[0].id, local_at(3, 11))
    db.session.rollback()
    # Right after, at the same school: no travel needed.
    service.claim(mentor, same_school.id, same_school.windows[0].id, local_at(3, 10, 30))
    db.session.commit()
    # Exactly the buffer after the second lecture (ends 12:00) at another school: allowed.
    service.claim(mentor, elsewhere.id, elsewhere.windows[0].id, local_at(3, 13))
    db.session.commit()
    assert elsewhere.status is LectureStatus.CLAIMED


def test_travel_buffer_comes_from_configuration(app, db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    first = create_lecture(windows=[(local_at(3, 9), local_at(3, 12))])
    second = create_lecture(windows=[(local_at(3, 10), local_at(3, 17))])
    service.claim(mentor, first.id, first.windows[0].id, local_at(3, 9))
    db.session.commit()
    original = app.config["TRAVEL_BUFFER_MINUTES"]
    app.config["TRAVEL_BUFFER_MINUTES"] = 20
    try:
        service.claim(mentor, second.id, second.windows[0].id, local_at(3, 11))  # 30 min after, buffer 20
        db.session.commit()
    finally:
        app.config["TRAVEL_BUFFER_MINUTES"] = original
    assert second.status is LectureStatus.CLAIMED


def test_commitments_of_other_areas_block_a_claim(db, create_user, create_lecture, other_area_commitment):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture(windows=[(local_at(3, 9), local_at(3, 17))])
    # A session the mentor hosts at a memorial, ending 13:30.
    other_area_commitment(mentor, local_at(3, 12), local_at(3, 13, 30))
    with pytest.raises(Conflict) as clash:
        service.claim(mentor, lecture.id, lecture.windows[0].id, local_at(3, 14))  # only 30 min to travel
    assert "红岩主题活动" in str(clash.value.message)
    db.session.rollback()
    service.claim(mentor, lecture.id, lecture.windows[0].id, local_at(3, 14, 30))
    db.session.commit()
    assert lecture.status is LectureStatus.CLAIMED


def test_lecture_provider_reports_held_lectures_only(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    held = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)
    create_lecture(mentor=mentor, status=LectureStatus.CANCELLED, windows=[(local_at(4, 9), local_at(4, 12))])
    found = commitments.commitments_for(mentor, local_at(0, 0), local_at(10, 0))
    assert [(c.kind, c.ref_id, c.place) for c in found] == [("lecture", held.id, f"school:{held.school_id}")]


# Offers ---------------------------------------------------------------------------------------


def booking(**overrides) -> service.BookingData:
    values = {"grades": ["s1"], "audience_size": 60, "room": "302教室"}
    values.update(overrides)
    return service.BookingData(**values)


def test_booking_an_offer_confirms_a_lecture_and_tells_the_mentor(db, create_offer, school_teacher):
    offer = create_offer()
    teacher = school_teacher(district="wuxi", under_resourced=True)
    slot = offer.slots[0]
    lecture = service.book_offer(teacher, offer.id, slot.id, booking())
    db.session.commit()
    assert lecture.status is LectureStatus.CONFIRMED
    assert (lecture.starts_at, lecture.ends_at) == (slot.starts_at, slot.ends_at)
    assert lecture.mentor_id == offer.mentor_id and lecture.offer_id == offer.id
    assert db.session.get(LectureOfferSlot, slot.id).request_id == lecture.id
    assert len(notes_for(db, offer.mentor, "lecture_booked")) == 1
    with pytest.raises(Conflict):
        service.book_offer(school_teacher(), offer.id, slot.id, booking())
    db.session.rollback()
    # The school cancels: the mentor's time is offered again.
    service.cancel(teacher, lecture.id, "改期")
    db.session.commit()
    assert db.session.get(LectureOfferSlot, slot.id).request_id is None


def test_booking_an_offer_respects_the_mentors_other_commitments(db, create_offer, create_lecture, school_teacher):
    offer = create_offer()
    slot = offer.slots[0]
    create_lecture(
        mentor=offer.mentor, status=LectureStatus.CONFIRMED, starts_at=slot.starts_at - timedelta(minutes=30)
    )
    with pytest.raises(Conflict) as clash:
        service.book_offer(school_teacher(), offer.id, slot.id, booking())
    assert clash.value.field == "slot_id"
    db.session.rollback()
    assert count_lectures(db) == 1


def test_booking_input_and_closed_offers(db, create_offer, school_teacher, create_user):
    offer = create_offer()
    teacher = school_teacher()
    with pytest.raises(ValidationFailed) as bad:
        service.book_offer(teacher, offer.id, offer.slots[0].id, booking(audience_size=0))
    assert "audience_size" in bad.value.errors
    db.session.rollback()
    with pytest.raises(NotAllowed):
        service.book_offer(create_user(Role.MENTOR), offer.id, offer.slots[0].id, booking())
    db.session.rollback()
    service.close_offer(offer.mentor, offer.id)
    db.session.commit()
    with pytest.raises(Conflict):
        service.book_offer(teacher, offer.id, offer.slots[0].id, booking())
    db.session.rollback()
    assert count_lectures(db) == 0


def test_offer_times_that_clash_with_commitments_are_refused(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED, starts_at=local_at(3, 14))
    data = service.OfferData(
        topic="学业与生涯规划",
        theme=LectureTheme.STUDY_CAREER,
        abstract="",
        grades=["s3"],
        slots=[
            service.Window(1, local_at(8, 9), local_at(8, 10, 30)),
            service.Window(2, local_at(3, 14, 30), local_at(3, 16)),
            service.Window(3, local_at(9, 11), local_at(9, 10)),
        ],
    )
    with pytest.raises(ValidationFailed) as error:
        service.create_offer(mentor, data)
    assert set(error.value.errors) == {"slot2_date", "slot3_end"}


def test_withdrawing_from_a_booked_offer_removes_that_slot(db, create_offer, school_teacher):
    offer = create_offer()
    slot_id = offer.slots[0].id
    lecture = service.book_offer(school_teacher(), offer.id, slot_id, booking())
    db.session.commit()
    service.withdraw(offer.mentor, lecture.id, "身体不适")
    db.session.commit()
    assert db.session.get(LectureOfferSlot, slot_id) is None
    assert lecture.status is LectureStatus.OPEN


# Feedback --------------------------------------------------------------------------------------


def test_feedback_rules(db, create_user, create_lecture, school_teacher):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)
    teacher = lecture.requested_by
    with pytest.raises(ValidationFailed) as early:
        service.give_feedback(teacher, lecture.id, 5)
    assert early.value.field == "rating"
    db.session.rollback()
    with pytest.raises(ValidationFailed) as not_started:
        service.record_delivery(mentor, lecture.id, 50)
    assert not_started.value.field == "attendance"
    db.session.rollback()
    move_to_past(db, lecture)
    with pytest.raises(ValidationFailed):
        service.record_delivery(mentor, lecture.id, 0)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        service.record_delivery(create_user(Role.MENTOR), lecture.id, 50)
    db.session.rollback()
    service.record_delivery(mentor, lecture.id, 50)
    db.session.commit()
    with pytest.raises(NotAllowed):
        service.give_feedback(school_teacher(), lecture.id, 4)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        service.give_feedback(mentor, lecture.id, 4)
    db.session.rollback()
    for bad in (0, 6, None):
        with pytest.raises(ValidationFailed):
            service.give_feedback(teacher, lecture.id, bad)
        db.session.rollback()
    assert db.session.get(LectureRequest, lecture.id).rating is None
    colleague = create_user(Role.TEACHER, school_id=lecture.school_id)
    service.give_feedback(colleague, lecture.id, 4, "很好")
    db.session.commit()
    with pytest.raises(Conflict):
        service.give_feedback(teacher, lecture.id, 1)


# Fair reach -----------------------------------------------------------------------------------


def test_open_list_puts_under_resourced_then_longest_waiting_first(db, create_lecture, school_teacher):
    old_city = create_lecture(teacher=school_teacher(district="yuzhong"))
    old_city.created_at = utcnow() - timedelta(days=10)
    new_city = create_lecture(teacher=school_teacher(district="yuzhong"))
    new_remote = create_lecture(teacher=school_teacher(district="chengkou", under_resourced=True))
    old_remote = create_lecture(teacher=school_teacher(district="wuxi", under_resourced=True))
    old_remote.created_at = utcnow() - timedelta(days=3)
    create_lecture(windows=[(local_at(-2, 9), local_at(-2, 12))])  # every window passed
    create_lecture(status=LectureStatus.CANCELLED)
    db.session.commit()
    ids = [lec.id for lec in db.session.scalars(service.open_requests_query(service.OpenFilters()))]
    assert ids == [old_remote.id, new_remote.id, old_city.id, new_city.id]


def test_open_list_filters(db, create_lecture, school_teacher):
    remote = create_lecture(teacher=school_teacher(district="chengkou"), grades=",s1,", theme=LectureTheme.SCIENTISTS)
    city = create_lecture(
        teacher=school_teacher(district="yuzhong"),
        windows=[(local_at(10, 9), local_at(10, 12))],
        grades=",p5,p6,",
    )

    def ids(**filters):
        return [lec.id for lec in db.session.scalars(service.open_requests_query(service.OpenFilters(**filters)))]

    assert ids(district="chengkou") == [remote.id]
    assert ids(theme=LectureTheme.HONGYAN) == [city.id]
    assert ids(grade="p6") == [city.id]
    assert ids(grade="s1") == [remote.id]
    assert ids(date_from=local_at(8, 0).date()) == [city.id]
    assert ids(date_to=local_at(5, 0).date()) == [remote.id]
    assert ids(date_from=local_at(5, 0).date(), date_to=local_at(6, 0).date()) == []


def test_service_record_counts_delivered_lectures_in_the_term(db, create_user, create_lecture, school_teacher):
    mentor = create_user(Role.MENTOR)
    admin = create_user(Role.ADMIN)
    term = service.term_for()
    start, _end = term.bounds
    in_term = max(start + timedelta(days=1), utcnow() - timedelta(days=2))
    create_lecture(
        teacher=school_teacher(district="chengkou", under_resourced=True),
        mentor=mentor,
        status=LectureStatus.REVIEWED,
        starts_at=in_term,
    )
    create_lecture(
        teacher=school_teacher(district="yuzhong"),
        mentor=mentor,
        status=LectureStatus.DELIVERED,
        starts_at=in_term + timedelta(hours=5),
        duration_minutes=60,
    )
    create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)  # not delivered yet
    create_lecture(mentor=mentor, status=LectureStatus.DELIVERED, starts_at=start - timedelta(days=30))  # last term
    service.set_target(admin, term.code, 3, 2)
    db.session.commit()
    record = service.service_record(mentor, term)
    assert (record.lectures, record.minutes, record.schools, record.districts) == (2, 150, 2, 2)
    assert record.under_resourced_lectures == 1
    assert sorted(record.district_codes) == ["chengkou", "yuzhong"]
    assert record.hours == 2.5 and record.target_met is False
    everyone = service.service_records(term)
    assert [r.mentor.id for r in everyone] == [mentor.id] and everyone[0].lectures == 2


def test_service_target_is_for_admins_and_validated(db, create_user):
    term = service.term_for()
    with pytest.raises(NotAllowed):
        service.set_target(create_user(Role.MENTOR), term.code, 2, 3)
    admin = create_user(Role.ADMIN)
    with pytest.raises(ValidationFailed) as bad:
        service.set_target(admin, term.code, -1, 400)
    assert set(bad.value.errors) == {"min_lectures", "min_hours"}
    with pytest.raises(ValidationFailed):
        service.set_target(admin, "someday", 1, 1)
    service.set_target(admin, term.code, 2, 3)
    service.set_target(admin, term.code, 4, 6)
    db.session.commit()
    assert (service.get_target(term).min_lectures, service.get_target(term).min_hours) == (4, 6)


def test_terms():
    from datetime import date

    assert service.term_for(date(2026, 12, 3)).code == "2026-autumn"
    assert service.term_for(date(2027, 1, 20)).code == "2026-autumn"
    assert service.term_for(date(2027, 3, 1)).code == "2027-spring"
    assert service.term_by_code("2027-spring").start == date(2027, 2, 1)
    assert service.term_by_code("nonsense") is None


# Calendar contract -------------------------------------------------------------------------------


def test_personal_calendar_of_mentor_and_teacher(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    claimed = create_lecture(mentor=mentor)
    confirmed = create_lecture(
        mentor=mentor, status=LectureStatus.CONFIRMED, windows=[(local_at(6, 9), local_at(6, 12))]
    )
    open_one = create_lecture(teacher=claimed.requested_by)
    window = (local_at(0, 0), local_at(30, 0))
    entries = calendar.personal_entries(mentor, *window)
    by_id = {e.source_id: e for e in entries}
    assert set(by_id) == {claimed.id, confirmed.id}
    assert by_id[claimed.id].status == "tentative" and "红岩精神" in by_id[claimed.id].title
    assert by_id[confirmed.id].status == "confirmed"
    assert by_id[confirmed.id].uid == calendar.entry_uid("lecture", confirmed.id)
    assert str(confirmed.id) not in by_id[confirmed.id].uid
    assert "报告厅" in by_id[confirmed.id].location
    teacher_ids = {e.source_id for e in calendar.personal_entries(claimed.requested_by, *window)}
    assert teacher_ids == {claimed.id}  # the open request has no time yet
    assert open_one.id not in teacher_ids
    assert calendar.personal_entries(create_user(Role.STUDENT), *window) == []


def test_public_school_calendar_shows_confirmed_lectures_only(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    confirmed = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED, notes="内部备注：校长出席")
    create_lecture(
        teacher=confirmed.requested_by, mentor=create_user(Role.MENTOR), windows=[(local_at(8, 9), local_at(8, 12))]
    )
    entries = calendar.public_entries("school", confirmed.school_id, local_at(0, 0), local_at(30, 0))
    assert [e.source_id for e in entries] == [confirmed.id]
    assert "校长" not in entries[0].description and mentor.display_name not in entries[0].description
    assert calendar.single_entry("lecture", confirmed.id, None).source_id == confirmed.id


def test_cancelled_lectures_stay_listed_as_cancelled_for_14_days(db, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)
    sequence = lecture.calendar_sequence
    service.cancel(lecture.requested_by, lecture.id, "停课")
    db.session.commit()
    assert lecture.calendar_sequence == sequence + 1
    window = (local_at(0, 0), local_at(30, 0))
    [entry] = calendar.personal_entries(mentor, *window)
    assert entry.status == "cancelled"
    assert [e.status for e in calendar.public_entries("school", lecture.school_id, *window)] == ["cancelled"]
    lecture.updated_at = utcnow() - timedelta(days=15)
    db.session.execute(
        LectureRequest.__table__.update()
        .where(LectureRequest.id == lecture.id)
        .values(updated_at=utcnow() - timedelta(days=15))
    )
    db.session.commit()
    assert calendar.personal_entries(mentor, *window) == []


def test_single_entry_respects_the_viewer(db, create_user, create_lecture, school_teacher):
    mentor = create_user(Role.MENTOR)
    claimed = create_lecture(mentor=mentor)
    assert calendar.single_entry("lecture", claimed.id, None) is None  # not public until confirmed
    assert calendar.single_entry("lecture", claimed.id, school_teacher()) is None
    assert calendar.single_entry("lecture", claimed.id, mentor).status == "tentative"
    assert calendar.single_entry("lecture", 999999, mentor) is None


def test_school_level_checks_for_posting(db, create_user, create_school):
    university = create_school(level=SchoolLevel.UNIVERSITY)
    teacher = create_user(Role.TEACHER, school=university)
    with pytest.raises(NotAllowed):
        service.create_request(teacher, request_data())
