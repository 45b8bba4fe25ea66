"""Page-level guarantees: local assets only, localized 500 page, accessible forms, production config."""

from __future__ import annotations

import re

import pytest

from portal.config import build_config
from portal.models import Role
from tests.conftest import make_app


def test_no_asset_comes_from_another_site(client, create_user, login_as):
    login_as(create_user(Role.ADMIN))
    for url in ["/", "/auth/password", "/account/", "/admin/users", "/admin/schools/new"]:
        html = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", html):
            src = re.search(r'(?:src|href)="([^"]+)"', tag)
            if src:
                assert src.group(1).startswith("/"), (url, tag)


def test_every_page_has_lang_viewport_and_language_switch(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r'<html lang="zh-CN">', html)
    assert 'name="viewport"' in html
    assert "/language/en" in html


def test_unexpected_errors_give_a_localized_500_page(database_url):
    app = make_app(database_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    zh = client.get("/boom", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 500 and "出错了" in zh.get_data(as_text=True)
    en = client.get("/boom", headers={"Accept-Language": "en"})
    assert "Something went wrong" in en.get_data(as_text=True)
    as_json = client.get("/boom", headers={"Accept": "application/json"})
    assert as_json.status_code == 500 and as_json.is_json


def test_labels_point_at_their_inputs(client):
    html = client.get("/auth/login").get_data(as_text=True)
    for field_id in ("email", "password", "remember"):
        assert f'for="{field_id}"' in html and f'id="{field_id}"' in html


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        build_config(str(tmp_path), {"ENV_NAME": "production", "SECRET_KEY": ""})
    settings = build_config(str(tmp_path), {"ENV_NAME": "production", "SECRET_KEY": "x" * 32})
    assert settings["SECRET_KEY"] == "x" * 32


def test_database_url_forms(tmp_path):
    assert build_config(str(tmp_path), {"SQLALCHEMY_DATABASE_URI": ""})["SQLALCHEMY_DATABASE_URI"].startswith(
        "sqlite:///"
    )
    pg = build_config(str(tmp_path), {"SQLALCHEMY_DATABASE_URI": "postgres://u:p@h/db"})
    assert pg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@h/db"
