"""The "done when" scenario in a phone-sized Chromium, in Chinese, against the demo data:
a teacher finds a lab free for 40 pupils next Wednesday afternoon by time-first search,
requests it and sees it pending; its manager approves it from the to-do list; the teacher
sees it approved and has a notification."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.services import holidays
from tests.browser import log_in

pytestmark = pytest.mark.browser


def log_out(page):
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("button", name="退出登录").click()


def test_teacher_books_a_lab_next_wednesday_and_the_manager_approves(page, demo):
    wednesday = demo.extra["next_wednesday"]
    if holidays.day_info(wednesday).is_holiday:
        pytest.skip("next Wednesday is a public holiday")
    teacher = demo.users["teacher_bashu"]
    manager = demo.users["rm_cqu_lab"]

    log_in(page, teacher.email)
    page.goto("/bookings/search")
    page.locator("#day").fill(wednesday.isoformat())
    page.locator("#start").fill("14:00")
    page.locator("#end").fill("16:00")
    page.locator("#class_size").fill("40")
    page.locator("#kind").select_option("lab")
    page.get_by_role("button", name="搜索").click()
    results = page.get_by_test_id("search-results")
    assert "物理实验教学中心" in results.inner_text()
    results.locator("a[href*='/request']", has_text="物理实验教学中心").click()

    assert page.locator("#day").input_value() == wednesday.isoformat()
    assert page.locator("#start").input_value() == "14:00"
    page.locator("#grade").fill("高二（3）班")
    page.locator("#escorts").fill("2")
    page.locator("#purpose").fill("电磁感应分组实验")
    page.locator("#contact_phone").fill("13883012345")
    page.locator("#safety_accepted").check()
    page.locator("#submit").click()

    upcoming = page.get_by_test_id("upcoming")
    item = upcoming.locator("li", has_text="物理实验教学中心")
    expect(item.locator("[data-status='pending']")).to_be_visible()
    log_out(page)

    log_in(page, manager.email)
    page.goto("/bookings/manage")
    todo = page.get_by_test_id("todo")
    request = todo.locator("li", has_text="物理实验教学中心")
    assert "重庆市巴蜀中学校" in request.inner_text()
    request.get_by_role("button", name="批准").click()
    expect(page.locator("body")).to_contain_text("已批准")
    assert page.get_by_test_id("todo").locator("li", has_text="物理实验教学中心").count() == 0
    log_out(page)

    log_in(page, teacher.email)
    page.goto("/bookings/mine")
    item = page.get_by_test_id("upcoming").locator("li", has_text="物理实验教学中心")
    expect(item.locator("[data-status='approved']")).to_be_visible()
    page.goto("/account/notifications")
    expect(page.locator("body")).to_contain_text("物理实验教学中心")
    expect(page.locator("body")).to_contain_text("通过")
