"""Transition-stage support (过渡期专项帮扶): 1124 working groups and the plans they run.

A working group is one Party-member mentor, one activist, two cadres and N mentees
(paper 一(一)). A plan follows one student from senior high school into university
through three dimensions (academic / psychological / career), with check-ins, risk
levels, adjustments and escalations (paper 二(一)–(三)).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import TimestampMixin, enum_type
from portal.models.schools import School
from portal.models.users import User
from portal.timeutil import UTCDateTime, utcnow


def named_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """`enum_type` with its own name: two columns of one enum in one table need distinct
    CHECK constraint names (PostgreSQL refuses duplicates within a table)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=24,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        name=name,
    )


class GroupStatus(enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"


class GroupRole(enum.Enum):
    """A member's role in one group; the mentor is the group's `mentor_id`, never a member row."""

    ACTIVIST = "activist"
    CADRE = "cadre"
    MENTEE = "mentee"


class Phase(enum.Enum):
    HANDOVER = "handover"  # opened by the senior-high teacher, not yet accepted by the mentor
    INTENSIVE = "intensive"
    STABLE = "stable"
    CLOSED = "closed"


class Dimension(enum.Enum):
    ACADEMIC = "academic"
    PSYCHOLOGICAL = "psychological"
    CAREER = "career"


class RiskLevel(enum.Enum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return RISK_RANK[self]


RISK_RANK = {RiskLevel.NONE: 0, RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


class CheckInStatus(enum.Enum):
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


class CheckInMode(enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    PHONE = "phone"


class AdjustmentLevel(enum.Enum):
    MINOR = "minor"
    MEDIUM = "medium"
    MAJOR = "major"


class EscalationLevel(enum.Enum):
    CADRE = "cadre"
    ACTIVIST = "activist"
    MENTOR = "mentor"


class EscalationStatus(enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class ConsentSubject(enum.Enum):
    STUDENT = "student"
    GUARDIAN = "guardian"


GROUP_STATUS_LABELS = {GroupStatus.DRAFT: _l("Being formed"), GroupStatus.ACTIVE: _l("Active")}
GROUP_ROLE_LABELS = {
    GroupRole.ACTIVIST: _l("Party-membership activist"),
    GroupRole.CADRE: _l("Student cadre"),
    GroupRole.MENTEE: _l("Mentee"),
}
PHASE_LABELS = {
    Phase.HANDOVER: _l("Awaiting handover"),
    Phase.INTENSIVE: _l("Intensive phase"),
    Phase.STABLE: _l("Stable phase"),
    Phase.CLOSED: _l("Closed"),
}
DIMENSION_LABELS = {
    Dimension.ACADEMIC: _l("Academic guidance"),
    Dimension.PSYCHOLOGICAL: _l("Psychological support"),
    Dimension.CAREER: _l("Career guidance"),
}
RISK_LABELS = {
    RiskLevel.NONE: _l("No risk"),
    RiskLevel.LOW: _l("Low risk"),
    RiskLevel.MEDIUM: _l("Medium risk"),
    RiskLevel.HIGH: _l("High risk"),
}
CHECKIN_STATUS_LABELS = {
    CheckInStatus.SCHEDULED: _l("Scheduled"),
    CheckInStatus.DONE: _l("Recorded"),
    CheckInStatus.CANCELLED: _l("Cancelled"),
}
MODE_LABELS = {
    CheckInMode.IN_PERSON: _l("In person"),
    CheckInMode.ONLINE: _l("Online"),
    CheckInMode.PHONE: _l("Phone"),
}
ADJUSTMENT_LABELS = {
    AdjustmentLevel.MINOR: _l("Minor adjustment (frequency or method)"),
    AdjustmentLevel.MEDIUM: _l("Medium adjustment (change of focus)"),
    AdjustmentLevel.MAJOR: _l("Major adjustment (redesign of the plan)"),
}
ESCALATION_LEVEL_LABELS = {
    EscalationLevel.CADRE: _l("Student cadre"),
    EscalationLevel.ACTIVIST: _l("Party-membership activist"),
    EscalationLevel.MENTOR: _l("Party-member mentor"),
}
ESCALATION_STATUS_LABELS = {EscalationStatus.OPEN: _l("Open"), EscalationStatus.RESOLVED: _l("Resolved")}
CONSENT_SUBJECT_LABELS = {ConsentSubject.STUDENT: _l("The student"), ConsentSubject.GUARDIAN: _l("Guardian")}


class WorkingGroup(TimestampMixin, db.Model):
    __tablename__ = "working_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    status: Mapped[GroupStatus] = mapped_column(enum_type(GroupStatus), default=GroupStatus.DRAFT, nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])
    school: Mapped[School | None] = relationship()
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMember.id"
    )

    def members_in(self, role: GroupRole) -> list[GroupMember]:
        return [m for m in self.members if m.role is role]

    @property
    def status_label(self) -> str:
        return str(GROUP_STATUS_LABELS[self.status])


class GroupMember(TimestampMixin, db.Model):
    """One person, one role per group: the unique (group, user) pair is the database's rule."""

    __tablename__ = "working_group_member"
    __table_args__ = (UniqueConstraint("group_id", "user_id", name="uq_group_member_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_group.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    role: Mapped[GroupRole] = mapped_column(enum_type(GroupRole), nullable=False)

    group: Mapped[WorkingGroup] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def role_label(self) -> str:
        return str(GROUP_ROLE_LABELS[self.role])


class RiskThresholds(TimestampMixin, db.Model):
    """The early-warning thresholds an admin sets (one row; defaults when absent)."""

    __tablename__ = "transition_risk_thresholds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    high_failed_courses: Mapped[int] = mapped_column(Integer, default=2, nullable=False)
    high_attendance_below: Mapped[int] = mapped_column(Integer, default=60, nullable=False)
    medium_gpa_drop: Mapped[float] = mapped_column(Float, default=0.3, nullable=False)
    medium_missed_assignments: Mapped[int] = mapped_column(Integer, default=3, nullable=False)
    low_failed_courses: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    low_attendance_below: Mapped[int] = mapped_column(Integer, default=85, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class TransitionPlan(TimestampMixin, db.Model):
    __tablename__ = "transition_plan"
    __table_args__ = (UniqueConstraint("student_id", name="uq_transition_plan_student"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_group.id"), nullable=False, index=True)
    origin_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    handover_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    destination_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    phase: Mapped[Phase] = mapped_column(enum_type(Phase), default=Phase.INTENSIVE, nullable=False)
    handover_notes: Mapped[str | None] = mapped_column(Text)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    goal_academic: Mapped[str | None] = mapped_column(Text)
    goal_psychological: Mapped[str | None] = mapped_column(Text)
    goal_career: Mapped[str | None] = mapped_column(Text)
    computed_risk: Mapped[RiskLevel] = mapped_column(
        named_enum(RiskLevel, "computed_risk"), default=RiskLevel.NONE, nullable=False
    )
    risk_override: Mapped[RiskLevel | None] = mapped_column(named_enum(RiskLevel, "risk_override"))
    risk_override_reason: Mapped[str | None] = mapped_column(String(300))
    risk_overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    group: Mapped[WorkingGroup] = relationship()
    origin_school: Mapped[School | None] = relationship(foreign_keys=[origin_school_id])
    destination_school: Mapped[School | None] = relationship(foreign_keys=[destination_school_id])
    handover_teacher: Mapped[User | None] = relationship(foreign_keys=[handover_teacher_id])
    checkins: Mapped[list[CheckIn]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CheckIn.due_date"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Consent.id"
    )

    @property
    def risk(self) -> RiskLevel:
        return self.risk_override or self.computed_risk

    @property
    def risk_label(self) -> str:
        return str(RISK_LABELS[self.risk])

    @property
    def phase_label(self) -> str:
        return str(PHASE_LABELS[self.phase])

    def goal(self, dimension: Dimension) -> str | None:
        return getattr(self, f"goal_{dimension.value}")


class PhaseChange(db.Model):
    """A decision: which phase, why, who, when."""

    __tablename__ = "transition_phase_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    from_phase: Mapped[Phase] = mapped_column(named_enum(Phase, "from_phase"), nullable=False)
    to_phase: Mapped[Phase] = mapped_column(named_enum(Phase, "to_phase"), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    decided_by: Mapped[User] = relationship()


class Consent(TimestampMixin, db.Model):
    """Consent to personal notes (PIPL): the student's own, and a guardian's for a minor."""

    __tablename__ = "transition_consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    subject: Mapped[ConsentSubject] = mapped_column(enum_type(ConsentSubject), nullable=False)
    given_by_name: Mapped[str] = mapped_column(String(80), nullable=False)
    relationship_to_student: Mapped[str | None] = mapped_column(String(40))
    scope_academic: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    scope_psychological: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    scope_career: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    given_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    plan: Mapped[TransitionPlan] = relationship(back_populates="consents")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])

    def covers(self, dimension: Dimension) -> bool:
        return self.withdrawn_at is None and bool(getattr(self, f"scope_{dimension.value}"))

    @property
    def scope_labels(self) -> list[str]:
        return [str(DIMENSION_LABELS[d]) for d in Dimension if getattr(self, f"scope_{d.value}")]


class CheckIn(TimestampMixin, db.Model):
    """A scheduled or recorded check-in (谈心交流 / 定期跟踪)."""

    __tablename__ = "transition_checkin"
    __table_args__ = (
        CheckConstraint("gpa IS NULL OR (gpa >= 0 AND gpa <= 4)", name="ck_checkin_gpa"),
        CheckConstraint(
            "attendance_rate IS NULL OR (attendance_rate >= 0 AND attendance_rate <= 100)", name="ck_checkin_att"
        ),
        CheckConstraint("mood IS NULL OR (mood >= 1 AND mood <= 10)", name="ck_checkin_mood"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[CheckInStatus] = mapped_column(
        enum_type(CheckInStatus), default=CheckInStatus.SCHEDULED, nullable=False
    )
    auto_generated: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # A meeting at a set time (a commitment of whoever leads it).
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(120))
    led_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    mode: Mapped[CheckInMode | None] = mapped_column(enum_type(CheckInMode))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    courses_passed: Mapped[int | None] = mapped_column(Integer)
    courses_failed: Mapped[int | None] = mapped_column(Integer)
    gpa: Mapped[float | None] = mapped_column(Float)
    attendance_rate: Mapped[int | None] = mapped_column(Integer)
    missed_assignments: Mapped[int | None] = mapped_column(Integer)
    mood: Mapped[int | None] = mapped_column(Integer)
    scale_name: Mapped[str | None] = mapped_column(String(60))
    scale_score: Mapped[float | None] = mapped_column(Float)
    notes_academic: Mapped[str | None] = mapped_column(Text)
    notes_psychological: Mapped[str | None] = mapped_column(Text)
    notes_career: Mapped[str | None] = mapped_column(Text)
    follow_ups: Mapped[str | None] = mapped_column(Text)
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    plan: Mapped[TransitionPlan] = relationship(back_populates="checkins")
    led_by: Mapped[User | None] = relationship(foreign_keys=[led_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    def notes(self, dimension: Dimension) -> str | None:
        return getattr(self, f"notes_{dimension.value}")

    @property
    def status_label(self) -> str:
        return str(CHECKIN_STATUS_LABELS[self.status])

    @property
    def mode_label(self) -> str:
        return str(MODE_LABELS[self.mode]) if self.mode else ""


class RiskChange(db.Model):
    """The risk-level history of a plan (预警等级转移), for outcome reports."""

    __tablename__ = "transition_risk_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    from_level: Mapped[RiskLevel | None] = mapped_column(named_enum(RiskLevel, "from_level"))
    to_level: Mapped[RiskLevel] = mapped_column(named_enum(RiskLevel, "to_level"), nullable=False)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(300))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    by: Mapped[User | None] = relationship()


class Adjustment(db.Model):
    __tablename__ = "transition_adjustment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    level: Mapped[AdjustmentLevel] = mapped_column(enum_type(AdjustmentLevel), nullable=False)
    rationale: Mapped[str] = mapped_column(Text, nullable=False)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    decided_by: Mapped[User] = relationship()

    @property
    def level_label(self) -> str:
        return str(ADJUSTMENT_LABELS[self.level])


class Escalation(TimestampMixin, db.Model):
    """An issue raised on a plan, handled cadre → activist → mentor (分级干预)."""

    __tablename__ = "transition_escalation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    summary: Mapped[str] = mapped_column(String(500), nullable=False)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    level: Mapped[EscalationLevel] = mapped_column(enum_type(EscalationLevel), nullable=False)
    status: Mapped[EscalationStatus] = mapped_column(
        enum_type(EscalationStatus), default=EscalationStatus.OPEN, nullable=False
    )

    raised_by: Mapped[User] = relationship()
    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="escalation", cascade="all, delete-orphan", order_by="EscalationStep.id"
    )

    @property
    def level_label(self) -> str:
        return str(ESCALATION_LEVEL_LABELS[self.level])

    @property
    def status_label(self) -> str:
        return str(ESCALATION_STATUS_LABELS[self.status])


class EscalationStep(db.Model):
    """One handler's turn: at which level, who, when, and the outcome."""

    __tablename__ = "transition_escalation_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("transition_escalation.id", ondelete="CASCADE"), index=True)
    level: Mapped[EscalationLevel] = mapped_column(enum_type(EscalationLevel), nullable=False)
    handler_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    escalated: Mapped[bool] = mapped_column(Boolean, nullable=False)
    outcome: Mapped[str] = mapped_column(String(500), nullable=False)

    escalation: Mapped[Escalation] = relationship(back_populates="steps")
    handler: Mapped[User] = relationship()

    @property
    def level_label(self) -> str:
        return str(ESCALATION_LEVEL_LABELS[self.level])


class AdminPlanAccess(db.Model):
    """An administrator's audited, time-limited access to one plan (with a reason)."""

    __tablename__ = "transition_admin_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transition_plan.id", ondelete="CASCADE"), index=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
