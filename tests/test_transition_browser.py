"""The "done when" scenario of issue #5 in headless Chromium, on the demo data, in Chinese on a phone."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser


def test_mentor_dashboard_check_in_and_phase_change_then_each_role_sees_its_part(page, demo):
    users, plans = demo.users, demo.extra["transition_plans"]

    # The mentor: dashboard ordered by risk, overdue check-ins listed.
    log_in(page, users["mentor_cqu"])
    page.goto("/transition/")
    page.get_by_role("link", name="小组看板").first.click()
    rows = page.get_by_test_id("plan-row")
    names = [rows.nth(i).inner_text() for i in range(rows.count())]
    order = ["郭雨", "林浩", "邓琳", "罗佳"]
    assert [next(n for n in order if n in row) for row in names] == order
    risks = [rows.nth(i).locator("[data-risk]").get_attribute("data-risk") for i in range(rows.count())]
    assert risks == ["high", "medium", "low", "none"]
    assert "郭雨" in page.get_by_test_id("overdue-list").inner_text()
    expect(page.locator("body")).to_contain_text("杨帆")  # the pending handover from 城口中学

    # Record a check-in for 林浩.
    page.get_by_role("link", name="林浩（大一新生）").click()
    page.get_by_role("link", name="记录面谈").first.click()
    page.get_by_label("绩点（4 分制）").fill("2.9")
    page.get_by_label("出勤率（%）").fill("93")
    page.get_by_label("情绪自评（1–10）").fill("11")
    page.get_by_label("学业指导记录").fill("线性代数期中复习计划已完成一半。")
    page.get_by_role("button", name="记录面谈").click()
    assert "情绪自评为 1 到 10 分" in page.locator("#mood-error").inner_text()
    page.get_by_label("情绪自评（1–10）").fill("7")
    page.get_by_role("button", name="记录面谈").click()
    expect(page.locator("body")).to_contain_text("面谈已记录")
    expect(page.locator("body")).to_contain_text("线性代数期中复习计划已完成一半。")

    # Move the plan to the stable phase: the schedule becomes monthly.
    page.get_by_label("新阶段").select_option("stable")
    page.get_by_label("决定理由").fill("成绩回稳，出勤良好，转入稳定期按月跟踪。")
    page.get_by_role("button", name="变更阶段").click()
    expect(page.locator("body")).to_contain_text("阶段已变更")
    assert page.get_by_test_id("phase").inner_text() == "稳定期"
    assert "每月面谈一次" in page.get_by_test_id("cadence").inner_text()
    due = [
        date.fromisoformat(d)
        for d in page.get_by_test_id("upcoming")
        .locator("[data-due]")
        .evaluate_all("els => els.map(e => e.dataset.due)")
    ]
    assert len(due) >= 2 and all(28 <= (b - a).days <= 31 for a, b in zip(due, due[1:], strict=False))

    psych_note = "说起期中考试很紧张"
    academic_note = "高数作业两次未交"
    plan1 = plans["mentee1"].id

    # The activist sees psychological notes.
    log_in(page, users["activist"])
    page.goto(f"/transition/plans/{plan1}")
    assert psych_note in page.content() and academic_note in page.content()

    # A cadre sees academic notes but not psychological ones, and cannot open them.
    log_in(page, users["cadre1"])
    page.goto(f"/transition/plans/{plan1}")
    assert academic_note in page.content() and psych_note not in page.content()
    response = page.goto(f"/transition/plans/{plan1}/notes/psychological")
    assert response.status == 403

    # The student sees their own plan (and can export it), nobody else's.
    log_in(page, users["mentee1"])
    page.goto("/transition/")
    page.get_by_role("link", name="打开我的计划").click()
    expect(page.locator("body")).to_contain_text(psych_note)
    expect(page.get_by_role("link", name="JSON")).to_be_visible()
    assert page.goto(f"/transition/plans/{plans['mentee2'].id}").status == 404

    # The handover teacher sees only the handover section.
    log_in(page, users["teacher_chengkou"])
    page.goto(f"/transition/plans/{plans['mentee4'].id}")
    assert "父母在外务工" in page.get_by_label("交接说明").input_value()  # still editable before acceptance
    assert page.get_by_test_id("phase").count() == 0
    assert "绩点" not in page.content()
    assert page.goto(f"/transition/plans/{plan1}").status == 404
