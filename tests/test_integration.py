"""Rules that cross areas: one person's commitments in every area, one calendar across areas."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.errors import Conflict
from portal.models import LectureStatus, Role
from portal.services import calendar, commitments, lectures
from tests.fixtures_lectures import local_at


def test_a_mentor_hosting_a_session_cannot_claim_a_lecture_too_close_elsewhere(
    app, db, create_user, create_lecture, create_activity_session
):
    mentor = create_user(Role.MENTOR)
    # The mentor hosts a visit at 红岩革命纪念馆 on day 3, 10:00–12:00.
    create_activity_session(host_id=mentor.id, starts_at=local_at(3, 10), ends_at=local_at(3, 12))
    # A school asks for a lecture on day 3 between 12:30 and 17:00: 30 minutes is too little to travel.
    lecture = create_lecture(windows=[(local_at(3, 12, 30), local_at(3, 17))])
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(Conflict) as raised:
            lectures.claim(mentor, lecture.id, lecture.windows[0].id, start_at=local_at(3, 12, 30))
        assert "参观红岩革命纪念馆" in str(raised.value.message)
        db.session.rollback()
        # An hour after the visit ends, the claim goes through.
        lectures.claim(mentor, lecture.id, lecture.windows[0].id, start_at=local_at(3, 13))
        db.session.commit()
    db.session.refresh(lecture)
    assert lecture.status is LectureStatus.CLAIMED


def test_commitments_see_every_area(app, db, create_user, create_lecture, create_activity_session):
    mentor = create_user(Role.MENTOR)
    create_activity_session(host_id=mentor.id, starts_at=local_at(5, 9), ends_at=local_at(5, 11))
    create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED, windows=[(local_at(6, 14), local_at(6, 17))])
    with app.test_request_context():
        found = commitments.commitments_for(mentor, local_at(4, 0), local_at(7, 0))
    assert {c.kind for c in found} == {"session", "lecture"}


def test_personal_calendar_merges_areas_in_time_order(app, db, create_user, create_lecture, create_activity_session):
    mentor = create_user(Role.MENTOR)
    create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED, windows=[(local_at(6, 14), local_at(6, 17))])
    create_activity_session(host_id=mentor.id, starts_at=local_at(5, 9), ends_at=local_at(5, 11))
    with app.test_request_context():
        entries = calendar.personal_entries(mentor, local_at(0, 0), local_at(10, 0))
    assert [e.kind for e in entries] == ["session", "lecture"]
    assert entries[0].start < entries[1].start
    assert len({e.uid for e in entries}) == 2
    assert all(e.start.utcoffset() == timedelta(0) for e in entries)
