"""Transition-stage support plans run by 1124 working groups: the rules, in one place.

Groups (一(一)): one mentor, exactly one activist, exactly two cadres, N mentees; a group
is activated only when complete, and a person holds one role per group. Plans follow a
student from senior high school (handover by their teacher) into university; check-ins are
scheduled weekly in the intensive phase and monthly in the stable phase (二(三)3); issues
escalate cadre → activist → mentor (二(二)3). Personal notes need recorded consent (the
student's, and a guardian's for a minor), and every read of them is audited.
"""

from __future__ import annotations

import calendar as _calendar
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from portal.database import lock_for_write
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    Adjustment,
    AdminPlanAccess,
    CheckIn,
    Consent,
    Escalation,
    EscalationStep,
    GroupMember,
    PhaseChange,
    RiskChange,
    Role,
    School,
    TransitionPlan,
    User,
    WorkingGroup,
)
from portal.models.transition import (
    DIMENSION_LABELS,
    AdjustmentLevel,
    CheckInMode,
    CheckInStatus,
    ConsentSubject,
    Dimension,
    EscalationLevel,
    EscalationStatus,
    GroupRole,
    GroupStatus,
    Phase,
    RiskLevel,
)
from portal.permissions import transition as perms
from portal.services import audit, calendar, commitments, notifications, risk
from portal.timeutil import local_today, overlap_clause, to_local, utcnow

ACTIVISTS_PER_GROUP = 1
CADRES_PER_GROUP = 2
ADMIN_ACCESS_MINUTES = 30
CANCELLED_VISIBLE_DAYS = 14
# How far ahead the automatic schedule is kept filled.
HORIZON = {Phase.INTENSIVE: timedelta(days=28), Phase.STABLE: timedelta(days=92)}
# A recorded check-in fulfils the earliest scheduled one due up to this many days later.
MATCH_WINDOW_DAYS = 6
NOTE_KINDS = {
    Dimension.ACADEMIC: "academic notes",
    Dimension.PSYCHOLOGICAL: "psychological notes",
    Dimension.CAREER: "career notes",
}


# Working groups ----------------------------------------------------------------------


def create_group(actor: User, name: str, mentor: User) -> WorkingGroup:
    """Admins create a group for any mentor; a mentor may create their own."""
    if not (actor.is_admin or (actor.role is Role.MENTOR and actor.id == mentor.id)):
        raise NotAllowed(_l("Only an administrator or the mentor themself can form a working group."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Give the group a name."), field="name")
    if mentor.role is not Role.MENTOR or not mentor.active:
        raise ValidationFailed(_l("The leader of a group must be an active Party-member mentor."), field="mentor_id")
    group = WorkingGroup(name=name[:120], mentor_id=mentor.id, school_id=mentor.school_id, status=GroupStatus.DRAFT)
    db.session.add(group)
    db.session.flush()
    audit.record(actor, "create", "working_group", group.id)
    return group


def _require_manager(actor: User, group: WorkingGroup) -> None:
    if not perms.can_manage_group(actor, group):
        raise NotAllowed(_l("Only an administrator or the group's mentor manages its members."))


def _count_roles(group: WorkingGroup) -> dict[GroupRole, int]:
    counts = {role: 0 for role in GroupRole}
    for member in group.members:
        counts[member.role] += 1
    return counts


def _check_candidate(group: WorkingGroup, user: User, role: GroupRole) -> None:
    if user.id == group.mentor_id:
        raise Conflict(_l("The mentor already leads this group; one person holds one role."), field="email")
    if any(m.user_id == user.id for m in group.members):
        raise Conflict(_l("This person already holds a role in this group."), field="email")
    if user.role is not Role.STUDENT or not user.active:
        raise ValidationFailed(_l("Activists, cadres and mentees are students with an active account."), field="email")
    counts = _count_roles(group)
    if role is GroupRole.ACTIVIST and counts[role] >= ACTIVISTS_PER_GROUP:
        raise Conflict(_l("A group has exactly one activist."), field="role")
    if role is GroupRole.CADRE and counts[role] >= CADRES_PER_GROUP:
        raise Conflict(_l("A group has exactly two student cadres."), field="role")


def add_member(actor: User, group: WorkingGroup, user: User, role: GroupRole) -> GroupMember:
    """Add a person in one role; the group row lock serialises competing additions."""
    group_id, user_id = group.id, user.id
    group = lock_for_write(WorkingGroup, group_id)
    user = db.session.get(User, user_id)
    if group is None or user is None:
        raise NotFound(_l("That group does not exist."))
    _require_manager(actor, group)
    _check_candidate(group, user, role)
    member = GroupMember(group_id=group.id, user_id=user.id, role=role)
    db.session.add(member)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("This person already holds a role in this group."), field="email") from exc
    if member not in group.members:
        group.members.append(member)
    audit.record(actor, "add_member", "working_group", group.id, detail=role.value)
    if role is not GroupRole.MENTEE:
        notifications.notify(
            user,
            "transition.group",
            _l("You have joined a mentor working group"),
            _l("You are now a member of the working group “%(group)s”.", group=group.name),
            link=f"/transition/groups/{group.id}",
        )
    return member


def remove_member(actor: User, member: GroupMember) -> None:
    group = lock_for_write(WorkingGroup, member.group_id)
    member = db.session.get(GroupMember, member.id)
    if group is None or member is None:
        raise NotFound(_l("That member does not exist."))
    _require_manager(actor, group)
    if group.status is GroupStatus.ACTIVE and member.role is not GroupRole.MENTEE:
        raise Conflict(
            _l("An active group must keep its activist and both cadres: replace the person instead of removing them.")
        )
    if member.role is GroupRole.MENTEE:
        open_plan = db.session.scalar(
            select(TransitionPlan.id).where(
                TransitionPlan.group_id == group.id,
                TransitionPlan.student_id == member.user_id,
                TransitionPlan.phase != Phase.CLOSED,
            )
        )
        if open_plan:
            raise Conflict(_l("This mentee still has an open transition plan in the group; close it first."))
    audit.record(actor, "remove_member", "working_group", group.id, detail=member.role.value)
    group.members.remove(member)
    db.session.delete(member)


def replace_member(actor: User, member: GroupMember, new_user: User) -> GroupMember:
    """Give an activist's or cadre's place to someone else, keeping the group complete."""
    group = lock_for_write(WorkingGroup, member.group_id)
    member = db.session.get(GroupMember, member.id)
    new_user = db.session.get(User, new_user.id)
    if group is None or member is None:
        raise NotFound(_l("That member does not exist."))
    _require_manager(actor, group)
    if member.role is GroupRole.MENTEE:
        raise ValidationFailed(_l("Mentees are added and removed, not replaced."))
    role = member.role
    group.members.remove(member)
    db.session.delete(member)
    db.session.flush()
    _check_candidate(group, new_user, role)
    replacement = GroupMember(group_id=group.id, user_id=new_user.id, role=role)
    db.session.add(replacement)
    group.members.append(replacement)
    audit.record(actor, "replace_member", "working_group", group.id, detail=role.value)
    return replacement


def activate_group(actor: User, group: WorkingGroup) -> WorkingGroup:
    """A group starts work only when complete: one activist and two cadres beside the mentor."""
    group = lock_for_write(WorkingGroup, group.id)
    if group is None:
        raise NotFound(_l("That group does not exist."))
    _require_manager(actor, group)
    counts = _count_roles(group)
    missing = []
    if counts[GroupRole.ACTIVIST] != ACTIVISTS_PER_GROUP:
        missing.append(str(_l("exactly one Party-membership activist")))
    if counts[GroupRole.CADRE] != CADRES_PER_GROUP:
        missing.append(str(_l("exactly two student cadres (now %(count)d)", count=counts[GroupRole.CADRE])))
    if missing:
        raise ValidationFailed(
            _l("The group is incomplete and cannot be activated: it needs %(missing)s.", missing="; ".join(missing))
        )
    if group.status is not GroupStatus.ACTIVE:
        group.status = GroupStatus.ACTIVE
        group.activated_at = utcnow()
        audit.record(actor, "activate", "working_group", group.id)
    return group


def groups_for(user: User) -> list[WorkingGroup]:
    """Groups the user leads or serves as activist or cadre (all groups for an admin)."""
    stmt = select(WorkingGroup).options(selectinload(WorkingGroup.members), joinedload(WorkingGroup.mentor))
    if not user.is_admin:
        member_of = select(GroupMember.group_id).where(
            GroupMember.user_id == user.id, GroupMember.role != GroupRole.MENTEE
        )
        stmt = stmt.where(or_(WorkingGroup.mentor_id == user.id, WorkingGroup.id.in_(member_of)))
    return list(db.session.scalars(stmt.order_by(WorkingGroup.name)))


def active_groups() -> list[WorkingGroup]:
    return list(
        db.session.scalars(
            select(WorkingGroup)
            .where(WorkingGroup.status == GroupStatus.ACTIVE)
            .options(joinedload(WorkingGroup.mentor), joinedload(WorkingGroup.school))
            .order_by(WorkingGroup.name)
        )
    )


# Plans and handover ------------------------------------------------------------------------


def _ensure_no_plan(student: User) -> None:
    if db.session.scalar(select(TransitionPlan.id).where(TransitionPlan.student_id == student.id)):
        raise Conflict(_l("This student already has a transition plan."), field="student_id")


def _insert_plan(plan: TransitionPlan) -> TransitionPlan:
    db.session.add(plan)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("This student already has a transition plan."), field="student_id") from exc
    return plan


def open_handover(
    actor: User,
    student: User,
    group: WorkingGroup,
    start_date: date,
    handover_notes: str,
    destination: School | None = None,
) -> TransitionPlan:
    """The senior-high teacher opens the plan, with handover notes, before the student arrives."""
    group_id, student_id = group.id, student.id
    group = lock_for_write(WorkingGroup, group_id)
    student = db.session.get(User, student_id)
    if group is None or student is None:
        raise NotFound(_l("That group does not exist."))
    school = actor.school
    if not perms.can_hand_over(actor):
        raise NotAllowed(_l("Only a senior-high school teacher hands a student over."))
    if student.role is not Role.STUDENT or student.school_id != school.id:
        raise ValidationFailed(_l("Choose a student of your own school."), field="student_id")
    if group.status is not GroupStatus.ACTIVE:
        raise ValidationFailed(_l("Choose an active working group."), field="group_id")
    notes = (handover_notes or "").strip()
    if not notes:
        raise ValidationFailed(
            _l("Write the handover notes the group needs before the student arrives."), field="handover_notes"
        )
    _ensure_no_plan(student)
    plan = _insert_plan(
        TransitionPlan(
            student_id=student.id,
            group_id=group.id,
            origin_school_id=school.id,
            handover_teacher_id=actor.id,
            destination_school_id=(destination.id if destination else group.school_id),
            start_date=start_date,
            phase=Phase.HANDOVER,
            handover_notes=notes[:5000],
            handed_over_at=utcnow(),
        )
    )
    audit.record(actor, "handover", "transition_plan", plan.id)
    notifications.notify(
        group.mentor,
        "transition.handover",
        _l("A student handover awaits your acceptance"),
        _l("A senior-high teacher has handed a student over to your working group “%(group)s”.", group=group.name),
        link=f"/transition/plans/{plan.id}",
    )
    return plan


def update_handover_notes(actor: User, plan: TransitionPlan, notes: str) -> TransitionPlan:
    if not perms.can_edit_handover(actor, plan):
        raise NotAllowed(_l("Only the handing-over teacher edits the notes, until the mentor accepts the student."))
    notes = (notes or "").strip()
    if not notes:
        raise ValidationFailed(_l("Write the handover notes."), field="handover_notes")
    plan.handover_notes = notes[:5000]
    audit.record(actor, "update", "transition_plan", plan.id, detail="handover notes")
    return plan


def accept_handover(actor: User, plan: TransitionPlan, start_date: date | None = None) -> TransitionPlan:
    """The mentor accepts the student into the group: the intensive phase and its schedule begin."""
    group = lock_for_write(WorkingGroup, plan.group_id)
    plan = db.session.get(TransitionPlan, plan.id)
    if not perms.can_accept_handover(actor, plan):
        raise NotAllowed(_l("Only the group's mentor accepts a handover that is still pending."))
    membership = next((m for m in group.members if m.user_id == plan.student_id), None)
    if membership is not None and membership.role is not GroupRole.MENTEE:
        raise Conflict(_l("This student already holds another role in the group."))
    if membership is None:
        db.session.add(GroupMember(group_id=group.id, user_id=plan.student_id, role=GroupRole.MENTEE))
    plan.start_date = start_date or plan.start_date
    plan.phase = Phase.INTENSIVE
    plan.accepted_at = utcnow()
    plan.accepted_by_id = actor.id
    db.session.add(
        PhaseChange(
            plan_id=plan.id,
            from_phase=Phase.HANDOVER,
            to_phase=Phase.INTENSIVE,
            reason=str(_l("Handover accepted into the group")),
            decided_by_id=actor.id,
        )
    )
    db.session.flush()
    refresh_schedule(plan)
    audit.record(actor, "accept_handover", "transition_plan", plan.id)
    for person in (plan.student, plan.handover_teacher):
        if person is not None:
            notifications.notify(
                person,
                "transition.accepted",
                _l("A transition plan has started"),
                _l("The mentor has accepted the handover; the plan is now in its intensive phase."),
                link=f"/transition/plans/{plan.id}",
            )
    return plan


def create_plan(
    actor: User,
    group: WorkingGroup,
    student: User,
    start_date: date,
    origin_school: School | None = None,
) -> TransitionPlan:
    """The mentor opens a plan directly for a student already at university."""
    group_id, student_id = group.id, student.id
    group = lock_for_write(WorkingGroup, group_id)
    student = db.session.get(User, student_id)
    if group is None or student is None:
        raise NotFound(_l("That group does not exist."))
    if perms.group_role(actor, group) != perms.MENTOR:
        raise NotAllowed(_l("Only the group's mentor opens a plan."))
    if group.status is not GroupStatus.ACTIVE:
        raise ValidationFailed(_l("Activate the group before opening plans."))
    if student.role is not Role.STUDENT:
        raise ValidationFailed(_l("Choose a student."), field="student_id")
    membership = next((m for m in group.members if m.user_id == student.id), None)
    if membership is not None and membership.role is not GroupRole.MENTEE:
        raise Conflict(_l("This student already holds another role in the group."), field="student_id")
    _ensure_no_plan(student)
    if membership is None:
        db.session.add(GroupMember(group_id=group.id, user_id=student.id, role=GroupRole.MENTEE))
    plan = _insert_plan(
        TransitionPlan(
            student_id=student.id,
            group_id=group.id,
            origin_school_id=origin_school.id if origin_school else None,
            destination_school_id=group.school_id,
            start_date=start_date,
            phase=Phase.INTENSIVE,
            accepted_at=utcnow(),
            accepted_by_id=actor.id,
        )
    )
    refresh_schedule(plan)
    audit.record(actor, "create", "transition_plan", plan.id)
    return plan


def update_goals(actor: User, plan: TransitionPlan, goals: dict[Dimension, str]) -> TransitionPlan:
    if not perms.can_edit_goals(actor, plan):
        raise NotAllowed(_l("Only the mentor sets the plan's goals."))
    for dimension, text in goals.items():
        setattr(plan, f"goal_{dimension.value}", (text or "").strip()[:2000] or None)
    audit.record(actor, "update", "transition_plan", plan.id, detail="goals")
    return plan


# The schedule -------------------------------------------------------------------------------


def _add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def next_due(day: date, phase: Phase) -> date:
    """Weekly in the intensive phase, monthly in the stable phase (paper 二(三)3)."""
    return day + timedelta(days=7) if phase is Phase.INTENSIVE else _add_month(day)


def refresh_schedule(plan: TransitionPlan, today: date | None = None) -> list[CheckIn]:
    """Keep the automatic schedule filled up to the phase's horizon; returns the new check-ins."""
    today = today or local_today()
    if plan.phase not in HORIZON:
        return []
    live = [c for c in plan.checkins if c.status is not CheckInStatus.CANCELLED]
    if live:
        due = next_due(max(c.due_date for c in live), plan.phase)
    else:
        due = max(plan.start_date, today) if plan.start_date > today else plan.start_date
    created = []
    limit = today + HORIZON[plan.phase]
    while due <= limit:
        checkin = CheckIn(plan_id=plan.id, due_date=due, status=CheckInStatus.SCHEDULED, auto_generated=True)
        plan.checkins.append(checkin)
        created.append(checkin)
        due = next_due(due, plan.phase)
    db.session.flush()
    return created


def change_phase(
    actor: User, plan: TransitionPlan, to_phase: Phase, reason: str, today: date | None = None
) -> PhaseChange:
    """A decision with a reason; future automatic check-ins follow the new phase's cadence."""
    today = today or local_today()
    if not perms.can_change_phase(actor, plan):
        raise NotAllowed(_l("Only the group's mentor changes a plan's phase."))
    reason = (reason or "").strip()
    errors = {}
    allowed = {
        Phase.INTENSIVE: {Phase.STABLE, Phase.CLOSED},
        Phase.STABLE: {Phase.INTENSIVE, Phase.CLOSED},
        Phase.CLOSED: set(),
    }.get(plan.phase, set())
    if to_phase not in allowed:
        errors["phase"] = _l("The plan cannot move from this phase to that one.")
    if len(reason) < 5:
        errors["reason"] = _l("Give the reason for this decision (at least 5 characters).")
    if errors:
        raise ValidationFailed(_l("The phase was not changed."), errors=errors)
    change = PhaseChange(
        plan_id=plan.id, from_phase=plan.phase, to_phase=to_phase, reason=reason[:500], decided_by_id=actor.id
    )
    db.session.add(change)
    plan.phase = to_phase
    for checkin in plan.checkins:
        if checkin.status is not CheckInStatus.SCHEDULED:
            continue
        # Meetings set for a time stay (they are commitments) unless the plan closes.
        if (checkin.auto_generated and checkin.starts_at is None and checkin.due_date >= today) or (
            to_phase is Phase.CLOSED and (checkin.starts_at is None or checkin.due_date >= today)
        ):
            checkin.status = CheckInStatus.CANCELLED
            if checkin.starts_at is not None:
                checkin.calendar_sequence += 1
    db.session.flush()
    if to_phase in HORIZON:
        live = [c for c in plan.checkins if c.status is not CheckInStatus.CANCELLED and c.due_date >= today]
        if not live:
            first = next_due(today, to_phase)
            plan.checkins.append(CheckIn(plan_id=plan.id, due_date=first, auto_generated=True))
            db.session.flush()
        refresh_schedule(plan, today)
    audit.record(actor, "phase", "transition_plan", plan.id, detail=to_phase.value)
    return change


def schedule_meeting(
    actor: User,
    checkin: CheckIn,
    starts_at: datetime,
    duration_minutes: int,
    mode: CheckInMode,
    place: str | None,
    now: datetime | None = None,
) -> CheckIn:
    """Set a time for a check-in that the actor leads; a mentor's time is a commitment
    (no double booking with lectures or sessions, travel buffer between places)."""
    now = now or utcnow()
    plan = checkin.plan
    if not perms.can_schedule_checkin(actor, plan) or checkin.status is not CheckInStatus.SCHEDULED:
        raise NotAllowed(_l("You cannot schedule this check-in."))
    checkin_id = checkin.id
    errors = {}
    if starts_at <= now:
        errors["starts_at"] = _l("Choose a time in the future.")
    if not 15 <= duration_minutes <= 240:
        errors["duration_minutes"] = _l("A check-in lasts from 15 to 240 minutes.")
    place = (place or "").strip()[:120] or None
    if mode is CheckInMode.IN_PERSON and not place:
        errors["place"] = _l("Say where you will meet.")
    if errors:
        raise ValidationFailed(_l("The check-in was not scheduled."), errors=errors)
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    if perms.plan_role(actor, plan) == perms.MENTOR:
        leader = commitments.lock_person(actor)
        commitments.ensure_free(
            leader, starts_at, ends_at, _place_key(mode, place), ignore=("checkin", checkin_id), field="starts_at"
        )
    else:
        lock_for_write(CheckIn, checkin_id)
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin.status is not CheckInStatus.SCHEDULED:
        raise Conflict(_l("This check-in has changed meanwhile; reload the page."))
    changed = checkin.starts_at is not None
    checkin.starts_at, checkin.ends_at = starts_at, ends_at
    checkin.mode, checkin.place, checkin.led_by_id = mode, place, actor.id
    checkin.due_date = to_local(starts_at).date()
    checkin.auto_generated = False
    if changed:
        checkin.calendar_sequence += 1
    notifications.notify(
        checkin.plan.student,
        "transition.checkin",
        _l("A check-in has been scheduled"),
        _l("Your next transition support check-in is set. Open the plan to see the time and place."),
        link=f"/transition/plans/{checkin.plan_id}",
    )
    return checkin


def _place_key(mode: CheckInMode | None, place: str | None) -> str | None:
    if mode is not CheckInMode.IN_PERSON or not place:
        return None
    return f"venue:{place.strip().lower()}"


# Recording check-ins -------------------------------------------------------------------------


@dataclass
class CheckInRecord:
    held_at: datetime
    mode: CheckInMode
    courses_passed: int | None = None
    courses_failed: int | None = None
    gpa: float | None = None
    attendance_rate: int | None = None
    missed_assignments: int | None = None
    mood: int | None = None
    scale_name: str | None = None
    scale_score: float | None = None
    notes: dict[Dimension, str] = field(default_factory=dict)
    follow_ups: str | None = None


RANGES = {
    "courses_passed": (0, 40, _l("Courses passed: a whole number from 0 to 40.")),
    "courses_failed": (0, 40, _l("Courses failed: a whole number from 0 to 40.")),
    "gpa": (0, 4, _l("GPA is on the 4-point scale: from 0 to 4.")),
    "attendance_rate": (0, 100, _l("Attendance is a percentage from 0 to 100.")),
    "missed_assignments": (0, 100, _l("Missed assignments: a whole number from 0 to 100.")),
    "mood": (1, 10, _l("The mood self-rating goes from 1 to 10.")),
    "scale_score": (0, 100, _l("The scale score must be from 0 to 100 (use the standard score).")),
}


def consent_covers(plan: TransitionPlan, dimension: Dimension) -> bool:
    """Personal notes need the student's consent, and a guardian's while the student is a minor."""
    active = [c for c in plan.consents if c.covers(dimension)]
    if not any(c.subject is ConsentSubject.STUDENT for c in active):
        return False
    return not plan.student.is_minor or any(c.subject is ConsentSubject.GUARDIAN for c in active)


def record_checkin(
    actor: User,
    plan: TransitionPlan,
    data: CheckInRecord,
    checkin: CheckIn | None = None,
    now: datetime | None = None,
) -> CheckIn:
    """Record what happened at a check-in; nothing is written when any value is refused."""
    now = now or utcnow()
    if not perms.can_record_checkin(actor, plan):
        raise NotAllowed(_l("Only the group's mentor, activist and cadres record check-ins on an open plan."))
    errors: dict[str, object] = {}
    if data.held_at > now:
        errors["held_at"] = _l("A check-in in the future cannot be recorded; schedule it instead.")
    if to_local(data.held_at).date() < plan.start_date - timedelta(days=31):
        errors["held_at"] = _l("This date is long before the plan started.")
    for name, (low, high, message) in RANGES.items():
        value = getattr(data, name)
        if value is not None and not low <= value <= high:
            errors[name] = message
    scale_name = (data.scale_name or "").strip()[:60] or None
    if data.scale_score is not None and not scale_name:
        errors["scale_name"] = _l("Name the standardized scale the score comes from.")
    if scale_name and data.scale_score is None:
        errors["scale_score"] = _l("Enter the score for this scale.")
    notes: dict[Dimension, str] = {}
    for dimension, text in data.notes.items():
        text = (text or "").strip()
        if not text:
            continue
        field_name = f"notes_{dimension.value}"
        if not perms.can_write_notes(actor, plan, dimension):
            errors[field_name] = _l("Your role in the group does not write notes of this kind.")
        elif not consent_covers(plan, dimension):
            errors[field_name] = _l(
                "No valid consent covers %(dimension)s notes: record the student's (and for a minor, a "
                "guardian's) consent first.",
                dimension=DIMENSION_LABELS[dimension],
            )
        else:
            notes[dimension] = text[:5000]
    if errors:
        raise ValidationFailed(_l("The check-in was not recorded."), errors=errors)

    if checkin is None:
        held_day = to_local(data.held_at).date()
        pending = sorted(
            (c for c in plan.checkins if c.status is CheckInStatus.SCHEDULED),
            key=lambda c: (c.due_date, c.id),
        )
        checkin = next((c for c in pending if c.due_date <= held_day + timedelta(days=MATCH_WINDOW_DAYS)), None)
    elif checkin.plan_id != plan.id or checkin.status is not CheckInStatus.SCHEDULED:
        raise Conflict(_l("This check-in is already recorded or cancelled."))
    if checkin is None:
        checkin = CheckIn(plan_id=plan.id, due_date=to_local(data.held_at).date(), auto_generated=False)
        plan.checkins.append(checkin)
    checkin.status = CheckInStatus.DONE
    checkin.held_at = data.held_at
    checkin.mode = data.mode
    checkin.led_by_id = checkin.led_by_id or actor.id
    checkin.recorded_by_id = actor.id
    for name in RANGES:
        setattr(checkin, name, getattr(data, name))
    checkin.scale_name = scale_name
    for dimension in Dimension:
        setattr(checkin, f"notes_{dimension.value}", notes.get(dimension))
    checkin.follow_ups = (data.follow_ups or "").strip()[:2000] or None
    db.session.flush()
    risk.recompute(plan, actor=actor, reason=str(_l("New check-in indicators")), at=data.held_at)
    refresh_schedule(plan, to_local(now).date())
    audit.record(actor, "record_checkin", "transition_plan", plan.id)
    return checkin


def override_risk(actor: User, plan: TransitionPlan, level: RiskLevel | None, reason: str) -> TransitionPlan:
    """The mentor's judgement over the computed tier (None returns to the computed level)."""
    if not perms.can_override_risk(actor, plan):
        raise NotAllowed(_l("Only the group's mentor overrides the risk level."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationFailed(_l("Give the reason for the override (at least 5 characters)."), field="reason")
    before = plan.risk
    plan.risk_override = level
    plan.risk_override_reason = reason[:300] if level else None
    plan.risk_overridden_by_id = actor.id if level else None
    db.session.add(
        RiskChange(
            plan_id=plan.id,
            from_level=before,
            to_level=plan.risk,
            overridden=level is not None,
            reason=reason[:300],
            by_id=actor.id,
        )
    )
    audit.record(actor, "override_risk", "transition_plan", plan.id)
    return plan


# Consent ---------------------------------------------------------------------------------------


def record_consent(
    actor: User,
    plan: TransitionPlan,
    subject: ConsentSubject,
    given_by_name: str,
    scopes: set[Dimension],
    given_on: date,
    relationship_to_student: str | None = None,
) -> Consent:
    """Who consented, when, to which dimensions. Students record only their own consent."""
    if not perms.can_manage_consent(actor, plan):
        raise NotAllowed(_l("Only the mentor or the student records consent."))
    role = perms.plan_role(actor, plan)
    errors = {}
    if role == "student":
        if subject is not ConsentSubject.STUDENT:
            errors["subject"] = _l("A guardian's consent is recorded by the mentor, who sees the signed form.")
        given_by_name = actor.display_name
    given_by_name = (given_by_name or "").strip()
    if not given_by_name:
        errors["given_by_name"] = _l("Name the person who gave consent.")
    if subject is ConsentSubject.GUARDIAN and not (relationship_to_student or "").strip():
        errors["relationship_to_student"] = _l("Say how the guardian is related to the student.")
    if not scopes:
        errors["scope_academic"] = _l("Choose at least one kind of notes the consent covers.")
    if given_on > local_today():
        errors["given_on"] = _l("Consent cannot be dated in the future.")
    if errors:
        raise ValidationFailed(_l("The consent was not recorded."), errors=errors)
    consent = Consent(
        plan_id=plan.id,
        subject=subject,
        given_by_name=given_by_name[:80],
        relationship_to_student=(relationship_to_student or "").strip()[:40] or None,
        scope_academic=Dimension.ACADEMIC in scopes,
        scope_psychological=Dimension.PSYCHOLOGICAL in scopes,
        scope_career=Dimension.CAREER in scopes,
        given_on=given_on,
        recorded_by_id=actor.id,
    )
    plan.consents.append(consent)
    db.session.flush()
    audit.record(actor, "consent", "transition_plan", plan.id, detail=subject.value)
    return consent


def withdraw_consent(actor: User, consent: Consent) -> Consent:
    """Withdrawal stops new notes at once; notes written before stay (PIPL art. 15)."""
    plan = consent.plan
    if consent.withdrawn_at is not None:
        raise Conflict(_l("This consent was already withdrawn."))
    if not perms.can_withdraw_consent(actor, consent):
        raise NotAllowed(_l("You cannot withdraw this consent."))
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = actor.id
    audit.record(actor, "withdraw_consent", "transition_plan", plan.id, detail=consent.subject.value)
    if actor.id != plan.group.mentor_id:
        notifications.notify(
            plan.group.mentor,
            "transition.consent",
            _l("A consent was withdrawn"),
            _l("A consent on a transition plan in your group was withdrawn; no new notes can be written under it."),
            link=f"/transition/plans/{plan.id}",
        )
    return consent


# Adjustments and escalation -----------------------------------------------------------------


def record_adjustment(actor: User, plan: TransitionPlan, level: AdjustmentLevel, rationale: str) -> Adjustment:
    if not perms.can_adjust(actor, plan, level):
        if level is AdjustmentLevel.MAJOR:
            raise NotAllowed(_l("Only the mentor decides a major adjustment (a redesign of the plan)."), field="level")
        raise NotAllowed(_l("Your role in the group cannot decide this adjustment."), field="level")
    rationale = (rationale or "").strip()
    if len(rationale) < 5:
        raise ValidationFailed(_l("Explain the rationale (at least 5 characters)."), field="rationale")
    adjustment = Adjustment(plan_id=plan.id, level=level, rationale=rationale[:2000], decided_by_id=actor.id)
    db.session.add(adjustment)
    audit.record(actor, "adjust", "transition_plan", plan.id, detail=level.value)
    return adjustment


ESCALATION_ORDER = [EscalationLevel.CADRE, EscalationLevel.ACTIVIST, EscalationLevel.MENTOR]


def _handlers(plan: TransitionPlan, level: EscalationLevel) -> list[User]:
    if level is EscalationLevel.MENTOR:
        return [plan.group.mentor]
    role = GroupRole(level.value)
    return [m.user for m in plan.group.members if m.role is role]


def raise_escalation(actor: User, plan: TransitionPlan, summary: str) -> Escalation:
    """An issue goes first to the cadres (分级干预: 学生干部 → 积极分子 → 导师)."""
    if not perms.can_raise_escalation(actor, plan):
        raise NotAllowed(_l("You cannot raise an issue on this plan."))
    summary = (summary or "").strip()
    if len(summary) < 5:
        raise ValidationFailed(_l("Describe the issue (at least 5 characters)."), field="summary")
    escalation = Escalation(plan_id=plan.id, summary=summary[:500], raised_by_id=actor.id, level=ESCALATION_ORDER[0])
    db.session.add(escalation)
    db.session.flush()
    _notify_handlers(plan, escalation)
    audit.record(actor, "raise_issue", "transition_plan", plan.id)
    return escalation


def _notify_handlers(plan: TransitionPlan, escalation: Escalation) -> None:
    for person in _handlers(plan, escalation.level):
        notifications.notify(
            person,
            "transition.escalation",
            _l("An issue on a transition plan needs you"),
            _l("An issue on a plan in your working group is now at your level. Open the plan to handle it."),
            link=f"/transition/plans/{plan.id}#escalations",
        )


def handle_escalation(actor: User, escalation: Escalation, outcome: str, escalate: bool) -> EscalationStep:
    """Record this level's outcome: resolved here, or passed up to the next level."""
    escalation = lock_for_write(Escalation, escalation.id)
    if escalation is None:
        raise NotFound(_l("That issue does not exist."))
    plan = db.session.get(TransitionPlan, escalation.plan_id)
    if escalation.status is not EscalationStatus.OPEN:
        raise Conflict(_l("This issue is already resolved."))
    if not perms.can_handle_escalation(actor, plan, escalation.level):
        raise NotAllowed(_l("This issue is at another level of the group."))
    outcome = (outcome or "").strip()
    if len(outcome) < 3:
        raise ValidationFailed(_l("Record the outcome at your level."), field="outcome")
    position = ESCALATION_ORDER.index(escalation.level)
    if escalate and position == len(ESCALATION_ORDER) - 1:
        raise ValidationFailed(_l("The mentor's decision is final: resolve the issue."), field="outcome")
    step = EscalationStep(
        escalation_id=escalation.id,
        level=escalation.level,
        handler_id=actor.id,
        escalated=escalate,
        outcome=outcome[:500],
    )
    db.session.add(step)
    if escalate:
        escalation.level = ESCALATION_ORDER[position + 1]
        db.session.flush()
        _notify_handlers(plan, escalation)
    else:
        escalation.status = EscalationStatus.RESOLVED
    audit.record(actor, "handle_issue", "transition_plan", plan.id, detail=step.level.value)
    return step


# Reading a plan ---------------------------------------------------------------------------------


def get_plan(plan_id: int) -> TransitionPlan | None:
    return db.session.scalar(
        select(TransitionPlan)
        .where(TransitionPlan.id == plan_id)
        .options(
            joinedload(TransitionPlan.student),
            joinedload(TransitionPlan.group).selectinload(WorkingGroup.members),
            joinedload(TransitionPlan.group).joinedload(WorkingGroup.mentor),
            selectinload(TransitionPlan.checkins),
            selectinload(TransitionPlan.consents),
        )
    )


@dataclass
class PlanView:
    plan: TransitionPlan
    role: str | None
    visible_dimensions: list[Dimension]
    phase_changes: list[PhaseChange] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    outcome: risk.PlanOutcome | None = None
    chart_svg: str = ""
    overdue: list[CheckIn] = field(default_factory=list)
    upcoming: list[CheckIn] = field(default_factory=list)
    recorded: list[CheckIn] = field(default_factory=list)
    consent_ok: dict[Dimension, bool] = field(default_factory=dict)


def view_plan(viewer: User, plan: TransitionPlan, today: date | None = None) -> PlanView:
    """What this viewer sees of the plan; every sensitive kind of notes shown is audited."""
    today = today or local_today()
    role = perms.plan_role(viewer, plan)
    if role is None:
        raise NotAllowed(_l("You are not part of this plan."))
    dims = [d for d in Dimension if perms.can_view_notes(viewer, plan, d)]
    view = PlanView(plan=plan, role=role, visible_dimensions=dims)
    if perms.can_view_handover(viewer, plan) and plan.handover_notes and viewer.id != plan.handover_teacher_id:
        audit.record(viewer, "read", "transition_plan", plan.id, detail="handover notes")
    if not perms.can_view_indicators(viewer, plan):
        return view
    for dimension in dims:
        has_content = plan.goal(dimension) or any(c.notes(dimension) for c in plan.checkins)
        if has_content:
            audit.record(viewer, "read", "transition_plan", plan.id, detail=NOTE_KINDS[dimension])
    view.phase_changes = list(
        db.session.scalars(
            select(PhaseChange)
            .where(PhaseChange.plan_id == plan.id)
            .options(joinedload(PhaseChange.decided_by))
            .order_by(PhaseChange.decided_at)
        )
    )
    view.adjustments = list(
        db.session.scalars(
            select(Adjustment)
            .where(Adjustment.plan_id == plan.id)
            .options(joinedload(Adjustment.decided_by))
            .order_by(Adjustment.decided_at.desc())
        )
    )
    view.escalations = list(
        db.session.scalars(
            select(Escalation)
            .where(Escalation.plan_id == plan.id)
            .options(
                joinedload(Escalation.raised_by), selectinload(Escalation.steps).joinedload(EscalationStep.handler)
            )
            .order_by(Escalation.created_at.desc())
        )
    )
    history = risk.risk_history([plan.id])[plan.id]
    view.outcome = risk.plan_outcome(plan, history)
    view.chart_svg = risk.plan_chart_svg(view.outcome)
    for checkin in plan.checkins:
        if checkin.status is CheckInStatus.DONE:
            view.recorded.append(checkin)
        elif checkin.status is CheckInStatus.SCHEDULED:
            (view.overdue if checkin.due_date < today else view.upcoming).append(checkin)
    view.recorded.sort(key=lambda c: c.held_at, reverse=True)
    view.consent_ok = {d: consent_covers(plan, d) for d in Dimension}
    return view


def record_notes_read(viewer: User, plan: TransitionPlan, dimension: Dimension) -> None:
    """The notes page of one dimension: one audit row naming the kind of notes only."""
    if not perms.can_view_notes(viewer, plan, dimension):
        raise NotAllowed(_l("Your role does not see these notes."))
    audit.record(viewer, "read", "transition_plan", plan.id, detail=NOTE_KINDS[dimension])


def default_held_at() -> datetime:
    """The form's default: now, to the minute, as Shanghai wall-clock time (naive for the input)."""
    return to_local(utcnow()).replace(second=0, microsecond=0, tzinfo=None)


def open_admin_access(actor: User, plan: TransitionPlan, reason: str) -> AdminPlanAccess:
    """An administrator opens a plan only with a stated reason, for a limited time, audited."""
    if not perms.can_request_admin_access(actor, plan):
        raise NotAllowed(_l("Only an administrator can request access."))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed(_l("State why you need to open this plan (at least 10 characters)."), field="reason")
    access = AdminPlanAccess(
        plan_id=plan.id,
        admin_id=actor.id,
        reason=reason[:300],
        expires_at=utcnow() + timedelta(minutes=ADMIN_ACCESS_MINUTES),
    )
    db.session.add(access)
    audit.record(
        actor, "admin_access", "transition_plan", plan.id, reason=reason, detail="plan opened by an administrator"
    )
    perms.forget_admin_access_cache()
    return access


def admin_plan_index() -> list[TransitionPlan]:
    """For the admin's list: who and where only, no indicators."""
    return list(
        db.session.scalars(
            select(TransitionPlan)
            .options(joinedload(TransitionPlan.student), joinedload(TransitionPlan.group))
            .order_by(TransitionPlan.id)
        )
    )


# Dashboards ---------------------------------------------------------------------------------------


@dataclass
class DashboardRow:
    plan: TransitionPlan
    next_due: date | None
    overdue: int
    last_held: datetime | None


@dataclass
class GroupDashboard:
    group: WorkingGroup
    rows: list[DashboardRow]
    overdue: list[CheckIn]
    pending_handovers: list[TransitionPlan]
    outcome: risk.GroupOutcome
    chart_svg: str


def group_dashboard(viewer: User, group: WorkingGroup, today: date | None = None) -> GroupDashboard:
    """Students by risk (high first), then by overdue check-ins: a bounded number of queries."""
    today = today or local_today()
    if not perms.can_view_group_dashboard(viewer, group):
        raise NotAllowed(_l("Only the group's mentor, activist and cadres see its dashboard."))
    plans = list(
        db.session.scalars(
            select(TransitionPlan)
            .where(TransitionPlan.group_id == group.id)
            .options(
                joinedload(TransitionPlan.student),
                joinedload(TransitionPlan.origin_school),
                joinedload(TransitionPlan.handover_teacher),
                selectinload(TransitionPlan.checkins),
            )
        ).unique()
    )
    stats = {
        plan_id: (next_due_day, overdue, last_held)
        for plan_id, next_due_day, overdue, last_held in db.session.execute(
            select(
                CheckIn.plan_id,
                func.min(
                    case((and_(CheckIn.status == CheckInStatus.SCHEDULED, CheckIn.due_date >= today), CheckIn.due_date))
                ),
                func.sum(case((and_(CheckIn.status == CheckInStatus.SCHEDULED, CheckIn.due_date < today), 1), else_=0)),
                func.max(CheckIn.held_at),
            )
            .join(TransitionPlan, TransitionPlan.id == CheckIn.plan_id)
            .where(TransitionPlan.group_id == group.id)
            .group_by(CheckIn.plan_id)
        )
    }
    rows, pending = [], []
    for plan in plans:
        if plan.phase is Phase.HANDOVER:
            pending.append(plan)
            continue
        next_day, overdue, last_held = stats.get(plan.id, (None, 0, None))
        rows.append(DashboardRow(plan=plan, next_due=next_day, overdue=int(overdue or 0), last_held=last_held))
    rows.sort(key=lambda r: (r.plan.phase is Phase.CLOSED, -r.plan.risk.rank, -r.overdue, r.plan.student.display_name))
    overdue = sorted(
        (
            c
            for plan in plans
            for c in plan.checkins
            if c.status is CheckInStatus.SCHEDULED and c.due_date < today and plan.phase in HORIZON
        ),
        key=lambda c: (c.due_date, c.id),
    )
    open_plans = [p for p in plans if p.phase is not Phase.HANDOVER]
    outcome = risk.group_outcome(open_plans)
    return GroupDashboard(
        group=group,
        rows=rows,
        overdue=overdue,
        pending_handovers=pending,
        outcome=outcome,
        chart_svg=risk.group_chart_svg(outcome),
    )


def plans_handed_over_by(teacher: User) -> list[TransitionPlan]:
    return list(
        db.session.scalars(
            select(TransitionPlan)
            .where(TransitionPlan.handover_teacher_id == teacher.id)
            .options(joinedload(TransitionPlan.student), joinedload(TransitionPlan.group))
            .order_by(TransitionPlan.handed_over_at.desc())
        )
    )


def plan_of_student(student: User) -> TransitionPlan | None:
    return db.session.scalar(select(TransitionPlan).where(TransitionPlan.student_id == student.id))


def handover_candidates(teacher: User) -> list[User]:
    """Students of the teacher's school who do not have a plan yet."""
    if teacher.school_id is None:
        return []
    has_plan = select(TransitionPlan.student_id)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.school_id == teacher.school_id,
                User.role == Role.STUDENT,
                User.active.is_(True),
                User.id.not_in(has_plan),
            )
            .order_by(User.display_name)
        )
    )


# Export (the student's own copy) ---------------------------------------------------------------


def export_plan(actor: User, plan: TransitionPlan) -> dict:
    """Everything the plan holds about the student, and nobody else's personal data:
    group members appear by role only."""
    if not perms.can_export_plan(actor, plan):
        raise NotAllowed(_l("Only the student exports their own plan."))
    audit.record(actor, "export", "transition_plan", plan.id, detail="own plan export")

    def day(value):
        return value.isoformat() if value else None

    adjustments = db.session.scalars(
        select(Adjustment).where(Adjustment.plan_id == plan.id).order_by(Adjustment.decided_at)
    )
    phases = db.session.scalars(
        select(PhaseChange).where(PhaseChange.plan_id == plan.id).order_by(PhaseChange.decided_at)
    )
    escalations = db.session.scalars(
        select(Escalation)
        .where(Escalation.plan_id == plan.id)
        .options(selectinload(Escalation.steps))
        .order_by(Escalation.created_at)
    )
    changes = db.session.scalars(select(RiskChange).where(RiskChange.plan_id == plan.id).order_by(RiskChange.at))
    members = {m.user_id: m.role.value for m in plan.group.members}
    members[plan.group.mentor_id] = "mentor"

    def who(user_id):
        if user_id == plan.student_id:
            return "student"
        return members.get(user_id, "other")

    return {
        "student": {
            "name": plan.student.display_name,
            "email": plan.student.email,
            "birth_date": day(plan.student.birth_date),
            "grade": plan.student.grade,
        },
        "plan": {
            "id": plan.id,
            "group": plan.group.name,
            "origin_school": plan.origin_school.name_zh if plan.origin_school else None,
            "destination_school": plan.destination_school.name_zh if plan.destination_school else None,
            "start_date": day(plan.start_date),
            "phase": plan.phase.value,
            "risk_level": plan.risk.value,
            "risk_override_reason": plan.risk_override_reason,
            "handover_notes": plan.handover_notes,
            "goals": {d.value: plan.goal(d) for d in Dimension},
        },
        "consents": [
            {
                "subject": c.subject.value,
                "given_by": c.given_by_name,
                "relationship": c.relationship_to_student,
                "scope": [d.value for d in Dimension if getattr(c, f"scope_{d.value}")],
                "given_on": day(c.given_on),
                "withdrawn_at": day(c.withdrawn_at),
            }
            for c in plan.consents
        ],
        "checkins": [
            {
                "due_date": day(c.due_date),
                "status": c.status.value,
                "held_at": day(c.held_at),
                "starts_at": day(c.starts_at),
                "place": c.place,
                "mode": c.mode.value if c.mode else None,
                "led_by": who(c.led_by_id) if c.led_by_id else None,
                "courses_passed": c.courses_passed,
                "courses_failed": c.courses_failed,
                "gpa": c.gpa,
                "attendance_rate": c.attendance_rate,
                "missed_assignments": c.missed_assignments,
                "mood": c.mood,
                "scale_name": c.scale_name,
                "scale_score": c.scale_score,
                "notes": {d.value: c.notes(d) for d in Dimension},
                "follow_ups": c.follow_ups,
            }
            for c in plan.checkins
        ],
        "phase_changes": [
            {"from": p.from_phase.value, "to": p.to_phase.value, "reason": p.reason, "at": day(p.decided_at)}
            for p in phases
        ],
        "risk_changes": [
            {
                "from": r.from_level.value if r.from_level else None,
                "to": r.to_level.value,
                "at": day(r.at),
                "overridden": r.overridden,
                "reason": r.reason,
            }
            for r in changes
        ],
        "adjustments": [
            {
                "level": a.level.value,
                "rationale": a.rationale,
                "decided_by": who(a.decided_by_id),
                "at": day(a.decided_at),
            }
            for a in adjustments
        ],
        "escalations": [
            {
                "summary": e.summary,
                "status": e.status.value,
                "raised_by": who(e.raised_by_id),
                "steps": [
                    {"level": s.level.value, "at": day(s.at), "escalated": s.escalated, "outcome": s.outcome}
                    for s in e.steps
                ],
            }
            for e in escalations
        ],
    }


def export_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _spreadsheet_safe(value):
    """Text others wrote (notes, reasons) must not become a live formula when the student opens
    the file in Excel or WPS: a leading =, +, -, @, tab or CR is neutralised with a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_csv(data: dict) -> str:
    """A flat (section, item, field, value) table of the same export, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "item", "field", "value"])

    def walk(section, item, value, prefix=""):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(section, item, inner, f"{prefix}{key}.")
        elif isinstance(value, list):
            for index, inner in enumerate(value, 1):
                walk(section, item, inner, f"{prefix}{index}.")
        else:
            writer.writerow([section, item, prefix.rstrip("."), _spreadsheet_safe(value)])

    for section, value in data.items():
        if isinstance(value, list):
            for index, entry in enumerate(value, 1):
                walk(section, index, entry)
        else:
            walk(section, "", value)
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Chinese correctly


# Calendar and commitments -----------------------------------------------------------------------


def _entry(checkin: CheckIn) -> calendar.CalendarEntry:
    status = "cancelled" if checkin.status is CheckInStatus.CANCELLED else "confirmed"
    return calendar.CalendarEntry(
        uid=calendar.entry_uid("checkin", checkin.id),
        kind="checkin",
        title=_("Transition support check-in"),
        start=checkin.starts_at,
        end=checkin.ends_at,
        location=checkin.place or (str(_l("Online")) if checkin.mode is CheckInMode.ONLINE else ""),
        description=_("A meeting of the mentor working group. Details are on the portal."),
        url=f"/transition/plans/{checkin.plan_id}",
        status=status,
        sequence=checkin.calendar_sequence,
        updated=checkin.updated_at,
        source_id=checkin.id,
    )


def _timed_checkins(start: datetime, end: datetime):
    cutoff = utcnow() - timedelta(days=CANCELLED_VISIBLE_DAYS)
    return (
        select(CheckIn)
        .where(CheckIn.starts_at.is_not(None), overlap_clause(CheckIn.starts_at, CheckIn.ends_at, start, end))
        .where(or_(CheckIn.status != CheckInStatus.CANCELLED, CheckIn.updated_at >= cutoff))
    )


def personal_checkins(user: User, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    """Check-ins at a set time that the user attends: as the student, or leading it."""
    stmt = _timed_checkins(start, end).join(TransitionPlan, TransitionPlan.id == CheckIn.plan_id)
    stmt = stmt.where(or_(TransitionPlan.student_id == user.id, CheckIn.led_by_id == user.id))
    return [_entry(c) for c in db.session.scalars(stmt.order_by(CheckIn.starts_at))]


def single_checkin(viewer: User | None, checkin_id: int) -> calendar.CalendarEntry | None:
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or checkin.starts_at is None or viewer is None:
        return None
    plan = checkin.plan
    if viewer.id not in (plan.student_id, checkin.led_by_id) and perms.plan_role(viewer, plan) not in perms.STAFF_ROLES:
        return None
    return _entry(checkin)


def checkin_commitments(user: User, start: datetime, end: datetime) -> list[commitments.Commitment]:
    """A check-in someone leads at a set time keeps them busy then."""
    stmt = (
        select(CheckIn)
        .where(
            CheckIn.led_by_id == user.id,
            CheckIn.starts_at.is_not(None),
            CheckIn.status != CheckInStatus.CANCELLED,
            overlap_clause(CheckIn.starts_at, CheckIn.ends_at, start, end),
        )
        .order_by(CheckIn.starts_at)
    )
    return [
        commitments.Commitment(
            kind="checkin",
            ref_id=c.id,
            start=c.starts_at,
            end=c.ends_at,
            place=_place_key(c.mode, c.place),
            label=str(_l("Transition support check-in")),
        )
        for c in db.session.scalars(stmt)
    ]


calendar.register_personal_provider("checkin", personal_checkins)
calendar.register_single_provider("checkin", single_checkin)
commitments.register_provider("checkin", checkin_commitments)
