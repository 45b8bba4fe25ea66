"""Demo: 赵强's 1124 working group at Chongqing University and five transition students.

- 郭雨 (mentee1): intensive phase, several failed courses and low attendance → high risk,
  one overdue check-in, an issue escalated from a cadre to the activist;
- 林浩 (mentee2): intensive phase, GPA falling → medium risk;
- 罗佳 (mentee3): moved to the stable phase (monthly check-ins) → no risk;
- 杨帆 (mentee4): still at 城口中学, handed over by 刘洋, awaiting the mentor's acceptance;
- 邓琳 (mentee5): still at 巴蜀中学, handed over by 李明 and accepted: online check-ins → low risk.
All dates are relative to today (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import time, timedelta

from portal.demo.context import DemoContext
from portal.extensions import db
from portal.models import User
from portal.models.transition import (
    AdjustmentLevel,
    CheckInMode,
    CheckInStatus,
    ConsentSubject,
    Dimension,
    GroupRole,
    Phase,
)
from portal.services import transition
from portal.timeutil import local_datetime, local_today, utcnow

ALL = {Dimension.ACADEMIC, Dimension.PSYCHOLOGICAL, Dimension.CAREER}


def _consents(mentor: User, plan, student: User, guardian: str, relation: str, day) -> None:
    transition.record_consent(mentor, plan, ConsentSubject.STUDENT, student.display_name, ALL, day)
    if student.is_minor:
        transition.record_consent(mentor, plan, ConsentSubject.GUARDIAN, guardian, ALL, day, relation)


def _record(plan, actor: User, day, hour: int, **values) -> None:
    notes = {d: values.pop(f"notes_{d.value}", None) for d in Dimension}
    data = transition.CheckInRecord(
        held_at=local_datetime(day, time(hour, 0)),
        mode=values.pop("mode", CheckInMode.IN_PERSON),
        notes={d: t for d, t in notes.items() if t},
        **values,
    )
    transition.record_checkin(actor, plan, data, now=utcnow())


def seed(ctx: DemoContext) -> None:
    u = ctx.users
    today = local_today()
    mentor, activist, cadre1, cadre2 = u["mentor_cqu"], u["activist"], u["cadre1"], u["cadre2"]
    group = transition.create_group(u["admin"], "重庆大学·赵强党员导师工作小组（1124）", mentor)
    for user, role in ((activist, GroupRole.ACTIVIST), (cadre1, GroupRole.CADRE), (cadre2, GroupRole.CADRE)):
        _commit()
        transition.add_member(mentor, group, user, role)
    _commit()
    transition.activate_group(mentor, group)

    # 郭雨: high risk ------------------------------------------------------------------
    start1 = today - timedelta(days=35)
    _commit()
    p1 = transition.create_plan(mentor, group, u["mentee1"], start1, ctx.schools["wuxi_zx"])
    _consents(mentor, p1, u["mentee1"], "郭建国", "父亲", start1)
    transition.update_goals(
        mentor,
        p1,
        {
            Dimension.ACADEMIC: "补上高等数学和大学英语的基础，期末前不再新增挂科。",
            Dimension.PSYCHOLOGICAL: "适应离家住校的生活，减少考试焦虑。",
            Dimension.CAREER: "了解土木工程专业的就业方向，确定大二选修方向。",
        },
    )
    _record(
        p1,
        mentor,
        start1,
        15,
        courses_passed=3,
        courses_failed=1,
        gpa=2.4,
        attendance_rate=82,
        mood=6,
        notes_career="初次面谈：对专业了解不多，约定下次带着问题来。",
    )
    _record(
        p1,
        cadre1,
        start1 + timedelta(days=7),
        19,
        courses_passed=3,
        courses_failed=2,
        gpa=2.1,
        attendance_rate=70,
        missed_assignments=2,
        mood=5,
        notes_academic="高数作业两次未交，约好每周二、四晚上在图书馆一起自习。",
    )
    _record(
        p1,
        activist,
        start1 + timedelta(days=14),
        20,
        mode=CheckInMode.ONLINE,
        courses_passed=2,
        courses_failed=3,
        gpa=1.8,
        attendance_rate=55,
        missed_assignments=4,
        mood=3,
        scale_name="SAS 焦虑自评量表",
        scale_score=58,
        notes_psychological="说起期中考试很紧张，晚上睡不好；建议去学校心理中心预约，并每周和我聊一次。",
        follow_ups="陪同预约心理咨询中心；下周再测一次量表。",
    )
    _record(
        p1,
        cadre2,
        start1 + timedelta(days=21),
        19,
        courses_passed=2,
        courses_failed=3,
        gpa=1.9,
        attendance_rate=52,
        missed_assignments=3,
        mood=4,
        notes_academic="英语四级词汇每天打卡，已坚持五天。",
    )
    # the check-in of last week was missed: it shows as overdue on the dashboard
    esc = transition.raise_escalation(cadre1, p1, "连续两周缺勤早课，室友反映情绪低落，需要进一步关注。")
    _commit()
    transition.handle_escalation(cadre1, esc, "与本人谈话后仍未改善，转交积极分子跟进。", True)
    transition.record_adjustment(activist, p1, AdjustmentLevel.MINOR, "把每周面谈改到晚上，方便她参加白天的补课。")
    transition.record_adjustment(
        mentor, p1, AdjustmentLevel.MAJOR, "学业与心理双重干预：增加心理中心转介，学业帮扶改为一对一。"
    )
    upcoming = next((c for c in p1.checkins if c.status is CheckInStatus.SCHEDULED and c.due_date > today), None)
    if upcoming is not None:
        day = upcoming.due_date
        upcoming.starts_at = local_datetime(day, time(16, 0))
        upcoming.ends_at = local_datetime(day, time(16, 45))
        upcoming.mode, upcoming.place, upcoming.led_by_id = (
            CheckInMode.IN_PERSON,
            "重庆大学A区 第一教学楼 201",
            mentor.id,
        )
        upcoming.auto_generated = False

    # 林浩: medium risk (falling grades) ----------------------------------------------------
    start2 = today - timedelta(days=28)
    _commit()
    p2 = transition.create_plan(mentor, group, u["mentee2"], start2, ctx.schools["nankai"])
    _consents(mentor, p2, u["mentee2"], "林秀英", "母亲", start2)
    transition.update_goals(
        mentor,
        p2,
        {
            Dimension.ACADEMIC: "稳住专业课成绩，学会做课堂笔记。",
            Dimension.PSYCHOLOGICAL: "多参加班级活动，结识新朋友。",
            Dimension.CAREER: "参加一次职业规划讲座。",
        },
    )
    for week, (gpa, att, missed) in enumerate([(3.4, 96, 0), (3.3, 94, 1), (3.1, 92, 1), (2.7, 90, 2)]):
        _record(
            p2,
            cadre1 if week % 2 else mentor,
            start2 + timedelta(days=7 * week),
            18,
            courses_passed=4,
            courses_failed=0,
            gpa=gpa,
            attendance_rate=att,
            missed_assignments=missed,
            mood=7 - week // 2,
            notes_academic="线性代数跟不上进度，推荐了慕课和答疑时间。" if week == 3 else None,
        )

    # 罗佳: stable phase, no risk ------------------------------------------------------------
    start3 = today - timedelta(days=70)
    _commit()
    p3 = transition.create_plan(mentor, group, u["mentee3"], start3, ctx.schools["swufz"])
    _consents(mentor, p3, u["mentee3"], "罗志强", "父亲", start3)
    for week in range(8):
        _record(
            p3,
            activist if week % 2 else mentor,
            start3 + timedelta(days=7 * week),
            17,
            courses_passed=5,
            courses_failed=1 if week < 3 else 0,
            gpa=2.9 + 0.08 * week,
            attendance_rate=88 + week,
            mood=6 + week // 3,
            notes_career="对建筑设计方向很有兴趣，推荐参加学院的设计竞赛。" if week == 6 else None,
        )
    transition.change_phase(
        mentor,
        p3,
        Phase.STABLE,
        "连续五周各项指标正常，挂科已补考通过，转入稳定期按月跟踪。",
        today - timedelta(days=14),
    )

    # 邓琳: at 巴蜀中学, handed over and accepted; low risk ---------------------------------------
    start5 = today - timedelta(days=21)
    _commit()
    p5 = transition.open_handover(
        u["teacher_bashu"],
        u["mentee5"],
        group,
        start5,
        "数学、物理成绩优秀，英语偏弱；性格内向，换环境时需要时间适应。家长希望她报考重庆大学电气工程专业。",
    )
    _commit()
    transition.accept_handover(mentor, p5, start5)
    _consents(mentor, p5, u["mentee5"], "邓红梅", "母亲", start5)
    for week, (att, failed) in enumerate([(90, 0), (84, 1), (83, 1)]):
        _record(
            p5,
            activist,
            start5 + timedelta(days=7 * week),
            20,
            mode=CheckInMode.ONLINE,
            courses_passed=6,
            courses_failed=failed,
            gpa=3.2,
            attendance_rate=att,
            mood=7,
            notes_psychological="高考压力较大，约好每周线上聊一次。" if week == 1 else None,
        )

    # 杨帆: at 城口中学, handover awaiting the mentor ------------------------------------------------
    _commit()
    p4 = transition.open_handover(
        u["teacher_chengkou"],
        u["mentee4"],
        group,
        today + timedelta(days=60),
        "家住城口县山区，父母在外务工，由祖父母照顾；数学基础扎实，普通话表达需要鼓励。"
        "第一次离开县城，建议入学后尽快安排积极分子结对。",
    )
    db.session.flush()
    ctx.extra["transition_group"] = group
    ctx.extra["transition_plans"] = {"mentee1": p1, "mentee2": p2, "mentee3": p3, "mentee4": p4, "mentee5": p5}


def _commit() -> None:
    """The services take write locks (BEGIN IMMEDIATE on SQLite), which must open a transaction."""
    db.session.commit()
