"""Demo activity series: 红岩精神进校园 (about 12 sessions across venues and levels, some
full with a waitlist, some past with attendance and feedback) and university teaching
seminars that school teachers join. Dates are relative to today (Asia/Shanghai).

Rows are written directly (the whole demo is one transaction, and the registration
service's write lock must begin a transaction), keeping `seats_taken` equal to the sum
of admitted seats, as the service does. Two sessions are held in university libraries
from the bookings demo; like `bookings.hold_for_activity`, each holds its slot with an
approved booking, on a free open afternoon (never 物理实验教学中心, whose next Wednesday
afternoon the bookings demo keeps free).
"""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from portal.demo.bookings import _slot as free_resource_slot
from portal.demo.context import DemoContext
from portal.extensions import db
from portal.models import (
    ActivityFormat,
    ActivitySeries,
    ActivitySession,
    Attendance,
    AttendanceMethod,
    Audience,
    Booking,
    BookingStatus,
    Closure,
    Feedback,
    Registration,
    RegistrationStatus,
    SchoolLevel,
    SeriesSubscription,
    VenueKind,
)
from portal.models.activities import levels_to_text
from portal.services import commitments
from portal.timeutil import local_datetime, local_today, to_local

P, J, S, U = SchoolLevel.PRIMARY, SchoolLevel.JUNIOR_HIGH, SchoolLevel.SENIOR_HIGH, SchoolLevel.UNIVERSITY
V, T, R, RP, D, SEM = (
    ActivityFormat.VISIT,
    ActivityFormat.TALK,
    ActivityFormat.READING,
    ActivityFormat.ROLE_PLAY,
    ActivityFormat.DISCUSSION,
    ActivityFormat.SEMINAR,
)
PLACES = {
    "hongyan": ("红岩革命纪念馆", "渝中区红岩村52号", "yuzhong"),
    "zhazidong": ("渣滓洞", "沙坪坝区歌乐山镇渣滓洞路", "shapingba"),
    "baigongguan": ("白公馆", "沙坪坝区壮志路", "shapingba"),
    "zengjiayan": ("曾家岩50号周公馆", "渝中区曾家岩50号", "yuzhong"),
    "lieshimu": ("歌乐山烈士陵园", "沙坪坝区烈士墓政法三村", "shapingba"),
}

# key, day offset, start, hours, zh title, en title, format, venue (place key or "school:<key>"),
# capacity, levels, host key, description
HONGYAN = [
    (
        "past_visit",
        -20,
        time(9, 0),
        2.5,
        "走进红岩革命纪念馆",
        "Inside the Hongyan Revolutionary Memorial",
        V,
        "hongyan",
        60,
        [J, S],
        "mentor_cqu",
        "由讲解员带领参观红岩革命纪念馆，了解南方局在重庆的革命历程。",
    ),
    (
        "past_reading",
        -9,
        time(14, 30),
        2,
        "《红岩》共读会",
        "Reading Red Crag together",
        R,
        "school:bashu",
        40,
        [S, U],
        "mentor_swu",
        "围绕小说《红岩》选段分组朗读与交流，重温江姐、许云峰的故事。",
    ),
    (
        "past_pupils",
        -5,
        time(9, 30),
        1.5,
        "红领巾讲红岩故事",
        "Young Pioneers tell Hongyan stories",
        T,
        "school:renmin",
        50,
        [P],
        None,
        "小学生讲述小萝卜头的故事，导师点评。",
    ),
    (
        "soon_zhazidong",
        3,
        time(9, 0),
        3,
        "渣滓洞情景剧：狱中八条",
        "Role-play at Zhazidong: the eight lessons from prison",
        RP,
        "zhazidong",
        45,
        [S],
        "mentor_cqu",
        "高中生在渣滓洞旧址排演情景剧，体会“狱中八条”的分量。",
    ),
    (
        "soon_baigongguan",
        6,
        time(14, 0),
        2,
        "白公馆参观与讨论",
        "Baigongguan visit and discussion",
        V,
        "baigongguan",
        3,
        [U],
        "mentor_cqu2",
        "参观白公馆旧址后，围绕“红岩精神与新时代青年”开展讨论。",
    ),
    (
        "uni_talk",
        10,
        time(19, 0),
        1.5,
        "红岩精神与青年担当（讲座）",
        "Talk: the Hongyan spirit and youth",
        T,
        "school:cqu",
        200,
        [U],
        "mentor_swu",
        "面向大学生的专题讲座，欢迎入党积极分子参加。",
    ),
    (
        "junior_discussion",
        17,
        time(15, 0),
        2,
        "红岩家书里的初心",
        "Letters home from Hongyan",
        D,
        "school:qiujing",
        40,
        [J],
        "mentor_cqu2",
        "阅读红岩烈士家书，初中生分组讨论。",
    ),
    (
        "pupil_visit",
        24,
        time(9, 30),
        2,
        "小萝卜头的故事：歌乐山研学",
        "The story of Little Radish: a study trip to Gele Mountain",
        V,
        "lieshimu",
        35,
        [P],
        None,
        "小学高年级研学活动，由教师带班参加。",
    ),
    (
        "zengjiayan",
        38,
        time(10, 0),
        2,
        "曾家岩50号：周公馆里的统一战线",
        "Zengjiayan 50: the united front",
        V,
        "zengjiayan",
        30,
        [S, U],
        "mentor_cqu",
        "参观周公馆，了解南方局统一战线工作。",
    ),
    (
        "chengkou",
        52,
        time(14, 0),
        2,
        "红岩精神进城口",
        "The Hongyan spirit comes to Chengkou",
        T,
        "school:chengkou_zx",
        80,
        [J, S],
        "mentor_swu",
        "送课下乡：导师赴城口中学开展红岩精神专题课。",
    ),
    (
        "wuxi",
        66,
        time(10, 0),
        1.5,
        "红岩故事会（巫溪）",
        "Hongyan story hour in Wuxi",
        R,
        "school:wuxi_xx",
        40,
        [P],
        None,
        "为巫溪县小学生朗读红岩故事。",
    ),
    (
        "finale",
        80,
        time(9, 0),
        3,
        "红岩精神主题情景剧展演",
        "Hongyan-spirit role-play showcase",
        RP,
        "hongyan",
        120,
        [P, J, S, U],
        "mentor_cqu2",
        "各学段优秀情景剧汇报展演。",
    ),
]

SEMINARS = [
    (
        "sem_method",
        -12,
        time(14, 0),
        3,
        "大学思政课教学方法研讨",
        "University teaching methods in ideological and political courses",
        "school:cqu",
        40,
        [P, J, S],
        "mentor_cqu2",
        "中小学思政教师走进重庆大学课堂，研讨大中小学思政课一体化教学。",
    ),
    (
        "sem_case",
        12,
        time(14, 0),
        3,
        "案例教学：把红岩精神讲进课堂",
        "Case teaching: bringing the Hongyan spirit into class",
        "school:swu",
        40,
        [P, J, S],
        "mentor_swu",
        "以红岩历史案例为例，研讨中小学思政课案例教学设计。",
    ),
    (
        "sem_roleplay",
        45,
        time(9, 0),
        3,
        "情景教学工作坊",
        "Workshop: role-play in teaching",
        "school:cqnu",
        2,
        [P, J, S],
        None,
        "面向中小学教师的情景教学工作坊，名额有限。",
    ),
]


def _at(day_offset: int, start: time):
    return local_datetime(local_today() + timedelta(days=day_offset), start)


def _session(ctx: DemoContext, series: ActivitySeries, row, fmt=None) -> ActivitySession:
    if fmt is None:
        key, offset, start, hours, zh, en, fmt, venue, capacity, levels, host, text = row
    else:
        key, offset, start, hours, zh, en, venue, capacity, levels, host, text = row
    starts = _at(offset, start)
    values = dict(
        series_id=series.id,
        title_zh=zh,
        title_en=en,
        description=text,
        format=fmt,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        capacity=capacity,
        seats_taken=0,
        registration_opens_at=min(starts - timedelta(days=30), _at(-25, time(8, 0))),
        registration_closes_at=starts - timedelta(days=1),
        eligible_levels=levels_to_text(levels),
        host_id=ctx.users[host].id if host else None,
        calendar_sequence=0,
    )
    if venue.startswith("school:"):
        school = ctx.schools[venue.split(":", 1)[1]]
        values.update(venue_kind=VenueKind.SCHOOL, venue_school_id=school.id, district=school.district)
    else:
        name, address, district = PLACES[venue]
        values.update(venue_kind=VenueKind.PLACE, venue_name=name, venue_address=address, district=district)
    session = ActivitySession(**values)
    db.session.add(session)
    db.session.flush()
    return session


# key, resource key (bookings demo), day offset, start, end, zh title, en title, format,
# capacity, levels, host key, description
AT_RESOURCES = [
    (
        "library_letters",
        "cqu_library",
        12,
        time(14, 30),
        time(16, 0),
        "红岩家书诵读会",
        "Reading the Letters of the Hongyan Martyrs",
        R,
        60,
        [J, S],
        "mentor_cqu",
        "在重庆大学图书馆诵读《红岩家书》选篇，馆员介绍馆藏红色文献，学生分组分享读后感。",
    ),
    (
        "library_novel",
        "swu_library",
        26,
        time(15, 0),
        time(17, 0),
        "《红岩》共读与讨论",
        "Reading and Discussing the Novel Red Crag",
        D,
        50,
        [S, U],
        "mentor_swu",
        "在西南大学图书馆报告厅共读小说《红岩》片段，围绕江姐、许云峰等人物展开讨论。",
    ),
]


def _sessions_at_resources(ctx: DemoContext, series: ActivitySeries) -> dict[str, ActivitySession]:
    """Sessions in a lab or library, each with the approved booking that holds its slot."""
    resources, taken = ctx.extra["resources"], ctx.extra["bookings"]
    made: dict[str, ActivitySession] = {}
    for key, resource_key, offset, start, end, zh, en, fmt, capacity, levels, host_key, text in AT_RESOURCES:
        resource = resources[resource_key]
        closures = list(
            db.session.scalars(
                select(Closure).where(
                    (Closure.resource_id == resource.id)
                    | (Closure.university_id == resource.university_id)
                    | (Closure.resource_id.is_(None) & Closure.university_id.is_(None))
                )
            )
        )
        host = ctx.users[host_key]
        while True:  # the first free open afternoon from `offset` on where the host has time
            starts, ends = free_resource_slot(resource, closures, taken, offset, start, end)
            if commitments.find_clash(host, starts, ends, f"school:{resource.university_id}") is None:
                break
            offset = (to_local(starts).date() - local_today()).days + 1
        session = ActivitySession(
            series_id=series.id,
            title_zh=zh,
            title_en=en,
            description=text,
            format=fmt,
            starts_at=starts,
            ends_at=ends,
            capacity=capacity,
            seats_taken=0,
            registration_opens_at=_at(-10, time(8, 0)),
            registration_closes_at=starts - timedelta(days=1),
            eligible_levels=levels_to_text(levels),
            host_id=host.id,
            calendar_sequence=0,
            venue_kind=VenueKind.RESOURCE,
            venue_resource_id=resource.id,
            district=resource.university.district,
        )
        db.session.add(session)
        db.session.flush()
        hold = Booking(
            resource_id=resource.id,
            school_id=resource.university_id,
            requested_by_id=host.id,
            start_at=starts,
            end_at=ends,
            status=BookingStatus.APPROVED,
            class_size=capacity,
            grade="",
            escorts=0,
            purpose=zh,
            contact_phone="",
            safety_accepted_at=session.created_at or starts,
            decided_by_id=host.id,
            decided_at=session.created_at or starts,
            activity_session_id=session.id,
        )
        db.session.add(hold)
        db.session.flush()
        taken.append(hold)
        made[key] = session
    return made


class _Queue:
    """Registrations in order, admitting while seats remain (strict order, like the service)."""

    def __init__(self, session: ActivitySession):
        self.session = session
        self.number = 0
        self.waiting = False

    def add(self, user, seats: int = 1, class_label: str = "") -> Registration:
        self.number += 1
        fits = not self.waiting and self.session.seats_taken + seats <= self.session.capacity
        self.waiting = self.waiting or not fits
        registration = Registration(
            session_id=self.session.id,
            user_id=user.id,
            seats=seats,
            class_label=class_label,
            status=RegistrationStatus.ADMITTED if fits else RegistrationStatus.WAITLISTED,
            queue_number=self.number,
            admitted_at=self.session.registration_opens_at + timedelta(hours=self.number) if fits else None,
        )
        if fits:
            self.session.seats_taken += seats
        db.session.add(registration)
        db.session.flush()
        return registration


def _attend(session: ActivitySession, registration: Registration, method=AttendanceMethod.QR) -> None:
    db.session.add(
        Attendance(
            session_id=session.id,
            user_id=registration.user_id,
            registration_id=registration.id,
            method=method,
            checked_in_at=session.starts_at - timedelta(minutes=10),
        )
    )


def seed(ctx: DemoContext) -> None:
    users = ctx.users
    hongyan = ActivitySeries(
        title_zh="红岩精神进校园",
        title_en="The Hongyan Spirit in Schools",
        description_zh=(
            "依托重庆红色文化资源，面向小学、初中、高中和大学各学段开展主题教育活动："
            "参观红岩革命纪念馆、渣滓洞、白公馆，共读《红岩》，排演情景剧，开展研讨。"
            "学生个人报名，教师可为班级整体报名。"
        ),
        description_en=(
            "Themed education drawing on Chongqing's red-culture sites, for every level from primary school "
            "to university: visits to the Hongyan Memorial, Zhazidong and Baigongguan, readings of Red Crag, "
            "role-plays and discussions. Students register themselves; teachers register whole classes."
        ),
        theme="红岩精神",
        audience=Audience.STUDENTS,
        target_levels=levels_to_text([P, J, S, U]),
        is_public=True,
        created_by_id=users["admin"].id,
    )
    hongyan.organizers = [users["mentor_cqu"], users["mentor_swu"]]
    seminars = ActivitySeries(
        title_zh="高校思政课教学研讨（中小学教师）",
        title_en="University teaching seminars for school teachers",
        description_zh="大中小学思政课一体化：中小学教师走进高校课堂，参加教学研讨与工作坊。",
        description_en="School teachers join university teaching seminars and workshops on ideological and "
        "political education across levels.",
        theme="思政课一体化",
        audience=Audience.TEACHERS,
        target_levels=levels_to_text([P, J, S]),
        is_public=True,
        created_by_id=users["admin"].id,
    )
    seminars.organizers = [users["mentor_cqu2"]]
    db.session.add_all([hongyan, seminars])
    db.session.flush()

    s = {row[0]: _session(ctx, hongyan, row) for row in HONGYAN}
    s.update({row[0]: _session(ctx, seminars, row, fmt=SEM) for row in SEMINARS})
    s.update(_sessions_at_resources(ctx, hongyan))

    # Past: a junior/senior visit with two classes and a student, attendance and feedback.
    q = _Queue(s["past_visit"])
    bashu_class = q.add(users["teacher_bashu"], 38, "高二（5）班")
    qiujing_class = q.add(users["teacher_qiujing"], 20, "初二（3）班")
    mentee5 = q.add(users["mentee5"])
    bashu_class.attended_seats, qiujing_class.attended_seats = 36, 19
    _attend(s["past_visit"], mentee5)
    feedback = [
        (s["past_visit"], users["mentee5"], 5, "讲解员讲得很生动，第一次真正了解南方局的历史。"),
        (s["past_visit"], users["teacher_bashu"], 5, "学生反响很好，希望多组织类似活动。"),
        (s["past_visit"], users["teacher_qiujing"], 4, "时间稍紧，初中生可以再多一些互动。"),
    ]
    # Past: a reading at Bashu for senior high and university students.
    q = _Queue(s["past_reading"])
    for key in ("mentee5", "mentee4", "activist", "cadre1", "mentee1"):
        registration = q.add(users[key])
        if key != "mentee1":  # one did not come
            _attend(s["past_reading"], registration, AttendanceMethod.LIST)
    feedback += [
        (s["past_reading"], users["activist"], 5, "共读《红岩》让我重新思考入党的初心。"),
        (s["past_reading"], users["cadre1"], 4, ""),
        (s["past_reading"], users["mentee4"], 4, "希望能有更多时间讨论。"),
    ]
    # Past: pupils at Renmin primary school.
    q = _Queue(s["past_pupils"])
    renmin = q.add(users["teacher_renmin"], 42, "五年级（1）班")
    renmin.attended_seats = 41
    pupil = q.add(users["pupil_renmin"])
    _attend(s["past_pupils"], pupil)
    feedback += [
        (s["past_pupils"], users["pupil_renmin"], 5, "小萝卜头的故事让我很感动。"),
        (s["past_pupils"], users["teacher_renmin"], 5, ""),
    ]
    for session, user, rating, comment in feedback:
        db.session.add(Feedback(session_id=session.id, user_id=user.id, rating=rating, comment=comment))

    # Soon, full with a waitlist: two senior-high classes fill 45 seats, a third waits as a block.
    q = _Queue(s["soon_zhazidong"])
    q.add(users["teacher_bashu"], 40, "高二（5）班")
    q.add(users["mentee5"])
    q.add(users["mentee4"])
    q.add(users["teacher_chengkou"], 30, "高二（1）班")  # does not fit in the 2 seats left: waits whole
    # Soon, full: three seats for university students, two waiting in order.
    q = _Queue(s["soon_baigongguan"])
    for key in ("activist", "cadre1", "cadre2", "mentee1", "mentee2"):
        q.add(users[key])
    # Open sessions with some registrations.
    q = _Queue(s["uni_talk"])
    for key in ("activist", "mentee1", "mentee3"):
        q.add(users[key])
    q = _Queue(s["junior_discussion"])
    q.add(users["pupil_qiujing"])
    q.add(users["teacher_qiujing"], 32, "初二（3）班")
    q = _Queue(s["pupil_visit"])
    q.add(users["teacher_renmin"], 33, "五年级（2）班")  # 35 seats: nearly full
    q = _Queue(s["chengkou"])
    q.add(users["teacher_chengkou"], 45, "高一（3）班")
    q = _Queue(s["wuxi"])
    q.add(users["teacher_wuxi"], 36, "四年级（1）班")

    # Teachers' seminars: one past with feedback, one open, one full with a waitlist.
    q = _Queue(s["sem_method"])
    for key in ("teacher_bashu", "teacher_renmin", "teacher_chengkou"):
        _attend(s["sem_method"], q.add(users[key]), AttendanceMethod.LIST)
    db.session.add(
        Feedback(
            session_id=s["sem_method"].id,
            user_id=users["teacher_chengkou"].id,
            rating=5,
            comment="对区县学校的思政课很有启发。",
        )
    )
    q = _Queue(s["library_letters"])
    q.add(users["teacher_bashu"], 40, "初三（2）班")
    q = _Queue(s["library_novel"])
    q.add(users["mentee4"])

    q = _Queue(s["sem_case"])
    q.add(users["teacher_qiujing"])
    q = _Queue(s["sem_roleplay"])
    for key in ("teacher_bashu", "teacher_wuxi", "teacher_renmin"):
        q.add(users[key])

    db.session.add(SeriesSubscription(series_id=hongyan.id, user_id=users["pupil_qiujing"].id))
    db.session.add(SeriesSubscription(series_id=seminars.id, user_id=users["teacher_wuxi"].id))
    db.session.flush()
    ctx.extra["activity_series"] = {"hongyan": hongyan, "seminars": seminars}
    ctx.extra["activity_sessions"] = s
