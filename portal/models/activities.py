"""The Hongyan-spirit themed activity series (红岩精神 主题教育活动系列).

A series groups sessions (visits, talks, readings, role-plays, discussions, seminars)
across school levels. People register for a session: a student for themself, a
teacher for one class as a single block of N pupils, a school teacher for a
university teaching seminar. Seats are counted in `ActivitySession.seats_taken`,
which a CHECK constraint keeps within `capacity` on every database.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.districts import district_name
from portal.extensions import db
from portal.models.base import TimestampMixin, enum_type
from portal.models.bookings import Resource
from portal.models.schools import LEVEL_LABELS, School, SchoolLevel
from portal.models.users import User
from portal.timeutil import UTCDateTime


class ActivityFormat(enum.Enum):
    VISIT = "visit"
    TALK = "talk"
    READING = "reading"
    ROLE_PLAY = "role_play"
    DISCUSSION = "discussion"
    SEMINAR = "seminar"

    @property
    def label(self) -> str:
        return str(FORMAT_LABELS[self])


FORMAT_LABELS = {
    ActivityFormat.VISIT: _l("Visit"),
    ActivityFormat.TALK: _l("Talk"),
    ActivityFormat.READING: _l("Reading"),
    ActivityFormat.ROLE_PLAY: _l("Role-play"),
    ActivityFormat.DISCUSSION: _l("Discussion"),
    ActivityFormat.SEMINAR: _l("Seminar"),
}


class Audience(enum.Enum):
    STUDENTS = "students"
    TEACHERS = "teachers"

    @property
    def label(self) -> str:
        return str(AUDIENCE_LABELS[self])


AUDIENCE_LABELS = {
    Audience.STUDENTS: _l("Students"),
    Audience.TEACHERS: _l("School teachers"),
}


# Named outside places: address, district, English name (shown to English readers).
KNOWN_PLACES = {
    "红岩革命纪念馆": ("渝中区红岩村52号", "yuzhong", "Hongyan Revolutionary Memorial Hall"),
    "渣滓洞": ("沙坪坝区歌乐山镇渣滓洞路", "shapingba", "Zhazidong Prison Site"),
    "白公馆": ("沙坪坝区壮志路", "shapingba", "Baigongguan Prison Site"),
    "歌乐山烈士陵园": ("沙坪坝区烈士墓政法三村", "shapingba", "Gele Mountain Martyrs' Cemetery"),
    "曾家岩50号周公馆": ("渝中区曾家岩50号", "yuzhong", "Zhou Gongguan, 50 Zengjiayan"),
    "重庆中国三峡博物馆": ("渝中区人民路236号", "yuzhong", "Chongqing China Three Gorges Museum"),
}


class VenueKind(enum.Enum):
    """Where a session happens: a school, a named outside place, or a portal resource (a
    university lab or library), whose slot the session then holds as a booking."""

    SCHOOL = "school"
    PLACE = "place"
    RESOURCE = "resource"


class SessionStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationStatus(enum.Enum):
    ADMITTED = "admitted"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(REGISTRATION_STATUS_LABELS[self])


REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.ADMITTED: _l("Registered"),
    RegistrationStatus.WAITLISTED: _l("On the waitlist"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


class AttendanceMethod(enum.Enum):
    LIST = "list"
    QR = "qr"


def levels_to_text(levels) -> str:
    """Levels are stored as ',primary,junior_high,' so one LIKE finds a level portably."""
    values = [lv.value if isinstance(lv, SchoolLevel) else str(lv) for lv in levels]
    ordered = [lv.value for lv in SchoolLevel if lv.value in values]
    return "," + ",".join(ordered) + "," if ordered else ""


def levels_from_text(value: str | None) -> list[SchoolLevel]:
    found = {part for part in (value or "").split(",") if part}
    return [lv for lv in SchoolLevel if lv.value in found]


series_organizer = Table(
    "activity_series_organizer",
    db.metadata,
    Column("series_id", ForeignKey("activity_series.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class _Bilingual:
    """`title` in the reader's language (English falls back to Chinese)."""

    @property
    def title(self) -> str:
        if not str(get_locale() or "zh").startswith("zh") and self.title_en:
            return self.title_en
        return self.title_zh


class ActivitySeries(_Bilingual, TimestampMixin, db.Model):
    __tablename__ = "activity_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(160))
    description_zh: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    audience: Mapped[Audience] = mapped_column(enum_type(Audience), nullable=False, default=Audience.STUDENTS)
    target_levels: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    organizers: Mapped[list[User]] = relationship(secondary=series_organizer, lazy="selectin")
    sessions: Mapped[list[ActivitySession]] = relationship(
        back_populates="series", order_by="ActivitySession.starts_at", lazy="select"
    )

    @property
    def description(self) -> str:
        if not str(get_locale() or "zh").startswith("zh") and self.description_en:
            return self.description_en
        return self.description_zh

    @property
    def levels(self) -> list[SchoolLevel]:
        return levels_from_text(self.target_levels)

    @property
    def level_labels(self) -> list[str]:
        return [str(LEVEL_LABELS[lv]) for lv in self.levels]

    def is_organizer(self, user: User | None) -> bool:
        return user is not None and any(o.id == user.id for o in self.organizers)

    def __repr__(self) -> str:
        return f"<ActivitySeries {self.id}>"


class ActivitySession(_Bilingual, TimestampMixin, db.Model):
    __tablename__ = "activity_session"
    __table_args__ = (
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("starts_at < ends_at", name="times"),
        Index("ix_activity_session_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("activity_series.id", ondelete="CASCADE"), index=True)
    title_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    format: Mapped[ActivityFormat] = mapped_column(enum_type(ActivityFormat), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    venue_kind: Mapped[VenueKind] = mapped_column(enum_type(VenueKind), nullable=False)
    venue_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="RESTRICT"), index=True)
    venue_resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id", ondelete="RESTRICT"), index=True)
    venue_name: Mapped[str | None] = mapped_column(String(120))
    venue_address: Mapped[str | None] = mapped_column(String(200))
    # Copied from the venue school on save, chosen for an outside place: the district filter.
    district: Mapped[str] = mapped_column(String(24), nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    # Sum of admitted registrations' seats; only the registration service changes it.
    seats_taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    registration_closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    eligible_levels: Mapped[str] = mapped_column(String(120), nullable=False)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    status: Mapped[SessionStatus] = mapped_column(
        enum_type(SessionStatus), nullable=False, default=SessionStatus.SCHEDULED
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    calendar_sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))

    series: Mapped[ActivitySeries] = relationship(back_populates="sessions", lazy="joined")
    venue_school: Mapped[School | None] = relationship(lazy="joined")
    venue_resource: Mapped[Resource | None] = relationship(lazy="joined")
    host: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[host_id])

    @property
    def levels(self) -> list[SchoolLevel]:
        return levels_from_text(self.eligible_levels)

    @property
    def level_labels(self) -> list[str]:
        return [str(LEVEL_LABELS[lv]) for lv in self.levels]

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_cancelled(self) -> bool:
        return self.status is SessionStatus.CANCELLED

    @property
    def venue_label(self) -> str:
        if self.venue_kind is VenueKind.RESOURCE and self.venue_resource is not None:
            resource = self.venue_resource
            place = " ".join(part for part in (resource.building, resource.room) if part)
            return " · ".join(part for part in (resource.display_name(), place) if part)
        if self.venue_kind is VenueKind.SCHOOL and self.venue_school is not None:
            return self.venue_school.display_name()
        name = self.venue_name or ""
        if name in KNOWN_PLACES and not str(get_locale() or "zh").startswith("zh"):
            return KNOWN_PLACES[name][2]
        return name

    @property
    def address(self) -> str:
        if self.venue_kind is VenueKind.RESOURCE and self.venue_resource is not None:
            university = self.venue_resource.university
            return " ".join(p for p in (university.display_name(), university.address or "") if p)
        if self.venue_kind is VenueKind.SCHOOL and self.venue_school is not None:
            return self.venue_address or self.venue_school.address or ""
        return self.venue_address or ""

    @property
    def location_text(self) -> str:
        return " · ".join(part for part in (self.venue_label, self.address) if part)

    @property
    def district_label(self) -> str:
        return district_name(self.district, str(get_locale() or "zh"))

    @property
    def place_key(self) -> str:
        """Comparable place for the mentors' travel buffer (see services.commitments).

        A resource counts as its university's campus ("school:<university id>"): a mentor
        who gives a lecture at 重庆大学 and then hosts a session in its library needs no
        travel time between them."""
        if self.venue_kind is VenueKind.RESOURCE and self.venue_resource is not None:
            return f"school:{self.venue_resource.university_id}"
        if self.venue_kind is VenueKind.SCHOOL and self.venue_school_id:
            return f"school:{self.venue_school_id}"
        return f"venue:{self.venue_name or ''}"

    @property
    def hours(self) -> float:
        return round((self.ends_at - self.starts_at).total_seconds() / 3600, 1)

    def __repr__(self) -> str:
        return f"<ActivitySession {self.id}>"


ACTIVE_STATUSES = ("admitted", "waitlisted")


class Registration(TimestampMixin, db.Model):
    """One place in a session: a student (seats=1), a teacher's class block (seats=N),
    or a teacher at a teaching seminar. Waitlist order is `queue_number` (then id)."""

    __tablename__ = "activity_registration"
    __table_args__ = (
        CheckConstraint("seats > 0", name="seats"),
        # No duplicates, held by the database: one active place per person (and per class).
        Index(
            "uq_activity_registration_active",
            "session_id",
            "user_id",
            "class_label",
            unique=True,
            sqlite_where=text("status IN ('admitted', 'waitlisted')"),
            postgresql_where=text("status IN ('admitted', 'waitlisted')"),
        ),
        Index("ix_activity_registration_session_status", "session_id", "status", "queue_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_session.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    seats: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # A teacher's class ("初二（3）班"); empty for a person registering themself.
    class_label: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    status: Mapped[RegistrationStatus] = mapped_column(enum_type(RegistrationStatus), nullable=False)
    queue_number: Mapped[int] = mapped_column(Integer, nullable=False)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # For a class block: how many pupils came (marked by the organizer).
    attended_seats: Mapped[int | None] = mapped_column(Integer)
    calendar_sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))

    session: Mapped[ActivitySession] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_class(self) -> bool:
        return bool(self.class_label)

    @property
    def is_active(self) -> bool:
        return self.status in (RegistrationStatus.ADMITTED, RegistrationStatus.WAITLISTED)


class Attendance(db.Model):
    """A person who was there, marked from the list or by scanning the venue's QR code."""

    __tablename__ = "activity_attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_activity_attendance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_session.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_registration.id", ondelete="SET NULL"), index=True
    )
    method: Mapped[AttendanceMethod] = mapped_column(enum_type(AttendanceMethod), nullable=False)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    session: Mapped[ActivitySession] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class Feedback(TimestampMixin, db.Model):
    """满意度调查: one answer per attendee and session."""

    __tablename__ = "activity_feedback"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_activity_feedback"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_session.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")


class SeriesSubscription(TimestampMixin, db.Model):
    """A logged-in user following a series: told when a session is added or cancelled."""

    __tablename__ = "activity_series_subscription"
    __table_args__ = (UniqueConstraint("series_id", "user_id", name="uq_activity_series_subscription"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("activity_series.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)

    user: Mapped[User] = relationship(lazy="joined")
