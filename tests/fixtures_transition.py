"""Factories for transition tests: a complete 1124 group, plans, consents, check-ins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from portal.models import Role, SchoolLevel
from portal.models.transition import CheckInMode, ConsentSubject, Dimension, GroupRole
from portal.timeutil import local_today, utcnow

ADULT_BIRTH = date(2000, 1, 1)
ALL_DIMENSIONS = {Dimension.ACADEMIC, Dimension.PSYCHOLOGICAL, Dimension.CAREER}


@dataclass
class GroupSetup:
    group: object
    mentor: object
    activist: object
    cadres: list
    mentees: list = field(default_factory=list)
    university: object = None


@pytest.fixture
def create_transition_group(db, create_user, create_school):
    """`create_group(activate=True, mentees=0)`: a mentor, one activist, two cadres, N mentees."""

    def factory(activate: bool = True, mentees: int = 0, complete: bool = True) -> GroupSetup:
        from portal.services import transition

        university = create_school(level=SchoolLevel.UNIVERSITY)
        mentor = create_user(Role.MENTOR, school=university, display_name="导师甲")
        activist = create_user(Role.STUDENT, school=university, birth_date=ADULT_BIRTH, display_name="积极分子乙")
        cadres = [
            create_user(Role.STUDENT, school=university, birth_date=ADULT_BIRTH, display_name=f"学生干部{i}")
            for i in (1, 2)
        ]
        group = transition.create_group(mentor, "测试工作小组", mentor)
        db.session.commit()
        setup = GroupSetup(group=group, mentor=mentor, activist=activist, cadres=cadres, university=university)
        if complete:
            transition.add_member(mentor, group, activist, GroupRole.ACTIVIST)
            db.session.commit()
            for cadre in cadres:
                transition.add_member(mentor, group, cadre, GroupRole.CADRE)
                db.session.commit()
        if activate:
            transition.activate_group(mentor, group)
            db.session.commit()
        for i in range(mentees):
            student = create_user(Role.STUDENT, school=university, birth_date=ADULT_BIRTH, display_name=f"新生{i}")
            transition.add_member(mentor, group, student, GroupRole.MENTEE)
            db.session.commit()
            setup.mentees.append(student)
        return setup

    return factory


@pytest.fixture
def create_transition_plan(db, create_user, create_transition_group, create_school):
    """`create_plan(setup=None, student=None, minor=False, consent=True, start=...)` → (plan, setup)."""

    def factory(setup: GroupSetup | None = None, student=None, minor: bool = False, consent: bool = True, **kw):
        from portal.services import transition

        setup = setup or create_transition_group()
        if student is None:
            student = create_user(
                Role.STUDENT,
                school=setup.university,
                birth_date=date(2010, 1, 1) if minor else ADULT_BIRTH,
                display_name=kw.pop("name", "新生丙"),
            )
        start = kw.pop("start", local_today())
        plan = transition.create_plan(setup.mentor, setup.group, student, start)
        db.session.commit()
        if consent:
            transition.record_consent(
                setup.mentor, plan, ConsentSubject.STUDENT, student.display_name, ALL_DIMENSIONS, start
            )
            if student.is_minor:
                transition.record_consent(
                    setup.mentor, plan, ConsentSubject.GUARDIAN, "监护人", ALL_DIMENSIONS, start, "母亲"
                )
            db.session.commit()
        return plan, setup

    return factory


@pytest.fixture
def record_transition_checkin(db):
    """`record_checkin(actor, plan, days_ago=1, **values)` through the real service."""

    def factory(actor, plan, days_ago: float = 1, **values):
        from portal.services import transition

        notes = {d: values.pop(f"notes_{d.value}") for d in Dimension if f"notes_{d.value}" in values}
        data = transition.CheckInRecord(
            held_at=utcnow() - timedelta(days=days_ago),
            mode=values.pop("mode", CheckInMode.IN_PERSON),
            notes=notes,
            **values,
        )
        checkin = transition.record_checkin(actor, plan, data)
        db.session.commit()
        return checkin

    return factory


@pytest.fixture
def senior_high_teacher(create_user, create_school):
    def factory(**overrides):
        school = overrides.pop("school", None) or create_school(level=SchoolLevel.SENIOR_HIGH)
        return create_user(Role.TEACHER, school=school, **overrides)

    return factory
