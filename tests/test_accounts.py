"""Admin pages for accounts and schools, and the CSV imports."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.models import AuditEntry, Role, School, SchoolLevel, User
from portal.services import accounts, imports


def count(db, model):
    return db.session.scalar(select(func.count(model.id)))


def test_admin_creates_a_teacher(client, create_user, create_school, login_as, db):
    login_as(create_user(Role.ADMIN))
    school = create_school(level=SchoolLevel.PRIMARY)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "New.Teacher@Example.org",
            "display_name": "新老师",
            "role": "teacher",
            "school_id": school.id,
            "locale": "",
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    user = db.session.scalar(select(User).where(User.email == "new.teacher@example.org"))
    assert user is not None and user.school_id == school.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))


def test_bad_user_input_is_shown_beside_fields_and_nothing_is_written(client, create_user, create_school, login_as, db):
    admin = create_user(Role.ADMIN)
    create_user(Role.TEACHER, email="taken@example.org")
    login_as(admin)
    university = create_school(level=SchoolLevel.UNIVERSITY)
    before = count(db, User)
    cases = [
        ({"email": "not-an-email"}, "email"),
        ({"email": "TAKEN@example.org"}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"school_id": university.id}, "school_id"),  # a teacher at a university
        ({"school_id": 999999}, "school_id"),
        ({"password": ""}, "password"),
        ({"role": "emperor"}, "role"),
        ({"birth_date": "2999-01-01", "role": "student"}, "birth_date"),
    ]
    for change, field in cases:
        school = create_school(level=SchoolLevel.JUNIOR_HIGH)
        data = {
            "email": "ok@example.org",
            "display_name": "张三",
            "role": "teacher",
            "school_id": school.id,
            "locale": "",
            "password": "long-enough-1",
        }
        data.update(change)
        response = client.post("/admin/users/new", data=data, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 200, change
        html = response.get_data(as_text=True)
        assert f'id="{field}-error"' in html, (change, html[:2000])
    assert count(db, User) == before


def test_email_is_unique_case_insensitively(db, create_user):
    create_user(Role.TEACHER, email="same@example.org")
    admin = create_user(Role.ADMIN)
    try:
        accounts.create_user(
            admin, accounts.UserData(email="SAME@example.org", display_name="x", role=Role.ADMIN), "password-1"
        )
    except accounts.ValidationFailed as error:
        assert "email" in error.errors
    else:
        raise AssertionError("duplicate email accepted")


def test_admin_edits_and_deactivates_a_school(client, create_user, create_school, login_as, db):
    login_as(create_user(Role.ADMIN))
    school = create_school(name_zh="旧名字", level=SchoolLevel.PRIMARY, district="wuxi")
    response = client.post(
        f"/admin/schools/{school.id}/edit",
        data={
            "name_zh": "巫溪县新小学",
            "name_en": "",
            "level": "primary",
            "district": "wuxi",
            "under_resourced": "y",
            "address": "",
        },
    )
    assert response.status_code == 302
    db.session.refresh(school)
    assert school.name_zh == "巫溪县新小学" and school.under_resourced
    bad = client.post(
        f"/admin/schools/{school.id}/edit", data={"name_zh": "", "level": "primary", "district": "atlantis"}
    )
    assert 'id="name_zh-error"' in bad.get_data(as_text=True)
    assert 'id="district-error"' in bad.get_data(as_text=True)
    client.post(f"/admin/schools/{school.id}/active")
    db.session.refresh(school)
    assert not school.active


def test_admin_cannot_deactivate_themselves(client, create_user, login_as, db):
    admin = create_user(Role.ADMIN)
    login_as(admin)
    client.post(f"/admin/users/{admin.id}/active")
    db.session.refresh(admin)
    assert admin.active


SCHOOLS_CSV = """name_zh,name_en,level,district,under_resourced,address
重庆市测试中学,Test High,senior_high,渝中区,no,
城口县测试小学,,primary,chengkou,yes,城口县葛城街道
,Nameless,primary,yuzhong,no,
坏级别学校,,kindergarten,yuzhong,no,
火星学校,,primary,Mars,no,
重庆市测试中学,Duplicate in file,senior_high,yuzhong,no,
"""

USERS_CSV = """email,display_name,role,school,password,locale,birth_date,grade
a.teacher@example.org,甲老师,teacher,重庆市测试中学,password-a1,,,
b.student@example.org,乙同学,student,城口县测试小学,,zh_Hans_CN,2014-03-01,四年级
not-an-email,丙,teacher,重庆市测试中学,password-c1,,,
d@example.org,丁,wizard,重庆市测试中学,password-d1,,,
e@example.org,戊,teacher,不存在的学校,password-e1,,,
f@example.org,己,student,城口县测试小学,password-f1,,01/02/2014,
g@example.org,庚,mentor,重庆市测试中学,password-g1,,,
"""


def test_school_import_keeps_good_rows_reports_bad_ones_and_is_idempotent(db, tmp_csv):
    path = tmp_csv(SCHOOLS_CSV)
    report = imports.import_schools(imports.read_csv(path))
    db.session.commit()
    assert report.created == 2
    assert report.skipped == 1  # the duplicate line within the file
    assert [line for line, _ in report.rejected] == [4, 5, 6]
    assert count(db, School) == 2
    chengkou = db.session.scalar(select(School).where(School.name_zh == "城口县测试小学"))
    assert chengkou.under_resourced and chengkou.district == "chengkou"
    again = imports.import_schools(imports.read_csv(path))
    db.session.commit()
    assert again.created == 0 and count(db, School) == 2


def test_user_import_and_cli(app, db, tmp_csv):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-schools", tmp_csv(SCHOOLS_CSV)])
    assert "created 2" in result.output
    users_path = tmp_csv(USERS_CSV)
    result = runner.invoke(args=["import-users", users_path])
    assert result.exit_code == 2  # some rows were rejected
    assert "created 2" in result.output
    for line in (4, 5, 6, 7, 8):
        assert f"line {line}:" in result.output
    db.session.expire_all()
    assert count(db, User) == 2
    student = accounts.find_user_by_email("b.student@example.org")
    assert student.grade == "四年级" and student.locale == "zh_Hans_CN"
    again = runner.invoke(args=["import-users", users_path])
    assert "created 0, already present 2" in again.output
    assert count(db, User) == 2


def test_create_admin_command(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "--email", "root@example.org", "--name", "管理员"], input="secret-pass\nsecret-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert accounts.find_user_by_email("root@example.org").role is Role.ADMIN
    bad = runner.invoke(args=["create-admin", "--email", "bad", "--name", "x"], input="short\nshort\n")
    assert bad.exit_code == 1
