"""Time rules: store aware UTC, show and reason in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_local(value: datetime) -> datetime:
    """Convert an aware datetime to Shanghai time (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def local_today(now: datetime | None = None) -> date:
    return to_local(now or utcnow()).date()


def local_datetime(day: date, at: time) -> datetime:
    """An aware datetime for a wall-clock time in Shanghai on a given day."""
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Half-open UTC bounds of a Shanghai calendar day."""
    start = local_datetime(day, time.min)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on every database.

    PostgreSQL stores `timestamptz`; SQLite has no time zone type, so values are
    normalised to UTC on the way in and tagged as UTC on the way out. Naive values
    are rejected, because a naive time is ambiguous between UTC and Shanghai.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """The one overlap rule, half-open: 09:00–11:00 and 11:00–13:00 do not overlap."""
    return start < other_end and other_start < end


def overlap_clause(start_column, end_column, start: datetime, end: datetime):
    """The same half-open rule as a SQL expression over two columns."""
    from sqlalchemy import and_

    return and_(start_column < end, start < end_column)
