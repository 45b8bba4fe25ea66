"""Activity pages as people meet them: the public calendar (views, filters, languages,
query counts), session pages, registration forms, organizer pages, attendance, feedback."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import ActivitySeries, ActivitySession, Attendance, Feedback, Registration, Role, SchoolLevel
from portal.services import activities
from portal.timeutil import local_today, to_local, utcnow


def _in_days(days: int, hour: int = 10):
    from datetime import time

    from portal.timeutil import local_datetime

    return local_datetime(local_today() + timedelta(days=days), time(hour, 0))


@pytest.fixture
def calendar_data(create_series, create_activity_session, create_school):
    series = create_series()
    other = create_series(title_zh="教学研讨", title_en="Teaching seminars")
    school = create_school(level=SchoolLevel.PRIMARY, district="beibei")
    sessions = {
        "primary": create_activity_session(
            series=series,
            title_zh="小学生红岩故事会",
            title_en="Hongyan stories for pupils",
            levels=[SchoolLevel.PRIMARY],
            starts_at=_in_days(0, 15),
            venue_kind=activities.VenueKind.SCHOOL,
            venue_school_id=school.id,
            venue_name=None,
            district="beibei",
        ),
        "senior": create_activity_session(
            series=series,
            title_zh="高中生渣滓洞情景剧",
            title_en="Role-play at Zhazidong",
            levels=[SchoolLevel.SENIOR_HIGH],
            starts_at=_in_days(1),
            venue_name="渣滓洞",
            district="shapingba",
            format=activities.ActivityFormat.ROLE_PLAY,
        ),
        "seminar": create_activity_session(
            series=other, title_zh="大学思政课教学研讨", title_en="University teaching seminar", starts_at=_in_days(2)
        ),
    }
    return series, other, sessions


def _same_month(*days):
    months = {(local_today() + timedelta(days=d)).month for d in days}
    return len(months) == 1


def test_month_view_in_chinese_marks_today_and_names_weekdays(client, calendar_data):
    response = client.get("/activities/", headers={"Accept-Language": "zh-CN"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "周一" in html and "周日" in html
    assert f"{local_today().year}年{local_today().month}月" in html
    assert 'aria-current="date"' in html
    assert f'data-date="{local_today().isoformat()}"' in html
    assert "小学生红岩故事会" in html


def test_month_view_in_english(client, calendar_data):
    html = client.get("/activities/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mon" in html and "Sun" in html
    assert local_today().strftime("%B") in html
    assert "Hongyan stories for pupils" in html
    assert "小学生红岩故事会" not in html


def test_level_filter(client, calendar_data):
    series, _other, sessions = calendar_data
    day = local_today().isoformat()
    html = client.get(f"/activities/?view=week&date={day}&level=primary").get_data(as_text=True)
    assert "小学生红岩故事会" in html
    assert "高中生渣滓洞情景剧" not in html
    html = client.get(f"/activities/?view=week&date={day}&level=senior_high").get_data(as_text=True)
    assert "高中生渣滓洞情景剧" in html and "小学生红岩故事会" not in html


def test_format_district_and_series_filters(client, calendar_data):
    series, other, _ = calendar_data
    day = local_today().isoformat()
    html = client.get(f"/activities/?view=week&date={day}&format=role_play").get_data(as_text=True)
    assert "高中生渣滓洞情景剧" in html and "小学生红岩故事会" not in html
    html = client.get(f"/activities/?view=week&date={day}&district=beibei").get_data(as_text=True)
    assert "小学生红岩故事会" in html and "高中生渣滓洞情景剧" not in html
    html = client.get(f"/activities/?view=week&date={day}&series={other.id}").get_data(as_text=True)
    assert "大学思政课教学研讨" in html and "小学生红岩故事会" not in html


def test_bad_filter_values_are_ignored(client, calendar_data):
    for query in ["view=year", "date=2026-13-45", "level=kindergarten", "series=abc", "district=mars", "format=x"]:
        assert client.get(f"/activities/?{query}").status_code == 200, query


def test_week_and_list_views(client, calendar_data):
    day = local_today().isoformat()
    week = client.get(f"/activities/?view=week&date={day}").get_data(as_text=True)
    assert week.count('class="list-group-item') >= 7
    listing = client.get(f"/activities/?view=list&date={day}").get_data(as_text=True)
    assert f'id="day-{day}"' in listing
    assert "小学生红岩故事会" in listing


def test_calendar_query_count_is_bounded(client, calendar_data, create_activity_session, count_queries):
    series = calendar_data[0]
    with count_queries() as small:
        client.get("/activities/?view=month")
    for i in range(20):
        create_activity_session(series=series, starts_at=_in_days(i % 3, 9 + i % 8))
    with count_queries() as large:
        client.get("/activities/?view=month")
    assert large.count == small.count, large.statements
    assert large.count <= 6


def test_session_page_for_anonymous_shows_seats_and_login(client, calendar_data):
    session = calendar_data[2]["senior"]
    html = client.get(f"/activities/sessions/{session.id}").get_data(as_text=True)
    assert "剩余 30 个名额" in html or "30 seats left" in html
    assert "/auth/login" in html
    assert "/feeds/event/session/" in html  # the single-event download


def test_student_registers_and_cancels_through_the_pages(client, calendar_data, create_student, login_as, db):
    session = calendar_data[2]["senior"]
    student = create_student(SchoolLevel.SENIOR_HIGH)
    login_as(student)
    response = client.post(f"/activities/sessions/{session.id}/register", follow_redirects=True)
    assert response.status_code == 200
    assert "您已报名" in response.get_data(as_text=True)
    registration = db.session.scalar(select(Registration))
    assert registration.status.value == "admitted"
    again = client.post(f"/activities/sessions/{session.id}/register", follow_redirects=True)
    assert "已报名" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Registration.id))) == 1
    response = client.post(f"/activities/registrations/{registration.id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert db.session.get(Registration, registration.id).status.value == "cancelled"


def test_ineligible_student_sees_a_clear_message(client, calendar_data, create_student, login_as, db):
    session = calendar_data[2]["senior"]
    login_as(create_student(SchoolLevel.PRIMARY))
    html = client.post(f"/activities/sessions/{session.id}/register", follow_redirects=True).get_data(as_text=True)
    assert "本场活动面向" in html
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_class_registration_form_shows_errors_beside_fields(client, calendar_data, create_user, login_as, db):
    session = calendar_data[2]["primary"]
    teacher = create_user(Role.TEACHER, school=session.venue_school)
    login_as(teacher)
    url = f"/activities/sessions/{session.id}/register-class"
    assert "整体" in client.get(url).get_data(as_text=True)
    html = client.post(url, data={"class_label": "三（2）班", "seats": "0"}).get_data(as_text=True)
    assert 'id="seats-error"' in html
    html = client.post(url, data={"class_label": "三（2）班", "seats": "31"}).get_data(as_text=True)
    assert 'id="seats-error"' in html
    html = client.post(url, data={"class_label": "", "seats": "20"}).get_data(as_text=True)
    assert 'id="class_label-error"' in html
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    response = client.post(url, data={"class_label": "三（2）班", "seats": "25"})
    assert response.status_code == 302
    block = db.session.scalar(select(Registration))
    assert block.seats == 25 and block.class_label == "三（2）班"


def test_students_cannot_use_the_class_form(client, calendar_data, create_student, login_as):
    session = calendar_data[2]["primary"]
    login_as(create_student(SchoolLevel.PRIMARY))
    assert client.get(f"/activities/sessions/{session.id}/register-class").status_code == 403


def test_organizer_pages_and_permissions(client, calendar_data, create_user, login_as):
    series, _other, sessions = calendar_data
    organizer = series.organizers[0]
    session = sessions["senior"]
    pages = [
        f"/activities/manage/series/{series.id}/edit",
        f"/activities/manage/series/{series.id}/sessions/new",
        f"/activities/manage/sessions/{session.id}/edit",
        f"/activities/manage/sessions/{session.id}/roster",
        f"/activities/manage/sessions/{session.id}/check-in-code",
        f"/activities/manage/sessions/{session.id}/results",
        f"/activities/manage/series/{series.id}/results",
    ]
    login_as(organizer)
    for url in pages + ["/activities/manage"]:
        assert client.get(url).status_code == 200, url
    login_as(create_user(Role.MENTOR))  # a mentor who does not organize this series
    for url in pages:
        assert client.get(url).status_code == 403, url
    login_as(create_user(Role.TEACHER))
    assert client.get("/activities/manage").status_code == 403
    assert client.get("/activities/manage/series/999999/edit").status_code == 403  # role gate first
    login_as(create_user(Role.ADMIN))
    assert client.get("/activities/manage/series/999999/edit").status_code == 404
    assert client.get("/activities/sessions/999999").status_code == 404
    assert client.get(f"/activities/sessions/{session.id}/register").status_code == 405


def test_host_may_take_attendance_but_not_edit(client, calendar_data, create_user, login_as, db):
    session = calendar_data[2]["senior"]
    host = create_user(Role.MENTOR)
    session.host_id = host.id
    db.session.commit()
    login_as(host)
    assert client.get(f"/activities/manage/sessions/{session.id}/roster").status_code == 200
    assert client.get(f"/activities/manage/sessions/{session.id}/edit").status_code == 403


def test_mentor_creates_a_series_and_a_session_with_a_host_clash(client, create_user, login_as, db):
    mentor = create_user(Role.MENTOR)
    login_as(mentor)
    response = client.post(
        "/activities/manage/series/new",
        data={
            "title_zh": "红岩精神进校园",
            "theme": "红岩精神",
            "audience": "students",
            "target_levels": ["primary", "junior_high"],
            "is_public": "y",
            "organizer_ids": [str(mentor.id)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    series = db.session.scalar(select(ActivitySeries))
    assert series.is_organizer(mentor)
    day = (local_today() + timedelta(days=10)).isoformat()
    form = {
        "title_zh": "白公馆参观",
        "format": "visit",
        "day": day,
        "start_time": "09:00",
        "end_time": "11:00",
        "venue_kind": "place",
        "venue_school_id": "0",
        "venue_name": "白公馆",
        "venue_address": "沙坪坝区壮志路",
        "district": "shapingba",
        "capacity": "40",
        "registration_opens_at": (local_today()).isoformat() + "T08:00",
        "registration_closes_at": day + "T08:00",
        "eligible_levels": ["primary"],
        "host_id": str(mentor.id),
    }
    url = f"/activities/manage/series/{series.id}/sessions/new"
    assert client.post(url, data=form).status_code == 302
    session = db.session.scalar(select(ActivitySession))
    assert to_local(session.starts_at).hour == 9 and session.host_id == mentor.id
    clash = dict(form, venue_name="渣滓洞", start_time="10:00", end_time="12:00")
    html = client.post(url, data=clash).get_data(as_text=True)
    assert 'id="host_id-error"' in html
    bad = dict(form, end_time="08:00", capacity="0", eligible_levels=[])
    html = client.post(url, data=bad).get_data(as_text=True)
    assert 'id="capacity-error"' in html
    assert db.session.scalar(select(func.count(ActivitySession.id))) == 1


def test_attendance_list_qr_page_and_scan(client, create_activity_session, create_student, login_as, db):
    now = utcnow()
    session = create_activity_session(
        starts_at=now - timedelta(minutes=10),
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now - timedelta(hours=1),
    )
    student, other = create_student(), create_student()
    for user in (student, other):
        db.session.add(
            Registration(session_id=session.id, user_id=user.id, status=activities.ADMITTED, queue_number=user.id)
        )
    session.seats_taken = 2
    db.session.commit()
    organizer = session.series.organizers[0]
    login_as(organizer)
    qr = client.get(f"/activities/manage/sessions/{session.id}/check-in-code").get_data(as_text=True)
    assert "<svg" in qr and 'http-equiv="refresh"' in qr
    token = activities.checkin_token(session)
    response = client.post(f"/activities/manage/sessions/{session.id}/roster", data={"present": [str(other.id)]})
    assert response.status_code == 302
    login_as(student)
    page = client.get(f"/activities/sessions/{session.id}/check-in?t={token}").get_data(as_text=True)
    assert token in page and "签到" in page
    assert db.session.scalar(select(func.count(Attendance.id))) == 1  # GET wrote nothing
    response = client.post(f"/activities/sessions/{session.id}/check-in", data={"t": token}, follow_redirects=True)
    assert "签到成功" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attendance.id))) == 2
    bad = client.post(f"/activities/sessions/{session.id}/check-in", data={"t": "forged"}, follow_redirects=True)
    assert "不是本平台有效的签到码" in bad.get_data(as_text=True)
    record = client.get("/activities/record").get_data(as_text=True)
    assert "@media print" in client.get("/static/activities.css").get_data(as_text=True)
    assert re.search(r'data-testid="attended-count">\s*1\s*<', record)


def test_feedback_form_and_results(client, create_activity_session, create_student, login_as, db):
    now = utcnow()
    session = create_activity_session(
        starts_at=now - timedelta(hours=3),
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now - timedelta(hours=4),
    )
    student = create_student()
    db.session.add(
        Attendance(session_id=session.id, user_id=student.id, method=activities.AttendanceMethod.QR, checked_in_at=now)
    )
    db.session.commit()
    login_as(student)
    url = f"/activities/sessions/{session.id}/feedback"
    assert client.get(url).status_code == 200
    html = client.post(url, data={"comment": "很好"}).get_data(as_text=True)
    assert 'id="rating-error"' in html
    assert client.post(url, data={"rating": "5", "comment": "很受教育"}).status_code == 302
    assert db.session.scalar(select(func.count(Feedback.id))) == 1
    assert client.get(url).status_code == 302  # already answered
    login_as(session.series.organizers[0])
    results = client.get(f"/activities/manage/sessions/{session.id}/results").get_data(as_text=True)
    assert "5.00" in results and "很受教育" in results and student.display_name not in results


def test_follow_series_and_new_session_notification(client, create_series, create_student, login_as, db):
    from portal.models import Notification

    series = create_series()
    student = create_student()
    login_as(student)
    assert client.post(f"/activities/series/{series.id}/follow", data={"follow": "1"}).status_code == 302
    assert activities.is_following(student, series)
    organizer = series.organizers[0]
    start = utcnow() + timedelta(days=3)
    activities.create_session(
        organizer,
        series,
        activities.SessionData(
            title_zh="新场次",
            format=activities.ActivityFormat.TALK,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=10,
            registration_opens_at=utcnow(),
            registration_closes_at=start,
            eligible_levels=[SchoolLevel.JUNIOR_HIGH],
            venue_kind=activities.VenueKind.PLACE,
            venue_name="红岩革命纪念馆",
            district="yuzhong",
        ),
    )
    db.session.commit()
    assert db.session.scalar(select(Notification).where(Notification.user_id == student.id)).kind == (
        "activity_new_session"
    )


def test_cancel_redirect_stays_on_this_site(client, create_activity_session, create_student, login_as, db):
    session = create_activity_session()
    student = create_student()
    registration = activities.register(student, session.id)
    db.session.commit()
    login_as(student)
    response = client.post(f"/activities/registrations/{registration.id}/cancel", data={"back": "//evil.example/x"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/activities/sessions/{session.id}")
    other = create_student()
    again = activities.register(other, session.id)
    db.session.commit()
    assert client.post(f"/activities/registrations/{again.id}/cancel").status_code == 404
    assert client.post("/activities/registrations/999999/cancel").status_code == 404


def test_organizer_removes_a_participant_from_the_roster(client, create_activity_session, create_student, login_as, db):
    from portal.models import Notification

    session = create_activity_session(capacity=1)
    first, second = create_student(), create_student()
    removed = activities.register(first, session.id)
    db.session.commit()
    activities.register(second, session.id)
    db.session.commit()
    login_as(session.series.organizers[0])
    roster = client.get(f"/activities/manage/sessions/{session.id}/roster").get_data(as_text=True)
    assert f'formaction="/activities/registrations/{removed.id}/cancel"' in roster
    back = f"/activities/manage/sessions/{session.id}/roster"
    response = client.post(f"/activities/registrations/{removed.id}/cancel", data={"back": back})
    assert response.headers["Location"].endswith(back)
    assert db.session.get(Registration, removed.id).status.value == "cancelled"
    kinds = {n.kind for n in db.session.scalars(select(Notification))}
    assert kinds == {"activity_removed", "activity_promoted"}
