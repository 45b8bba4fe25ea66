"""Every non-public endpoint refuses an anonymous visitor; the admin area refuses every other role."""

from __future__ import annotations

import pytest

from portal.models import Role

# Endpoints anyone may open without logging in.
PUBLIC_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "main.index",
    "main.set_language",
    "main.healthz",
    "auth.login",
    "auth.logout",
}
# Areas register their public endpoints by prefix (public calendars and feeds).
PUBLIC_PREFIXES = ("public.", "activities.public_", "feeds.public_", "feeds.personal_")


def _sample_url(app, rule):
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        values[arg] = 1 if converter in ("IntegerConverter",) else "x"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_private_endpoint_refuses_anonymous_visitors(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith(PUBLIC_PREFIXES):
            continue
        url = _sample_url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code in (302, 401, 403), (rule.endpoint, method, response.status_code)
            if response.status_code == 302:
                assert "/auth/login" in response.headers["Location"], rule.endpoint
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", [Role.TEACHER, Role.MENTOR, Role.RESOURCE_MANAGER, Role.STUDENT])
def test_admin_area_is_for_admins_only(app, client, create_user, login_as, role):
    login_as(create_user(role))
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = _sample_url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert client.open(url, method=method).status_code == 403, rule.endpoint


def test_admin_reaches_admin_pages(client, create_user, login_as):
    login_as(create_user(Role.ADMIN))
    for url in ["/admin/", "/admin/users", "/admin/schools", "/admin/audit", "/admin/users/new"]:
        assert client.get(url).status_code == 200, url


def test_bad_ids_and_methods(client, create_user, login_as):
    login_as(create_user(Role.ADMIN))
    assert client.get("/admin/users/999999/edit").status_code == 404
    assert client.get("/admin/users/abc/edit").status_code == 404
    assert client.get("/admin/schools/999999/edit").status_code == 404
    assert client.get("/auth/logout").status_code == 405
    assert client.put("/admin/users").status_code == 405
