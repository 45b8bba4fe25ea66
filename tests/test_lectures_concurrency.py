"""Under concurrency the database decides: real threads, each in its own app context and
transaction, calling the real service and committing (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.errors import Conflict
from portal.extensions import db as _db
from portal.models import LectureRequest, LectureStatus, Role, User
from portal.services import lectures as service
from tests.fixtures_lectures import local_at

TRIALS = 20
THREADS = 10


def run_in_parallel(app, jobs):
    """Run each job(…) in its own thread and app context at the same moment; returns
    ("ok" | "conflict", value) per job, and re-raises anything unexpected."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        with app.app_context():
            try:
                barrier.wait()
                value = job()
                _db.session.commit()
                results[index] = ("ok", value)
            except Conflict:
                _db.session.rollback()
                results[index] = ("conflict", None)
            except Exception as exc:  # pragma: no cover - surfaced below
                _db.session.rollback()
                results[index] = ("error", repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    return results


def claim_job(mentor_id, lecture_id, window_id):
    def job():
        mentor = _db.session.get(User, mentor_id)
        return service.claim(mentor, lecture_id, window_id).mentor_id

    return job


def test_many_mentors_claiming_one_request_exactly_one_wins(app, db, create_user, create_lecture):
    mentors = [create_user(Role.MENTOR) for _ in range(THREADS)]
    mentor_ids = [m.id for m in mentors]
    for _trial in range(TRIALS):
        lecture = create_lecture()
        lecture_id, window_id = lecture.id, lecture.windows[0].id
        db.session.commit()
        results = run_in_parallel(app, [claim_job(mid, lecture_id, window_id) for mid in mentor_ids])
        winners = [value for status, value in results if status == "ok"]
        assert len(winners) == 1, results
        assert sum(1 for status, _ in results if status == "conflict") == THREADS - 1
        db.session.expire_all()
        stored = db.session.get(LectureRequest, lecture_id)
        assert stored.status is LectureStatus.CLAIMED and stored.mentor_id == winners[0]
        # Free the mentors' time for the next trial.
        stored.status = LectureStatus.CANCELLED
        db.session.commit()


def test_one_mentor_claiming_overlapping_requests_gets_exactly_one(app, db, create_user, create_lecture):
    for trial in range(TRIALS):
        mentor = create_user(Role.MENTOR)
        day = 3 + trial % 5
        lectures = [create_lecture(windows=[(local_at(day, 9), local_at(day, 12))]) for _ in range(THREADS)]
        jobs = [claim_job(mentor.id, lec.id, lec.windows[0].id) for lec in lectures]
        db.session.commit()
        results = run_in_parallel(app, jobs)
        assert sum(1 for status, _ in results if status == "ok") == 1, results
        db.session.expire_all()
        held = db.session.scalar(
            select(func.count(LectureRequest.id)).where(
                LectureRequest.mentor_id == mentor.id, LectureRequest.status == LectureStatus.CLAIMED
            )
        )
        assert held == 1


def test_teachers_booking_one_offer_slot_at_once_exactly_one_wins(app, db, create_user, school_teacher, create_offer):
    teachers = [school_teacher() for _ in range(THREADS)]
    teacher_ids = [t.id for t in teachers]
    for _trial in range(5):
        offer = create_offer()
        offer_id, slot_id = offer.id, offer.slots[0].id
        db.session.commit()

        def book_job(teacher_id, offer_id=offer_id, slot_id=slot_id):
            def job():
                teacher = _db.session.get(User, teacher_id)
                return service.book_offer(
                    teacher, offer_id, slot_id, service.BookingData(grades=["s1"], audience_size=40)
                ).id

            return job

        results = run_in_parallel(app, [book_job(tid) for tid in teacher_ids])
        assert sum(1 for status, _ in results if status == "ok") == 1, results
        db.session.expire_all()
        assert db.session.scalar(select(func.count(LectureRequest.id)).where(LectureRequest.offer_id == offer_id)) == 1
