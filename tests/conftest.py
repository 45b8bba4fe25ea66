"""Test fixtures: one app per session, a clean database per test, factories, and helpers.

`TEST_DATABASE=postgresql` runs the same suite on a throw-away PostgreSQL cluster
(see tests/pgserver.py); the default is a SQLite file in a temporary folder, so that
concurrency tests use real connections.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import date

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text

from portal import create_app
from portal.extensions import db as _db
from portal.models import Role, SchoolLevel
from tests.pgserver import PostgresUnavailable, TemporaryPostgres

# Each area keeps its factory fixtures in tests/fixtures_<area>.py; all are loaded here.
pytest_plugins = sorted(
    f"tests.{path.stem}" for path in __import__("pathlib").Path(__file__).parent.glob("fixtures_*.py")
)

BACKEND = os.environ.get("TEST_DATABASE", "sqlite").lower()
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_report_header(config):
    return f"database backend: {BACKEND}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND.startswith("postgres"):
        server = TemporaryPostgres()
        try:
            url = server.start()
        except (PostgresUnavailable, OSError) as exc:
            if IN_CI:
                pytest.exit(f"PostgreSQL is required under CI=true: {exc}", returncode=3)
            pytest.skip(f"PostgreSQL unavailable: {exc}")
        yield url
        server.stop()
    else:
        folder = tmp_path_factory.mktemp("sqlite")
        yield f"sqlite:///{folder}/portal-test.db"


class FreshContextClient(FlaskClient):
    """Each request gets its own app context, as in production: its own `g` (so
    Flask-Login's cached user does not leak between requests) and its own DB session.
    Objects the test holds are expired after each request and reload on next use."""

    def open(self, *args, **kwargs):
        # A request is a boundary: the test's own session commits before it (so the
        # request sees the test's data) and after it (so the test sees the request's
        # writes; SQLite keeps a read snapshot for the length of a transaction).
        outer = _db.session if has_app_context() else None
        if outer is not None:
            outer.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if outer is not None:
            outer.commit()
        return response


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "test-secret",
        "SERVER_NAME": None,
        "PUBLIC_BASE_URL": "http://portal.test",
    }
    if database_url.startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 20, "max_overflow": 120, "pool_timeout": 60}
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture(scope="session")
def app(database_url):
    app = make_app(database_url)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    return app


def _truncate_all() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    if _db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        with _db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        with _db.engine.begin() as conn:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(autouse=True)
def db(app):
    """A clean database for every test (tables emptied after it)."""
    ctx = app.app_context()
    ctx.push()
    try:
        yield _db
    finally:
        _db.session.remove()
        _truncate_all()
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


# Factories ------------------------------------------------------------------------

_seq = itertools.count(1)


@pytest.fixture
def create_school(db):
    def factory(**overrides):
        from portal.models import School

        n = next(_seq)
        values = {
            "name_zh": f"测试学校{n}",
            "name_en": f"Test School {n}",
            "level": SchoolLevel.JUNIOR_HIGH,
            "district": "yuzhong",
            "under_resourced": False,
        }
        values.update(overrides)
        school = School(**values)
        db.session.add(school)
        db.session.commit()
        return school

    return factory


@pytest.fixture
def create_user(db, create_school):
    def factory(role: Role | str = Role.TEACHER, password: str = "password123", **overrides):
        from portal.models import User

        role = Role(role) if isinstance(role, str) else role
        n = next(_seq)
        if "school" not in overrides and "school_id" not in overrides and role is not Role.ADMIN:
            level = SchoolLevel.UNIVERSITY if role in (Role.MENTOR, Role.RESOURCE_MANAGER) else SchoolLevel.JUNIOR_HIGH
            overrides["school"] = create_school(level=level)
        values = {
            "email": f"user{n}@example.org",
            "display_name": f"用户{n}",
            "role": role,
        }
        if role is Role.STUDENT:
            values["birth_date"] = date(2010, 1, 1)
        values.update(overrides)
        user = User(**values)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login_as(client):
    """Log `user` in on the test client (through the session, like Flask-Login does)."""

    def do_login(user, test_client=None):
        target = test_client or client
        with target.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return target

    return do_login


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counter: ...` then `counter.count` is the number of SQL statements."""

    class Counter:
        def __init__(self):
            self.count = 0
            self.statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.strip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
                counter.count += 1
                counter.statements.append(statement)

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


@pytest.fixture
def demo(db):
    """The demo data a new user first sees (`make run`), committed; objects by key."""
    from portal.demo import seed_demo

    ctx = seed_demo()
    db.session.commit()
    return ctx


def csrf_token_from(html: bytes | str) -> str:
    if isinstance(html, bytes):
        html = html.decode()
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def tmp_csv():
    paths = []

    def write(content: str) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as handle:
            handle.write(content)
        paths.append(handle.name)
        return handle.name

    yield write
    for path in paths:
        os.unlink(path)


# Browser tests ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(database_url, app):
    """The portal served on loopback, with CSRF on as in production."""
    from tests.browser import LiveServer

    served = make_app(database_url, WTF_CSRF_ENABLED=True)
    server = LiveServer(served).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, ChromiumUnavailable, ensure_chromium

    try:
        executable = ensure_chromium()
    except (ChromiumUnavailable, OSError, subprocess.CalledProcessError) as exc:
        if IN_CI:
            pytest.exit(f"Chromium is required under CI=true: {exc}", returncode=3)
        pytest.skip(f"Chromium unavailable: {exc}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page (WeChat's browser is the common case) that speaks Chinese."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"},
        base_url=live_server.url,
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
