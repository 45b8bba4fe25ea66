"""Activity sessions held in a portal lab or library: the session holds the resource's slot
as an approved booking, so teachers' class visits and sessions never overlap (issue 4 + 7)."""

from __future__ import annotations

import threading
from datetime import UTC, date, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, DomainError, ValidationFailed
from portal.extensions import db as _db
from portal.models import (
    ACTIVE_STATUSES,
    ActivityFormat,
    ActivitySession,
    Booking,
    BookingStatus,
    Closure,
    Notification,
    Role,
    School,
    SchoolLevel,
    SessionStatus,
    User,
    VenueKind,
)
from portal.services import activities, bookings, calendar
from portal.timeutil import local_datetime, utcnow

ALL_LEVELS = [SchoolLevel.PRIMARY, SchoolLevel.JUNIOR_HIGH, SchoolLevel.SENIOR_HIGH, SchoolLevel.UNIVERSITY]
SESSION_TITLE = "红岩家书诵读会"


def at(day: date, hh: int, mm: int = 0):
    return local_datetime(day, time(hh, mm)).astimezone(UTC)


def session_data(day: date, start: tuple[int, int], end: tuple[int, int], resource_id: int | None, **overrides):
    values = dict(
        title_zh=SESSION_TITLE,
        title_en="Reading Hongyan letters",
        format=ActivityFormat.READING,
        starts_at=at(day, *start),
        ends_at=at(day, *end),
        capacity=30,
        registration_opens_at=utcnow() - timedelta(days=1),
        registration_closes_at=at(day, *start) - timedelta(hours=2),
        eligible_levels=ALL_LEVELS,
        venue_kind=VenueKind.RESOURCE,
        venue_resource_id=resource_id,
    )
    values.update(overrides)
    return activities.SessionData(**values)


def request_for(day: date, start: tuple[int, int], end: tuple[int, int], size: int = 30) -> bookings.BookingRequest:
    return bookings.BookingRequest(
        day=day,
        start=time(*start),
        end=time(*end),
        class_size=size,
        grade="初二（3）班",
        escorts=2,
        purpose="观察细胞结构",
        contact_phone="13800138000",
        safety_accepted=True,
    )


@pytest.fixture
def venue(db, create_resource, create_series, create_user, open_day):
    """A lab open 08–12 and 14–20 every day, a series organized by a mentor, a teacher of a
    middle school, and a plain working day ten days ahead."""
    resource = create_resource(capacity=60)
    mentor = create_user(Role.MENTOR)
    series = create_series(organizers=[mentor])
    teacher = create_user(Role.TEACHER)
    day = open_day(10)

    class Venue:
        pass

    v = Venue()
    v.resource, v.mentor, v.series, v.teacher, v.day = resource, mentor, series, teacher, day
    v.resource_id, v.mentor_id, v.series_id, v.teacher_id = resource.id, mentor.id, series.id, teacher.id
    v.manager_ids = [m.id for m in resource.managers]
    return v


def create_held_session(v, start=(9, 0), end=(11, 0), **overrides) -> ActivitySession:
    mentor = _db.session.get(User, v.mentor_id)
    series = _db.session.get(type(v.series), v.series_id)
    session = activities.create_session(mentor, series, session_data(v.day, start, end, v.resource_id, **overrides))
    _db.session.commit()
    return session


def hold_of(session_id: int) -> Booking | None:
    return _db.session.scalar(select(Booking).where(Booking.activity_session_id == session_id))


def teacher_books(v, start, end):
    teacher = _db.session.get(User, v.teacher_id)
    outcome = bookings.book(teacher, v.resource_id, request_for(v.day, start, end))
    _db.session.commit()
    return outcome


# The hold ----------------------------------------------------------------------------------


def test_session_at_a_resource_holds_its_slot_as_an_approved_booking(venue):
    session = create_held_session(venue)
    hold = hold_of(session.id)
    assert hold is not None
    assert hold.status is BookingStatus.APPROVED
    assert hold.resource_id == venue.resource_id
    assert (hold.start_at, hold.end_at) == (session.starts_at, session.ends_at)
    assert hold.school_id == venue.resource.university_id
    resource = session.venue_resource
    assert session.venue_kind is VenueKind.RESOURCE
    assert session.district == resource.university.district
    assert session.place_key == f"school:{resource.university_id}"
    assert resource.name_zh in session.venue_label and resource.room in session.venue_label


def test_a_held_session_refuses_overlapping_teacher_bookings_but_not_adjacent_ones(venue):
    create_held_session(venue, start=(9, 0), end=(11, 0))
    with pytest.raises(Conflict) as refused:
        teacher_books(venue, (10, 0), (12, 0))
    assert refused.value.field == "start"
    _db.session.rollback()
    with pytest.raises(Conflict):
        teacher_books(venue, (8, 0), (9, 30))
    _db.session.rollback()
    # Half-open: a visit may start when the session ends, or end when it starts.
    assert len(teacher_books(venue, (11, 0), (12, 0)).created) == 1
    assert len(teacher_books(venue, (8, 0), (9, 0)).created) == 1


def test_a_teacher_booking_refuses_an_overlapping_session_and_nothing_is_written(venue, create_booking):
    teacher = _db.session.get(User, venue.teacher_id)
    create_booking(resource=venue.resource, requested_by=teacher, day=venue.day, start=time(9, 0), end=time(11, 0))
    sessions_before = _db.session.scalar(select(func.count(ActivitySession.id)))
    bookings_before = _db.session.scalar(select(func.count(Booking.id)))
    with pytest.raises(Conflict) as refused:
        create_held_session(venue, start=(10, 30), end=(12, 0))
    assert refused.value.field == "venue_resource_id"
    _db.session.rollback()
    assert _db.session.scalar(select(func.count(ActivitySession.id))) == sessions_before
    assert _db.session.scalar(select(func.count(Booking.id))) == bookings_before
    # Adjacent on both sides is fine.
    assert hold_of(create_held_session(venue, start=(11, 0), end=(12, 0)).id) is not None
    assert hold_of(create_held_session(venue, start=(8, 0), end=(9, 0)).id) is not None


def test_two_sessions_cannot_hold_the_same_slot(venue):
    create_held_session(venue, start=(14, 0), end=(16, 0))
    with pytest.raises(Conflict):
        create_held_session(venue, start=(15, 0), end=(17, 0))
    _db.session.rollback()


@pytest.mark.parametrize(
    "start,end",
    [((12, 0), (14, 0)), ((11, 0), (13, 0)), ((19, 0), (21, 0))],
    ids=["lunch-break", "over-closing", "after-hours"],
)
def test_outside_opening_hours_is_refused_at_the_venue_field(venue, start, end):
    with pytest.raises(ValidationFailed) as refused:
        create_held_session(venue, start=start, end=end)
    assert refused.value.field == "venue_resource_id"
    assert "08:00–12:00" in str(refused.value.message)
    _db.session.rollback()
    assert _db.session.scalar(select(func.count(ActivitySession.id))) == 0


def test_a_closure_is_refused_at_the_venue_field(venue):
    _db.session.add(Closure(resource_id=venue.resource_id, start_date=venue.day, end_date=venue.day, reason="设备检修"))
    _db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        create_held_session(venue)
    assert refused.value.field == "venue_resource_id"
    assert "设备检修" in str(refused.value.message)
    _db.session.rollback()
    assert _db.session.scalar(select(func.count(Booking.id))) == 0


def test_a_session_larger_than_the_room_is_refused_at_capacity(venue):
    with pytest.raises(ValidationFailed) as refused:
        create_held_session(venue, capacity=61)
    assert refused.value.field == "capacity"
    _db.session.rollback()


def test_no_resource_chosen_is_refused_at_the_venue_field(venue):
    with pytest.raises(ValidationFailed) as refused:
        create_held_session(venue, venue_resource_id=None)
    assert refused.value.field == "venue_resource_id"
    _db.session.rollback()


def test_an_inactive_resource_cannot_be_chosen(venue):
    venue.resource.active = False
    _db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        create_held_session(venue)
    assert refused.value.field == "venue_resource_id"
    _db.session.rollback()


# Moving and cancelling ------------------------------------------------------------------------


def test_moving_the_session_moves_its_hold_and_frees_the_old_slot(venue):
    session = create_held_session(venue, start=(9, 0), end=(11, 0))
    sequence = hold_of(session.id).calendar_sequence
    mentor = _db.session.get(User, venue.mentor_id)
    activities.update_session(mentor, session, session_data(venue.day, (15, 0), (17, 0), venue.resource_id))
    _db.session.commit()
    hold = hold_of(session.id)
    assert (hold.start_at, hold.end_at) == (at(venue.day, 15), at(venue.day, 17))
    assert hold.status is BookingStatus.APPROVED
    assert hold.calendar_sequence == sequence + 1
    assert len(teacher_books(venue, (9, 0), (11, 0)).created) == 1  # the old slot is free
    with pytest.raises(Conflict):
        teacher_books(venue, (16, 0), (18, 0))
    _db.session.rollback()


def test_a_closure_added_later_does_not_block_editing_the_session_text(venue):
    session = create_held_session(venue)
    _db.session.add(Closure(resource_id=venue.resource_id, start_date=venue.day, end_date=venue.day, reason="设备检修"))
    _db.session.commit()
    mentor = _db.session.get(User, venue.mentor_id)
    session = _db.session.get(ActivitySession, session.id)
    activities.update_session(
        mentor, session, session_data(venue.day, (9, 0), (11, 0), venue.resource_id, description="请提前十分钟到达。")
    )
    _db.session.commit()
    assert hold_of(session.id).status is BookingStatus.APPROVED
    # Moving it is checked again, and that day is now closed.
    mentor = _db.session.get(User, venue.mentor_id)
    with pytest.raises(ValidationFailed) as refused:
        activities.update_session(
            mentor,
            _db.session.get(ActivitySession, session.id),
            session_data(venue.day, (15, 0), (17, 0), venue.resource_id),
        )
    assert refused.value.field == "venue_resource_id"
    _db.session.rollback()


def test_moving_onto_a_booked_slot_is_refused_and_changes_nothing(venue):
    session = create_held_session(venue, start=(9, 0), end=(11, 0))
    teacher_books(venue, (15, 0), (17, 0))
    mentor = _db.session.get(User, venue.mentor_id)
    session = _db.session.get(ActivitySession, session.id)
    with pytest.raises(Conflict) as refused:
        activities.update_session(mentor, session, session_data(venue.day, (16, 0), (18, 0), venue.resource_id))
    assert refused.value.field == "venue_resource_id"
    _db.session.rollback()
    session = _db.session.get(ActivitySession, session.id)
    assert session.starts_at == at(venue.day, 9)
    assert hold_of(session.id).start_at == at(venue.day, 9)


def test_moving_off_the_resource_and_cancelling_release_the_hold(venue):
    moved = create_held_session(venue, start=(9, 0), end=(11, 0))
    cancelled = create_held_session(venue, start=(15, 0), end=(17, 0))
    mentor = _db.session.get(User, venue.mentor_id)
    activities.update_session(
        mentor,
        moved,
        session_data(
            venue.day, (9, 0), (11, 0), None, venue_kind=VenueKind.PLACE, venue_name="红岩革命纪念馆", district=None
        ),
    )
    _db.session.commit()
    assert hold_of(moved.id).status is BookingStatus.CANCELLED
    mentor = _db.session.get(User, venue.mentor_id)
    activities.cancel_session(mentor, _db.session.get(ActivitySession, cancelled.id))
    _db.session.commit()
    assert _db.session.get(ActivitySession, cancelled.id).status is SessionStatus.CANCELLED
    assert hold_of(cancelled.id).status is BookingStatus.CANCELLED
    assert len(teacher_books(venue, (9, 0), (11, 0)).created) == 1
    assert len(teacher_books(venue, (15, 0), (17, 0)).created) == 1
    # Back onto the resource: the same hold row becomes active again.
    mentor = _db.session.get(User, venue.mentor_id)
    activities.update_session(
        mentor, _db.session.get(ActivitySession, moved.id), session_data(venue.day, (17, 0), (18, 0), venue.resource_id)
    )
    _db.session.commit()
    assert hold_of(moved.id).status is BookingStatus.APPROVED
    assert _db.session.scalar(select(func.count(Booking.id)).where(Booking.activity_session_id == moved.id)) == 1


def test_a_hold_cannot_be_cancelled_or_checked_in_through_the_bookings_pages(venue):
    from portal.permissions.bookings import can_cancel_booking, can_check_in, can_decide_booking

    hold = hold_of(create_held_session(venue).id)
    manager = _db.session.get(User, venue.manager_ids[0])
    assert not can_cancel_booking(manager, hold)
    assert not can_check_in(manager, hold)
    assert not can_decide_booking(manager, hold)


# Side effects -----------------------------------------------------------------------------------


def test_a_hold_notifies_no_teacher_or_manager_and_uses_no_quota(venue, create_user):
    venue.resource.monthly_quota = 1
    _db.session.commit()
    university_teacher = create_user(Role.TEACHER, school=venue.resource.university)
    watched = [venue.teacher_id, university_teacher.id, *venue.manager_ids]
    create_held_session(venue, start=(9, 0), end=(11, 0))
    create_held_session(venue, start=(15, 0), end=(16, 0))
    assert _db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id.in_(watched))) == 0
    # The university's own teacher still has the month's one booking: holds are not counted.
    outcome = bookings.book(university_teacher, venue.resource_id, request_for(venue.day, (17, 0), (18, 0)))
    _db.session.commit()
    assert len(outcome.created) == 1


def test_week_view_and_public_feed_show_only_booked(venue, client, login_as, create_user):
    session = create_held_session(venue)
    university_teacher = create_user(Role.TEACHER, school=venue.resource.university)
    monday = venue.day - timedelta(days=venue.day.weekday())
    for viewer in (None, university_teacher):
        week = bookings.week_view(venue.resource, monday, viewer)
        held = [s for d in week for s in d.segments if s.start == session.starts_at]
        assert [(s.state, s.booking) for s in held] == [("booked", None)]
    manager = _db.session.get(User, venue.manager_ids[0])
    held = [s for d in bookings.week_view(venue.resource, monday, manager) for s in d.segments if s.booking]
    assert held[0].booking.holder_label == SESSION_TITLE

    login_as(university_teacher)  # the page is for signed-in users; they see no more than "booked"
    page = client.get(f"/bookings/resources/{venue.resource_id}?week={monday.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-state="booked"' in html
    assert SESSION_TITLE not in html and "Reading Hongyan" not in html

    entries = calendar.public_entries("resource", venue.resource_id, at(venue.day, 0), at(venue.day, 23))
    assert [(e.start, e.end) for e in entries] == [(session.starts_at, session.ends_at)]
    assert all(e.title in ("Booked", "已预约") and not e.description and e.url in (None, "") for e in entries)
    feed = client.get(f"/feeds/resource/{venue.resource_id}.ics")
    assert feed.status_code == 200
    body = feed.get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 1
    assert SESSION_TITLE not in body and "Hongyan" not in body and "activities/sessions" not in body


def test_manager_day_schedule_labels_the_hold_with_the_session_title(venue, client, login_as):
    session = create_held_session(venue)
    manager = _db.session.get(User, venue.manager_ids[0])
    login_as(manager)
    page = client.get(f"/bookings/manage/schedule?resource_id={venue.resource_id}&day={venue.day.isoformat()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert SESSION_TITLE in html
    assert f"/activities/sessions/{session.id}" in html
    assert 'name="outcome"' not in html  # no class-visit check-in for a session
    detail = client.get(f"/bookings/{hold_of(session.id).id}")
    assert detail.status_code == 200 and SESSION_TITLE in detail.get_data(as_text=True)
    entries = calendar.personal_entries(manager, at(venue.day, 0), at(venue.day, 23))
    assert [e.url for e in entries if e.kind == "booking"] == [f"/activities/sessions/{session.id}"]


def test_the_admins_list_of_all_bookings_labels_the_hold(venue, client, login_as, create_user):
    create_held_session(venue)
    login_as(create_user(Role.ADMIN))
    page = client.get("/bookings/admin/all")
    assert page.status_code == 200
    assert SESSION_TITLE in page.get_data(as_text=True)


def test_a_teacher_of_the_university_cannot_open_the_hold(venue, client, login_as, create_user):
    hold = hold_of(create_held_session(venue).id)
    login_as(create_user(Role.TEACHER, school=venue.resource.university))
    assert client.get(f"/bookings/{hold.id}").status_code in (403, 404)


def test_session_form_offers_resources_and_reports_a_clash_beside_the_field(venue, client, login_as):
    teacher_books(venue, (9, 0), (11, 0))
    login_as(_db.session.get(User, venue.mentor_id))
    url = f"/activities/manage/series/{venue.series_id}/sessions/new"
    form = client.get(url).get_data(as_text=True)
    assert f'value="{venue.resource_id}"' in form and "<optgroup" in form
    data = {
        "title_zh": SESSION_TITLE,
        "format": "reading",
        "day": venue.day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:30",
        "venue_kind": "resource",
        "venue_school_id": "0",
        "venue_resource_id": str(venue.resource_id),
        "district": "",
        "capacity": "30",
        "registration_opens_at": (venue.day - timedelta(days=5)).isoformat() + "T08:00",
        "registration_closes_at": (venue.day - timedelta(days=1)).isoformat() + "T20:00",
        "eligible_levels": ["junior_high"],
        "host_id": "0",
    }
    refused = client.post(url, data=data)
    assert refused.status_code in (200, 409, 422)
    html = refused.get_data(as_text=True)
    assert 'id="venue_resource_id-error"' in html
    assert _db.session.scalar(select(func.count(ActivitySession.id))) == 0
    data["start_time"], data["end_time"] = "14:00", "15:30"
    created = client.post(url, data=data)
    assert created.status_code == 302
    session = _db.session.scalar(select(ActivitySession))
    assert session.venue_resource_id == venue.resource_id
    assert hold_of(session.id).status is BookingStatus.APPROVED


# Concurrency ------------------------------------------------------------------------------------------

ATTEMPTS = 24
TRIALS = 3


def run_at_once(app, workers) -> list[str]:
    barrier = threading.Barrier(len(workers), timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(worker):
        with app.app_context():
            try:
                barrier.wait()
                worker()
                _db.session.commit()
                result = "won"
            except DomainError:
                _db.session.rollback()
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - every unexpected failure is reported
                _db.session.rollback()
                result = f"error:{type(exc).__name__}:{exc}"
            finally:
                _db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(workers), "a thread did not finish"
    return outcomes


@pytest.mark.parametrize("trial", range(TRIALS))
def test_teachers_and_sessions_racing_for_one_slot_leave_exactly_one_winner(app, db, venue, trial):
    schools = [School(name_zh=f"竞争学校{n}", level=SchoolLevel.JUNIOR_HIGH, district="yuzhong") for n in range(12)]
    db.session.add_all(schools)
    db.session.flush()
    teachers = [
        User(email=f"venue-race{n}@example.org", display_name=f"教师{n}", role=Role.TEACHER, school_id=s.id)
        for n, s in enumerate(schools)
    ]
    for user in teachers:
        user.password_hash = "!"
    db.session.add_all(teachers)
    db.session.commit()
    teacher_ids = [t.id for t in teachers]
    # Overlapping but different spans, so only the database's rule can decide.
    spans = [((9, 0), (11, 0)), ((10, 0), (11, 30)), ((9, 30), (10, 30))]

    def teacher_worker(n):
        def work():
            teacher = _db.session.get(User, teacher_ids[n])
            bookings.book(teacher, venue.resource_id, request_for(venue.day, *spans[n % 3]))

        return work

    def session_worker(n):
        def work():
            mentor = _db.session.get(User, venue.mentor_id)
            series = _db.session.get(type(venue.series), venue.series_id)
            activities.create_session(mentor, series, session_data(venue.day, *spans[n % 3], venue.resource_id))

        return work

    workers = []
    for n in range(ATTEMPTS // 2):
        workers += [teacher_worker(n), session_worker(n)]
    outcomes = run_at_once(app, workers)
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("won") == 1
    db.session.commit()  # a fresh snapshot: the threads committed after ours began
    active = db.session.scalars(
        select(Booking).where(Booking.resource_id == venue.resource_id, Booking.status.in_(ACTIVE_STATUSES))
    ).all()
    assert len(active) == 1
    sessions = db.session.scalar(select(func.count(ActivitySession.id)))
    # A session exists only if its hold won; a refused session left nothing behind.
    assert sessions == (1 if active[0].activity_session_id else 0)


# Demo ------------------------------------------------------------------------------------------------


def test_demo_holds_library_sessions_inside_opening_hours_without_touching_the_lab_scenario(app, db):
    from portal.demo import seed_demo

    ctx = seed_demo()
    db.session.commit()
    held = db.session.scalars(select(ActivitySession).where(ActivitySession.venue_kind == VenueKind.RESOURCE)).all()
    assert len(held) == 2
    for session in held:
        hold = hold_of(session.id)
        assert hold.status is BookingStatus.APPROVED
        assert (hold.start_at, hold.end_at, hold.resource_id) == (
            session.starts_at,
            session.ends_at,
            session.venue_resource_id,
        )
        assert session.starts_at > utcnow()
        # Open then, and no other booking overlaps the hold.
        assert bookings.resource_availability(
            hold.resource_id, hold.start_at, hold.end_at, ignore_booking_id=hold.id
        ).is_free
    physics = ctx.extra["resources"]["cqu_physics"]
    wednesday = ctx.extra["next_wednesday"]
    assert all(session.venue_resource_id != physics.id for session in held)
    assert bookings.resource_availability(physics.id, at(wednesday, 14), at(wednesday, 16)).is_free


def test_a_second_lock_in_one_transaction_keeps_the_first_and_its_writes(app, db, create_user):
    """A session created with a host locks the mentor, then the resource: on SQLite the second
    `lock_for_write` must neither restart the transaction (dropping the first lock) nor refuse."""
    from portal.database import lock_for_write

    first, second = create_user(Role.MENTOR), create_user(Role.MENTOR)
    first_id, second_id = first.id, second.id
    db.session.commit()
    locked = lock_for_write(User, first_id)
    locked.display_name = "锁内修改"
    assert lock_for_write(User, second_id).id == second_id
    db.session.commit()
    assert db.session.get(User, first_id).display_name == "锁内修改"
