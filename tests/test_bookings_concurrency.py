"""Many teachers at once for one slot: the real path admits exactly one; a naive
check-then-insert (kept here only, as a negative control) admits several.

Real threads, each in its own app context and database session, against the suite's
database (SQLite file in WAL mode, or the throw-away PostgreSQL cluster).
"""

from __future__ import annotations

import threading
from datetime import UTC, time

import pytest
from sqlalchemy import func, select, text

from portal.errors import DomainError
from portal.extensions import db as _db
from portal.models import ACTIVE_STATUSES, Booking, BookingStatus, Role, School, SchoolLevel, User
from portal.services import bookings
from portal.timeutil import local_datetime, local_today, utcnow

ATTEMPTS = 50
TRIALS = 20


def run_at_once(app, worker, attempts: int) -> list[str]:
    """Start `attempts` threads that wait at a barrier, then call `worker()` in their own app
    context; returns one outcome per thread: "won", "refused" or "error:<type>"."""
    barrier = threading.Barrier(attempts, timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run():
        with app.app_context():
            try:
                worker(barrier)
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

    threads = [threading.Thread(target=run) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == attempts, "a thread did not finish"
    return outcomes


@pytest.fixture
def contest(db, create_resource, open_day):
    """A resource open all week without quota, and 50 teachers of different schools."""
    resource = create_resource(capacity=60)
    # Fifty teachers of fifty schools, without the factory's (deliberately slow) password hashing.
    schools = [
        School(name_zh=f"竞争学校{n}", level=SchoolLevel.JUNIOR_HIGH, district="yuzhong") for n in range(ATTEMPTS)
    ]
    db.session.add_all(schools)
    db.session.flush()
    teachers = [
        User(
            email=f"race{n}@example.org",
            display_name=f"教师{n}",
            role=Role.TEACHER,
            school_id=school.id,
            password_hash="!",
        )
        for n, school in enumerate(schools)
    ]
    db.session.add_all(teachers)
    db.session.commit()
    days = [open_day(5)]
    while len(days) < 4:
        days.append(open_day((days[-1] - local_today()).days + 1))
    return resource, [t.id for t in teachers], days


def slot_for_trial(days, trial: int):
    """20 trials: distinct one-hour afternoon slots over four open days."""
    day = days[trial // 5]
    hour = 14 + trial % 5
    return day, time(hour, 0), time(hour + 1, 0)


def active_count(resource_id: int, day, start, end) -> int:
    s, e = local_datetime(day, start), local_datetime(day, end)
    _db.session.commit()  # a fresh snapshot: the threads committed after ours began
    return _db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.resource_id == resource_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.start_at < e,
            Booking.end_at > s,
        )
    )


def real_attempt(resource_id: int, teacher_ids: list[int], day, start, end):
    """One thread's call of the real service; each thread takes the next teacher."""
    counter = iter(range(len(teacher_ids)))
    counter_lock = threading.Lock()

    def attempt(barrier):
        with counter_lock:
            index = next(counter)
        teacher = _db.session.get(User, teacher_ids[index])
        _db.session.rollback()  # end the read before the race; `book` must be the first write
        barrier.wait()
        request = bookings.BookingRequest(
            day=day,
            start=start,
            end=end,
            class_size=30,
            grade="初一（1）班",
            escorts=2,
            purpose="参观",
            contact_phone="13800138000",
            safety_accepted=True,
        )
        bookings.book(teacher, resource_id, request)

    return attempt


def test_fifty_parallel_requests_for_one_slot_admit_exactly_one_in_each_of_twenty_trials(app, db, contest):
    resource, teacher_ids, first_day = contest
    for trial in range(TRIALS):
        day, start, end = slot_for_trial(first_day, trial)
        attempt = real_attempt(resource.id, teacher_ids, day, start, end)
        outcomes = run_at_once(app, attempt, ATTEMPTS)
        errors = [o for o in outcomes if o.startswith("error")]
        assert errors == [], errors[:3]
        assert outcomes.count("won") == 1, (trial, outcomes.count("won"))
        assert active_count(resource.id, day, start, end) == 1


def naive_book(teacher_id: int, resource_id: int, start, end, barrier) -> None:
    """THE WRONG WAY, for the negative control only: check in one read, then insert."""
    taken = _db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.resource_id == resource_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.start_at < end,
            Booking.end_at > start,
        )
    )
    _db.session.rollback()  # the check and the write in separate transactions, as a form validator would
    barrier.wait()  # everyone has looked before anyone writes: the race made certain
    if taken:
        raise DomainError("taken")
    teacher = _db.session.get(User, teacher_id)
    _db.session.add(
        Booking(
            resource_id=resource_id,
            school_id=teacher.school_id,
            requested_by_id=teacher.id,
            start_at=start.astimezone(UTC),
            end_at=end.astimezone(UTC),
            status=BookingStatus.PENDING,
            class_size=30,
            grade="初一（1）班",
            escorts=2,
            purpose="参观",
            contact_phone="13800138000",
            safety_accepted_at=utcnow(),
        )
    )
    _db.session.flush()


def _naive_trial(app, resource_id, teacher_ids, day, start, end) -> list[str]:
    s, e = local_datetime(day, start), local_datetime(day, end)
    counter = iter(range(ATTEMPTS))
    counter_lock = threading.Lock()

    def attempt(barrier):
        with counter_lock:
            index = next(counter)
        naive_book(teacher_ids[index], resource_id, s, e, barrier)

    return run_at_once(app, attempt, ATTEMPTS)


@pytest.fixture
def without_exclusion_constraint(db):
    """On PostgreSQL the exclusion constraint would save even the naive path; drop it for the
    control (and put it back), so the control shows what the code alone would do."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE booking DROP CONSTRAINT ex_booking_no_overlap"))
    try:
        yield
    finally:
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM booking"))
            conn.execute(
                text(
                    "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
                    "(resource_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
                    "WHERE (status IN ('pending', 'approved'))"
                )
            )


def test_negative_control_naive_check_then_insert_admits_several(app, db, contest, without_exclusion_constraint):
    resource, teacher_ids, first_day = contest
    day, start, end = slot_for_trial(first_day, 0)
    outcomes = _naive_trial(app, resource.id, teacher_ids, day, start, end)
    winners = outcomes.count("won")
    print(f"naive check-then-insert: {winners} of {ATTEMPTS} won one slot")
    assert winners > 1, outcomes
    assert active_count(resource.id, day, start, end) == winners


def test_on_postgresql_the_exclusion_constraint_alone_stops_the_naive_path(app, db, contest):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only; SQLite relies on the write lock")
    resource, teacher_ids, first_day = contest
    day, start, end = slot_for_trial(first_day, 1)
    outcomes = _naive_trial(app, resource.id, teacher_ids, day, start, end)
    assert outcomes.count("won") == 1
    assert all(o == "won" or "IntegrityError" in o for o in outcomes)
    assert active_count(resource.id, day, start, end) == 1
