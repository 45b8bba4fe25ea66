"""Factories for the activities area (Indico style: `create_activity_session(**overrides)`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.models import (
    ActivityFormat,
    ActivitySeries,
    ActivitySession,
    Audience,
    Role,
    SchoolLevel,
    VenueKind,
)
from portal.models.activities import levels_to_text
from portal.timeutil import utcnow

ALL_LEVELS = [SchoolLevel.PRIMARY, SchoolLevel.JUNIOR_HIGH, SchoolLevel.SENIOR_HIGH, SchoolLevel.UNIVERSITY]


@pytest.fixture
def create_series(db, create_user):
    def factory(**overrides):
        organizers = overrides.pop("organizers", None)
        levels = overrides.pop("levels", ALL_LEVELS)
        values = {
            "title_zh": "红岩精神进校园",
            "title_en": "Hongyan Spirit in Schools",
            "description_zh": "走进红岩，传承红色基因。",
            "theme": "红岩精神",
            "audience": Audience.STUDENTS,
            "target_levels": levels_to_text(levels),
            "is_public": True,
        }
        values.update(overrides)
        series = ActivitySeries(**values)
        series.organizers = organizers if organizers is not None else [create_user(Role.MENTOR)]
        db.session.add(series)
        db.session.commit()
        return series

    return factory


@pytest.fixture
def create_activity_session(db, create_series):
    """A session a week from now, registration open now, at 红岩革命纪念馆, for every level."""

    def factory(**overrides):
        series = overrides.pop("series", None) or create_series()
        levels = overrides.pop("levels", ALL_LEVELS)
        now = utcnow()
        starts = overrides.pop("starts_at", now + timedelta(days=7))
        values = {
            "series_id": series.id,
            "title_zh": "参观红岩革命纪念馆",
            "title_en": "Visit to the Hongyan Revolutionary Memorial",
            "description": "讲解员带领参观。",
            "format": ActivityFormat.VISIT,
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=2),
            "venue_kind": VenueKind.PLACE,
            "venue_name": "红岩革命纪念馆",
            "venue_address": "渝中区红岩村52号",
            "district": "yuzhong",
            "capacity": 30,
            "seats_taken": 0,
            "registration_opens_at": now - timedelta(days=1),
            "registration_closes_at": starts - timedelta(hours=1),
            "eligible_levels": levels_to_text(levels),
        }
        values.update(overrides)
        session = ActivitySession(**values)
        db.session.add(session)
        db.session.commit()
        return session

    return factory


@pytest.fixture
def create_student(create_user, create_school):
    """A student at a school of the given level."""

    def factory(level: SchoolLevel = SchoolLevel.JUNIOR_HIGH, **overrides):
        if "school" not in overrides:
            overrides["school"] = create_school(level=level)
        return create_user(Role.STUDENT, **overrides)

    return factory
