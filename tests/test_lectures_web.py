"""Lecture pages: forms with messages at the field, permissions per role, bounded queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import LectureRequest, LectureStatus, Notification, Role
from portal.services import lectures as service
from portal.timeutil import to_local, utcnow
from tests.fixtures_lectures import local_at


def request_form(**overrides):
    day = to_local(local_at(5, 14)).date().isoformat()
    values = {
        "topic": "红岩精神进校园",
        "theme": "hongyan",
        "grades": ["j1", "j2"],
        "audience_size": "150",
        "duration_minutes": "90",
        "window1_date": day,
        "window1_start": "14:00",
        "window1_end": "17:00",
        "address": "城口县葛城街道",
        "room": "报告厅",
        "notes": "",
    }
    values.update(overrides)
    return values


def lecture_count(db):
    return db.session.scalar(select(func.count(LectureRequest.id)))


def test_teacher_posts_a_request_through_the_form(client, db, login_as, school_teacher):
    login_as(school_teacher())
    assert client.get("/lectures/new").status_code == 200
    response = client.post("/lectures/new", data=request_form())
    assert response.status_code == 302
    lecture = db.session.scalars(select(LectureRequest)).one()
    assert response.headers["Location"].endswith(f"/lectures/{lecture.id}")
    assert lecture.grade_codes == ["j1", "j2"]
    assert lecture.windows[0].starts_at == local_at(5, 14)
    page = client.get(f"/lectures/{lecture.id}").get_data(as_text=True)
    assert "红岩精神进校园" in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"audience_size": "0"}, "audience_size"),
        ({"audience_size": "-3"}, "audience_size"),
        ({"window1_end": "13:00"}, "window1_end"),
        ({"window1_date": to_local(local_at(-1, 9)).date().isoformat()}, "window1_date"),
        ({"window1_start": ""}, "window1_start"),
        ({"grades": []}, "grades"),
        ({"topic": ""}, "topic"),
        ({"window1_date": "", "window1_start": "", "window1_end": ""}, "window1_date"),
    ],
)
def test_bad_form_input_is_shown_beside_the_field(client, db, login_as, school_teacher, overrides, field):
    login_as(school_teacher())
    response = client.post("/lectures/new", data=request_form(**overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert lecture_count(db) == 0


def test_claim_confirm_deliver_rate_through_the_pages(app, client, db, login_as, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture()
    teacher = lecture.requested_by
    login_as(mentor)
    response = client.post(f"/lectures/{lecture.id}/claim", data={"window_id": lecture.windows[1].id})
    assert response.status_code == 302
    db.session.refresh(lecture)
    assert lecture.status is LectureStatus.CLAIMED and lecture.starts_at == lecture.windows[1].starts_at

    login_as(teacher)
    assert client.post(f"/lectures/{lecture.id}/confirm").status_code == 302
    db.session.refresh(lecture)
    assert lecture.status is LectureStatus.CONFIRMED

    lecture.starts_at = utcnow() - timedelta(hours=2)
    lecture.ends_at = lecture.starts_at + timedelta(minutes=90)
    db.session.commit()
    login_as(mentor)
    bad = client.post(f"/lectures/{lecture.id}/delivery", data={"attendance": "0"})
    assert bad.status_code == 422 and 'id="attendance-error"' in bad.get_data(as_text=True)
    assert client.post(f"/lectures/{lecture.id}/delivery", data={"attendance": "130"}).status_code == 302

    login_as(teacher)
    bad = client.post(f"/lectures/{lecture.id}/feedback", data={"rating": "9"})
    assert bad.status_code == 422 and 'id="rating-error"' in bad.get_data(as_text=True)
    assert (
        client.post(f"/lectures/{lecture.id}/feedback", data={"rating": "4", "comment": "很受欢迎"}).status_code == 302
    )
    db.session.refresh(lecture)
    assert (lecture.status, lecture.rating, lecture.attendance) == (LectureStatus.REVIEWED, 4, 130)
    page = client.get(f"/lectures/{lecture.id}").get_data(as_text=True)
    assert "很受欢迎" in page and 'data-testid="attendance"' in page and 'data-testid="rating"' in page
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"lecture_claimed", "lecture_confirmed", "lecture_delivered", "lecture_feedback"} <= kinds


def test_claim_conflict_is_shown_at_the_window_field(client, db, login_as, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    create_lecture(mentor=mentor, status=LectureStatus.CONFIRMED)  # day 3, 14:00–15:30
    other = create_lecture()
    login_as(mentor)
    response = client.post(f"/lectures/{other.id}/claim", data={"window_id": other.windows[0].id})
    assert response.status_code == 422
    assert 'id="window_id-error"' in response.get_data(as_text=True)
    assert db.session.get(LectureRequest, other.id).status is LectureStatus.OPEN


def test_losing_mentor_is_told_the_request_is_gone(client, db, login_as, create_user, create_lecture):
    lecture = create_lecture(mentor=create_user(Role.MENTOR))
    login_as(create_user(Role.MENTOR))
    response = client.post(f"/lectures/{lecture.id}/claim", data={"window_id": lecture.windows[0].id})
    assert response.status_code == 303 and response.headers["Location"].endswith("/lectures/open")


def test_withdraw_and_cancel_need_a_reason(client, db, login_as, create_user, create_lecture):
    mentor = create_user(Role.MENTOR)
    lecture = create_lecture(mentor=mentor)
    login_as(mentor)
    response = client.post(f"/lectures/{lecture.id}/withdraw", data={"withdraw-reason": ""})
    assert response.status_code == 422 and 'id="withdraw-reason-error"' in response.get_data(as_text=True)
    assert client.post(f"/lectures/{lecture.id}/withdraw", data={"withdraw-reason": "出差"}).status_code == 302
    assert db.session.get(LectureRequest, lecture.id).status is LectureStatus.OPEN
    login_as(lecture.requested_by)
    assert client.post(f"/lectures/{lecture.id}/cancel", data={"cancel-reason": ""}).status_code == 422
    assert client.post(f"/lectures/{lecture.id}/cancel", data={"cancel-reason": "不需要了"}).status_code == 302
    assert db.session.get(LectureRequest, lecture.id).status is LectureStatus.CANCELLED


def test_permissions_per_role(client, db, login_as, create_user, create_lecture, school_teacher, create_offer):
    mentor = create_user(Role.MENTOR)
    claimed = create_lecture(mentor=mentor)
    open_one = create_lecture()
    outsider = school_teacher()
    offer = create_offer()

    # A teacher of another school: the request does not exist for them; actions are refused.
    login_as(outsider)
    for url in (f"/lectures/{open_one.id}", f"/lectures/{open_one.id}/edit"):
        assert client.get(url).status_code == 404
    assert client.post(f"/lectures/{open_one.id}/edit", data=request_form(topic="x")).status_code == 404
    assert client.post(f"/lectures/{claimed.id}/confirm").status_code == 404
    assert client.post(f"/lectures/{claimed.id}/feedback", data={"rating": "5"}).status_code == 404
    assert client.post(f"/lectures/{open_one.id}/claim", data={"window_id": "1"}).status_code == 403
    assert client.get("/lectures/open").status_code == 403
    assert client.get("/lectures/targets").status_code == 403
    assert client.get("/lectures/offers/new").status_code == 403

    # The requesting teacher cannot edit once claimed.
    login_as(claimed.requested_by)
    assert client.get(f"/lectures/{claimed.id}").status_code == 200
    assert client.get(f"/lectures/{claimed.id}/edit").status_code == 403
    assert client.post(f"/lectures/{claimed.id}/withdraw", data={"withdraw-reason": "x"}).status_code == 403

    # Another mentor sees open requests, not lectures held by someone else.
    other_mentor = create_user(Role.MENTOR)
    login_as(other_mentor)
    assert client.get(f"/lectures/{open_one.id}").status_code == 200
    assert client.get(f"/lectures/{claimed.id}").status_code == 404
    assert client.post(f"/lectures/{claimed.id}/withdraw", data={"withdraw-reason": "x"}).status_code == 404
    assert client.get("/lectures/new").status_code == 403
    assert client.post(f"/lectures/offers/{offer.id}/close").status_code == 403
    assert client.post(f"/lectures/{open_one.id}/cancel", data={"cancel-reason": "x"}).status_code == 403

    # Students and resource managers have nothing to do here.
    for role in (Role.STUDENT, Role.RESOURCE_MANAGER):
        login_as(create_user(role))
        assert client.get("/lectures/").status_code == 403
        assert client.get(f"/lectures/{open_one.id}").status_code == 404
        assert client.get("/lectures/open").status_code == 403

    # Admins oversee everything.
    login_as(create_user(Role.ADMIN))
    for url in (
        "/lectures/",
        "/lectures/open",
        "/lectures/targets",
        f"/lectures/{claimed.id}",
        "/lectures/?status=open",
    ):
        assert client.get(url).status_code == 200, url
    assert client.post(f"/lectures/{open_one.id}/claim", data={"window_id": "1"}).status_code == 403


def test_bad_ids_and_methods(client, login_as, create_user):
    login_as(create_user(Role.MENTOR))
    assert client.get("/lectures/999999").status_code == 404
    assert client.get("/lectures/abc").status_code == 404
    assert client.post("/lectures/999999/claim", data={"window_id": "1"}).status_code == 404
    assert client.get("/lectures/offers/999999").status_code == 404
    assert client.get("/lectures/1/claim").status_code == 405
    assert client.get("/lectures/open?date_from=nonsense&grade=zz&district=mars").status_code == 200


def test_admin_sets_the_service_target(client, db, login_as, create_user):
    login_as(create_user(Role.ADMIN))
    term = service.term_for()
    bad = client.post("/lectures/targets", data={"term": term.code, "min_lectures": "-1", "min_hours": "4"})
    assert 'id="min_lectures-error"' in bad.get_data(as_text=True)
    assert service.get_target(term) is None
    ok = client.post("/lectures/targets", data={"term": term.code, "min_lectures": "2", "min_hours": "4"})
    assert ok.status_code == 302
    assert service.get_target(term).min_lectures == 2


def test_mentor_offers_and_a_teacher_books(client, db, login_as, create_user, school_teacher):
    mentor = create_user(Role.MENTOR)
    login_as(mentor)
    day = to_local(local_at(7, 9)).date().isoformat()
    response = client.post(
        "/lectures/offers/new",
        data={
            "topic": "科学家精神",
            "theme": "scientists",
            "abstract": "讲述钱学森的故事",
            "grades": ["s1"],
            "slot1_date": day,
            "slot1_start": "09:00",
            "slot1_end": "10:30",
        },
    )
    assert response.status_code == 302
    offer_id = int(response.headers["Location"].rsplit("/", 1)[1])
    teacher = school_teacher()
    login_as(teacher)
    assert "科学家精神" in client.get("/lectures/offers").get_data(as_text=True)
    page = client.get(f"/lectures/offers/{offer_id}").get_data(as_text=True)
    assert 'name="slot_id"' in page
    offer = service.get_offer(offer_id)
    bad = client.post(
        f"/lectures/offers/{offer_id}/book", data={"slot_id": offer.slots[0].id, "grades": ["s1"], "audience_size": "0"}
    )
    assert bad.status_code == 422 and 'id="audience_size-error"' in bad.get_data(as_text=True)
    good = client.post(
        f"/lectures/offers/{offer_id}/book",
        data={"slot_id": offer.slots[0].id, "grades": ["s1"], "audience_size": "45"},
    )
    assert good.status_code == 302
    lecture = db.session.scalars(select(LectureRequest)).one()
    assert lecture.status is LectureStatus.CONFIRMED and lecture.mentor_id == mentor.id


def test_list_pages_issue_a_bounded_number_of_queries(
    client, db, login_as, create_user, create_lecture, school_teacher, create_offer, count_queries
):
    mentor = create_user(Role.MENTOR)
    teacher = school_teacher()
    admin = create_user(Role.ADMIN)

    def add(n):
        for _ in range(n):
            create_lecture(teacher=teacher, windows=[(local_at(9, 8), local_at(9, 20))])
            create_lecture(
                teacher=teacher, mentor=mentor, status=LectureStatus.DELIVERED, starts_at=utcnow() - timedelta(days=1)
            )
            create_offer()

    def measure():
        counts = {}
        for user, url in (
            (mentor, "/lectures/open"),
            (mentor, "/lectures/"),
            (teacher, "/lectures/"),
            (admin, "/lectures/"),
            (teacher, "/lectures/offers"),
            (admin, "/lectures/targets"),
        ):
            login_as(user)
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts[(user.id, url)] = counter.count
        return counts

    add(2)
    small = measure()
    add(8)
    large = measure()
    assert large == small
    assert max(large.values()) <= 15
