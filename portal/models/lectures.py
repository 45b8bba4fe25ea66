"""Cross-level lectures: schools request ideological and political lectures, Party-member
mentors claim them (or publish offers that schools book), deliver them and get feedback."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import TimestampMixin, enum_type
from portal.models.schools import School
from portal.models.users import User
from portal.timeutil import UTCDateTime


class LectureTheme(enum.Enum):
    HONGYAN = "hongyan"
    IDEALS = "ideals"
    SCIENTISTS = "scientists"
    STUDY_CAREER = "study_career"
    PATRIOTISM = "patriotism"
    RULE_OF_LAW = "rule_of_law"
    ECOLOGY = "ecology"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(THEME_LABELS[self])


THEME_LABELS = {
    LectureTheme.HONGYAN: _l("Hongyan spirit"),
    LectureTheme.IDEALS: _l("Ideals and convictions"),
    LectureTheme.SCIENTISTS: _l("Spirit of scientists"),
    LectureTheme.STUDY_CAREER: _l("Study and career planning"),
    LectureTheme.PATRIOTISM: _l("Patriotism"),
    LectureTheme.RULE_OF_LAW: _l("Rule of law"),
    LectureTheme.ECOLOGY: _l("Ecological civilisation"),
    LectureTheme.OTHER: _l("Other theme"),
}

# School grades as stable codes; a request stores them as ",j1,j2," so one LIKE finds a grade.
GRADE_LABELS = {
    "p1": _l("Grade 1"),
    "p2": _l("Grade 2"),
    "p3": _l("Grade 3"),
    "p4": _l("Grade 4"),
    "p5": _l("Grade 5"),
    "p6": _l("Grade 6"),
    "j1": _l("Junior 1"),
    "j2": _l("Junior 2"),
    "j3": _l("Junior 3"),
    "s1": _l("Senior 1"),
    "s2": _l("Senior 2"),
    "s3": _l("Senior 3"),
}


def pack_grades(codes) -> str:
    ordered = [code for code in GRADE_LABELS if code in set(codes or ())]
    return "," + ",".join(ordered) + "," if ordered else ""


def unpack_grades(stored: str | None) -> list[str]:
    return [code for code in (stored or "").split(",") if code in GRADE_LABELS]


class LectureStatus(enum.Enum):
    OPEN = "open"  # waiting for a mentor
    CLAIMED = "claimed"  # a mentor chose a window; the school has not confirmed yet
    CONFIRMED = "confirmed"  # the school confirmed the mentor and the time
    DELIVERED = "delivered"  # given; attendance recorded
    REVIEWED = "reviewed"  # the school gave feedback
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    LectureStatus.OPEN: _l("Open"),
    LectureStatus.CLAIMED: _l("Claimed, awaiting confirmation"),
    LectureStatus.CONFIRMED: _l("Confirmed"),
    LectureStatus.DELIVERED: _l("Delivered"),
    LectureStatus.REVIEWED: _l("Feedback given"),
    LectureStatus.CANCELLED: _l("Cancelled"),
}

# Statuses in which a mentor holds the time (their commitments and calendar).
HELD_STATUSES = (LectureStatus.CLAIMED, LectureStatus.CONFIRMED, LectureStatus.DELIVERED, LectureStatus.REVIEWED)
DONE_STATUSES = (LectureStatus.DELIVERED, LectureStatus.REVIEWED)


class LectureRequest(TimestampMixin, db.Model):
    """One lecture at a school: posted by a teacher (or created when a teacher books an
    offer), then held by one mentor at one chosen time."""

    __tablename__ = "lecture_request"
    __table_args__ = (
        CheckConstraint("audience_size > 0", name="audience_positive"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        CheckConstraint("starts_at IS NULL OR starts_at < ends_at", name="time_order"),
        Index("ix_lecture_request_status_created", "status", "created_at"),
        Index("ix_lecture_request_mentor_start", "mentor_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    theme: Mapped[LectureTheme] = mapped_column(enum_type(LectureTheme), nullable=False)
    grades: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    audience_size: Mapped[int] = mapped_column(Integer, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    address: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    room: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[LectureStatus] = mapped_column(enum_type(LectureStatus), default=LectureStatus.OPEN, nullable=False)
    # Set when booked from a mentor's offer.
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("lecture_offer.id"), index=True)

    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attendance: Mapped[int | None] = mapped_column(Integer)
    delivery_notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    rating: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancel_reason: Mapped[str] = mapped_column(String(300), default="", nullable=False)

    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    school: Mapped[School] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    offer: Mapped[LectureOffer | None] = relationship(back_populates="bookings")
    windows: Mapped[list[LectureWindow]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="LectureWindow.starts_at"
    )

    @property
    def grade_codes(self) -> list[str]:
        return unpack_grades(self.grades)

    @property
    def grade_labels(self) -> list[str]:
        return [str(GRADE_LABELS[code]) for code in self.grade_codes]

    @property
    def place_key(self) -> str:
        return f"school:{self.school_id}"

    @property
    def location_text(self) -> str:
        parts = [self.school.display_name(), self.address, self.room]
        return " · ".join(part for part in parts if part)

    @property
    def hours(self) -> float:
        return round(self.duration_minutes / 60, 1)

    def __repr__(self) -> str:
        return f"<LectureRequest {self.id} {self.status.value}>"


class LectureWindow(db.Model):
    """A candidate time window [starts_at, ends_at) in which the lecture may take place."""

    __tablename__ = "lecture_window"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="time_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("lecture_request.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    request: Mapped[LectureRequest] = relationship(back_populates="windows")


class OfferStatus(enum.Enum):
    ACTIVE = "active"
    CLOSED = "closed"


class LectureOffer(TimestampMixin, db.Model):
    """A lecture a mentor offers, with the times they are available; a school books a slot."""

    __tablename__ = "lecture_offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    theme: Mapped[LectureTheme] = mapped_column(enum_type(LectureTheme), nullable=False)
    abstract: Mapped[str] = mapped_column(Text, default="", nullable=False)
    grades: Mapped[str] = mapped_column(String(80), default="", nullable=False)
    status: Mapped[OfferStatus] = mapped_column(enum_type(OfferStatus), default=OfferStatus.ACTIVE, nullable=False)

    mentor: Mapped[User] = relationship()
    slots: Mapped[list[LectureOfferSlot]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="LectureOfferSlot.starts_at"
    )
    bookings: Mapped[list[LectureRequest]] = relationship(back_populates="offer")

    @property
    def grade_labels(self) -> list[str]:
        return [str(GRADE_LABELS[code]) for code in unpack_grades(self.grades)]


class LectureOfferSlot(db.Model):
    """One time a mentor offers; `request_id` is set once a school has booked it."""

    __tablename__ = "lecture_offer_slot"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="time_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("lecture_offer.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # One booking per slot, held by the database too.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("lecture_request.id", ondelete="SET NULL"), unique=True)

    offer: Mapped[LectureOffer] = relationship(back_populates="slots")
    request: Mapped[LectureRequest | None] = relationship()

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class LectureServiceTarget(TimestampMixin, db.Model):
    """The minimum service an admin expects of each mentor in one term."""

    __tablename__ = "lecture_service_target"
    __table_args__ = (UniqueConstraint("term_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term_code: Mapped[str] = mapped_column(String(16), nullable=False)  # "2026-autumn", "2027-spring"
    min_lectures: Mapped[int] = mapped_column(Integer, nullable=False)
    min_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
