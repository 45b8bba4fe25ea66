"""A person's commitments across areas, so that nobody is double-booked.

Each area that puts a person somewhere at a time (a lecture a mentor gives, an activity
session a mentor hosts, a check-in a mentor leads) registers a provider here. Every
service that assigns a person a time calls `ensure_free` after `lock_person`, so the
check and the write are serialised per person by the database (row lock on
PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.database import lock_for_write
from portal.errors import Conflict
from portal.models import User
from portal.timeutil import overlaps


@dataclass(frozen=True)
class Commitment:
    kind: str  # lecture | session | checkin | ...
    ref_id: int
    start: datetime  # aware UTC
    end: datetime
    # Where it happens, as a comparable key ("school:12", "resource:3", "venue:红岩革命纪念馆");
    # None when no travel is involved (online, or on the person's own campus).
    place: str | None
    label: str  # shown to the person who is busy; never sensitive content


CommitmentProvider = Callable[[User, datetime, datetime], list[Commitment]]
_providers: dict[str, CommitmentProvider] = {}


def register_provider(kind: str, provider: CommitmentProvider) -> None:
    _providers[kind] = provider


def travel_buffer() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("TRAVEL_BUFFER_MINUTES", 60)))


def commitments_for(user: User, start: datetime, end: datetime) -> list[Commitment]:
    found: list[Commitment] = []
    for provider in _providers.values():
        found.extend(provider(user, start, end))
    return sorted(found, key=lambda c: c.start)


def find_clash(
    user: User,
    start: datetime,
    end: datetime,
    place: str | None,
    *,
    ignore: tuple[str, int] | None = None,
) -> Commitment | None:
    """The first commitment that overlaps [start, end), or that leaves less than the
    travel buffer between two different places."""
    buffer = travel_buffer()
    for other in commitments_for(user, start - buffer, end + buffer):
        if ignore and (other.kind, other.ref_id) == ignore:
            continue
        if overlaps(start, end, other.start, other.end):
            return other
        different_places = place is not None and other.place is not None and place != other.place
        if different_places and overlaps(start - buffer, end + buffer, other.start, other.end):
            return other
    return None


def lock_person(user: User) -> User:
    """Serialise every assignment of this person's time; call before `ensure_free`."""
    locked = lock_for_write(User, user.id)
    assert locked is not None
    return locked


def ensure_free(
    user: User,
    start: datetime,
    end: datetime,
    place: str | None,
    *,
    ignore: tuple[str, int] | None = None,
    field: str | None = None,
) -> None:
    clash = find_clash(user, start, end, place, ignore=ignore)
    if clash is not None:
        from portal.i18n import fmt_datetime

        raise Conflict(
            _l(
                "%(name)s is already committed then: %(what)s (%(when)s), allowing %(minutes)d minutes to travel.",
                name=user.display_name,
                what=clash.label,
                when=fmt_datetime(clash.start),
                minutes=int(travel_buffer().total_seconds() // 60),
            ),
            field=field,
        )
