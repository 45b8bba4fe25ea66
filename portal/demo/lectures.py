"""Demo lectures: open requests from schools across Chongqing (Chengkou and Wuxi first),
claimed, confirmed and delivered lectures with feedback, and mentors' offers — all
relative to today, so the demo is always live."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from portal.demo.context import DemoContext
from portal.extensions import db
from portal.models import (
    LectureOffer,
    LectureOfferSlot,
    LectureRequest,
    LectureServiceTarget,
    LectureStatus,
    LectureTheme,
    LectureWindow,
    User,
)
from portal.models.lectures import pack_grades
from portal.services import lectures as service
from portal.services import notifications
from portal.timeutil import local_datetime, local_today, utcnow


def at(days: int, hour: int, minute: int = 0) -> datetime:
    return local_datetime(local_today() + timedelta(days=days), time(hour, minute))


def _lecture(teacher: User, *, topic, theme, grades, audience, minutes, room, windows, notes="", posted_days_ago=1):
    school = teacher.school
    lecture = LectureRequest(
        school_id=school.id,
        requested_by_id=teacher.id,
        topic=topic,
        theme=theme,
        grades=pack_grades(grades),
        audience_size=audience,
        duration_minutes=minutes,
        address=school.address or school.name_zh,
        room=room,
        notes=notes,
        status=LectureStatus.OPEN,
        windows=[LectureWindow(starts_at=s, ends_at=e) for s, e in windows],
    )
    lecture.created_at = utcnow() - timedelta(days=posted_days_ago)
    db.session.add(lecture)
    return lecture


def _hold(lecture: LectureRequest, mentor: User, start: datetime, status: LectureStatus) -> None:
    lecture.mentor_id = mentor.id
    lecture.starts_at = start
    lecture.ends_at = start + timedelta(minutes=lecture.duration_minutes)
    lecture.status = status
    lecture.claimed_at = lecture.created_at + timedelta(days=1)
    lecture.calendar_sequence = 1
    if status is not LectureStatus.CLAIMED:
        lecture.confirmed_at = lecture.claimed_at + timedelta(hours=5)
        lecture.calendar_sequence = 2


def seed(ctx: DemoContext) -> None:
    users = ctx.users
    chengkou, wuxi = users["teacher_chengkou"], users["teacher_wuxi"]
    qiujing, renmin, bashu = users["teacher_qiujing"], users["teacher_renmin"], users["teacher_bashu"]
    cqu, cqu2, swu = users["mentor_cqu"], users["mentor_cqu2"], users["mentor_swu"]

    # Open requests: under-resourced counties first in every mentor's list.
    open_requests = [
        _lecture(
            chengkou,
            topic="红岩精神代代传：江姐的故事与新时代青年",
            theme=LectureTheme.HONGYAN,
            grades=["s1", "s2"],
            audience=320,
            minutes=90,
            room="学校大礼堂",
            windows=[(at(6, 14, 30), at(6, 17)), (at(8, 9), at(8, 11, 30))],
            notes="山区学校，交通约4小时，可协助安排食宿。",
            posted_days_ago=9,
        ),
        _lecture(
            wuxi,
            topic="科学家精神：做一个追梦的少年",
            theme=LectureTheme.SCIENTISTS,
            grades=["p5", "p6"],
            audience=140,
            minutes=60,
            room="多功能厅",
            windows=[(at(10, 9), at(10, 11)), (at(11, 14), at(11, 16))],
            posted_days_ago=4,
        ),
        _lecture(
            qiujing,
            topic="理想信念与青春担当",
            theme=LectureTheme.IDEALS,
            grades=["j2", "j3"],
            audience=400,
            minutes=90,
            room="求精堂",
            windows=[(at(5, 14), at(5, 17)), (at(12, 14), at(12, 17)), (at(13, 9), at(13, 12))],
            posted_days_ago=6,
        ),
        _lecture(
            renmin,
            topic="爱国主义教育：从重庆的红色地标说起",
            theme=LectureTheme.PATRIOTISM,
            grades=["p4", "p5"],
            audience=90,
            minutes=45,
            room="三楼阶梯教室",
            windows=[(at(7, 10), at(7, 11, 30))],
            posted_days_ago=2,
        ),
    ]

    # Claimed, awaiting the school's confirmation.
    claimed = _lecture(
        bashu,
        topic="高三学业与生涯规划：如何选择大学与专业",
        theme=LectureTheme.STUDY_CAREER,
        grades=["s3"],
        audience=600,
        minutes=90,
        room="巴蜀礼堂",
        windows=[(at(9, 14), at(9, 17)), (at(14, 14), at(14, 17))],
        posted_days_ago=5,
    )
    _hold(claimed, swu, at(9, 14, 30), LectureStatus.CLAIMED)

    # Confirmed, coming up.
    confirmed = _lecture(
        qiujing,
        topic="法治教育：青少年的权利与责任",
        theme=LectureTheme.RULE_OF_LAW,
        grades=["j1"],
        audience=250,
        minutes=60,
        room="求精堂",
        windows=[(at(4, 9), at(4, 12))],
        posted_days_ago=12,
    )
    _hold(confirmed, cqu, at(4, 10), LectureStatus.CONFIRMED)

    # Delivered, with and without feedback.
    delivered = []
    for teacher, mentor, days, topic, theme, grades, audience, attendance, rating, comment in [
        (
            chengkou,
            cqu,
            -20,
            "红岩家书里的理想信念",
            LectureTheme.IDEALS,
            ["s1"],
            300,
            286,
            5,
            "赵教授讲得生动感人，学生们写了三百多份心得。",
        ),
        (
            wuxi,
            cqu2,
            -12,
            "从嫦娥探月看科学家精神",
            LectureTheme.SCIENTISTS,
            ["p6"],
            110,
            104,
            4,
            "内容很好，互动环节可以再多一些。",
        ),
        (renmin, cqu2, -6, "小小红岩讲解员", LectureTheme.HONGYAN, ["p3", "p4"], 80, 78, 5, "孩子们非常喜欢！"),
        (bashu, swu, -3, "新工科与未来职业", LectureTheme.STUDY_CAREER, ["s2"], 200, 192, None, ""),
    ]:
        lecture = _lecture(
            teacher,
            topic=topic,
            theme=theme,
            grades=grades,
            audience=audience,
            minutes=90,
            room="报告厅",
            windows=[(at(days, 14), at(days, 17))],
            posted_days_ago=-days + 14,
        )
        _hold(lecture, mentor, at(days, 14, 30), LectureStatus.CONFIRMED)
        lecture.status = LectureStatus.DELIVERED
        lecture.attendance = attendance
        lecture.delivered_at = at(days, 16, 30)
        lecture.delivery_notes = "讲座顺利完成，课后与学生交流半小时。"
        lecture.calendar_sequence = 3
        if rating:
            lecture.status = LectureStatus.REVIEWED
            lecture.rating = rating
            lecture.feedback_comment = comment
            lecture.feedback_at = at(days + 1, 10)
            lecture.feedback_by_id = teacher.id
        delivered.append(lecture)

    # Offers schools can book directly.
    offers = [
        LectureOffer(
            mentor_id=swu.id,
            topic="生态文明与长江保护：我们身边的绿水青山",
            theme=LectureTheme.ECOLOGY,
            abstract="结合缙云山与长江上游生态保护实践，讲述生态文明建设的意义，并带领学生设计校园环保行动。",
            grades=pack_grades(["j1", "j2", "s1"]),
            slots=[
                LectureOfferSlot(starts_at=at(11, 9), ends_at=at(11, 10, 30)),
                LectureOfferSlot(starts_at=at(16, 14), ends_at=at(16, 15, 30)),
            ],
        ),
        LectureOffer(
            mentor_id=cqu2.id,
            topic="科学家精神：从钱学森到重庆大学的科研报国路",
            theme=LectureTheme.SCIENTISTS,
            abstract="讲述老一辈科学家胸怀祖国、服务人民的故事，以及重庆大学师生在重大工程中的担当。",
            grades=pack_grades(["s1", "s2", "s3"]),
            slots=[
                LectureOfferSlot(starts_at=at(13, 14), ends_at=at(13, 15, 30)),
                LectureOfferSlot(starts_at=at(15, 9), ends_at=at(15, 10, 30)),
            ],
        ),
    ]
    db.session.add_all(offers)

    term = service.term_for()
    db.session.add(LectureServiceTarget(term_code=term.code, min_lectures=3, min_hours=4, set_by_id=users["admin"].id))
    db.session.flush()

    notifications.notify(
        bashu,
        "lecture_claimed",
        _l("A mentor signed up for your lecture request"),
        _l(
            "%(mentor)s will give “%(topic)s” at %(when)s. Please confirm on the lecture page.",
            mentor=swu.display_name,
            topic=claimed.topic,
            when=service.when_text(claimed.starts_at),
        ),
        link=f"/lectures/{claimed.id}",
        email=False,
    )
    ctx.extra["lectures"] = {
        "open": open_requests,
        "claimed": claimed,
        "confirmed": confirmed,
        "delivered": delivered,
        "offers": offers,
    }
