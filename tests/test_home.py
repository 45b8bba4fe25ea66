"""The demo data loads, and each demo role logs in to a home page of its own."""

from __future__ import annotations

import pytest

from portal.demo import DEMO_PASSWORD
from portal.models import Role


@pytest.mark.parametrize("key", ["admin", "teacher_bashu", "mentor_cqu", "rm_cqu_lab", "activist", "pupil_renmin"])
def test_each_demo_role_logs_in_to_its_home(client, demo, key):
    user = demo.users[key]
    response = client.post("/auth/login", data={"email": user.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert user.display_name in html
    assert user.role.label in html or Role(user.role).value in html
    if user.role is Role.ADMIN:
        assert "/admin/users" in html
    else:
        assert "/admin/users" not in html


def test_demo_covers_every_role_and_several_districts(demo):
    roles = {u.role for u in demo.users.values()}
    assert roles == set(Role)
    districts = {s.district for s in demo.schools.values()}
    assert {"yuzhong", "shapingba", "beibei", "chengkou", "wuxi"} <= districts
    assert any(s.under_resourced for s in demo.schools.values())


def test_anonymous_home_invites_login(client):
    html = client.get("/").get_data(as_text=True)
    assert "/auth/login" in html
