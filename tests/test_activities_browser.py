"""The "done when" of the activity series, in headless Chromium on a phone-sized screen:
an anonymous visitor browses and filters by level in both languages; a student registers;
a full session waitlists and promotes on a cancellation; a teacher registers a class."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Registration, RegistrationStatus
from portal.timeutil import to_local
from tests.browser import log_in

pytestmark = pytest.mark.browser


def test_anonymous_visitor_browses_and_filters_by_level_in_both_languages(page, demo, tmp_path):
    sessions = demo.extra["activity_sessions"]
    pupils = sessions["pupil_visit"]
    day = to_local(pupils.starts_at).date()
    page.goto(f"/activities/?date={day.isoformat()}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.get_by_role("heading", name=f"{day.year}年{day.month}月")).to_be_visible()
    expect(page.get_by_role("columnheader", name="周一")).to_be_visible()
    page.screenshot(path=str(tmp_path / "month-zh.png"), full_page=True)
    page.get_by_label("学段").select_option("primary")
    page.get_by_role("button", name="筛选").click()
    assert "level=primary" in page.url
    expect(page.get_by_role("link", name=pupils.title_zh).first).to_be_visible()
    assert page.get_by_text(sessions["finale"].title_zh).count() <= 1  # only if it is the same month
    if to_local(sessions["soon_zhazidong"].starts_at).month == day.month:
        assert page.get_by_text(sessions["soon_zhazidong"].title_zh).count() == 0
    # The same in English, through the language switch in the phone menu.
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "level=primary" in page.url  # the filter survives the switch
    expect(page.get_by_role("columnheader", name="Mon")).to_be_visible()
    expect(page.get_by_role("link", name=pupils.title_en).first).to_be_visible()
    page.get_by_label("Level").select_option("senior_high")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("link", name=pupils.title_en).count() == 0
    page.get_by_role("link", name="List").click()
    assert "view=list" in page.url and "level=senior_high" in page.url


def test_student_registers_waitlists_and_is_promoted_teacher_registers_a_class(page, demo, db):
    page.on("dialog", lambda dialog: dialog.accept())
    users, sessions = demo.users, demo.extra["activity_sessions"]

    # A student registers for an open session.
    log_in(page, users["mentee3"].email)
    page.goto(f"/activities/sessions/{sessions['zengjiayan'].id}")
    page.get_by_role("button", name="报名").click()
    expect(page.locator("body")).to_contain_text("您已报名成功")
    assert page.get_by_test_id("my-registration").inner_text().strip().startswith("已报名")

    # A full session: the student joins the waitlist behind the two already waiting.
    full = sessions["soon_baigongguan"]
    page.goto(f"/activities/sessions/{full.id}")
    expect(page.locator("body")).to_contain_text("候补严格按先后顺序递补")
    page.get_by_role("button", name="加入候补").click()
    expect(page.locator("body")).to_contain_text("您已进入候补名单")
    assert "候补第 3 位" in page.get_by_test_id("my-registration").inner_text()

    # An admitted student cancels: the first waiting student is promoted and told.
    log_in(page, users["activist"].email)
    page.goto(f"/activities/sessions/{full.id}")
    page.get_by_role("button", name="取消报名").click()
    expect(page.locator("body")).to_contain_text("报名已取消")
    db.session.commit()
    promoted = db.session.scalar(
        select(Registration).where(Registration.session_id == full.id, Registration.user_id == users["mentee1"].id)
    )
    assert promoted.status is RegistrationStatus.ADMITTED
    log_in(page, users["mentee1"].email)
    page.goto("/account/notifications")
    expect(page.locator("body")).to_contain_text("您已获得名额")
    log_in(page, users["mentee3"].email)
    page.goto(f"/activities/sessions/{full.id}")
    assert "候补第 2 位" in page.get_by_test_id("my-registration").inner_text()

    # A teacher registers a class: 2 seats left, so the class of 10 waits as one block.
    log_in(page, users["teacher_renmin"].email)
    visit = sessions["pupil_visit"]
    page.goto(f"/activities/sessions/{visit.id}")
    page.get_by_role("link", name="为班级报名").click()
    page.get_by_label("班级").fill("五年级（3）班")
    page.get_by_label("学生人数").fill("0")
    page.get_by_role("button", name="提交班级报名").click()
    expect(page.locator("#seats-error")).to_be_visible()
    page.get_by_label("学生人数").fill("10")
    page.get_by_role("button", name="提交班级报名").click()
    expect(page.locator("body")).to_contain_text("作为一个整体进入候补名单")
    db.session.commit()
    block = db.session.scalar(select(Registration).where(Registration.class_label == "五年级（3）班"))
    assert block.seats == 10 and block.status is RegistrationStatus.WAITLISTED
