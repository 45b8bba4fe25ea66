"""The field-level permission matrix of transition plans, used by services and templates.

Who sees what (paper 二(二)2 division of labour; PIPL for minors):

| viewer                   | overview | indicators, risk | handover | academic | psych. | career |
| ------------------------ | -------- | ---------------- | -------- | -------- | ------ | ------ |
| the group's mentor       | yes      | yes              | yes      | yes      | yes    | yes    |
| the group's activist     | yes      | yes              | yes      | yes      | yes    | yes    |
| the group's cadres       | yes      | yes              | yes      | yes      | no     | no     |
| the student              | yes      | yes              | yes      | yes      | yes    | yes    |
| the handover teacher     | no       | no               | yes      | no       | no     | no     |
| admin, audited access    | yes      | yes              | yes      | no       | no     | no     |
| anyone else (mentees...) | no       | no               | no       | no       | no     | no     |
(the last three columns are personal notes and goals of each dimension)
"""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import select

from portal.models import AdminPlanAccess, TransitionPlan, User, WorkingGroup
from portal.models.transition import AdjustmentLevel, ConsentSubject, Dimension, EscalationLevel, GroupRole, Phase
from portal.timeutil import utcnow

MENTOR = "mentor"
STAFF_ROLES = (MENTOR, GroupRole.ACTIVIST.value, GroupRole.CADRE.value)


def _authenticated(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "id", None))


def group_role(user: User | None, group: WorkingGroup | None) -> str | None:
    """'mentor', 'activist', 'cadre', 'mentee' or None for this user in this group."""
    if not _authenticated(user) or group is None:
        return None
    if group.mentor_id == user.id:
        return MENTOR
    for member in group.members:
        if member.user_id == user.id:
            return member.role.value
    return None


def plan_role(user: User | None, plan: TransitionPlan) -> str | None:
    """The viewer's relation to a plan: a group staff role, 'student', 'handover', 'admin' or None.

    The student's own plan wins over a group role (a mentee is never staff of their own plan);
    a mentee of the same group is NOT entitled to another mentee's plan.
    """
    if not _authenticated(user):
        return None
    if plan.student_id == user.id:
        return "student"
    role = group_role(user, plan.group)
    if role in STAFF_ROLES:
        return role
    if plan.handover_teacher_id == user.id:
        return "handover"
    if user.is_admin and admin_access_active(user, plan):
        return "admin"
    return None


def admin_access_active(user: User | None, plan: TransitionPlan) -> bool:
    """Whether this admin holds an unexpired audited access to the plan (cached per request)."""
    if not _authenticated(user) or not user.is_admin:
        return False
    cache = g.setdefault("_transition_admin_access", {}) if has_app_context() else {}
    key = (user.id, plan.id)
    if key not in cache:
        from portal.extensions import db

        cache[key] = (
            db.session.scalar(
                select(AdminPlanAccess.id).where(
                    AdminPlanAccess.plan_id == plan.id,
                    AdminPlanAccess.admin_id == user.id,
                    AdminPlanAccess.expires_at > utcnow(),
                )
            )
            is not None
        )
    return cache[key]


def forget_admin_access_cache() -> None:
    if has_app_context():
        g.pop("_transition_admin_access", None)


# Plans -----------------------------------------------------------------------------


def can_view_plan(user: User | None, plan: TransitionPlan) -> bool:
    """May open the plan's page at all (the handover teacher sees only the handover section)."""
    return plan_role(user, plan) is not None


def can_view_overview(user: User | None, plan: TransitionPlan) -> bool:
    return plan_role(user, plan) in (*STAFF_ROLES, "student", "admin")


def can_view_indicators(user: User | None, plan: TransitionPlan) -> bool:
    """Indicators, risk level, outcomes, schedule, adjustments, escalations."""
    return plan_role(user, plan) in (*STAFF_ROLES, "student", "admin")


def can_view_handover(user: User | None, plan: TransitionPlan) -> bool:
    return plan_role(user, plan) in (*STAFF_ROLES, "student", "handover", "admin")


def can_hand_over(user: User | None) -> bool:
    """Senior-high teachers hand their graduating students over to a university group."""
    from portal.models import Role, SchoolLevel

    return (
        _authenticated(user)
        and user.role is Role.TEACHER
        and user.school is not None
        and user.school.level is SchoolLevel.SENIOR_HIGH
    )


def can_edit_handover(user: User | None, plan: TransitionPlan) -> bool:
    return plan_role(user, plan) == "handover" and plan.phase is Phase.HANDOVER


def can_accept_handover(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase is Phase.HANDOVER and group_role(user, plan.group) == MENTOR


NOTE_VIEWERS = {
    Dimension.PSYCHOLOGICAL: (MENTOR, GroupRole.ACTIVIST.value, "student"),
    Dimension.ACADEMIC: (MENTOR, GroupRole.ACTIVIST.value, GroupRole.CADRE.value, "student"),
    Dimension.CAREER: (MENTOR, GroupRole.ACTIVIST.value, "student"),
}


def can_view_notes(user: User | None, plan: TransitionPlan, dimension: Dimension | str) -> bool:
    """Personal notes and goals of one dimension."""
    dimension = Dimension(dimension)
    return plan_role(user, plan) in NOTE_VIEWERS[dimension]


def can_write_notes(user: User | None, plan: TransitionPlan, dimension: Dimension | str) -> bool:
    """Group staff write the notes they may read; the student reads but does not write them."""
    role = plan_role(user, plan)
    return role in STAFF_ROLES and role in NOTE_VIEWERS[Dimension(dimension)]


def can_record_checkin(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase in (Phase.INTENSIVE, Phase.STABLE) and plan_role(user, plan) in STAFF_ROLES


def can_schedule_checkin(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase in (Phase.INTENSIVE, Phase.STABLE) and plan_role(user, plan) in STAFF_ROLES


def can_change_phase(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase is not Phase.HANDOVER and plan_role(user, plan) == MENTOR


def can_override_risk(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase is not Phase.HANDOVER and plan_role(user, plan) == MENTOR


def can_edit_goals(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase is not Phase.HANDOVER and plan_role(user, plan) == MENTOR


ADJUSTERS = {
    AdjustmentLevel.MINOR: (MENTOR, GroupRole.ACTIVIST.value, GroupRole.CADRE.value),
    AdjustmentLevel.MEDIUM: (MENTOR, GroupRole.ACTIVIST.value),
    AdjustmentLevel.MAJOR: (MENTOR,),
}


def can_adjust(user: User | None, plan: TransitionPlan, level: AdjustmentLevel | str | None = None) -> bool:
    """Minor: any staff; medium: mentor or activist; major (redesign): mentor only."""
    if plan.phase in (Phase.HANDOVER, Phase.CLOSED):
        return False
    role = plan_role(user, plan)
    if level is None:
        return role in STAFF_ROLES
    return role in ADJUSTERS[AdjustmentLevel(level)]


def can_raise_escalation(user: User | None, plan: TransitionPlan) -> bool:
    return plan.phase is not Phase.HANDOVER and plan_role(user, plan) in (*STAFF_ROLES, "student")


def can_handle_escalation(user: User | None, plan: TransitionPlan, level: EscalationLevel) -> bool:
    """Only the holder of the current level handles it: cadre → activist → mentor."""
    return plan_role(user, plan) == level.value


def can_manage_consent(user: User | None, plan: TransitionPlan) -> bool:
    """The mentor records consents (incl. a guardian's); the student records and withdraws their own."""
    return plan_role(user, plan) in (MENTOR, "student")


def can_export_plan(user: User | None, plan: TransitionPlan) -> bool:
    """A student's data-portability copy: the student only."""
    return plan_role(user, plan) == "student"


def can_request_admin_access(user: User | None, plan: TransitionPlan) -> bool:
    return _authenticated(user) and user.is_admin


# Groups ----------------------------------------------------------------------------


def can_manage_group(user: User | None, group: WorkingGroup) -> bool:
    """Admins and the group's own mentor manage membership."""
    if not _authenticated(user):
        return False
    return user.is_admin or group.mentor_id == user.id


def can_view_group_dashboard(user: User | None, group: WorkingGroup) -> bool:
    return group_role(user, group) in STAFF_ROLES


def can_view_group(user: User | None, group: WorkingGroup) -> bool:
    """Mentees do not see the group page: its member list would tell them who else is a mentee."""
    return can_manage_group(user, group) or group_role(user, group) in STAFF_ROLES


def can_withdraw_consent(user: User | None, consent) -> bool:
    """The mentor may withdraw any consent on the plan; the student their own (a guardian's
    consent is withdrawn through the mentor, who records it)."""
    if consent.withdrawn_at is not None:
        return False
    role = plan_role(user, consent.plan)
    return role == MENTOR or (role == "student" and consent.subject is ConsentSubject.STUDENT)
