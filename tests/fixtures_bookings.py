"""Factories for the booking area: `create_resource(**overrides)`, `create_booking(**overrides)`,
and `open_day(offset)` — a plain working day (no holiday, no closure) at least `offset` days ahead."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

import pytest

from portal.models import Booking, BookingStatus, OpeningHours, Resource, ResourceKind, Role, SchoolLevel
from portal.services import holidays
from portal.timeutil import local_datetime, local_today, utcnow

ALL_WEEK = {weekday: [(time(8, 0), time(12, 0)), (time(14, 0), time(20, 0))] for weekday in range(7)}


@pytest.fixture
def create_resource(db, create_school, create_user):
    def factory(hours=None, managers=None, **overrides):
        if "university" not in overrides and "university_id" not in overrides:
            overrides["university"] = create_school(level=SchoolLevel.UNIVERSITY, district="shapingba")
        values = {
            "kind": ResourceKind.LAB,
            "name_zh": "物理实验教学中心",
            "name_en": "Physics Teaching Lab",
            "building": "理科楼",
            "room": "A201",
            "capacity": 60,
            "equipment": "示波器 30 台\n显微镜 40 台",
            "safety_rules": "进入实验室须穿实验服。",
            "monthly_quota": None,
        }
        values.update(overrides)
        resource = Resource(**values)
        if managers is None:
            university = values.get("university")
            managers = [create_user(Role.RESOURCE_MANAGER, school=university)] if university is not None else []
        resource.managers = list(managers)
        week = ALL_WEEK if hours is None else hours
        resource.hours = [
            OpeningHours(weekday=wd, opens=o, closes=c) for wd, intervals in week.items() for o, c in intervals
        ]
        db.session.add(resource)
        db.session.commit()
        return resource

    return factory


@pytest.fixture
def open_day(db):
    """The first day at least `offset` days from today that is neither a holiday nor a 调休 day."""

    def find(offset: int = 7, weekday: int | None = None) -> date:
        day = local_today() + timedelta(days=offset)
        while True:
            info = holidays.day_info(day)
            if not info.is_holiday and not info.is_makeup_workday and (weekday is None or day.weekday() == weekday):
                return day
            day += timedelta(days=1)

    return find


@pytest.fixture
def create_booking(db, create_resource, create_user):
    def factory(**overrides):
        resource = overrides.pop("resource", None) or create_resource()
        teacher = overrides.pop("requested_by", None) or create_user(Role.TEACHER)
        day = overrides.pop("day", local_today() + timedelta(days=10))
        start = overrides.pop("start", time(9, 0))
        end = overrides.pop("end", time(11, 0))
        values = {
            "resource_id": resource.id,
            "school_id": teacher.school_id,
            "requested_by_id": teacher.id,
            "start_at": local_datetime(day, start).astimezone(UTC),
            "end_at": local_datetime(day, end).astimezone(UTC),
            "status": BookingStatus.PENDING,
            "class_size": 30,
            "grade": "初二（3）班",
            "escorts": 2,
            "purpose": "观察细胞结构",
            "contact_phone": "13800138000",
            "safety_accepted_at": utcnow(),
        }
        values.update(overrides)
        booking = Booking(**values)
        db.session.add(booking)
        db.session.commit()
        return booking

    return factory
