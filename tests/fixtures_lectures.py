"""Factories for the lectures area (Indico style: `create_lecture(**overrides)`)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from portal.models import (
    LectureOffer,
    LectureOfferSlot,
    LectureRequest,
    LectureStatus,
    LectureTheme,
    LectureWindow,
    Role,
    SchoolLevel,
)
from portal.services import commitments
from portal.timeutil import local_datetime, local_today, utcnow


def local_at(days_ahead: int, hour: int, minute: int = 0):
    """Aware datetime `days_ahead` days from today (Shanghai) at hour:minute local time."""
    return local_datetime(local_today() + timedelta(days=days_ahead), time(hour, minute))


@pytest.fixture
def school_teacher(create_user, create_school):
    def factory(**school_overrides):
        school = create_school(level=SchoolLevel.JUNIOR_HIGH, **school_overrides)
        return create_user(Role.TEACHER, school=school)

    return factory


@pytest.fixture
def create_lecture(db, create_user, school_teacher):
    """An open request with two candidate windows (days 3 and 4, 14:00–17:00 local);
    pass `mentor=` and `status=` to get a claimed/confirmed/delivered lecture whose time is
    the first window's start (or `starts_at=`)."""

    def factory(
        teacher=None,
        windows=None,
        mentor=None,
        status=None,
        starts_at=None,
        **overrides,
    ):
        teacher = teacher or school_teacher()
        windows = windows or [(local_at(3, 14), local_at(3, 17)), (local_at(4, 14), local_at(4, 17))]
        values = {
            "school_id": teacher.school_id,
            "requested_by_id": teacher.id,
            "topic": "红岩精神与新时代青年",
            "theme": LectureTheme.HONGYAN,
            "grades": ",j1,j2,",
            "audience_size": 120,
            "duration_minutes": 90,
            "address": "渝中区测试路1号",
            "room": "报告厅",
            "status": LectureStatus.OPEN,
        }
        values.update(overrides)
        lecture = LectureRequest(**values)
        lecture.windows = [LectureWindow(starts_at=s, ends_at=e) for s, e in windows]
        if mentor is not None:
            start = starts_at or windows[0][0]
            lecture.mentor_id = mentor.id
            lecture.starts_at = start
            lecture.ends_at = start + timedelta(minutes=lecture.duration_minutes)
            lecture.status = status or LectureStatus.CLAIMED
            lecture.claimed_at = utcnow()
            if lecture.status is not LectureStatus.CLAIMED:
                lecture.confirmed_at = utcnow()
            if lecture.status in (LectureStatus.DELIVERED, LectureStatus.REVIEWED):
                lecture.attendance = 100
                lecture.delivered_at = utcnow()
        elif status is not None:
            lecture.status = status
        db.session.add(lecture)
        db.session.commit()
        return lecture

    return factory


@pytest.fixture
def create_offer(db, create_user):
    def factory(mentor=None, slots=None, **overrides):
        mentor = mentor or create_user(Role.MENTOR)
        slots = slots or [(local_at(5, 9), local_at(5, 10, 30)), (local_at(6, 9), local_at(6, 10, 30))]
        values = {
            "mentor_id": mentor.id,
            "topic": "科学家精神：从钱学森说起",
            "theme": LectureTheme.SCIENTISTS,
            "abstract": "讲述老一辈科学家的报国故事。",
            "grades": ",s1,s2,",
        }
        values.update(overrides)
        offer = LectureOffer(**values)
        offer.slots = [LectureOfferSlot(starts_at=s, ends_at=e) for s, e in slots]
        db.session.add(offer)
        db.session.commit()
        return offer

    return factory


@pytest.fixture
def other_area_commitment():
    """Stand in for another area (activity sessions, check-ins): register a commitment
    provider serving the commitments added here, and remove it after the test."""
    held: list[tuple[int, commitments.Commitment]] = []

    def provider(user, start, end):
        return [c for user_id, c in held if user_id == user.id and c.start < end and start < c.end]

    commitments.register_provider("test_other_area", provider)

    def add(user, start, end, place="venue:红岩革命纪念馆", label="红岩主题活动"):
        commitment = commitments.Commitment("test_other_area", len(held) + 1, start, end, place, label)
        held.append((user.id, commitment))
        return commitment

    yield add
    commitments._providers.pop("test_other_area", None)
