"""Labs, libraries and practice bases at 重庆大学, 西南大学 and 重庆师范大学, with hours,
closures and a realistic mix of bookings by the demo teachers, all relative to today.

The "next Wednesday afternoon" scenario stays open: nothing is booked at 物理实验教学中心
after today, so a teacher can find it by time-first search for 40 pupils.
"""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

from flask_babel import lazy_gettext as _l

from portal.demo.context import DemoContext
from portal.extensions import db
from portal.models import (
    Booking,
    BookingAttendance,
    BookingStatus,
    Closure,
    OpeningHours,
    Resource,
    ResourceKind,
)
from portal.services import bookings as booking_service
from portal.services import holidays, notifications
from portal.timeutil import local_datetime, local_today, overlaps, utcnow

LAB, LIB, BASE = ResourceKind.LAB, ResourceKind.LIBRARY, ResourceKind.PRACTICE_BASE

WEEKDAYS_LAB = {wd: [(time(8, 30), time(11, 30)), (time(14, 0), time(17, 30))] for wd in range(5)} | {
    5: [(time(9, 0), time(11, 30))]
}
LIBRARY_HOURS = {wd: [(time(8, 30), time(11, 30)), (time(14, 0), time(20, 30))] for wd in range(6)} | {
    6: [(time(14, 0), time(17, 0))]
}
MUSEUM_HOURS = {wd: [(time(9, 0), time(12, 0)), (time(14, 30), time(17, 0))] for wd in range(1, 6)} | {
    5: [(time(9, 0), time(12, 0)), (time(14, 30), time(17, 0))]
}
LAB_SAFETY = (
    "1. 学生须在带队教师组织下分组进入，不得单独进入实验区；\n"
    "2. 进入实验室须穿实验服、束起长发，禁止饮食；\n"
    "3. 未经实验员许可不得触碰仪器、试剂和电源；\n"
    "4. 发生意外立即报告实验员，熟悉紧急出口和洗眼器位置。"
)
LIBRARY_RULES = "保持安静，不携带食物饮料入馆；参观古籍特藏须戴手套并在馆员陪同下进行；请勿在阅览区大声喧哗。"

# key, university, manager keys, kind, zh, en, building, room, capacity, hours, description, equipment, rules, extra
RESOURCES = [
    (
        "cqu_physics",
        "cqu",
        ["rm_cqu_lab"],
        LAB,
        "物理实验教学中心",
        "Physics Teaching Laboratory Centre",
        "虎溪校区 理科楼B区",
        "B201–B206",
        48,
        WEEKDAYS_LAB,
        "国家级物理实验教学示范中心，面向中学开放力学、电磁学、光学演示与学生分组实验。",
        "示波器 24 台\n迈克尔逊干涉仪 12 套\n气垫导轨 12 套\n演示用范德格拉夫起电机",
        LAB_SAFETY,
        {},
    ),
    (
        "cqu_chem",
        "cqu",
        ["rm_cqu_lab"],
        LAB,
        "化学化工学院基础化学实验室",
        "Basic Chemistry Laboratory, School of Chemistry and Chemical Engineering",
        "虎溪校区 化学楼",
        "C105",
        36,
        WEEKDAYS_LAB,
        "面向初高中学生开放趣味化学实验与实验安全教育。",
        "通风橱 18 台\n电子天平 20 台\n紫外可见分光光度计 4 台",
        LAB_SAFETY,
        {"monthly_quota": 2},
    ),
    (
        "cqu_library",
        "cqu",
        ["rm_cqu_lib"],
        LIB,
        "重庆大学虎溪校区图书馆",
        "Chongqing University Huxi Campus Library",
        "虎溪校区 图书馆",
        "一楼大厅集合",
        80,
        LIBRARY_HOURS,
        "可安排馆藏导览、信息检索入门讲解与阅读分享活动。",
        "多媒体研讨室 2 间\n电子阅览座位 60 个\n古籍特藏展厅",
        LIBRARY_RULES,
        {"slot_minutes": 60, "requires_approval": True},
    ),
    (
        "swu_specimens",
        "swu",
        ["rm_swu"],
        BASE,
        "西南大学生命科学学院标本馆",
        "Specimen Museum, School of Life Sciences, Southwest University",
        "北碚校区 生命科学学院",
        "标本馆一楼",
        45,
        MUSEUM_HOURS,
        "收藏动植物标本十余万件，可安排讲解员带领参观缙云山生物多样性专题展。",
        "显微镜 40 台\n昆虫标本展柜\n植物腊叶标本",
        "请勿触摸展柜玻璃和标本；参观期间不得奔跑；拍照请关闭闪光灯。",
        {},
    ),
    (
        "swu_library",
        "swu",
        ["rm_swu"],
        LIB,
        "西南大学图书馆（中心馆）",
        "Southwest University Central Library",
        "北碚校区 中心图书馆",
        "二楼报告厅",
        60,
        LIBRARY_HOURS,
        "可安排图书馆参观、阅读推广讲座和学科馆员答疑。",
        "报告厅（60 座）\n投影设备",
        LIBRARY_RULES,
        {"window_days": 45},
    ),
    (
        "cqnu_chem",
        "cqnu",
        ["rm_cqnu"],
        LAB,
        "重庆师范大学化学实验教学示范中心",
        "Chemistry Teaching Demonstration Centre, Chongqing Normal University",
        "大学城校区 化学楼",
        "302",
        42,
        WEEKDAYS_LAB,
        "市级实验教学示范中心，师范生担任助教，适合初三、高一学生体验实验。",
        "通风橱 20 台\n显微镜 42 台\n红外光谱仪 1 台",
        LAB_SAFETY,
        {},
    ),
    (
        "cqnu_library",
        "cqnu",
        ["rm_cqnu"],
        LIB,
        "重庆师范大学图书馆（大学城校区）",
        "Chongqing Normal University Library (University Town Campus)",
        "大学城校区 图书馆",
        "一楼",
        70,
        LIBRARY_HOURS,
        "提供馆藏导览、巴渝文献专题展参观。",
        "巴渝文献展厅\n电子阅览座位 50 个",
        LIBRARY_RULES,
        {},
    ),
    (
        "cqnu_observatory",
        "cqnu",
        ["rm_cqnu"],
        BASE,
        "重庆师范大学天文科普实践基地",
        "Astronomy Outreach Base, Chongqing Normal University",
        "大学城校区 地理与旅游学院楼顶",
        "天文台",
        30,
        {wd: [(time(14, 0), time(17, 0)), (time(19, 0), time(21, 0))] for wd in (1, 3, 4)},
        "天象厅与望远镜观测，晴天晚间可安排月面、行星观测。",
        "天象厅（30 座）\n折射望远镜 6 台",
        "观测平台须听从指挥，不得攀爬护栏；夜间观测请携带手电。",
        {"pupils_per_escort": 15},
    ),
]


PHONES = {
    "teacher_bashu": "13883012345",
    "teacher_qiujing": "13996023456",
    "teacher_renmin": "13752034567",
    "teacher_chengkou": "15123045678",
    "teacher_wuxi": "18723056789",
}


def next_wednesday(today: date | None = None) -> date:
    """The Wednesday of next week (the demo's "done when" scenario)."""
    today = today or local_today()
    return today - timedelta(days=today.weekday()) + timedelta(days=7 + 2)


def _slot(resource: Resource, closures: list[Closure], taken: list[Booking], offset: int, start: time, end: time):
    """The nearest open day to today+offset (moving away from today) holding [start, end)."""
    today = local_today()
    step = 1 if offset >= 0 else -1
    day = today + timedelta(days=offset)
    for _ in range(60):
        info = holidays.day_info(day)
        closed = any(c.start_date <= day <= c.end_date for c in closures)
        weekday = info.opens_as_weekday if info.is_makeup_workday else day.weekday()
        inside = any(h.weekday == weekday and h.opens <= start and end <= h.closes for h in resource.hours)
        s, e = local_datetime(day, start).astimezone(UTC), local_datetime(day, end).astimezone(UTC)
        free = not any(b.resource_id == resource.id and overlaps(s, e, b.start_at, b.end_at) for b in taken)
        if not info.is_holiday and not closed and inside and free:
            return s, e
        day += timedelta(days=step)
    raise RuntimeError(f"no demo slot for {resource.name_zh}")


def seed(ctx: DemoContext) -> None:
    today = local_today()
    resources: dict[str, Resource] = {}
    for key, uni, managers, kind, zh, en, building, room, cap, hours, desc, equip, rules, extra in RESOURCES:
        resource = Resource(
            kind=kind,
            university_id=ctx.schools[uni].id,
            name_zh=zh,
            name_en=en,
            building=building,
            room=room,
            capacity=cap,
            description=desc,
            equipment=equip,
            safety_rules=rules,
            **extra,
        )
        resource.managers = [ctx.users[m] for m in managers]
        resource.hours = [
            OpeningHours(weekday=wd, opens=o, closes=c) for wd, intervals in hours.items() for o, c in intervals
        ]
        db.session.add(resource)
        resources[key] = resource
    db.session.flush()

    admin = ctx.users["admin"]
    next_june = date(today.year + (1 if today >= date(today.year, 6, 1) else 0), 6, 1)
    closures = [
        Closure(
            resource_id=resources["cqu_library"].id,
            start_date=today + timedelta(days=17),
            end_date=today + timedelta(days=19),
            reason="馆舍消防设施检修，暂停接待团体参观",
            created_by_id=ctx.users["rm_cqu_lib"].id,
        ),
        Closure(
            university_id=ctx.schools["swu"].id,
            start_date=today + timedelta(days=38),
            end_date=today + timedelta(days=44),
            reason="期末考试周，暂停校外团体预约",
            created_by_id=ctx.users["rm_swu"].id,
        ),
        Closure(
            start_date=next_june.replace(day=7),
            end_date=next_june.replace(day=9),
            reason="高考期间各高校考点封闭管理",
            created_by_id=admin.id,
        ),
        Closure(
            start_date=next_june.replace(day=13),
            end_date=next_june.replace(day=15),
            reason="重庆市中考期间暂停中小学团体预约",
            created_by_id=admin.id,
        ),
    ]
    db.session.add_all(closures)
    db.session.flush()

    # teacher, resource, day offset, start, end, size, grade, status, attendance, purpose
    plan = [
        (
            "teacher_bashu",
            "cqu_physics",
            -16,
            time(14, 30),
            time(16, 30),
            40,
            "高二（3）班",
            "approved",
            38,
            "电磁感应演示与分组实验",
        ),
        (
            "teacher_qiujing",
            "cqu_library",
            -9,
            time(9, 0),
            time(11, 0),
            45,
            "初二（1）班",
            "approved",
            "no_show",
            "馆藏导览与信息检索入门",
        ),
        (
            "teacher_renmin",
            "swu_specimens",
            -5,
            time(9, 30),
            time(11, 30),
            35,
            "五年级（2）班",
            "approved",
            33,
            "认识缙云山的昆虫",
        ),
        (
            "teacher_chengkou",
            "cqnu_chem",
            -12,
            time(14, 0),
            time(16, 0),
            40,
            "高一（5）班",
            "rejected",
            None,
            "趣味化学实验体验",
        ),
        (
            "teacher_bashu",
            "cqu_library",
            5,
            time(14, 0),
            time(16, 0),
            42,
            "高一（7）班",
            "approved",
            None,
            "图书馆参观与阅读分享",
        ),
        (
            "teacher_renmin",
            "cqnu_observatory",
            6,
            time(14, 0),
            time(16, 0),
            28,
            "六年级（1）班",
            "approved",
            None,
            "天象厅观星与望远镜使用",
        ),
        (
            "teacher_chengkou",
            "swu_specimens",
            8,
            time(9, 30),
            time(11, 30),
            40,
            "高二（2）班",
            "pending",
            None,
            "生物多样性专题参观，配合必修二教学",
        ),
        (
            "teacher_wuxi",
            "cqnu_library",
            9,
            time(14, 0),
            time(16, 0),
            36,
            "四年级（3）班",
            "pending",
            None,
            "巴渝文献展参观",
        ),
        (
            "teacher_qiujing",
            "cqu_chem",
            11,
            time(14, 0),
            time(16, 30),
            32,
            "初三（2）班",
            "pending",
            None,
            "中考化学实验操作训练",
        ),
        (
            "teacher_wuxi",
            "swu_library",
            15,
            time(9, 0),
            time(11, 0),
            30,
            "五年级（1）班",
            "cancelled",
            None,
            "阅读推广活动",
        ),
    ]
    taken: list[Booking] = []
    now = utcnow()
    for teacher_key, res_key, offset, start, end, size, grade, status, attendance, purpose in plan:
        teacher = ctx.users[teacher_key]
        resource = resources[res_key]
        relevant = [
            c
            for c in closures
            if c.resource_id == resource.id
            or c.university_id == resource.university_id
            or (c.resource_id is None and c.university_id is None)
        ]
        start_at, end_at = _slot(resource, relevant, taken, offset, start, end)
        booking = Booking(
            resource_id=resource.id,
            school_id=teacher.school_id,
            requested_by_id=teacher.id,
            start_at=start_at,
            end_at=end_at,
            status=BookingStatus(status),
            class_size=size,
            grade=grade,
            escorts=max(2, -(-size // resource.pupils_per_escort)),
            purpose=purpose,
            contact_phone=PHONES[teacher_key],
            safety_accepted_at=now - timedelta(days=20),
            created_at=now - timedelta(days=max(3, 20 - offset if offset < 0 else 10 - offset // 2)),
        )
        if status in ("approved", "rejected"):
            booking.decided_by_id = resource.managers[0].id
            booking.decided_at = booking.created_at + timedelta(hours=20)
            booking.calendar_sequence = 1
        if status == "rejected":
            booking.decision_note = "当天实验室已安排本科生实验课，请改约其他时间。"
        if status == "cancelled":
            booking.cancel_reason = "学校临时安排期末复习，取消本次活动。"
            booking.cancelled_by_id = teacher.id
            booking.cancelled_at = now - timedelta(days=1)
            booking.calendar_sequence = 1
        if attendance == "no_show":
            booking.attendance, booking.actual_count = BookingAttendance.NO_SHOW, 0
            booking.checked_in_at = end_at
        elif isinstance(attendance, int):
            booking.attendance, booking.actual_count = BookingAttendance.ATTENDED, attendance
            booking.checked_in_at = start_at
        db.session.add(booking)
        taken.append(booking)
    db.session.flush()
    for booking in taken:
        if booking.status is BookingStatus.APPROVED and booking.end_at > now:
            notifications.notify(
                booking.requested_by,
                "booking.approved",
                _l("Your booking of %(resource)s was approved", resource=booking.resource.name_zh),
                _l("Your visit on %(when)s has been approved.", when=booking_service.LazyWhen(booking)),
                link=f"/bookings/{booking.id}",
                email=False,
            )
    ctx.extra["resources"] = resources
    ctx.extra["bookings"] = taken
    ctx.extra["next_wednesday"] = next_wednesday(today)
