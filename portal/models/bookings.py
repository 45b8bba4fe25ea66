"""Shared labs and libraries: resources, their hours and closures, and class-visit bookings.

No two active bookings (pending or approved) of one resource overlap. On PostgreSQL an
exclusion constraint over `tstzrange(start_at, end_at, '[)')` guarantees it; on SQLite the
booking service takes the database's write lock before it checks (see
`portal.services.bookings.create_booking`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    event,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import TimestampMixin, enum_type
from portal.models.schools import School
from portal.models.users import User
from portal.timeutil import UTCDateTime

if TYPE_CHECKING:
    from portal.models.activities import ActivitySession


class ResourceKind(enum.Enum):
    LAB = "lab"
    LIBRARY = "library"
    PRACTICE_BASE = "practice_base"

    @property
    def label(self) -> str:
        return str(RESOURCE_KIND_LABELS[self])


RESOURCE_KIND_LABELS = {
    ResourceKind.LAB: _l("Lab"),
    ResourceKind.LIBRARY: _l("Library"),
    ResourceKind.PRACTICE_BASE: _l("Practice base"),
}

WEEKDAY_LABELS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]

resource_manager = Table(
    "resource_manager",
    db.metadata,
    Column("resource_id", ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class Resource(TimestampMixin, db.Model):
    """A lab, library or practice base of a university that schools may visit."""

    __tablename__ = "resource"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("slot_minutes > 0", name="slot_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ResourceKind] = mapped_column(enum_type(ResourceKind), nullable=False)
    university_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False, index=True)
    name_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(160))
    building: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    room: Mapped[str] = mapped_column(String(60), default="", nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # One item a line ("显微镜 40 台"); searched by substring.
    equipment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    safety_rules: Mapped[str] = mapped_column(Text, default="", nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    lead_days: Mapped[int] = mapped_column(Integer, default=3, nullable=False)
    window_days: Mapped[int] = mapped_column(Integer, default=60, nullable=False)
    cancel_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24, nullable=False)
    # Active bookings one school may hold per calendar month; None = no limit.
    monthly_quota: Mapped[int | None] = mapped_column(Integer, default=4)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    pupils_per_escort: Mapped[int] = mapped_column(Integer, default=20, nullable=False)

    university: Mapped[School] = relationship(lazy="joined")
    managers: Mapped[list[User]] = relationship(secondary=resource_manager, order_by=User.display_name)
    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="resource",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
    )

    def display_name(self, locale: str | None = None) -> str:
        locale = str(locale or get_locale() or "zh")
        if not locale.startswith("zh") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def name(self) -> str:
        return self.display_name()

    @property
    def location(self) -> str:
        parts = [self.university.display_name(), self.building, self.room]
        return " ".join(p for p in parts if p)

    @property
    def equipment_items(self) -> list[str]:
        return [line.strip() for line in self.equipment.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.name_zh}>"


class OpeningHours(db.Model):
    """One opening interval on a weekday (0 = Monday); a day may have several."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    opens: Mapped[time] = mapped_column(Time, nullable=False)
    closes: Mapped[time] = mapped_column(Time, nullable=False)

    resource: Mapped[Resource] = relationship(back_populates="hours")


class Closure(TimestampMixin, db.Model):
    """Whole days a resource cannot be booked (inclusive date range).

    Scope: `resource_id` set → that resource; `university_id` set → every resource of that
    university; neither → platform-wide (exam weeks such as 中考/高考, term breaks).
    """

    __tablename__ = "closure"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="order"),
        CheckConstraint("NOT (resource_id IS NOT NULL AND university_id IS NOT NULL)", name="one_scope"),
        Index("ix_closure_dates", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"), index=True)
    university_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    resource: Mapped[Resource | None] = relationship()
    university: Mapped[School | None] = relationship()

    @property
    def scope(self) -> str:
        if self.resource_id:
            return "resource"
        if self.university_id:
            return "university"
        return "platform"


class CalendarOverride(TimestampMixin, db.Model):
    """An admin's correction of the official calendar for one day, from the State
    Council's notice: a public holiday (`is_workday` False) or a make-up working day
    (调休, `is_workday` True) whose hours are those of `replaces_weekday`."""

    __tablename__ = "calendar_override"
    __table_args__ = (
        UniqueConstraint("day"),
        CheckConstraint(
            "replaces_weekday IS NULL OR (replaces_weekday >= 0 AND replaces_weekday <= 4)",
            name="weekday",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    is_workday: Mapped[bool] = mapped_column(Boolean, nullable=False)
    replaces_weekday: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120), nullable=False)


class BookingStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(BOOKING_STATUS_LABELS[self])


BOOKING_STATUS_LABELS = {
    BookingStatus.PENDING: _l("Pending approval"),
    BookingStatus.APPROVED: _l("Approved"),
    BookingStatus.REJECTED: _l("Rejected"),
    BookingStatus.CANCELLED: _l("Cancelled"),
}

# These hold their slot: no two of them overlap on one resource.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.APPROVED)


class BookingAttendance(enum.Enum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return str(ATTENDANCE_LABELS[self])


ATTENDANCE_LABELS = {
    BookingAttendance.ATTENDED: _l("Attended"),
    BookingAttendance.NO_SHOW: _l("No-show"),
}


class Booking(TimestampMixin, db.Model):
    """A school's class visit to a resource, [start_at, end_at) in UTC — or, when
    `activity_session_id` is set, the slot an activity session held at the resource
    occupies (an "activity hold", written only by `bookings.hold_for_activity`): always
    approved, on the resource's own university, never counted against a quota, shown to
    everyone but the resource's managers as plain "booked"."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="order"),
        CheckConstraint("class_size > 0", name="class_size"),
        Index("ix_booking_resource_time", "resource_id", "start_at", "end_at"),
        Index("ix_booking_school_time", "school_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), nullable=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus), nullable=False, index=True)
    class_size: Mapped[int] = mapped_column(Integer, nullable=False)
    grade: Mapped[str] = mapped_column(String(40), nullable=False)
    escorts: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    contact_phone: Mapped[str] = mapped_column(String(32), nullable=False)
    safety_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Occurrences booked together by a weekly recurrence share the first one's id.
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attendance: Mapped[BookingAttendance | None] = mapped_column(enum_type(BookingAttendance))
    actual_count: Mapped[int | None] = mapped_column(Integer)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # The activity session this booking holds the slot for (one booking per session).
    activity_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_session.id", ondelete="CASCADE"), unique=True
    )

    resource: Mapped[Resource] = relationship()
    school: Mapped[School] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    activity_session: Mapped[ActivitySession | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_activity_hold(self) -> bool:
        return self.activity_session_id is not None

    @property
    def holder_label(self) -> str:
        """Who uses the slot, for the resource's managers: the visiting school, or the
        activity session's title in the reader's language."""
        if self.activity_session is not None:
            return self.activity_session.title
        return self.school.display_name()

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status.value}>"


# The database forbids overlapping active bookings of one resource (PostgreSQL only;
# SQLite serialises writers instead). `ddl_if` keeps `create_all()` portable.
Booking.__table__.append_constraint(
    ExcludeConstraint(
        (Booking.__table__.c.resource_id, "="),
        (
            func.tstzrange(Booking.__table__.c.start_at, Booking.__table__.c.end_at, literal_column("'[)'")),
            "&&",
        ),
        name="ex_booking_no_overlap",
        using="gist",
        where=text("status IN ('pending', 'approved')"),  # = ACTIVE_STATUSES
    ).ddl_if(dialect="postgresql")
)
event.listen(
    Booking.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
