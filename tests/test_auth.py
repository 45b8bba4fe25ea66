"""Login, logout, password change, session revocation, redirects, rate limits, CSRF."""

from __future__ import annotations

import pytest

from portal.models import Role
from tests.conftest import csrf_token_from, make_app


def login(client, email, password, next_url=None):
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/auth/login", data=data)


def test_login_and_home(client, create_user):
    user = create_user(Role.TEACHER, email="t@example.org")
    response = login(client, "T@Example.org ", "password123")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert user.display_name in home.get_data(as_text=True)


def test_unknown_email_and_wrong_password_look_the_same(client, create_user):
    create_user(Role.TEACHER, email="known@example.org")
    unknown = login(client, "nobody@example.org", "password123")
    wrong = login(client, "known@example.org", "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    unknown_html = unknown.get_data(as_text=True).replace("nobody@example.org", "EMAIL")
    wrong_html = wrong.get_data(as_text=True).replace("known@example.org", "EMAIL")
    assert unknown_html == wrong_html
    assert "The email or password is not correct." in wrong_html or "邮箱或密码不正确" in wrong_html


def test_empty_login_form_shows_field_messages(client):
    response = client.post("/auth/login", data={"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert 'id="password-error"' in html


@pytest.mark.parametrize(
    "target",
    ["//evil.com", "/\\evil.com", "javascript:alert(1)", "https://evil.com/", "http:/evil.com", "/\tevil", ""],
)
def test_next_only_goes_to_this_site(client, create_user, target):
    create_user(Role.TEACHER, email="n@example.org")
    response = login(client, "n@example.org", "password123", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_local_path_is_followed(client, create_user):
    create_user(Role.TEACHER, email="n2@example.org")
    response = login(client, "n2@example.org", "password123", next_url="/account/?tab=1")
    assert response.headers["Location"] == "/account/?tab=1"


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, create_user):
    create_user(Role.TEACHER, email="out@example.org")
    login(client, "out@example.org", "password123")
    copied = app.test_client()
    cookie = client.get_cookie("session")
    copied.set_cookie("session", cookie.value)
    assert copied.get("/account/").status_code == 200
    client.post("/auth/logout")
    assert client.get("/account/").status_code == 302
    assert copied.get("/account/").status_code == 302


def test_password_change_ends_other_sessions(app, client, create_user):
    create_user(Role.MENTOR, email="pw@example.org")
    other = app.test_client()
    login(client, "pw@example.org", "password123")
    login(other, "pw@example.org", "password123")
    response = client.post("/auth/password", data={"current_password": "password123", "new_password": "new-password-1"})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200  # this session continues
    assert other.get("/account/").status_code == 302  # the other one ended
    assert login(app.test_client(), "pw@example.org", "new-password-1").status_code == 302


def test_password_change_rejects_wrong_current_and_short_new(client, create_user, login_as, db):
    user = create_user(Role.TEACHER)
    login_as(user)
    before = user.password_hash
    wrong = client.post("/auth/password", data={"current_password": "nope", "new_password": "long-enough"})
    assert 'id="current_password-error"' in wrong.get_data(as_text=True)
    short = client.post("/auth/password", data={"current_password": "password123", "new_password": "short"})
    assert 'id="new_password-error"' in short.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_deactivation_ends_sessions_and_blocks_login(app, client, create_user, login_as, db):
    admin = create_user(Role.ADMIN)
    user = create_user(Role.TEACHER, email="gone@example.org")
    user_client = app.test_client()
    login(user_client, "gone@example.org", "password123")
    assert user_client.get("/account/").status_code == 200
    login_as(admin)
    assert client.post(f"/admin/users/{user.id}/active").status_code == 302
    assert user_client.get("/account/").status_code == 302
    assert login(app.test_client(), "gone@example.org", "password123").status_code == 401


@pytest.fixture
def restore_limiter():
    """The limiter is one object per process; give the session app its disabled state back."""
    from portal.extensions import limiter

    yield
    limiter.reset()
    limiter.enabled = False


def test_login_is_rate_limited_per_account_and_per_address(database_url, create_user, restore_limiter):
    limited = make_app(
        database_url,
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_RATE_LIMIT_PER_ADDRESS="6 per minute",
    )
    create_user(Role.TEACHER, email="rl@example.org")
    client = limited.test_client()
    codes = [login(client, "rl@example.org", "bad", next_url=None).status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    # The same account from another address is still limited (per account)...
    other = limited.test_client()
    other_codes = login(other, "rl@example.org", "bad").status_code
    assert other_codes == 429
    # ...and one address trying many accounts hits the per-address limit.
    spray = limited.test_client()
    results = [
        spray.post(
            "/auth/login",
            data={"email": f"x{i}@example.org", "password": "bad"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        ).status_code
        for i in range(7)
    ]
    assert results[-1] == 429
    page = spray.post(
        "/auth/login", data={"email": "y@example.org", "password": "bad"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert page.status_code == 429 and "html" in page.get_data(as_text=True)


def test_forms_require_a_csrf_token(database_url, create_user):
    protected = make_app(database_url, WTF_CSRF_ENABLED=True)
    create_user(Role.TEACHER, email="csrf@example.org")
    client = protected.test_client()
    without = client.post("/auth/login", data={"email": "csrf@example.org", "password": "password123"})
    assert without.status_code == 400
    token = csrf_token_from(client.get("/auth/login").data)
    with_token = client.post(
        "/auth/login", data={"email": "csrf@example.org", "password": "password123", "csrf_token": token}
    )
    assert with_token.status_code == 302
