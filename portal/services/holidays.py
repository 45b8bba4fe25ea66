"""China's public holidays and make-up working days (调休), for opening hours.

Sources, in order of precedence:
1. An admin's `CalendarOverride` for the day (entered from the State Council's notice).
2. `chinese_calendar` (official holidays *and* make-up days), for the years it knows.
3. `holidays`' China calendar (statutory holidays only, no make-up days) for later years:
   such days are marked *provisional* until the admin enters that year's notice.

A make-up working day opens with the hours of the weekday it stands in for: the weekday
an admin entered in the override, otherwise Monday (`DEFAULT_MAKEUP_WEEKDAY`) — most
schools and universities run a Monday timetable on a 调休 weekend day unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holidays_lib
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.models import CalendarOverride

DEFAULT_MAKEUP_WEEKDAY = 0  # Monday


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_holiday: bool = False  # a public holiday (or its in-lieu day off): closed
    is_makeup_workday: bool = False  # a weekend day worked instead (调休)
    opens_as_weekday: int = 0  # whose weekday's hours apply on this day
    name: str = ""  # holiday name, in the current language
    provisional: bool = False  # beyond the official data and not confirmed by an admin
    source: str = "official"  # official | fallback | admin


@lru_cache(maxsize=64)
def _official_years() -> tuple[int, int]:
    """The years `chinese_calendar` has data for (it raises NotImplementedError outside)."""
    known = sorted({d.year for d in chinese_calendar.holidays})
    return known[0], known[-1]


def is_official_year(year: int) -> bool:
    first, last = _official_years()
    return first <= year <= last


@lru_cache(maxsize=32)
def _fallback_calendar(year: int, language: str) -> dict[date, str]:
    try:
        return dict(holidays_lib.China(years=year, language=language).items())
    except (NotImplementedError, KeyError, ValueError):  # pragma: no cover - defensive
        return dict(holidays_lib.China(years=year).items())


def _language() -> str:
    return "zh_CN" if str(get_locale() or "zh").startswith("zh") else "en_US"


_HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _official_name(name: str | None) -> str:
    if not name:
        return ""
    if _language() == "zh_CN":
        return _HOLIDAY_NAMES_ZH.get(name, name)
    return name


def _official_day(day: date) -> DayInfo:
    is_off, name = chinese_calendar.get_holiday_detail(day)
    weekend = day.weekday() >= 5
    if is_off and name:
        return DayInfo(day, is_holiday=True, name=_official_name(name))
    if weekend and not is_off:
        return DayInfo(
            day,
            is_makeup_workday=True,
            opens_as_weekday=DEFAULT_MAKEUP_WEEKDAY,
            name=_official_name(name),
        )
    return DayInfo(day, opens_as_weekday=day.weekday())


def _fallback_day(day: date) -> DayInfo:
    name = _fallback_calendar(day.year, _language()).get(day)
    if name:
        return DayInfo(day, is_holiday=True, name=name, provisional=True, source="fallback")
    return DayInfo(day, opens_as_weekday=day.weekday(), provisional=True, source="fallback")


def _from_override(override: CalendarOverride) -> DayInfo:
    if override.is_workday:
        weekday = override.replaces_weekday
        if weekday is None:
            weekday = override.day.weekday() if override.day.weekday() < 5 else DEFAULT_MAKEUP_WEEKDAY
        return DayInfo(
            override.day,
            is_makeup_workday=override.day.weekday() >= 5,
            opens_as_weekday=weekday,
            name=override.name,
            source="admin",
        )
    return DayInfo(override.day, is_holiday=True, name=override.name, source="admin")


def overrides_between(first: date, last: date) -> dict[date, CalendarOverride]:
    rows = db.session.scalars(
        select(CalendarOverride).where(CalendarOverride.day >= first, CalendarOverride.day <= last)
    )
    return {row.day: row for row in rows}


def days_info(first: date, last: date) -> dict[date, DayInfo]:
    """Every day in [first, last] (inclusive) with one query for the admin's overrides."""
    overrides = overrides_between(first, last)
    result: dict[date, DayInfo] = {}
    day = first
    while day <= last:
        if day in overrides:
            info = _from_override(overrides[day])
        elif is_official_year(day.year):
            try:
                info = _official_day(day)
            except NotImplementedError:
                info = _fallback_day(day)
        else:
            info = _fallback_day(day)
        result[day] = info
        day += timedelta(days=1)
    return result


def day_info(day: date) -> DayInfo:
    return days_info(day, day)[day]


def provisional_note():
    return _l(
        "Holidays for this year are provisional: the official make-up working days are not yet known to the "
        "portal. Bookings may still change when the administrator enters the State Council's notice."
    )
