"""Schools across Chongqing's districts and users of every role."""

from __future__ import annotations

from datetime import date

from portal.demo.context import DEMO_PASSWORD, DemoContext
from portal.extensions import db
from portal.models import Role, SchoolLevel
from portal.services import accounts

U, J, S, P = SchoolLevel.UNIVERSITY, SchoolLevel.JUNIOR_HIGH, SchoolLevel.SENIOR_HIGH, SchoolLevel.PRIMARY

SCHOOLS = [
    # key, Chinese name, English name, level, district, under-resourced
    ("cqu", "重庆大学", "Chongqing University", U, "shapingba", False),
    ("swu", "西南大学", "Southwest University", U, "beibei", False),
    ("cqnu", "重庆师范大学", "Chongqing Normal University", U, "shapingba", False),
    ("bashu", "重庆市巴蜀中学校", "Chongqing Bashu Secondary School", S, "yuzhong", False),
    ("nankai", "重庆南开中学", "Chongqing Nankai Secondary School", S, "shapingba", False),
    ("swufz", "西南大学附属中学校", "High School Affiliated to Southwest University", S, "beibei", False),
    ("chengkou_zx", "重庆市城口中学", "Chongqing Chengkou High School", S, "chengkou", True),
    ("wuxi_zx", "重庆市巫溪中学", "Chongqing Wuxi High School", S, "wuxi", True),
    ("qiujing", "重庆市求精中学校", "Chongqing Qiujing Middle School", J, "yuzhong", False),
    ("chengkou_cz", "城口县坪坝中学", "Pingba Middle School, Chengkou", J, "chengkou", True),
    ("renmin", "重庆市人民小学", "Chongqing Renmin Primary School", P, "yuzhong", False),
    ("shuren", "重庆市沙坪坝区树人小学校", "Shuren Primary School, Shapingba", P, "shapingba", False),
    ("chaoyang", "重庆市北碚区朝阳小学", "Chaoyang Primary School, Beibei", P, "beibei", False),
    ("wuxi_xx", "巫溪县城厢小学", "Chengxiang Primary School, Wuxi", P, "wuxi", True),
]

# key, email, name, role, school key, birth date, grade
USERS = [
    ("admin", "admin@demo.cqportal.cn", "平台管理员 王芳", Role.ADMIN, None, None, None),
    ("teacher_bashu", "li.ming@demo.cqportal.cn", "李明（巴蜀中学）", Role.TEACHER, "bashu", None, None),
    ("teacher_qiujing", "zhang.li@demo.cqportal.cn", "张丽（求精中学）", Role.TEACHER, "qiujing", None, None),
    ("teacher_renmin", "chen.jing@demo.cqportal.cn", "陈静（人民小学）", Role.TEACHER, "renmin", None, None),
    ("teacher_chengkou", "liu.yang@demo.cqportal.cn", "刘洋（城口中学）", Role.TEACHER, "chengkou_zx", None, None),
    ("teacher_wuxi", "he.xue@demo.cqportal.cn", "何雪（城厢小学）", Role.TEACHER, "wuxi_xx", None, None),
    ("mentor_cqu", "zhao.qiang@demo.cqportal.cn", "赵强 教授（重庆大学）", Role.MENTOR, "cqu", None, None),
    ("mentor_cqu2", "sun.hong@demo.cqportal.cn", "孙红 副教授（重庆大学）", Role.MENTOR, "cqu", None, None),
    ("mentor_swu", "zhou.min@demo.cqportal.cn", "周敏 老师（西南大学）", Role.MENTOR, "swu", None, None),
    ("rm_cqu_lab", "wu.lab@demo.cqportal.cn", "吴刚（重大实验室）", Role.RESOURCE_MANAGER, "cqu", None, None),
    ("rm_cqu_lib", "zheng.lib@demo.cqportal.cn", "郑丹（重大图书馆）", Role.RESOURCE_MANAGER, "cqu", None, None),
    ("rm_swu", "feng.swu@demo.cqportal.cn", "冯涛（西南大学）", Role.RESOURCE_MANAGER, "swu", None, None),
    ("rm_cqnu", "tang.cqnu@demo.cqportal.cn", "唐悦（重庆师大）", Role.RESOURCE_MANAGER, "cqnu", None, None),
    (
        "activist",
        "xu.activist@demo.cqportal.cn",
        "徐晨（入党积极分子）",
        Role.STUDENT,
        "cqu",
        date(2005, 3, 12),
        "2023级",
    ),
    ("cadre1", "ma.cadre@demo.cqportal.cn", "马悦（学生干部）", Role.STUDENT, "cqu", date(2005, 9, 2), "2023级"),
    ("cadre2", "hu.cadre@demo.cqportal.cn", "胡杰（学生干部）", Role.STUDENT, "cqu", date(2006, 1, 20), "2024级"),
    ("mentee1", "guo.student@demo.cqportal.cn", "郭雨（大一新生）", Role.STUDENT, "cqu", date(2008, 6, 5), "2026级"),
    ("mentee2", "lin.student@demo.cqportal.cn", "林浩（大一新生）", Role.STUDENT, "cqu", date(2008, 11, 23), "2026级"),
    ("mentee3", "luo.student@demo.cqportal.cn", "罗佳（大一新生）", Role.STUDENT, "cqu", date(2007, 12, 1), "2026级"),
    (
        "mentee4",
        "yang.student@demo.cqportal.cn",
        "杨帆（高三）",
        Role.STUDENT,
        "chengkou_zx",
        date(2009, 2, 14),
        "高三（2）班",
    ),
    (
        "mentee5",
        "deng.student@demo.cqportal.cn",
        "邓琳（高三）",
        Role.STUDENT,
        "bashu",
        date(2009, 4, 30),
        "高三（5）班",
    ),
    (
        "pupil_qiujing",
        "xie.pupil@demo.cqportal.cn",
        "谢小雨（初二）",
        Role.STUDENT,
        "qiujing",
        date(2012, 5, 9),
        "初二（3）班",
    ),
    (
        "pupil_renmin",
        "song.pupil@demo.cqportal.cn",
        "宋天天（五年级）",
        Role.STUDENT,
        "renmin",
        date(2015, 8, 18),
        "五年级（1）班",
    ),
]


def seed(ctx: DemoContext) -> None:
    for key, name_zh, name_en, level, district, poor in SCHOOLS:
        ctx.schools[key] = accounts.create_school(
            None,
            accounts.SchoolData(name_zh=name_zh, name_en=name_en, level=level, district=district, under_resourced=poor),
        )
    for key, email, name, role, school_key, birth, grade in USERS:
        school = ctx.schools[school_key] if school_key else None
        ctx.users[key] = accounts.create_user(
            None,
            accounts.UserData(
                email=email,
                display_name=name,
                role=role,
                school_id=school.id if school else None,
                birth_date=birth,
                grade=grade,
            ),
            DEMO_PASSWORD,
        )
    db.session.flush()
