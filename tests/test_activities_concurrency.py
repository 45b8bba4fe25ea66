"""Many people register for the same session at once, on the real database (SQLite or
PostgreSQL): never more than `capacity` seats, the rest waitlisted in the order they got
the lock, and no unexpected exception."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import ActivitySession, Registration, RegistrationStatus, Role, SchoolLevel, User
from portal.services import activities

PARALLEL = 120
CAPACITY = 30


def _run_in_threads(app, work, count):
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def target(index):
        with app.app_context():
            try:
                barrier.wait()
                results[index] = work(index)
                _db.session.commit()
            except Exception as exc:  # every unexpected exception fails the test
                _db.session.rollback()
                errors.append(repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_parallel_registrations_never_exceed_capacity(app, db, create_activity_session, create_school):
    session = create_activity_session(capacity=CAPACITY)
    school = create_school(level=SchoolLevel.JUNIOR_HIGH)
    students = []
    for i in range(PARALLEL):
        # A fixed hash: these users never log in, and 120 real hashes would dominate the run.
        user = User(
            email=f"p{i}@example.org",
            display_name=f"学生{i}",
            role=Role.STUDENT,
            school_id=school.id,
            password_hash="-",
        )
        db.session.add(user)
        students.append(user)
    db.session.commit()
    ids = [s.id for s in students]
    session_id = session.id

    def work(index):
        user = _db.session.get(User, ids[index])
        registration = activities.register(user, session_id)
        return registration.status

    results, errors = _run_in_threads(app, work, PARALLEL)
    assert errors == []
    assert results.count(RegistrationStatus.ADMITTED) == CAPACITY
    assert results.count(RegistrationStatus.WAITLISTED) == PARALLEL - CAPACITY
    db.session.commit()  # end the test's read snapshot
    assert db.session.get(ActivitySession, session_id).seats_taken == CAPACITY
    admitted = db.session.scalar(
        select(func.coalesce(func.sum(Registration.seats), 0)).where(
            Registration.session_id == session_id, Registration.status == RegistrationStatus.ADMITTED
        )
    )
    assert admitted == CAPACITY
    # Order: the queue numbers are 1..N without gaps or repeats, the first 30 admitted.
    rows = db.session.execute(
        select(Registration.queue_number, Registration.status)
        .where(Registration.session_id == session_id)
        .order_by(Registration.queue_number)
    ).all()
    assert [q for q, _ in rows] == list(range(1, PARALLEL + 1))
    assert all(s is RegistrationStatus.ADMITTED for _, s in rows[:CAPACITY])
    assert all(s is RegistrationStatus.WAITLISTED for _, s in rows[CAPACITY:])

    # Ten admitted people cancel at once: exactly the next ten in the queue move up.
    cancelling = db.session.execute(
        select(Registration.id, Registration.user_id)
        .where(Registration.session_id == session_id, Registration.status == RegistrationStatus.ADMITTED)
        .limit(10)
    ).all()

    def cancel(index):
        reg_id, user_id = cancelling[index]
        return activities.cancel_registration(_db.session.get(User, user_id), reg_id).status

    _, errors = _run_in_threads(app, cancel, len(cancelling))
    assert errors == []
    db.session.commit()  # end the test's read snapshot
    assert db.session.get(ActivitySession, session_id).seats_taken == CAPACITY
    rows = db.session.execute(
        select(Registration.queue_number, Registration.status)
        .where(Registration.session_id == session_id, Registration.status != RegistrationStatus.CANCELLED)
        .order_by(Registration.queue_number)
    ).all()
    assert all(s is RegistrationStatus.ADMITTED for _, s in rows[:CAPACITY])
    assert all(s is RegistrationStatus.WAITLISTED for _, s in rows[CAPACITY:])
    assert [q for q, _ in rows[:CAPACITY]][-1] == CAPACITY + 10


def test_parallel_double_clicks_register_once(app, db, create_activity_session, create_user, create_school):
    session = create_activity_session(capacity=5)
    teacher = create_user(Role.TEACHER, school=create_school(level=SchoolLevel.PRIMARY))
    teacher_id, session_id = teacher.id, session.id

    def work(index):
        try:
            return activities.register(
                _db.session.get(User, teacher_id), session_id, class_label="一（1）班", seats=4
            ).status
        except activities.Conflict:
            _db.session.rollback()
            return "duplicate"

    results, errors = _run_in_threads(app, work, 12)
    assert errors == []
    assert results.count(RegistrationStatus.ADMITTED) == 1
    assert results.count("duplicate") == 11
    db.session.commit()  # end the test's read snapshot
    assert db.session.get(ActivitySession, session_id).seats_taken == 4


def test_the_database_refuses_overfilling_even_without_the_service(db, create_activity_session):
    """The CHECK constraint is the last guard: seats_taken never exceeds capacity."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    session = create_activity_session(capacity=2)
    session.seats_taken = 3
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
