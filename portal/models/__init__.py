"""All models, imported here so Alembic and `db.create_all()` see every table.

One module per area; add an area's import below when it lands.
"""

from portal.models.activities import (
    AUDIENCE_LABELS,
    FORMAT_LABELS,
    KNOWN_PLACES,
    ActivityFormat,
    ActivitySeries,
    ActivitySession,
    Attendance,
    AttendanceMethod,
    Audience,
    Feedback,
    Registration,
    RegistrationStatus,
    SeriesSubscription,
    SessionStatus,
    VenueKind,
)
from portal.models.audit import AuditEntry
from portal.models.notifications import Notification, OutboxEmail, OutboxStatus
from portal.models.schools import LEVEL_LABELS, School, SchoolLevel
from portal.models.users import ROLE_LABELS, Role, User

__all__ = [
    "AUDIENCE_LABELS",
    "FORMAT_LABELS",
    "KNOWN_PLACES",
    "ActivityFormat",
    "ActivitySeries",
    "ActivitySession",
    "Attendance",
    "AttendanceMethod",
    "Audience",
    "Feedback",
    "Registration",
    "RegistrationStatus",
    "SeriesSubscription",
    "SessionStatus",
    "VenueKind",
    "LEVEL_LABELS",
    "ROLE_LABELS",
    "AuditEntry",
    "Notification",
    "OutboxEmail",
    "OutboxStatus",
    "Role",
    "School",
    "SchoolLevel",
    "User",
]
