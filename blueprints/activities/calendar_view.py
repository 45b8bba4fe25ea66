"""Month, week and list layouts of the public activity calendar (presentation only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from babel import Locale
from babel.dates import format_skeleton, get_day_names
from flask_babel import get_locale

from portal.models import ActivitySession
from portal.timeutil import local_datetime, to_local

VIEWS = ("month", "week", "list")


@dataclass
class Day:
    day: date
    in_month: bool
    is_today: bool
    sessions: list[ActivitySession] = field(default_factory=list)


def _locale() -> Locale:
    return Locale.parse(str(get_locale() or "zh_Hans_CN"))


def first_weekday() -> int:
    """0 = Monday … 6 = Sunday, as the reader's locale counts weeks (Monday in China)."""
    return _locale().first_week_day


def weekday_names() -> list[str]:
    names = get_day_names("abbreviated", locale=_locale())
    start = first_weekday()
    return [names[(start + i) % 7] for i in range(7)]


def month_title(day: date) -> str:
    return format_skeleton("yMMMM", day, locale=_locale())


def week_title(start: date) -> str:
    end = start + timedelta(days=6)
    return f"{format_skeleton('yMMMd', start, locale=_locale())} – {format_skeleton('yMMMd', end, locale=_locale())}"


def day_title(day: date) -> str:
    return format_skeleton("MMMMdEEEE", day, locale=_locale())


def week_start(day: date) -> date:
    return day - timedelta(days=(day.weekday() - first_weekday()) % 7)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def date_range(view: str, anchor: date) -> tuple[date, date]:
    """Local dates [first, last) the view shows."""
    if view == "week":
        first = week_start(anchor)
        return first, first + timedelta(days=7)
    month_start = anchor.replace(day=1)
    next_month = add_months(month_start, 1)
    if view == "list":
        return month_start, next_month
    first = week_start(month_start)
    last = week_start(next_month - timedelta(days=1)) + timedelta(days=7)
    return first, last


def utc_bounds(first: date, last: date):
    from datetime import time

    return local_datetime(first, time.min), local_datetime(last, time.min)


def days(view: str, anchor: date, today: date, sessions: list[ActivitySession]) -> list[Day]:
    first, last = date_range(view, anchor)
    grid: dict[date, Day] = {}
    cursor = first
    while cursor < last:
        in_month = view == "week" or cursor.month == anchor.month
        grid[cursor] = Day(cursor, in_month, cursor == today)
        cursor += timedelta(days=1)
    for session in sessions:
        start_day = to_local(session.starts_at).date()
        end_day = to_local(session.ends_at - timedelta(seconds=1)).date()
        cursor = max(start_day, first)
        while cursor <= end_day and cursor < last:
            grid[cursor].sessions.append(session)
            cursor += timedelta(days=1)
    return list(grid.values())


def weeks(day_list: list[Day]) -> list[list[Day]]:
    return [day_list[i : i + 7] for i in range(0, len(day_list), 7)]


def navigation(view: str, anchor: date) -> tuple[date, date]:
    if view == "week":
        return anchor - timedelta(days=7), anchor + timedelta(days=7)
    return add_months(anchor, -1), add_months(anchor, 1)
