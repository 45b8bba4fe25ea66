"""All models, imported here so Alembic and `db.create_all()` see every table.

One module per area; add an area's import below when it lands.
"""

from portal.models.audit import AuditEntry
from portal.models.bookings import (
    ACTIVE_STATUSES,
    ATTENDANCE_LABELS,
    BOOKING_STATUS_LABELS,
    RESOURCE_KIND_LABELS,
    WEEKDAY_LABELS,
    Attendance,
    Booking,
    BookingStatus,
    CalendarOverride,
    Closure,
    OpeningHours,
    Resource,
    ResourceKind,
)
from portal.models.feeds import FeedState, FeedToken
from portal.models.lectures import (
    GRADE_LABELS,
    STATUS_LABELS,
    THEME_LABELS,
    LectureOffer,
    LectureOfferSlot,
    LectureRequest,
    LectureServiceTarget,
    LectureStatus,
    LectureTheme,
    LectureWindow,
    OfferStatus,
)
from portal.models.notifications import Notification, OutboxEmail, OutboxStatus
from portal.models.schools import LEVEL_LABELS, School, SchoolLevel
from portal.models.users import ROLE_LABELS, Role, User

__all__ = [
    "GRADE_LABELS",
    "STATUS_LABELS",
    "THEME_LABELS",
    "LectureOffer",
    "LectureOfferSlot",
    "LectureRequest",
    "LectureServiceTarget",
    "LectureStatus",
    "LectureTheme",
    "LectureWindow",
    "OfferStatus",
    "ACTIVE_STATUSES",
    "ATTENDANCE_LABELS",
    "BOOKING_STATUS_LABELS",
    "RESOURCE_KIND_LABELS",
    "WEEKDAY_LABELS",
    "Attendance",
    "Booking",
    "BookingStatus",
    "CalendarOverride",
    "Closure",
    "OpeningHours",
    "Resource",
    "ResourceKind",
    "LEVEL_LABELS",
    "ROLE_LABELS",
    "AuditEntry",
    "FeedState",
    "FeedToken",
    "Notification",
    "OutboxEmail",
    "OutboxStatus",
    "Role",
    "School",
    "SchoolLevel",
    "User",
]
