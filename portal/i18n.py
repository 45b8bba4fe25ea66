"""Language and time-zone choice, and the date/time formats templates use."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, has_request_context, request
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_login import current_user

LOCALE_COOKIE = "locale"


def supported_locales() -> tuple[str, ...]:
    return tuple(current_app.config["SUPPORTED_LOCALES"])


def match_language(tag: str) -> str | None:
    """Map one Accept-Language tag to a supported locale.

    Any Chinese tag (zh, zh-CN, zh-Hans, zh-TW…) gives Simplified Chinese, the only
    Chinese we ship; `best_match` would compare 'zh-CN' with 'zh_Hans_CN' literally
    and fall through to English for the most common Chinese browser header.
    """
    tag = (tag or "").strip().lower().replace("_", "-")
    if tag == "zh" or tag.startswith("zh-"):
        return "zh_Hans_CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def select_locale() -> str:
    """User preference → cookie → Accept-Language (by quality) → default."""
    supported = supported_locales()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in supported:
        return cookie
    for tag, _quality in request.accept_languages:
        if tag == "*":
            break
        locale = match_language(tag)
        if locale:
            return locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def html_lang() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else "en"


def is_chinese() -> bool:
    return str(get_locale()).startswith("zh")


def fmt_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if is_chinese() and fmt == "medium":
        return format_datetime(value, "yyyy年M月d日 HH:mm")
    if fmt == "medium":
        return format_datetime(value, "d MMM yyyy, HH:mm")
    return format_datetime(value, fmt)


def fmt_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        from portal.timeutil import to_local

        value = to_local(value).date()
    if fmt == "medium":
        return format_date(value, "yyyy年M月d日" if is_chinese() else "d MMM yyyy")
    return format_date(value, fmt)


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_time(value, "HH:mm")
