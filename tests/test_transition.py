"""Transition support: group structure, plans, schedule, risk, escalation, consent, outcomes."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db as _db
from portal.models import CheckIn, GroupMember, RiskChange, Role, TransitionPlan, WorkingGroup
from portal.models.transition import (
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
from portal.services import risk, transition
from portal.timeutil import local_datetime, local_today, utcnow
from tests.fixtures_transition import ADULT_BIRTH, ALL_DIMENSIONS


@pytest.fixture(autouse=True)
def english_messages(app):
    """Service messages are lazy strings: read them in English so `match=` is stable."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


# Working groups -------------------------------------------------------------------------------


def test_incomplete_group_cannot_be_activated(db, create_transition_group, create_user):
    setup = create_transition_group(activate=False, complete=False)
    transition.add_member(setup.mentor, setup.group, setup.activist, GroupRole.ACTIVIST)
    db.session.commit()
    transition.add_member(setup.mentor, setup.group, setup.cadres[0], GroupRole.CADRE)
    db.session.commit()
    with pytest.raises(ValidationFailed) as info:
        transition.activate_group(setup.mentor, setup.group)
    assert "now 1" in str(info.value)
    db.session.rollback()
    assert db.session.get(WorkingGroup, setup.group.id).status is GroupStatus.DRAFT
    transition.add_member(setup.mentor, setup.group, setup.cadres[1], GroupRole.CADRE)
    db.session.commit()
    transition.activate_group(setup.mentor, setup.group)
    db.session.commit()
    assert db.session.get(WorkingGroup, setup.group.id).status is GroupStatus.ACTIVE


def test_exactly_one_activist_and_two_cadres(db, create_transition_group, create_user):
    setup = create_transition_group()
    extra = create_user(Role.STUDENT, birth_date=ADULT_BIRTH)
    with pytest.raises(Conflict, match="exactly one activist"):
        transition.add_member(setup.mentor, setup.group, extra, GroupRole.ACTIVIST)
    db.session.rollback()
    with pytest.raises(Conflict, match="exactly two"):
        transition.add_member(setup.mentor, setup.group, extra, GroupRole.CADRE)
    db.session.rollback()
    assert db.session.scalar(select(func.count(GroupMember.id))) == 3


def test_one_person_one_role_per_group(db, create_transition_group):
    setup = create_transition_group()
    with pytest.raises(Conflict, match="already holds a role"):
        transition.add_member(setup.mentor, setup.group, setup.cadres[0], GroupRole.MENTEE)
    db.session.rollback()
    with pytest.raises(Conflict, match="one person holds one role"):
        transition.add_member(setup.mentor, setup.group, setup.mentor, GroupRole.MENTEE)
    db.session.rollback()
    assert db.session.scalar(select(func.count(GroupMember.id))) == 3


def test_only_admins_and_the_mentor_manage_membership(db, create_transition_group, create_user):
    setup = create_transition_group()
    student = create_user(Role.STUDENT, birth_date=ADULT_BIRTH)
    other_mentor = create_user(Role.MENTOR)
    for actor in (setup.activist, setup.cadres[0], other_mentor):
        with pytest.raises(NotAllowed):
            transition.add_member(actor, setup.group, student, GroupRole.MENTEE)
        db.session.rollback()
    admin = create_user(Role.ADMIN)
    transition.add_member(admin, setup.group, student, GroupRole.MENTEE)
    db.session.commit()
    assert any(m.user_id == student.id for m in db.session.get(WorkingGroup, setup.group.id).members)


def test_active_group_keeps_its_core_but_allows_replacement(db, create_transition_group, create_user):
    setup = create_transition_group()
    member = next(m for m in setup.group.members if m.role is GroupRole.ACTIVIST)
    with pytest.raises(Conflict, match="replace"):
        transition.remove_member(setup.mentor, member)
    db.session.rollback()
    newcomer = create_user(Role.STUDENT, birth_date=ADULT_BIRTH)
    transition.replace_member(setup.mentor, db.session.get(GroupMember, member.id), newcomer)
    db.session.commit()
    group = db.session.get(WorkingGroup, setup.group.id)
    assert [m.user_id for m in group.members_in(GroupRole.ACTIVIST)] == [newcomer.id]


def test_parallel_additions_never_exceed_two_cadres(app, db, create_transition_group, create_user):
    setup = create_transition_group(activate=False, complete=False)
    candidates = [create_user(Role.STUDENT, birth_date=ADULT_BIRTH) for _ in range(6)]
    group_id, mentor_id = setup.group.id, setup.mentor.id
    results: list[str] = []
    barrier = threading.Barrier(len(candidates))

    def attempt(user_id):
        with app.app_context():
            from portal.models import User

            barrier.wait()
            try:
                transition.add_member(
                    _db.session.get(User, mentor_id),
                    _db.session.get(WorkingGroup, group_id),
                    _db.session.get(User, user_id),
                    GroupRole.CADRE,
                )
                _db.session.commit()
                results.append("ok")
            except Conflict:
                _db.session.rollback()
                results.append("full")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=attempt, args=(c.id,)) for c in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["full"] * 4 + ["ok"] * 2
    db.session.rollback()  # end the test's read snapshot
    assert db.session.scalar(select(func.count(GroupMember.id)).where(GroupMember.role == GroupRole.CADRE)) == 2


# Plans and handover -------------------------------------------------------------------------------


def test_duplicate_plan_is_refused(db, create_transition_plan):
    plan, setup = create_transition_plan()
    with pytest.raises(Conflict, match="already has a transition plan"):
        transition.create_plan(setup.mentor, setup.group, plan.student, local_today())
    db.session.rollback()
    assert db.session.scalar(select(func.count(TransitionPlan.id))) == 1


def test_parallel_plans_for_one_student_make_one(app, db, create_transition_group, create_user):
    setup = create_transition_group()
    student = create_user(Role.STUDENT, birth_date=ADULT_BIRTH)
    ids = (setup.mentor.id, setup.group.id, student.id)
    outcomes: list[str] = []
    barrier = threading.Barrier(5)

    def attempt():
        with app.app_context():
            from portal.models import User

            barrier.wait()
            try:
                transition.create_plan(
                    _db.session.get(User, ids[0]),
                    _db.session.get(WorkingGroup, ids[1]),
                    _db.session.get(User, ids[2]),
                    local_today(),
                )
                _db.session.commit()
                outcomes.append("ok")
            except Conflict:
                _db.session.rollback()
                outcomes.append("dup")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["dup"] * 4 + ["ok"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(TransitionPlan.id))) == 1


def test_handover_then_acceptance(db, create_transition_group, senior_high_teacher, create_user):
    setup = create_transition_group()
    teacher = senior_high_teacher()
    student = create_user(Role.STUDENT, school=teacher.school, birth_date=date(2009, 3, 1))
    outsider = create_user(Role.STUDENT)
    with pytest.raises(ValidationFailed, match="own school"):
        transition.open_handover(teacher, outsider, setup.group, local_today(), "notes")
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        transition.open_handover(teacher, student, setup.group, local_today(), "   ")
    db.session.rollback()
    plan = transition.open_handover(teacher, student, setup.group, local_today() + timedelta(days=30), "数学好")
    db.session.commit()
    assert plan.phase is Phase.HANDOVER and plan.checkins == []
    with pytest.raises(NotAllowed):
        transition.accept_handover(setup.activist, plan)
    db.session.rollback()
    transition.accept_handover(setup.mentor, db.session.get(TransitionPlan, plan.id), local_today())
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    assert plan.phase is Phase.INTENSIVE
    assert any(m.user_id == student.id and m.role is GroupRole.MENTEE for m in plan.group.members)
    assert len(plan.checkins) >= 4


def test_handover_needs_a_senior_high_teacher(db, create_transition_group, create_user):
    setup = create_transition_group()
    teacher = create_user(Role.TEACHER)  # junior-high school by default
    student = create_user(Role.STUDENT, school=teacher.school)
    with pytest.raises(NotAllowed):
        transition.open_handover(teacher, student, setup.group, local_today(), "notes")


# Schedule -------------------------------------------------------------------------------------------


def _pending(plan) -> list[date]:
    return sorted(c.due_date for c in plan.checkins if c.status is CheckInStatus.SCHEDULED)


def test_intensive_phase_schedules_weekly_check_ins(db, create_transition_plan):
    today = local_today()
    plan, _ = create_transition_plan(start=today)
    due = _pending(plan)
    assert due[0] == today
    assert all((b - a).days == 7 for a, b in zip(due, due[1:], strict=False))
    assert due[-1] <= today + transition.HORIZON[Phase.INTENSIVE] < due[-1] + timedelta(days=7)


def test_schedule_follows_a_phase_change(db, create_transition_plan):
    today = local_today()
    plan, setup = create_transition_plan(start=today - timedelta(days=14))
    with pytest.raises(ValidationFailed) as info:
        transition.change_phase(setup.mentor, plan, Phase.STABLE, "")
    assert "reason" in info.value.errors
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    transition.change_phase(setup.mentor, plan, Phase.STABLE, "指标连续稳定，转入稳定期。")
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    future = [d for d in _pending(plan) if d >= today]
    assert len(future) >= 2
    for a, b in zip(future, future[1:], strict=False):
        assert 28 <= (b - a).days <= 31
    assert future[0] > today
    # and back to intensive: weekly again
    transition.change_phase(setup.mentor, plan, Phase.INTENSIVE, "期中考试前重新加强跟踪。")
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    future = [d for d in _pending(plan) if d >= today]
    assert all((b - a).days == 7 for a, b in zip(future, future[1:], strict=False)) and len(future) >= 3


def test_only_the_mentor_changes_phase_and_closing_cancels_schedule(db, create_transition_plan):
    plan, setup = create_transition_plan()
    with pytest.raises(NotAllowed):
        transition.change_phase(setup.activist, plan, Phase.STABLE, "a good reason")
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    transition.change_phase(setup.mentor, plan, Phase.CLOSED, "顺利完成过渡期。")
    db.session.commit()
    assert _pending(db.session.get(TransitionPlan, plan.id)) == []
    with pytest.raises(ValidationFailed):
        transition.change_phase(setup.mentor, db.session.get(TransitionPlan, plan.id), Phase.STABLE, "reopen it")


def test_recording_fulfils_the_due_check_in(db, create_transition_plan, record_transition_checkin):
    plan, setup = create_transition_plan(start=local_today() - timedelta(days=7))
    first = min(plan.checkins, key=lambda c: c.due_date)
    checkin = record_transition_checkin(setup.cadres[0], plan, days_ago=6, gpa=3.0)
    assert checkin.id == first.id and checkin.status is CheckInStatus.DONE


def test_check_in_in_the_future_or_out_of_range_writes_nothing(db, create_transition_plan):
    plan, setup = create_transition_plan()
    cases = [
        ({"held_at": utcnow() + timedelta(hours=2)}, "held_at"),
        ({"gpa": 4.5}, "gpa"),
        ({"gpa": -0.1}, "gpa"),
        ({"attendance_rate": 101}, "attendance_rate"),
        ({"mood": 0}, "mood"),
        ({"mood": 11}, "mood"),
        ({"courses_failed": -1}, "courses_failed"),
        ({"scale_score": 101, "scale_name": "SAS"}, "scale_score"),
        ({"scale_score": 50}, "scale_name"),
    ]
    for values, field_name in cases:
        data = transition.CheckInRecord(
            held_at=values.pop("held_at", utcnow() - timedelta(hours=1)), mode=CheckInMode.IN_PERSON, **values
        )
        with pytest.raises(ValidationFailed) as info:
            transition.record_checkin(setup.mentor, plan, data)
        assert field_name in info.value.errors, field_name
        db.session.rollback()
    assert db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.status == CheckInStatus.DONE)) == 0


# Risk --------------------------------------------------------------------------------------------------


def _ind(**values) -> risk.Indicators:
    return risk.Indicators(**values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"courses_failed": 2, "attendance_rate": 59}, RiskLevel.HIGH),
        ({"courses_failed": 2, "attendance_rate": 60}, RiskLevel.MEDIUM),
        ({"courses_failed": 1, "attendance_rate": 10}, RiskLevel.LOW),
        ({"gpa": 2.7, "previous_gpa": 3.0}, RiskLevel.MEDIUM),
        ({"gpa": 2.71, "previous_gpa": 3.0}, RiskLevel.NONE),
        ({"missed_assignments": 3}, RiskLevel.MEDIUM),
        ({"missed_assignments": 2}, RiskLevel.NONE),
        ({"courses_failed": 1}, RiskLevel.LOW),
        ({"courses_failed": 0, "attendance_rate": 84}, RiskLevel.LOW),
        ({"courses_failed": 0, "attendance_rate": 85}, RiskLevel.NONE),
        ({}, RiskLevel.NONE),
    ],
)
def test_risk_level_at_each_threshold_edge(db, values, expected):
    assert risk.compute_level(_ind(**values), risk.get_thresholds()) is expected


def test_admin_thresholds_change_the_tiers(db, create_user, create_transition_plan, record_transition_checkin):
    plan, setup = create_transition_plan()
    record_transition_checkin(setup.mentor, plan, courses_failed=0, attendance_rate=80)
    assert db.session.get(TransitionPlan, plan.id).risk is RiskLevel.LOW
    values = dict(risk.DEFAULTS, low_attendance_below=75, high_attendance_below=60)
    with pytest.raises(NotAllowed):
        risk.update_thresholds(setup.mentor, values)
    db.session.rollback()
    with pytest.raises(ValidationFailed) as info:
        risk.update_thresholds(create_user(Role.ADMIN), dict(values, low_attendance_below=50))
    assert "low_attendance_below" in info.value.errors
    db.session.rollback()
    risk.update_thresholds(create_user(Role.ADMIN), values)
    db.session.commit()
    assert db.session.get(TransitionPlan, plan.id).risk is RiskLevel.NONE
    assert risk.get_thresholds().low_attendance_below == 75


def test_risk_is_computed_from_latest_indicators_and_overridable(db, create_transition_plan, record_transition_checkin):
    plan, setup = create_transition_plan(start=local_today() - timedelta(days=21))
    record_transition_checkin(setup.mentor, plan, days_ago=20, courses_failed=0, gpa=3.0, attendance_rate=95)
    record_transition_checkin(setup.mentor, plan, days_ago=13, courses_failed=3, gpa=2.0, attendance_rate=50)
    plan = db.session.get(TransitionPlan, plan.id)
    assert plan.risk is RiskLevel.HIGH
    with pytest.raises(ValidationFailed):
        transition.override_risk(setup.mentor, plan, RiskLevel.MEDIUM, "")
    db.session.rollback()
    with pytest.raises(NotAllowed):
        transition.override_risk(setup.cadres[0], db.session.get(TransitionPlan, plan.id), RiskLevel.LOW, "why not")
    db.session.rollback()
    transition.override_risk(setup.mentor, db.session.get(TransitionPlan, plan.id), RiskLevel.MEDIUM, "已补考通过两门")
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    assert plan.risk is RiskLevel.MEDIUM and plan.computed_risk is RiskLevel.HIGH
    levels = [
        (r.from_level, r.to_level)
        for r in db.session.scalars(select(RiskChange).where(RiskChange.plan_id == plan.id).order_by(RiskChange.id))
    ]
    assert levels == [(RiskLevel.NONE, RiskLevel.HIGH), (RiskLevel.HIGH, RiskLevel.MEDIUM)]


def test_outcomes_pass_rate_gpa_change_failed_reduction(db, create_transition_plan, record_transition_checkin):
    plan, setup = create_transition_plan(start=local_today() - timedelta(days=21))
    record_transition_checkin(setup.mentor, plan, days_ago=20, courses_passed=2, courses_failed=4, gpa=1.8)
    record_transition_checkin(setup.mentor, plan, days_ago=6, courses_passed=5, courses_failed=1, gpa=2.6)
    outcome = risk.plan_outcome(db.session.get(TransitionPlan, plan.id))
    assert outcome.pass_rate == pytest.approx(5 / 6)
    assert outcome.gpa_change == pytest.approx(0.8)
    assert outcome.failed_reduction == pytest.approx(0.75)
    svg = risk.plan_chart_svg(outcome)
    assert svg.startswith("<svg") and "<script" not in svg
    group = risk.group_outcome([db.session.get(TransitionPlan, plan.id)])
    assert group.failed_reduction == pytest.approx(0.75)
    assert group.improved == 1  # medium at the start (4 failed, normal attendance) → low now


# Adjustments and escalation ---------------------------------------------------------------------------


def test_major_adjustment_is_the_mentors_alone(db, create_transition_plan):
    plan, setup = create_transition_plan()
    for actor in (setup.activist, setup.cadres[0]):
        with pytest.raises(NotAllowed):
            transition.record_adjustment(actor, plan, AdjustmentLevel.MAJOR, "重新设计帮扶方案")
        db.session.rollback()
    with pytest.raises(NotAllowed):
        transition.record_adjustment(setup.cadres[0], plan, AdjustmentLevel.MEDIUM, "调整帮扶重点")
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    transition.record_adjustment(setup.cadres[0], plan, AdjustmentLevel.MINOR, "面谈改到周三晚上")
    adjustment = transition.record_adjustment(setup.mentor, plan, AdjustmentLevel.MAJOR, "重新设计帮扶方案")
    db.session.commit()
    assert adjustment.decided_by_id == setup.mentor.id and adjustment.decided_at is not None


def test_escalation_goes_cadre_then_activist_then_mentor(db, create_transition_plan):
    plan, setup = create_transition_plan()
    escalation = transition.raise_escalation(plan.student, plan, "宿舍矛盾影响学习")
    db.session.commit()
    assert escalation.level is EscalationLevel.CADRE
    for wrong in (setup.activist, setup.mentor):
        with pytest.raises(NotAllowed):
            transition.handle_escalation(wrong, escalation, "skip the line", True)
        db.session.rollback()
    transition.handle_escalation(setup.cadres[1], escalation, "调解未果", True)
    db.session.commit()
    with pytest.raises(NotAllowed):
        transition.handle_escalation(setup.cadres[0], escalation, "again", False)
    db.session.rollback()
    transition.handle_escalation(setup.activist, escalation, "需要导师决定", True)
    db.session.commit()
    with pytest.raises(ValidationFailed):
        transition.handle_escalation(setup.mentor, escalation, "higher?", True)
    db.session.rollback()
    transition.handle_escalation(setup.mentor, escalation, "调换宿舍，每周回访", False)
    db.session.commit()
    escalation = _db.session.get(type(escalation), escalation.id)
    assert escalation.status is EscalationStatus.RESOLVED
    assert [(s.level, s.escalated) for s in escalation.steps] == [
        (EscalationLevel.CADRE, True),
        (EscalationLevel.ACTIVIST, True),
        (EscalationLevel.MENTOR, False),
    ]
    assert all(s.at is not None and s.outcome for s in escalation.steps)
    with pytest.raises(Conflict):
        transition.handle_escalation(setup.mentor, escalation, "once more", False)


# Consent gate -----------------------------------------------------------------------------------------


def _notes_data(**notes) -> transition.CheckInRecord:
    return transition.CheckInRecord(
        held_at=utcnow() - timedelta(hours=1),
        mode=CheckInMode.IN_PERSON,
        notes={Dimension(k): v for k, v in notes.items()},
    )


def test_notes_need_consent_and_a_guardians_for_a_minor(db, create_transition_plan):
    plan, setup = create_transition_plan(minor=True, consent=False)
    with pytest.raises(ValidationFailed) as info:
        transition.record_checkin(setup.mentor, plan, _notes_data(academic="作业情况"))
    assert "notes_academic" in info.value.errors
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    transition.record_consent(plan.student, plan, ConsentSubject.STUDENT, "", ALL_DIMENSIONS, local_today())
    db.session.commit()
    with pytest.raises(ValidationFailed):  # a minor: the student's own consent is not enough
        transition.record_checkin(setup.mentor, plan, _notes_data(academic="作业情况"))
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    with pytest.raises(ValidationFailed):  # a student cannot record a guardian's consent
        transition.record_consent(plan.student, plan, ConsentSubject.GUARDIAN, "妈妈", ALL_DIMENSIONS, local_today())
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    guardian = transition.record_consent(
        setup.mentor, plan, ConsentSubject.GUARDIAN, "王女士", {Dimension.ACADEMIC}, local_today(), "母亲"
    )
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    with pytest.raises(ValidationFailed) as info:  # psychological notes are outside the guardian's scope
        transition.record_checkin(setup.mentor, plan, _notes_data(psychological="情绪低落"))
    assert "notes_psychological" in info.value.errors
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    checkin = transition.record_checkin(setup.mentor, plan, _notes_data(academic="作业情况"))
    db.session.commit()
    assert checkin.notes_academic == "作业情况"
    transition.withdraw_consent(setup.mentor, db.session.get(type(guardian), guardian.id))
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    with pytest.raises(ValidationFailed):  # withdrawal stops new notes
        transition.record_checkin(setup.mentor, plan, _notes_data(academic="新的记录"))
    db.session.rollback()
    assert db.session.get(CheckIn, checkin.id).notes_academic == "作业情况"  # earlier notes stay


def test_adult_student_consent_alone_suffices_and_cadres_write_academic_only(db, create_transition_plan):
    plan, setup = create_transition_plan(minor=False, consent=False)
    transition.record_consent(plan.student, plan, ConsentSubject.STUDENT, "", ALL_DIMENSIONS, local_today())
    db.session.commit()
    plan = db.session.get(TransitionPlan, plan.id)
    with pytest.raises(ValidationFailed) as info:
        transition.record_checkin(setup.cadres[0], plan, _notes_data(psychological="心理"))
    assert "notes_psychological" in info.value.errors
    db.session.rollback()
    plan = db.session.get(TransitionPlan, plan.id)
    assert transition.record_checkin(setup.cadres[0], plan, _notes_data(academic="学业")).notes_academic == "学业"


def test_consent_cannot_be_dated_in_the_future(db, create_transition_plan):
    plan, setup = create_transition_plan(consent=False)
    with pytest.raises(ValidationFailed) as info:
        transition.record_consent(
            setup.mentor, plan, ConsentSubject.STUDENT, "x", ALL_DIMENSIONS, local_today() + timedelta(days=1)
        )
    assert "given_on" in info.value.errors


# Calendar and commitments -----------------------------------------------------------------------------


def _future_meeting(setup, plan, days=3, hour=15, place="A区201"):
    checkin = next(c for c in plan.checkins if c.status is CheckInStatus.SCHEDULED and c.starts_at is None)
    start = local_datetime(local_today() + timedelta(days=days), time(hour, 0))
    transition.schedule_meeting(setup.mentor, checkin, start, 45, CheckInMode.IN_PERSON, place)
    _db.session.commit()
    return checkin, start


def test_calendar_entries_are_generic_and_personal(db, create_transition_plan, create_user, record_transition_checkin):
    from portal.services import calendar

    plan, setup = create_transition_plan()
    record_transition_checkin(setup.mentor, plan, days_ago=0.1, notes_psychological="秘密的心理记录")
    plan = db.session.get(TransitionPlan, plan.id)
    checkin, start = _future_meeting(setup, plan)
    window = (start - timedelta(days=1), start + timedelta(days=1))
    for person in (plan.student, setup.mentor):
        entries = [e for e in calendar.personal_entries(person, *window) if e.kind == "checkin"]
        assert len(entries) == 1
        entry = entries[0]
        assert entry.start == start and entry.title in ("过渡期帮扶面谈", "Transition support check-in")
        text = f"{entry.title} {entry.description} {entry.location} {entry.uid}"
        assert plan.student.display_name not in text and "心理" not in text and "risk" not in text.lower()
    assert calendar.personal_entries(setup.cadres[0], *window) == []
    assert calendar.single_entry("checkin", checkin.id, create_user(Role.STUDENT)) is None
    assert calendar.single_entry("checkin", checkin.id, None) is None
    assert calendar.single_entry("checkin", checkin.id, plan.student).start == start


def test_mentor_is_not_double_booked_by_check_ins(db, create_transition_plan, create_transition_group):
    plan, setup = create_transition_plan()
    _, start = _future_meeting(setup, plan, place="A区201")
    other, _ = create_transition_plan(setup=setup, name="另一位新生")
    other = db.session.get(TransitionPlan, other.id)
    checkin = next(c for c in other.checkins if c.status is CheckInStatus.SCHEDULED)
    with pytest.raises(Conflict):
        transition.schedule_meeting(
            setup.mentor, checkin, start + timedelta(minutes=30), 45, CheckInMode.IN_PERSON, "A区201"
        )
    db.session.rollback()
    checkin = _db.session.get(CheckIn, checkin.id)
    with pytest.raises(Conflict):  # a different place needs the travel buffer
        transition.schedule_meeting(
            setup.mentor, checkin, start + timedelta(minutes=60), 45, CheckInMode.IN_PERSON, "虎溪校区"
        )
    db.session.rollback()
    checkin = _db.session.get(CheckIn, checkin.id)
    transition.schedule_meeting(
        setup.mentor, checkin, start + timedelta(minutes=45), 45, CheckInMode.IN_PERSON, "A区201"
    )
    db.session.commit()
    assert _db.session.get(CheckIn, checkin.id).starts_at == start + timedelta(minutes=45)


def test_meeting_in_the_past_is_refused(db, create_transition_plan):
    plan, setup = create_transition_plan()
    checkin = next(c for c in plan.checkins if c.status is CheckInStatus.SCHEDULED)
    with pytest.raises(ValidationFailed) as info:
        transition.schedule_meeting(setup.mentor, checkin, utcnow() - timedelta(hours=1), 45, CheckInMode.ONLINE, None)
    assert "starts_at" in info.value.errors
