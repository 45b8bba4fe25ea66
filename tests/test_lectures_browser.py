"""The "done when" scenario of issue #3 in headless Chromium on a phone viewport, in Chinese:
a teacher posts a request; a mentor finds it by district and claims a window; the teacher
confirms; the mentor records delivery; the teacher rates it; each side is notified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import LectureRequest, LectureStatus, Notification
from portal.timeutil import to_local, utcnow
from tests.browser import log_in
from tests.fixtures_lectures import local_at

pytestmark = pytest.mark.browser


def log_in_as(page, user):
    log_in(page, user)
    expect(page.get_by_role("heading", name=f"欢迎，{user.display_name}")).to_be_visible()


def kinds_for(db, user):
    db.session.commit()  # end the read snapshot: the live server wrote in between
    return {n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))}


def test_request_claim_confirm_deliver_rate(page, demo, db, tmp_path):
    teacher, mentor = demo.users["teacher_chengkou"], demo.users["mentor_cqu2"]
    day = to_local(local_at(5, 14)).date().isoformat()

    # The teacher posts a request; a window in the past is refused beside the field first.
    log_in_as(page, teacher)
    page.goto("/lectures/new")
    page.get_by_label("讲座题目").fill("科学家精神与山区少年的科学梦")
    page.get_by_label("主题").select_option(label="科学家精神")
    page.get_by_label("高一").check()
    page.get_by_label("听众人数").fill("0")
    page.get_by_label("时长（分钟）").fill("90")
    page.get_by_label("日期（备选 1）").fill(day)
    page.locator("#window1_start").fill("14:00")
    page.locator("#window1_end").fill("17:00")
    page.get_by_label("教室").fill("学校大礼堂")
    page.get_by_role("button", name="发布需求").click()
    assert "听众至少为 1 人" in page.locator("#audience_size-error").inner_text()
    page.get_by_label("听众人数").fill("260")
    page.get_by_role("button", name="发布需求").click()
    expect(page.locator("body")).to_contain_text("讲座需求已发布")
    lecture_url = page.url
    page.screenshot(path=str(tmp_path / "request-posted.png"))

    # The mentor finds it by district and claims the window.
    log_in_as(page, mentor)
    page.goto("/lectures/open")
    page.get_by_label("区县").select_option(label="城口县")
    page.get_by_role("button", name="筛选").click()
    listing = page.get_by_test_id("open-requests")
    assert "科学家精神与山区少年的科学梦" in listing.inner_text()
    assert "重庆市巴蜀中学校" not in listing.inner_text()
    listing.get_by_role("link", name="科学家精神与山区少年的科学梦").click()
    page.locator("input[name=window_id]").first.check()
    page.get_by_role("button", name="认领这场讲座").click()
    expect(page.locator("body")).to_contain_text("您已认领这场讲座")
    assert "lecture_claimed" in kinds_for(db, teacher)

    # The teacher sees the notification and confirms.
    log_in_as(page, teacher)
    page.goto("/account/notifications")
    expect(page.locator("body")).to_contain_text("已有导师报名您的讲座需求")
    page.goto(lecture_url)
    page.get_by_role("button", name="确认讲座").click()
    expect(page.locator("body")).to_contain_text("讲座已确认")
    assert "lecture_confirmed" in kinds_for(db, mentor)

    # The day of the lecture passes.
    db.session.commit()
    lecture = db.session.scalars(select(LectureRequest).where(LectureRequest.topic.like("科学家精神与山区%"))).one()
    lecture.starts_at = utcnow() - timedelta(hours=3)
    lecture.ends_at = lecture.starts_at + timedelta(minutes=90)
    db.session.commit()

    # The mentor records delivery.
    log_in_as(page, mentor)
    page.goto(lecture_url)
    page.get_by_label("到场人数").fill("248")
    page.get_by_label("讲座情况说明").fill("学生提问踊跃。")
    page.get_by_role("button", name="登记授课").click()
    expect(page.locator("body")).to_contain_text("已登记授课")
    assert "lecture_delivered" in kinds_for(db, teacher)

    # The teacher rates it; both see attendance and rating on the lecture page.
    log_in_as(page, teacher)
    page.goto(lecture_url)
    page.get_by_label("5", exact=True).check()
    page.get_by_label("评语").fill("讲得深入浅出，学生很受鼓舞。")
    page.get_by_role("button", name="提交反馈").click()
    expect(page.locator("body")).to_contain_text("感谢您的反馈")
    assert "lecture_feedback" in kinds_for(db, mentor)
    log_in_as(page, mentor)
    page.goto(lecture_url)
    assert "248" in page.get_by_test_id("attendance").inner_text()
    assert "5 分" in page.get_by_test_id("rating").inner_text()
    expect(page.locator("body")).to_contain_text("讲得深入浅出")
    page.screenshot(path=str(tmp_path / "lecture-rated.png"), full_page=True)
    db.session.commit()
    assert db.session.get(LectureRequest, lecture.id).status is LectureStatus.REVIEWED
