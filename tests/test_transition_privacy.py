"""The field-level permission matrix, audited reads, admin access, export, and the web pages."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEntry, CheckIn, GroupMember, Role, TransitionPlan, WorkingGroup
from portal.models.transition import AdjustmentLevel, CheckInStatus, Dimension, GroupStatus, Phase
from portal.permissions import transition as perms
from portal.services import transition
from portal.timeutil import local_today, utcnow
from tests.fixtures_transition import ADULT_BIRTH

ACADEMIC_NOTE = "高数作业辅导记录ACAD"
PSYCH_NOTE = "情绪低落心理记录PSY"
CAREER_NOTE = "职业方向建议记录CAR"
HANDOVER_NOTE = "交接说明HANDOVER"


@pytest.fixture
def world(db, create_transition_plan, create_user, senior_high_teacher, record_transition_checkin):
    """A plan with notes in every dimension, reached through a handover, and people around it."""
    setup = None
    from tests.fixtures_transition import ALL_DIMENSIONS  # noqa: F401

    plan, setup = create_transition_plan(name="主角同学")
    teacher = senior_high_teacher()
    plan.handover_teacher_id = teacher.id
    plan.handover_notes = HANDOVER_NOTE
    db.session.commit()
    record_transition_checkin(
        setup.mentor,
        plan,
        days_ago=0.5,
        gpa=2.5,
        notes_academic=ACADEMIC_NOTE,
        notes_psychological=PSYCH_NOTE,
        notes_career=CAREER_NOTE,
    )
    other_plan, _ = create_transition_plan(setup=setup, name="别的同学")
    record_transition_checkin(setup.mentor, other_plan, days_ago=0.5, notes_psychological="别人的心理记录OTHER")
    admin = create_user(Role.ADMIN)
    people = {
        "mentor": setup.mentor,
        "activist": setup.activist,
        "cadre": setup.cadres[0],
        "student": plan.student,
        "other_mentee": other_plan.student,
        "handover_teacher": teacher,
        "admin": admin,
        "other_mentor": create_user(Role.MENTOR),
        "outsider_student": create_user(Role.STUDENT, birth_date=ADULT_BIRTH),
    }
    return {"plan": db.session.get(TransitionPlan, plan.id), "setup": setup, "people": people, "other": other_plan}


# viewer → (plan page, indicators, handover, academic, psychological, career, record check-in, change phase,
#           major adjustment, export)
MATRIX = {
    "mentor": (1, 1, 1, 1, 1, 1, 1, 1, 1, 0),
    "activist": (1, 1, 1, 1, 1, 1, 1, 0, 0, 0),
    "cadre": (1, 1, 1, 1, 0, 0, 1, 0, 0, 0),
    "student": (1, 1, 1, 1, 1, 1, 0, 0, 0, 1),
    "handover_teacher": (1, 0, 1, 0, 0, 0, 0, 0, 0, 0),
    "admin": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "other_mentee": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "other_mentor": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    "outsider_student": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
}


def _row(user, plan) -> tuple:
    return tuple(
        int(bool(x))
        for x in (
            perms.can_view_plan(user, plan),
            perms.can_view_indicators(user, plan),
            perms.can_view_handover(user, plan),
            perms.can_view_notes(user, plan, Dimension.ACADEMIC),
            perms.can_view_notes(user, plan, Dimension.PSYCHOLOGICAL),
            perms.can_view_notes(user, plan, Dimension.CAREER),
            perms.can_record_checkin(user, plan),
            perms.can_change_phase(user, plan),
            perms.can_adjust(user, plan, AdjustmentLevel.MAJOR),
            perms.can_export_plan(user, plan),
        )
    )


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_field_level_permission_matrix(world, who):
    assert _row(world["people"][who], world["plan"]) == MATRIX[who]


def test_admin_with_audited_access_sees_the_plan_but_no_notes(world, db):
    admin, plan = world["people"]["admin"], world["plan"]
    transition.open_admin_access(admin, plan, "家长投诉，需要核实帮扶记录")
    db.session.commit()
    assert _row(admin, plan) == (1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
    assert perms.can_view_plan(None, plan) is False


@pytest.mark.parametrize(
    ("who", "visible", "hidden"),
    [
        ("mentor", [ACADEMIC_NOTE, PSYCH_NOTE, CAREER_NOTE, HANDOVER_NOTE], []),
        ("activist", [ACADEMIC_NOTE, PSYCH_NOTE, CAREER_NOTE, HANDOVER_NOTE], []),
        ("cadre", [ACADEMIC_NOTE, HANDOVER_NOTE], [PSYCH_NOTE, CAREER_NOTE]),
        ("student", [ACADEMIC_NOTE, PSYCH_NOTE, CAREER_NOTE, HANDOVER_NOTE], []),
        ("handover_teacher", [HANDOVER_NOTE], [ACADEMIC_NOTE, PSYCH_NOTE, CAREER_NOTE, "2.5"]),
    ],
)
def test_plan_page_shows_each_role_exactly_its_fields(world, client, login_as, who, visible, hidden):
    login_as(world["people"][who])
    response = client.get(f"/transition/plans/{world['plan'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in visible:
        assert text in html, (who, text)
    for text in hidden:
        assert text not in html, (who, text)
    assert "别人的心理记录OTHER" not in html


@pytest.mark.parametrize("who", ["other_mentee", "other_mentor", "outsider_student"])
def test_outsiders_get_404_and_nothing_is_written(world, client, login_as, db, who):
    login_as(world["people"][who])
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    plan_id = world["plan"].id
    assert client.get(f"/transition/plans/{plan_id}").status_code == 404
    assert client.get(f"/transition/plans/{plan_id}/notes/academic").status_code == 404
    assert (
        client.post(f"/transition/plans/{plan_id}/phase", data={"phase": "stable", "reason": "x" * 10}).status_code
        == 404
    )
    assert client.get(f"/transition/plans/{plan_id}/export.json").status_code == 404
    assert db.session.scalar(select(func.count(AuditEntry.id))) == before
    assert db.session.get(TransitionPlan, plan_id).phase is Phase.INTENSIVE


def test_cadre_opening_psychological_notes_is_refused(world, client, login_as):
    login_as(world["people"]["cadre"])
    plan_id = world["plan"].id
    assert client.get(f"/transition/plans/{plan_id}/notes/psychological").status_code == 403
    assert client.get(f"/transition/plans/{plan_id}/notes/career").status_code == 403
    response = client.get(f"/transition/plans/{plan_id}/notes/academic")
    assert response.status_code == 200 and ACADEMIC_NOTE in response.get_data(as_text=True)
    assert client.get(f"/transition/plans/{plan_id}/notes/nonsense").status_code == 404


def _audit_details(db, actor) -> list[str]:
    db.session.rollback()
    return sorted(
        db.session.scalars(
            select(AuditEntry.detail).where(AuditEntry.actor_id == actor.id, AuditEntry.action == "read")
        )
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("mentor", ["academic notes", "career notes", "handover notes", "psychological notes"]),
        ("cadre", ["academic notes", "handover notes"]),
        ("student", ["academic notes", "career notes", "handover notes", "psychological notes"]),
        ("handover_teacher", []),  # their own notes
    ],
)
def test_every_sensitive_read_writes_an_audit_row(world, client, login_as, db, who, expected):
    user = world["people"][who]
    login_as(user)
    client.get(f"/transition/plans/{world['plan'].id}")
    assert _audit_details(db, user) == expected
    entries = db.session.scalars(select(AuditEntry)).all()
    for entry in entries:  # the audit log never holds the content itself
        for secret in (ACADEMIC_NOTE, PSYCH_NOTE, CAREER_NOTE, HANDOVER_NOTE):
            assert secret not in f"{entry.detail} {entry.reason}"


def test_notes_page_and_export_are_audited(world, client, login_as, db):
    student = world["people"]["student"]
    login_as(student)
    client.get(f"/transition/plans/{world['plan'].id}/notes/psychological")
    assert _audit_details(db, student) == ["psychological notes"]
    client.get(f"/transition/plans/{world['plan'].id}/export.json")
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.actor_id == student.id, AuditEntry.action == "export")
        )
        == 1
    )


def test_admin_opens_a_plan_only_through_audited_access(world, client, login_as, db):
    admin, plan_id = world["people"]["admin"], world["plan"].id
    login_as(admin)
    response = client.get(f"/transition/plans/{plan_id}")
    assert response.status_code == 302 and f"/transition/plans/{plan_id}/admin-access" in response.headers["Location"]
    response = client.post(f"/transition/plans/{plan_id}/admin-access", data={"reason": "看看"})
    assert response.status_code == 422 and "reason-error" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "admin_access")) == 0
    response = client.post(
        f"/transition/plans/{plan_id}/admin-access", data={"reason": "家长来电投诉，需要核实帮扶过程"}
    )
    assert response.status_code == 302
    page = client.get(f"/transition/plans/{plan_id}").get_data(as_text=True)
    assert "2.5" in page and PSYCH_NOTE not in page and ACADEMIC_NOTE not in page
    db.session.rollback()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "admin_access"))
    assert entry.actor_id == admin.id and entry.reason == "家长来电投诉，需要核实帮扶过程"


def test_export_holds_the_students_data_and_no_one_elses(world, client, login_as):
    plan, student = world["plan"], world["people"]["student"]
    login_as(student)
    response = client.get(f"/transition/plans/{plan.id}/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))
    text = json.dumps(data, ensure_ascii=False)
    assert data["student"]["name"] == student.display_name
    for note in (ACADEMIC_NOTE, PSYCH_NOTE, CAREER_NOTE, HANDOVER_NOTE):
        assert note in text
    for other in (
        "别的同学",
        "别人的心理记录OTHER",
        world["setup"].mentor.display_name,
        world["setup"].cadres[0].email,
    ):
        assert other not in text
    assert data["checkins"][0]["led_by"] in ("mentor", None) or any(c["led_by"] == "mentor" for c in data["checkins"])
    response = client.get(f"/transition/plans/{plan.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["section", "item", "field", "value"]
    flat = " ".join(" ".join(r) for r in rows)
    assert PSYCH_NOTE in flat and "别的同学" not in flat and "别人的心理记录OTHER" not in flat
    # nobody else may export it, not even the mentor
    login_as(world["people"]["mentor"])
    assert client.get(f"/transition/plans/{plan.id}/export.json").status_code == 403


def test_urls_emails_and_logs_carry_nothing_sensitive(world, client, login_as, db, caplog):
    from portal.models import OutboxEmail

    setup = world["setup"]
    login_as(setup.mentor)
    caplog.set_level("DEBUG")
    plan = world["plan"]
    checkin = next(c for c in plan.checkins if c.status is CheckInStatus.SCHEDULED)
    start = (utcnow() + timedelta(days=2)).astimezone(__import__("portal.timeutil", fromlist=["SHANGHAI"]).SHANGHAI)
    client.post(
        f"/transition/checkins/{checkin.id}/schedule",
        data={"starts_at": start.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 45, "mode": "online", "place": ""},
    )
    login_as(plan.student)
    client.post(f"/transition/plans/{plan.id}/escalations", data={"summary": "我和室友的矛盾PRIVATE"})
    db.session.rollback()
    subjects = [e.subject + e.body for e in db.session.scalars(select(OutboxEmail))]
    assert subjects, "notifications were sent"
    for text in subjects:
        for secret in (PSYCH_NOTE, ACADEMIC_NOTE, "PRIVATE", plan.student.display_name, "risk", "风险"):
            assert secret not in text
    for record in caplog.records:
        assert "PRIVATE" not in record.getMessage() and PSYCH_NOTE not in record.getMessage()


# Web: bad input writes nothing ----------------------------------------------------------------------


def test_web_activation_of_incomplete_group(client, login_as, create_transition_group, db):
    setup = create_transition_group(activate=False, complete=False)
    login_as(setup.mentor)
    response = client.post(f"/transition/groups/{setup.group.id}/activate", follow_redirects=True)
    assert "incomplete" in response.get_data(as_text=True) or "不完整" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(WorkingGroup, setup.group.id).status is GroupStatus.DRAFT


def test_web_member_errors_beside_the_field(client, login_as, create_transition_group, db):
    setup = create_transition_group()
    login_as(setup.mentor)
    response = client.post(
        f"/transition/groups/{setup.group.id}/members", data={"email": setup.cadres[0].email, "role": "mentee"}
    )
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)
    response = client.post(
        f"/transition/groups/{setup.group.id}/members", data={"email": "nobody@x.org", "role": "mentee"}
    )
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count(GroupMember.id))) == 3
    login_as(setup.cadres[0])
    assert client.post(f"/transition/groups/{setup.group.id}/activate").status_code == 403


def test_web_duplicate_plan(client, login_as, create_transition_plan, db):
    plan, setup = create_transition_plan()
    login_as(setup.mentor)
    response = client.post(
        f"/transition/groups/{setup.group.id}/plans/new",
        data={"student_email": plan.student.email, "origin_school_id": 0, "start_date": local_today().isoformat()},
    )
    assert response.status_code == 200 and 'id="student_email-error"' in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(TransitionPlan.id))) == 1


def test_web_check_in_errors_and_success(client, login_as, create_transition_plan, db):
    plan, setup = create_transition_plan(consent=False)
    login_as(setup.mentor)
    future = (utcnow() + timedelta(days=1)).astimezone(__import__("portal.timeutil", fromlist=["SHANGHAI"]).SHANGHAI)
    response = client.post(
        f"/transition/plans/{plan.id}/checkins/new",
        data={
            "held_at": future.strftime("%Y-%m-%dT%H:%M"),
            "mode": "in_person",
            "gpa": "5",
            "mood": "0",
            "notes_psychological": "没有同意",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field_id in ("held_at-error", "gpa-error", "mood-error", "notes_psychological-error"):
        assert field_id in html, field_id
    db.session.rollback()
    assert db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.status == CheckInStatus.DONE)) == 0
    past = (utcnow() - timedelta(hours=2)).astimezone(__import__("portal.timeutil", fromlist=["SHANGHAI"]).SHANGHAI)
    response = client.post(
        f"/transition/plans/{plan.id}/checkins/new",
        data={"held_at": past.strftime("%Y-%m-%dT%H:%M"), "mode": "in_person", "gpa": "3.1", "courses_failed": "0"},
    )
    assert response.status_code == 302
    login_as(setup.cadres[0])
    form_html = client.get(f"/transition/plans/{plan.id}/checkins/new").get_data(as_text=True)
    assert 'name="notes_academic"' in form_html and 'name="notes_psychological"' not in form_html
    login_as(plan.student)
    assert client.get(f"/transition/plans/{plan.id}/checkins/new").status_code == 403


def test_bad_ids_and_methods(client, login_as, create_transition_plan):
    plan, setup = create_transition_plan()
    login_as(setup.mentor)
    assert client.get("/transition/plans/999999").status_code == 404
    assert client.get("/transition/plans/abc").status_code == 404
    assert client.get("/transition/groups/999999").status_code == 404
    assert client.get("/transition/checkins/999999/schedule").status_code == 404
    assert client.post("/transition/escalations/999999/handle").status_code == 404
    assert client.post("/transition/consents/999999/withdraw").status_code == 404
    assert client.get(f"/transition/plans/{plan.id}/phase").status_code == 405


def test_dashboard_orders_by_risk_with_bounded_queries(
    client, login_as, create_transition_group, create_transition_plan, record_transition_checkin, count_queries, db
):
    setup = create_transition_group()
    names = {}

    def add(name, **indicators):
        plan, _ = create_transition_plan(setup=setup, name=name, start=local_today() - timedelta(days=14))
        record_transition_checkin(setup.mentor, plan, days_ago=13, **indicators)
        names[name] = plan

    add("无风险同学", courses_failed=0, attendance_rate=95)
    add("高风险同学", courses_failed=3, attendance_rate=40)
    add("低风险同学", courses_failed=1, attendance_rate=95)
    login_as(setup.cadres[0])
    with count_queries() as small:
        response = client.get(f"/transition/groups/{setup.group.id}/dashboard")
    html = response.get_data(as_text=True)
    assert html.index("高风险同学") < html.index("低风险同学") < html.index("无风险同学")
    assert "overdue-list" in html  # last week's check-in was not recorded
    for i in range(5):
        add(f"更多同学{i}", courses_failed=1, attendance_rate=90)
    with count_queries() as large:
        client.get(f"/transition/groups/{setup.group.id}/dashboard")
    assert large.count == small.count
    login_as(names["高风险同学"].student)
    assert client.get(f"/transition/groups/{setup.group.id}/dashboard").status_code == 404


def test_plan_page_query_count_is_bounded(
    client, login_as, create_transition_plan, record_transition_checkin, count_queries
):
    plan, setup = create_transition_plan(start=local_today() - timedelta(days=30))
    record_transition_checkin(setup.mentor, plan, days_ago=29, gpa=2.0)
    login_as(setup.mentor)
    with count_queries() as few:
        client.get(f"/transition/plans/{plan.id}")
    for days in (22, 15, 8, 1):
        record_transition_checkin(setup.activist, plan, days_ago=days, gpa=2.5, notes_academic="x")
    with count_queries() as many:
        client.get(f"/transition/plans/{plan.id}")
    assert many.count <= few.count + 1  # +1: the academic-notes audit row


def test_web_phase_change_makes_schedule_monthly(client, login_as, create_transition_plan, db):
    plan, setup = create_transition_plan()
    login_as(setup.mentor)
    response = client.post(f"/transition/plans/{plan.id}/phase", data={"phase": "stable", "reason": ""})
    assert response.status_code == 422 and "reason-error" in response.get_data(as_text=True)
    response = client.post(f"/transition/plans/{plan.id}/phase", data={"phase": "stable", "reason": "各项指标稳定"})
    assert response.status_code == 302
    html = client.get(f"/transition/plans/{plan.id}").get_data(as_text=True)
    assert "每月面谈一次" in html
    db.session.rollback()
    assert db.session.get(TransitionPlan, plan.id).phase is Phase.STABLE


def test_handover_teacher_web_flow(client, login_as, create_transition_group, senior_high_teacher, create_user, db):
    setup = create_transition_group()
    teacher = senior_high_teacher()
    student = create_user(Role.STUDENT, school=teacher.school, display_name="高三学生丁")
    login_as(teacher)
    page = client.get("/transition/handover/new").get_data(as_text=True)
    assert "高三学生丁" in page
    response = client.post(
        "/transition/handover/new",
        data={
            "student_id": student.id,
            "group_id": setup.group.id,
            "start_date": local_today().isoformat(),
            "handover_notes": "",
        },
    )
    assert response.status_code == 200 and "handover_notes-error" in response.get_data(as_text=True)
    response = client.post(
        "/transition/handover/new",
        data={
            "student_id": student.id,
            "group_id": setup.group.id,
            "start_date": local_today().isoformat(),
            "handover_notes": "性格开朗，英语偏弱",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    plan = db.session.scalar(select(TransitionPlan).where(TransitionPlan.student_id == student.id))
    login_as(setup.mentor)
    assert (
        client.post(f"/transition/plans/{plan.id}/accept", data={"start_date": local_today().isoformat()}).status_code
        == 302
    )
    db.session.rollback()
    assert db.session.get(TransitionPlan, plan.id).phase is Phase.INTENSIVE
    login_as(teacher)
    html = client.get(f"/transition/plans/{plan.id}").get_data(as_text=True)
    assert "性格开朗" in html and 'data-testid="phase"' not in html and "checkins/new" not in html


def test_only_senior_high_teachers_hand_over(client, login_as, create_user, senior_high_teacher):
    login_as(create_user(Role.TEACHER))  # a junior-high teacher
    assert client.get("/transition/handover/new").status_code == 403
    login_as(senior_high_teacher())
    assert client.get("/transition/handover/new").status_code == 200


def test_cancelled_meeting_stays_listed_as_cancelled(db, create_transition_plan):
    from datetime import time

    from portal.services import calendar
    from portal.timeutil import local_datetime

    plan, setup = create_transition_plan()
    checkin = next(c for c in plan.checkins if c.status is CheckInStatus.SCHEDULED)
    start = local_datetime(local_today() + timedelta(days=2), time(10, 0))
    transition.schedule_meeting(setup.mentor, checkin, start, 30, transition.CheckInMode.ONLINE, None)
    db.session.commit()
    transition.change_phase(setup.mentor, db.session.get(TransitionPlan, plan.id), Phase.CLOSED, "学生转专业离开本组")
    db.session.commit()
    entries = calendar.personal_entries(plan.student, start - timedelta(hours=1), start + timedelta(hours=1))
    assert [(e.status, e.sequence) for e in entries] == [("cancelled", 1)]
