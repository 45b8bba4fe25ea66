"""End to end in headless Chromium: the login page in Chinese, the English switch, each role's home."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser


def test_login_page_in_chinese_then_english(page, demo, tmp_path):
    page.goto("/auth/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.screenshot(path=str(tmp_path / "login-zh.png"))
    # The language switch sits in the collapsed phone menu.
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_wrong_password_message_beside_the_field(page, demo):
    log_in(page, demo.users["teacher_bashu"].email, "wrong-password")
    error = page.locator("#password-error")
    expect(error).to_be_visible()
    assert "邮箱或密码不正确" in error.inner_text()
    assert page.locator("#password").get_attribute("aria-describedby") == "password-error"


def test_teacher_logs_in_to_own_home_and_logs_out(page, demo):
    teacher = demo.users["teacher_bashu"]
    log_in(page, teacher.email)
    expect(page.get_by_role("heading", name=f"欢迎，{teacher.display_name}")).to_be_visible()
    expect(page.locator("body")).to_contain_text("重庆市巴蜀中学校")
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("body")).to_contain_text("您已退出登录")
    page.goto("/account/")
    assert "/auth/login" in page.url


def test_admin_creates_a_school_with_a_field_error_first(page, demo):
    log_in(page, demo.users["admin"].email)
    page.goto("/admin/schools/new")
    page.get_by_label("中文名称").fill("")
    page.get_by_role("button", name="保存").click()
    assert "请输入学校的中文名称" in page.locator("#name_zh-error").inner_text()
    page.get_by_label("中文名称").fill("巫溪县尖山镇中心小学")
    page.get_by_label("学段").select_option("primary")
    page.get_by_label("区县").select_option("wuxi")
    page.get_by_label("资源薄弱地区（享有优先预约）").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("body")).to_contain_text("学校已创建")
    expect(page.locator("body")).to_contain_text("巫溪县尖山镇中心小学")
