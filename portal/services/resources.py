"""Resources (labs, libraries, practice bases), their weekly hours, closures and the
admin's corrections of the holiday calendar. Booking rules live in `bookings`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    ACTIVE_STATUSES,
    Booking,
    CalendarOverride,
    Closure,
    OpeningHours,
    Resource,
    ResourceKind,
    Role,
    School,
    User,
)
from portal.permissions.bookings import can_create_resource, can_manage_resource
from portal.services import audit
from portal.timeutil import utcnow

MAX_ADVANCE_DAYS = 366


@dataclass
class ResourceData:
    kind: ResourceKind
    university_id: int
    name_zh: str
    capacity: int
    name_en: str | None = None
    building: str = ""
    room: str = ""
    description: str = ""
    equipment: str = ""
    safety_rules: str = ""
    active: bool = True
    slot_minutes: int = 30
    lead_days: int = 3
    window_days: int = 60
    cancel_cutoff_hours: int = 24
    monthly_quota: int | None = 4
    requires_approval: bool = True
    pupils_per_escort: int = 20
    manager_ids: list[int] = field(default_factory=list)


def _validate(actor: User, data: ResourceData) -> tuple[School, list[User]]:
    errors: dict[str, object] = {}
    university = db.session.get(School, data.university_id) if data.university_id else None
    if university is None or not university.is_university:
        errors["university_id"] = _l("Choose a university.")
    elif not actor.is_admin and actor.school_id != university.id:
        errors["university_id"] = _l("You can only add resources of your own university.")
    if not (data.name_zh or "").strip():
        errors["name_zh"] = _l("Enter the Chinese name.")
    if data.capacity is None or data.capacity < 1:
        errors["capacity"] = _l("The capacity must be at least 1.")
    if data.slot_minutes not in (15, 30, 60):
        errors["slot_minutes"] = _l("Choose 15, 30 or 60 minutes.")
    if data.lead_days is None or not 0 <= data.lead_days <= 60:
        errors["lead_days"] = _l("Enter between 0 and 60 days.")
    if data.window_days is None or not 1 <= data.window_days <= MAX_ADVANCE_DAYS:
        errors["window_days"] = _l("Enter between 1 and 366 days.")
    elif data.lead_days is not None and data.window_days < data.lead_days:
        errors["window_days"] = _l("The advance window must be at least the lead time.")
    if data.cancel_cutoff_hours is None or not 0 <= data.cancel_cutoff_hours <= 24 * 14:
        errors["cancel_cutoff_hours"] = _l("Enter between 0 and 336 hours.")
    if data.monthly_quota is not None and data.monthly_quota < 1:
        errors["monthly_quota"] = _l("Leave empty for no limit, or enter at least 1.")
    if data.pupils_per_escort is None or not 1 <= data.pupils_per_escort <= 100:
        errors["pupils_per_escort"] = _l("Enter between 1 and 100 pupils.")
    managers: list[User] = []
    if data.manager_ids:
        managers = list(db.session.scalars(select(User).where(User.id.in_(data.manager_ids))))
        if len(managers) != len(set(data.manager_ids)) or any(
            m.role is not Role.RESOURCE_MANAGER or (university is not None and m.school_id != university.id)
            for m in managers
        ):
            errors["manager_ids"] = _l("Managers must be resource managers of the owning university.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    return university, managers


def _apply(resource: Resource, data: ResourceData, managers: list[User]) -> None:
    resource.kind = data.kind
    resource.university_id = data.university_id
    resource.name_zh = data.name_zh.strip()
    resource.name_en = (data.name_en or "").strip() or None
    resource.building = (data.building or "").strip()
    resource.room = (data.room or "").strip()
    resource.capacity = data.capacity
    resource.description = (data.description or "").strip()
    resource.equipment = "\n".join(line.strip() for line in (data.equipment or "").splitlines() if line.strip())
    resource.safety_rules = (data.safety_rules or "").strip()
    resource.active = data.active
    resource.slot_minutes = data.slot_minutes
    resource.lead_days = data.lead_days
    resource.window_days = data.window_days
    resource.cancel_cutoff_hours = data.cancel_cutoff_hours
    resource.monthly_quota = data.monthly_quota
    resource.requires_approval = data.requires_approval
    resource.pupils_per_escort = data.pupils_per_escort
    resource.managers = managers


def create_resource(actor: User, data: ResourceData) -> Resource:
    """A new resource; a manager who creates one manages it."""
    if not can_create_resource(actor):
        raise NotAllowed(_l("Only resource managers and administrators may add resources."))
    _university, managers = _validate(actor, data)
    if actor.role is Role.RESOURCE_MANAGER and all(m.id != actor.id for m in managers):
        managers.append(actor)
    resource = Resource()
    _apply(resource, data, managers)
    db.session.add(resource)
    db.session.flush()
    audit.record(actor, "resource.create", "resource", resource.id)
    return resource


def update_resource(actor: User, resource: Resource, data: ResourceData) -> Resource:
    if not can_manage_resource(actor, resource):
        raise NotAllowed(_l("You do not manage this resource."))
    _university, managers = _validate(actor, data)
    place_before = (resource.name_zh, resource.name_en, resource.building, resource.room)
    _apply(resource, data, managers)
    if (resource.name_zh, resource.name_en, resource.building, resource.room) != place_before:
        _bump_upcoming_sequences(resource)
    db.session.flush()
    audit.record(actor, "resource.update", "resource", resource.id)
    return resource


def _bump_upcoming_sequences(resource: Resource) -> None:
    """Calendar clients re-read an event only when its SEQUENCE grows: a renamed or moved
    resource changes the title and place of every upcoming booking."""
    db.session.execute(
        update(Booking)
        .where(Booking.resource_id == resource.id, Booking.end_at > utcnow(), Booking.status.in_(ACTIVE_STATUSES))
        .values(calendar_sequence=Booking.calendar_sequence + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


_INTERVAL = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})\s*$")


def parse_intervals(text: str, field_name: str) -> list[tuple[time, time]]:
    """'08:30-11:30, 14:00-17:00' → sorted, non-overlapping intervals (empty = closed)."""
    intervals: list[tuple[time, time]] = []
    for part in re.split(r"[,，;；\s]+(?=\d)", (text or "").strip()):
        if not part.strip():
            continue
        match = _INTERVAL.match(part)
        if not match:
            raise ValidationFailed(_l("Write the hours as 08:30-11:30, 14:00-17:00."), field=field_name)
        h0, m0, h1, m1 = (int(g) for g in match.groups())
        if h0 > 23 or h1 > 24 or m0 > 59 or m1 > 59 or (h1 == 24 and m1 != 0):
            raise ValidationFailed(_l("Write the hours as 08:30-11:30, 14:00-17:00."), field=field_name)
        opens = time(h0, m0)
        closes = time(23, 59) if h1 == 24 else time(h1, m1)
        if opens >= closes:
            raise ValidationFailed(_l("Each interval must end after it starts."), field=field_name)
        intervals.append((opens, closes))
    intervals.sort()
    for (_a0, a1), (b0, _b1) in zip(intervals, intervals[1:], strict=False):
        if b0 < a1:
            raise ValidationFailed(_l("The intervals of one day must not overlap."), field=field_name)
    return intervals


def format_intervals(hours: list[OpeningHours], weekday: int) -> str:
    return ", ".join(f"{h.opens:%H:%M}-{h.closes:%H:%M}" for h in hours if h.weekday == weekday)


def set_hours(actor: User, resource: Resource, week: dict[int, list[tuple[time, time]]]) -> None:
    """Replace the weekly opening hours (weekday 0 = Monday → intervals)."""
    if not can_manage_resource(actor, resource):
        raise NotAllowed(_l("You do not manage this resource."))
    resource.hours = [
        OpeningHours(weekday=weekday, opens=opens, closes=closes)
        for weekday in range(7)
        for opens, closes in week.get(weekday, [])
    ]
    db.session.flush()
    audit.record(actor, "resource.hours", "resource", resource.id)


def add_closure(
    actor: User,
    start_date: date | None,
    end_date: date | None,
    reason: str,
    *,
    resource: Resource | None = None,
    university: School | None = None,
) -> Closure:
    """Close a resource, a whole university, or (admin, neither given) the whole platform."""
    if resource is not None:
        allowed = can_manage_resource(actor, resource)
    elif university is not None:
        allowed = actor.is_admin or (actor.role is Role.RESOURCE_MANAGER and actor.school_id == university.id)
    else:
        allowed = actor.is_admin
    if not allowed:
        raise NotAllowed(_l("You may not add this closure."))
    errors: dict[str, object] = {}
    if start_date is None:
        errors["start_date"] = _l("Enter the first day.")
    if end_date is None:
        errors["end_date"] = _l("Enter the last day.")
    elif start_date is not None and end_date < start_date:
        errors["end_date"] = _l("The last day cannot be before the first day.")
    if not (reason or "").strip():
        errors["reason"] = _l("Say why (it is shown to teachers).")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    closure = Closure(
        resource_id=resource.id if resource else None,
        university_id=university.id if university else None,
        start_date=start_date,
        end_date=end_date,
        reason=reason.strip()[:200],
        created_by_id=actor.id,
    )
    db.session.add(closure)
    db.session.flush()
    audit.record(actor, "closure.create", "closure", closure.id)
    return closure


def can_remove_closure(actor: User, closure: Closure) -> bool:
    if actor.is_admin:
        return True
    if closure.resource is not None:
        return can_manage_resource(actor, closure.resource)
    if closure.university_id is not None:
        return actor.role is Role.RESOURCE_MANAGER and actor.school_id == closure.university_id
    return False


def remove_closure(actor: User, closure: Closure) -> None:
    if not can_remove_closure(actor, closure):
        raise NotAllowed(_l("You may not remove this closure."))
    audit.record(actor, "closure.delete", "closure", closure.id)
    db.session.delete(closure)
    db.session.flush()


def closures_for_manager(actor: User, resource: Resource | None = None) -> list[Closure]:
    stmt = select(Closure).options(selectinload(Closure.resource), selectinload(Closure.university))
    if resource is not None:
        stmt = stmt.where(
            or_(
                Closure.resource_id == resource.id,
                Closure.university_id == resource.university_id,
                (Closure.resource_id.is_(None) & Closure.university_id.is_(None)),
            )
        )
    elif not actor.is_admin:
        stmt = stmt.where(or_(Closure.university_id == actor.school_id, Closure.resource_id.is_(None)))
    return list(db.session.scalars(stmt.order_by(Closure.start_date.desc()).limit(300)))


def set_override(actor: User, day: date | None, is_workday: bool, name: str, replaces_weekday: int | None = None):
    """Record the State Council's word for one day (admin only); replaces an earlier entry."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may do this."))
    errors: dict[str, object] = {}
    if day is None:
        errors["day"] = _l("Enter the day.")
    if not (name or "").strip():
        errors["name"] = _l("Enter a name, e.g. 春节 or 国庆节调休.")
    if replaces_weekday is not None and not 0 <= replaces_weekday <= 4:
        errors["replaces_weekday"] = _l("Choose a weekday from Monday to Friday.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    override = db.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
    if override is None:
        override = CalendarOverride(day=day)
        db.session.add(override)
    override.is_workday = is_workday
    override.name = name.strip()[:120]
    override.replaces_weekday = replaces_weekday if is_workday else None
    db.session.flush()
    audit.record(actor, "calendar_override.set", "calendar_override", override.id)
    return override


def remove_override(actor: User, override: CalendarOverride) -> None:
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator may do this."))
    audit.record(actor, "calendar_override.delete", "calendar_override", override.id)
    db.session.delete(override)
    db.session.flush()


def list_overrides() -> list[CalendarOverride]:
    return list(db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.day.desc()).limit(400)))


def get_resource(resource_id: int) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(_l("There is no such resource."))
    return resource


def managed_resources(user: User) -> list[Resource]:
    stmt = select(Resource).options(selectinload(Resource.hours), selectinload(Resource.managers))
    if not user.is_admin:
        stmt = stmt.where(Resource.managers.any(User.id == user.id))
    return list(db.session.scalars(stmt.order_by(Resource.university_id, Resource.name_zh)))


def manager_choices(university_id: int | None) -> list[User]:
    stmt = select(User).where(User.role == Role.RESOURCE_MANAGER, User.active.is_(True))
    if university_id:
        stmt = stmt.where(User.school_id == university_id)
    return list(db.session.scalars(stmt.order_by(User.display_name)))


def universities() -> list[School]:
    from portal.models import SchoolLevel

    return list(
        db.session.scalars(
            select(School)
            .where(School.level.in_([SchoolLevel.UNIVERSITY, SchoolLevel.VOCATIONAL]), School.active.is_(True))
            .order_by(School.name_zh)
        )
    )
