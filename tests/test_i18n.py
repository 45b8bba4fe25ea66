"""Language choice, the language switch, time display, and the completeness of the Chinese catalogue."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.models import Role

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
CHINESE_LOGIN = "登录"
ENGLISH_LOGIN = "Log in"


def test_the_usual_chinese_browser_header_gives_chinese(client):
    html = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert CHINESE_LOGIN in html


@pytest.mark.parametrize("header", ["zh-TW,zh;q=0.9", "zh", "zh-Hans-CN", "fr-FR,zh-CN;q=0.8,en;q=0.5"])
def test_other_chinese_headers_give_chinese(client, header):
    assert '<html lang="zh-CN">' in client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)


def test_english_header_gives_english_and_no_header_gives_chinese(client):
    english = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert ENGLISH_LOGIN in english.get_data(as_text=True)
    default = client.get("/auth/login", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in default


def test_switch_sets_cookie_that_beats_the_header(client):
    response = client.get("/language/en?next=/auth/login")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    html = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "中文" in html  # the switch back is on the page


def test_switch_refuses_foreign_next_and_unknown_locale(client):
    response = client.get("/language/xx?next=//evil.com")
    assert response.headers["Location"] == "/"


def test_user_preference_beats_cookie(client, create_user, login_as, db):
    user = create_user(Role.TEACHER, locale="en")
    login_as(user)
    client.set_cookie("locale", "zh_Hans_CN")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.get("/language/zh_Hans_CN")  # the switch saves the preference when logged in
    db.session.refresh(user)
    assert user.locale == "zh_Hans_CN"


def test_times_show_in_shanghai(app):
    from flask_babel import force_locale

    from portal.i18n import fmt_datetime

    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert fmt_datetime(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "2027年1月1日 00:30"
        with force_locale("en"):
            assert fmt_datetime(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "1 Jan 2027, 00:30"


def test_error_pages_are_localized(client):
    zh = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 404 and "页面不存在" in zh.get_data(as_text=True)
    en = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "Page not found" in en.get_data(as_text=True)


# The catalogue -------------------------------------------------------------------


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def test_catalog_has_no_untranslated_fuzzy_or_obsolete_entries():
    catalog = _catalog()
    untranslated = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    assert not catalog.obsolete, f"obsolete: {list(catalog.obsolete)[:10]}"
    assert "#~" not in CATALOG.read_text(encoding="utf-8")


def test_catalog_is_up_to_date_with_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--ignore-dirs",
            ".* __pycache__ node_modules instance",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "ngettext:1,2",
            "-k",
            "lazy_ngettext:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        template = read_po(handle)
    in_code = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    missing = sorted(in_code - in_catalog)
    stale = sorted(in_catalog - in_code)
    assert not missing, f"strings in the code but not in the catalogue (run make update-translations): {missing[:10]}"
    assert not stale, f"catalogue entries no longer in the code: {stale[:10]}"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\((\w+)\)[sd]")
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(pattern.findall(ids[-1]))
        for text in strings:
            assert set(pattern.findall(text)) == wanted, message.id


def test_compiled_catalogue_is_not_committed():
    tracked = subprocess.run(["git", "ls-files", "*.mo"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked.strip() == ""


def test_code_passes_ruff():
    """Lint and format are part of the suite, so CI keeps the code in one style."""
    ruff = Path(sys.executable).with_name("ruff")
    check = subprocess.run([str(ruff), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-3000:]
    fmt = subprocess.run([str(ruff), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout[-3000:]
