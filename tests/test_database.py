"""The shared database primitives: UTC round trips, write serialisation, the overlap rule,
and the cross-area commitment check that keeps a person from being double-booked."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from portal.database import lock_for_write
from portal.errors import Conflict
from portal.extensions import db as _db
from portal.models import Role, User
from portal.services import commitments
from portal.timeutil import SHANGHAI, overlaps


def test_datetimes_come_back_aware_utc(db, create_user):
    user = create_user(Role.TEACHER)
    db.session.expire_all()
    assert user.created_at.tzinfo is not None and user.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception):  # noqa: B017  naive datetimes are refused
        user.created_at = datetime(2026, 1, 1)
        db.session.flush()
    db.session.rollback()


def test_half_open_overlap():
    nine = datetime(2026, 12, 9, 9, tzinfo=SHANGHAI)
    eleven, one = nine + timedelta(hours=2), nine + timedelta(hours=4)
    assert not overlaps(nine, eleven, eleven, one)
    assert overlaps(nine, eleven + timedelta(minutes=1), eleven, one)


def test_lock_for_write_serialises_read_modify_write(app, db, create_user):
    """20 threads each read a counter, pause, and write counter+1 under the lock: no update is lost."""
    user_id = create_user(Role.TEACHER).id
    errors: list[BaseException] = []

    def bump():
        try:
            with app.app_context():
                row = lock_for_write(User, user_id)
                seen = row.session_version
                time.sleep(0.01)
                row.session_version = seen + 1
                _db.session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    db.session.rollback()  # end the test's own read snapshot
    assert db.session.get(User, user_id).session_version == 21


@pytest.fixture
def fixed_commitments():
    """A provider standing for an area: one lecture 14:00–16:00 at school 1."""
    start = datetime(2026, 12, 9, 6, tzinfo=UTC)  # 14:00 in Shanghai
    items = [commitments.Commitment("lecture", 1, start, start + timedelta(hours=2), "school:1", "讲座")]
    commitments.register_provider("test", lambda user, lo, hi: [c for c in items if overlaps(lo, hi, c.start, c.end)])
    yield start
    commitments._providers.pop("test", None)


def test_commitments_respect_overlap_and_travel_buffer(app, db, create_user, fixed_commitments):
    mentor = create_user(Role.MENTOR)
    two_pm = fixed_commitments
    four_pm = two_pm + timedelta(hours=2)
    with app.test_request_context():
        # Same place, back to back: fine (half-open).
        commitments.ensure_free(mentor, four_pm, four_pm + timedelta(hours=1), "school:1")
        # Another place within 60 minutes: too close to travel.
        with pytest.raises(Conflict):
            commitments.ensure_free(mentor, four_pm + timedelta(minutes=30), four_pm + timedelta(hours=2), "school:2")
        # Another place exactly 60 minutes later: fine.
        commitments.ensure_free(mentor, four_pm + timedelta(hours=1), four_pm + timedelta(hours=2), "school:2")
        # Overlap anywhere: refused; unless it is the same record being moved.
        with pytest.raises(Conflict):
            commitments.ensure_free(mentor, two_pm, four_pm, None)
        commitments.ensure_free(mentor, two_pm, four_pm, None, ignore=("lecture", 1))
