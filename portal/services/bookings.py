"""Booking rules for shared labs and libraries: when a resource is open, who may book it
when, and the lifecycle of a booking (request → approve/reject → cancel → check-in).

Integrity under concurrency: `book` takes `lock_for_write(Resource, id)` before it checks
for overlaps and quotas, so competing requests for one resource are serialised (row lock on
PostgreSQL, BEGIN IMMEDIATE on SQLite). On PostgreSQL the exclusion constraint
`ex_booking_no_overlap` is the last line of defence; its violation becomes a Conflict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.database import lock_for_write
from portal.errors import Conflict, DomainError, NotAllowed, NotFound, QuotaExceeded, ValidationFailed
from portal.extensions import db
from portal.models import (
    ACTIVE_STATUSES,
    ActivitySession,
    Booking,
    BookingAttendance,
    BookingStatus,
    Closure,
    Resource,
    ResourceKind,
    Role,
    School,
    User,
)
from portal.permissions.bookings import (
    can_book,
    can_cancel_booking,
    can_check_in,
    can_decide_booking,
    can_manage_resource,
    can_view_booking,
)
from portal.services import audit, calendar, notifications
from portal.services.holidays import DayInfo, days_info
from portal.timeutil import local_datetime, local_today, overlap_clause, overlaps, to_local, utcnow

UNDER_RESOURCED_EXTRA_DAYS_DEFAULT = 30
MAX_OCCURRENCES = 26
MAX_DISTANCE_DAYS = 3660  # far-off dates are refused before any calendar arithmetic
CANCELLED_VISIBLE_DAYS = 14


def _config_int(name: str, default: int) -> int:
    from flask import current_app

    try:
        return int(current_app.config.get(name, default))
    except (TypeError, ValueError):
        return default


def extra_window_days(school: School | None) -> int:
    """Fair share: under-resourced schools may book further ahead (BOOKING_PRIORITY_EXTRA_DAYS)."""
    if school is not None and school.under_resourced:
        return _config_int("BOOKING_PRIORITY_EXTRA_DAYS", UNDER_RESOURCED_EXTRA_DAYS_DEFAULT)
    return 0


def booking_window(resource: Resource, school: School | None, now: datetime | None = None) -> tuple[date, date]:
    """First and last bookable day for this school, in Shanghai calendar days."""
    today = local_today(now)
    return (
        today + timedelta(days=resource.lead_days),
        today + timedelta(days=resource.window_days + extra_window_days(school)),
    )


# Opening hours, closures and holidays --------------------------------------------------


def closures_between(resources: list[Resource], first: date, last: date) -> dict[int, list[Closure]]:
    """Closures touching [first, last] per resource id, with one query for all resources."""
    if not resources:
        return {}
    resource_ids = [r.id for r in resources]
    university_ids = list({r.university_id for r in resources})
    rows = db.session.scalars(
        select(Closure).where(
            Closure.start_date <= last,
            Closure.end_date >= first,
            or_(
                Closure.resource_id.in_(resource_ids),
                Closure.university_id.in_(university_ids),
                and_(Closure.resource_id.is_(None), Closure.university_id.is_(None)),
            ),
        )
    ).all()
    result: dict[int, list[Closure]] = {r.id: [] for r in resources}
    for resource in resources:
        for closure in rows:
            if (
                closure.resource_id == resource.id
                or closure.university_id == resource.university_id
                or (closure.resource_id is None and closure.university_id is None)
            ):
                result[resource.id].append(closure)
    return result


@dataclass
class DayOpening:
    day: date
    info: DayInfo
    closed_reason: str | None  # set when the whole day is closed
    intervals: list[tuple[datetime, datetime]]  # aware UTC, empty when closed

    @property
    def is_open(self) -> bool:
        return bool(self.intervals)


def day_opening(resource: Resource, day: date, info: DayInfo, closures: list[Closure]) -> DayOpening:
    for closure in closures:
        if closure.start_date <= day <= closure.end_date:
            return DayOpening(day, info, closure.reason, [])
    if info.is_holiday:
        return DayOpening(day, info, str(_l("Public holiday: %(name)s", name=info.name)), [])
    weekday = info.opens_as_weekday if (info.is_makeup_workday or info.source == "admin") else day.weekday()
    intervals = [
        (local_datetime(day, h.opens).astimezone(UTC), local_datetime(day, h.closes).astimezone(UTC))
        for h in resource.hours
        if h.weekday == weekday
    ]
    if not intervals:
        return DayOpening(day, info, None, [])
    return DayOpening(day, info, None, intervals)


def openings(resource: Resource, first: date, last: date) -> dict[date, DayOpening]:
    infos = days_info(first, last)
    closures = closures_between([resource], first, last)[resource.id]
    return {day: day_opening(resource, day, info, closures) for day, info in infos.items()}


def active_bookings(resource_ids: list[int], start: datetime, end: datetime) -> list[Booking]:
    if not resource_ids:
        return []
    return list(
        db.session.scalars(
            select(Booking)
            .options(selectinload(Booking.school), selectinload(Booking.activity_session))
            .where(
                Booking.resource_id.in_(resource_ids),
                Booking.status.in_(ACTIVE_STATUSES),
                overlap_clause(Booking.start_at, Booking.end_at, start, end),
            )
            .order_by(Booking.start_at)
        )
    )


@dataclass(frozen=True)
class Availability:
    """What another area learns about a resource at a time (e.g. as an activity venue)."""

    state: str  # free | booked | closed | outside_hours | inactive
    reason: str = ""

    @property
    def is_free(self) -> bool:
        return self.state == "free"


def resource_availability(
    resource_id: int, start: datetime, end: datetime, *, ignore_booking_id: int | None = None
) -> Availability:
    """Is the resource open and unbooked for the whole of [start, end)? Read-only; callers that
    then write must take `lock_for_write(Resource, resource_id)` first and ask again."""
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(_l("There is no such resource."))
    if not resource.active:
        return Availability("inactive", str(_l("This resource is not open for booking.")))
    first, last = to_local(start).date(), to_local(end - timedelta(microseconds=1)).date()
    if end <= start or first != last:
        return Availability("outside_hours", str(_l("Outside the opening hours.")))
    opening = openings(resource, first, first)[first]
    if opening.closed_reason:
        return Availability("closed", opening.closed_reason)
    if not _inside_hours(opening, start, end):
        return Availability("outside_hours", str(_l("Outside the opening hours.")))
    for booking in active_bookings([resource.id], start, end):
        if booking.id != ignore_booking_id:
            return Availability("booked", str(_l("Booked")))
    return Availability("free")


def _inside_hours(opening: DayOpening, start: datetime, end: datetime) -> bool:
    return any(o <= start and end <= c for o, c in opening.intervals)


def describe_hours(opening: DayOpening) -> str:
    return ", ".join(f"{to_local(o):%H:%M}–{to_local(c):%H:%M}" for o, c in opening.intervals)


# Requests -------------------------------------------------------------------------------


@dataclass
class BookingRequest:
    day: date | None
    start: time | None
    end: time | None
    class_size: int | None
    grade: str = ""
    escorts: int | None = None
    purpose: str = ""
    contact_phone: str = ""
    safety_accepted: bool = False
    repeat_until: date | None = None


@dataclass
class OccurrenceCheck:
    day: date
    start_at: datetime | None
    end_at: datetime | None
    problem: str | None = None
    field: str = "day"
    error_class: type[DomainError] = ValidationFailed

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class BookingOutcome:
    created: list[Booking] = field(default_factory=list)
    skipped: list[OccurrenceCheck] = field(default_factory=list)


def _validate_request_fields(resource: Resource, req: BookingRequest) -> None:
    """Checks that do not depend on the date: everything reported at once, at its field."""
    errors: dict[str, object] = {}
    if req.day is None:
        errors["day"] = _l("Choose a date.")
    elif abs((req.day - local_today()).days) > MAX_DISTANCE_DAYS:
        errors["day"] = _l("Choose a date within the next few years.")
    if req.start is None:
        errors["start"] = _l("Choose a start time.")
    if req.end is None:
        errors["end"] = _l("Choose an end time.")
    elif req.start is not None and req.end <= req.start:
        errors["end"] = _l("The end must be after the start.")
    if req.start is not None and req.end is not None and "end" not in errors:
        step = resource.slot_minutes
        if (req.start.hour * 60 + req.start.minute) % step or (req.end.hour * 60 + req.end.minute) % step:
            errors["start"] = _l("Start and end on the %(step)d-minute grid (e.g. 09:00, 09:%(step)02d).", step=step)
    if req.class_size is None or req.class_size < 1:
        errors["class_size"] = _l("Enter the number of pupils (at least 1).")
    elif req.class_size > resource.capacity:
        errors["class_size"] = _l(
            "This resource holds at most %(capacity)d visitors at a time.", capacity=resource.capacity
        )
    if req.escorts is None or req.escorts < 1:
        errors["escorts"] = _l("At least one accompanying teacher is required.")
    elif req.class_size and req.class_size > 0:
        needed = math.ceil(req.class_size / resource.pupils_per_escort)
        if req.escorts < needed:
            errors["escorts"] = _l(
                "%(pupils)d pupils need at least %(needed)d accompanying teachers (one per %(per)d pupils).",
                pupils=req.class_size,
                needed=needed,
                per=resource.pupils_per_escort,
            )
    if not (req.grade or "").strip():
        errors["grade"] = _l("Enter the grade or class, e.g. 初二（3）班.")
    elif len(req.grade.strip()) > 40:
        errors["grade"] = _l("At most 40 characters.")
    if not (req.purpose or "").strip():
        errors["purpose"] = _l("Say what the class will do there.")
    elif len(req.purpose) > 2000:
        errors["purpose"] = _l("At most 2000 characters.")
    phone = (req.contact_phone or "").strip().replace(" ", "").replace("-", "")
    if not phone:
        errors["contact_phone"] = _l("Enter a phone number for the day of the visit.")
    elif not phone.lstrip("+").isdigit() or not 7 <= len(phone.lstrip("+")) <= 15:
        errors["contact_phone"] = _l("Enter a valid phone number, e.g. 13800138000.")
    if resource.safety_rules and not req.safety_accepted:
        errors["safety_accepted"] = _l("Read and accept the safety rules.")
    if req.repeat_until is not None and req.day is not None:
        if req.repeat_until <= req.day:
            errors["repeat_until"] = _l("Repeat until a date after the first visit.")
        elif (req.repeat_until - req.day).days // 7 + 1 > MAX_OCCURRENCES:
            errors["repeat_until"] = _l("At most %(n)d weekly visits can be requested at once.", n=MAX_OCCURRENCES)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)


def _occurrence_days(req: BookingRequest) -> list[date]:
    days = [req.day]
    if req.repeat_until is not None:
        day = req.day + timedelta(days=7)
        while day <= req.repeat_until:
            days.append(day)
            day += timedelta(days=7)
    return days


def _month_key(moment: datetime) -> tuple[int, int]:
    local = to_local(moment)
    return local.year, local.month


def _quota_counts(resource: Resource, school_id: int, days: list[date]) -> dict[tuple[int, int], int]:
    first = local_datetime(min(days).replace(day=1), time.min)
    last_day = max(days)
    next_month = (last_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = local_datetime(next_month, time.min)
    rows = db.session.scalars(
        select(Booking.start_at).where(
            Booking.resource_id == resource.id,
            Booking.school_id == school_id,
            Booking.activity_session_id.is_(None),  # activity holds use no school's quota
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.start_at >= first,
            Booking.start_at < last,
        )
    )
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for start in rows:
        counts[_month_key(start)] += 1
    return counts


def check_occurrences(
    resource: Resource, school: School, req: BookingRequest, now: datetime | None = None
) -> list[OccurrenceCheck]:
    """Every date of the request with its problem (None when bookable). Read-only."""
    now = now or utcnow()
    days = _occurrence_days(req)
    first_ok, last_ok = booking_window(resource, school, now)
    today = local_today(now)
    day_openings = openings(resource, min(days), max(days))
    span_start = local_datetime(min(days), req.start)
    span_end = local_datetime(max(days), req.end)
    taken = active_bookings([resource.id], span_start, span_end)
    quota_used = _quota_counts(resource, school.id, days) if resource.monthly_quota else {}
    checks: list[OccurrenceCheck] = []
    for day in days:
        start_at = local_datetime(day, req.start).astimezone(now.tzinfo)
        end_at = local_datetime(day, req.end).astimezone(now.tzinfo)
        check = OccurrenceCheck(day, start_at, end_at)
        opening = day_openings[day]
        if day < today or start_at <= now:
            check.problem = str(_l("This date has passed."))
        elif day < first_ok:
            check.problem = str(
                _l(
                    "Book at least %(days)d days ahead: the earliest date is %(first)s.",
                    days=resource.lead_days,
                    first=first_ok.isoformat(),
                )
            )
        elif day > last_ok:
            check.problem = str(
                _l(
                    "Bookings open at most %(days)d days ahead: the last date now is %(last)s.",
                    days=(last_ok - today).days,
                    last=last_ok.isoformat(),
                )
            )
        elif opening.closed_reason:
            check.problem = str(_l("Closed that day: %(reason)s", reason=opening.closed_reason))
        elif not opening.is_open:
            check.problem = str(_l("Closed that day."))
        elif not _inside_hours(opening, start_at, end_at):
            check.problem = str(_l("Outside the opening hours (%(hours)s).", hours=describe_hours(opening)))
            check.field = "start"
        elif any(overlaps(start_at, end_at, b.start_at, b.end_at) for b in taken):
            check.problem = str(_l("Already booked at this time."))
            check.field = "start"
            check.error_class = Conflict
        elif resource.monthly_quota and quota_used[_month_key(start_at)] >= resource.monthly_quota:
            check.problem = str(
                _l(
                    "Your school already holds %(n)d bookings of this resource that month (the limit).",
                    n=resource.monthly_quota,
                )
            )
            check.error_class = QuotaExceeded
        if check.ok:
            quota_used[_month_key(start_at)] += 1
        checks.append(check)
    return checks


def preview(actor: User, resource: Resource, req: BookingRequest, now: datetime | None = None) -> list[OccurrenceCheck]:
    """What `book` would do, without writing: which dates can be booked and why others cannot."""
    if not can_book(actor, resource):
        raise NotAllowed(_l("Only teachers of a school may book, and only active resources."))
    _validate_request_fields(resource, req)
    return check_occurrences(resource, actor.school, req, now)


def book(actor: User, resource_id: int, req: BookingRequest, now: datetime | None = None) -> BookingOutcome:
    """Request a visit (and, with `repeat_until`, the same slot weekly): the dates that pass
    every rule are written together, the others are reported; never half a date.

    Raises at the field when a single request fails, or when no date of a recurrence can be
    booked. Must be the first write of the transaction (it takes the resource's write lock).
    """
    resource = lock_for_write(Resource, resource_id)
    if resource is None:
        raise NotFound(_l("There is no such resource."))
    if not resource.active:
        raise ValidationFailed(_l("This resource is not open for booking."), field="resource")
    if not can_book(actor, resource):
        raise NotAllowed(_l("Only teachers of a school may book, and only active resources."))
    _validate_request_fields(resource, req)
    school = db.session.get(School, actor.school_id)
    checks = check_occurrences(resource, school, req, now)
    bookable = [c for c in checks if c.ok]
    if req.repeat_until is None and not bookable:
        failed = checks[0]
        raise failed.error_class(failed.problem, field=failed.field)
    if not bookable:
        raise ValidationFailed(_l("None of these dates can be booked."), field="repeat_until")
    now = now or utcnow()
    status = BookingStatus.PENDING if resource.requires_approval else BookingStatus.APPROVED
    created = [
        Booking(
            resource_id=resource.id,
            school_id=school.id,
            requested_by_id=actor.id,
            start_at=check.start_at,
            end_at=check.end_at,
            status=status,
            class_size=req.class_size,
            grade=req.grade.strip(),
            escorts=req.escorts,
            purpose=req.purpose.strip(),
            contact_phone=req.contact_phone.strip(),
            safety_accepted_at=now,
            decided_at=None if resource.requires_approval else now,
        )
        for check in bookable
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(created)
            db.session.flush()
            if len(created) > 1:
                for booking in created:
                    booking.series_id = created[0].id
                db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("Already booked at this time."), field="start") from exc
    for booking in created:
        audit.record(actor, "booking.create", "booking", booking.id)
    _notify_managers_of_request(resource, created, actor)
    return BookingOutcome(created=created, skipped=[c for c in checks if not c.ok])


# Activity sessions held at a resource ---------------------------------------------------


def _activity_hold(session_id: int | None) -> Booking | None:
    if session_id is None:
        return None
    return db.session.scalar(select(Booking).where(Booking.activity_session_id == session_id))


def hold_for_activity(
    actor: User,
    resource_id: int | None,
    start: datetime,
    end: datetime,
    *,
    session: ActivitySession,
    seats: int,
    field: str = "venue_resource_id",
) -> Booking:
    """Make `session` hold [start, end) at the resource as an approved booking, creating
    the hold or moving the session's existing one (to another time or resource).

    The one way activities reserve a resource, so the rules that keep a slot single live
    here: the resource's write lock is taken first (`lock_for_write`, as `book` does), then
    the resource must be active, open for the whole span (opening hours, closures, public
    holidays and make-up days, via `resource_availability`) and free of every other active
    booking; on PostgreSQL the exclusion constraint backs this up. A clash raises Conflict
    at `field`, closed/outside hours ValidationFailed there; nothing is written then.

    Organizers are not teachers booking a class visit: the lead time, the booking window,
    the slot grid, the monthly quota and the escort rule do not apply, and nobody is
    notified (the organizer is acting and the managers see the hold on their schedule).
    The hold is on the resource's own university, so it uses no visiting school's quota.

    `session` may still be unsaved: the hold is linked through the relationship and both
    are flushed together. Call before any other write of the transaction (or after another
    `lock_for_write`); the caller commits, or rolls back on DomainError.
    """
    if resource_id is None:
        raise ValidationFailed(_l("Choose the lab or library where the session takes place."), field=field)
    resource = lock_for_write(Resource, resource_id)
    if resource is None:
        raise ValidationFailed(_l("Choose the lab or library where the session takes place."), field=field)
    if seats > resource.capacity:
        raise ValidationFailed(
            _l("This resource holds at most %(capacity)d visitors at a time.", capacity=resource.capacity),
            field="capacity",
        )
    hold = _activity_hold(session.id)
    kept = (
        hold is not None
        and hold.is_active
        and (hold.resource_id, hold.start_at, hold.end_at) == (resource.id, start, end)
    )
    # An unchanged slot stays held as it is: a closure added since does not stop the
    # organizer from correcting the session's text (as with a teacher's approved visit).
    ignore = hold.id if hold is not None and hold.is_active else None
    availability = (
        Availability("free") if kept else resource_availability(resource.id, start, end, ignore_booking_id=ignore)
    )
    if availability.state == "booked":
        raise Conflict(_l("Already booked at this time."), field=field)
    if availability.state == "inactive":
        raise ValidationFailed(_l("This resource is not open for booking."), field=field)
    if availability.state == "closed":
        raise ValidationFailed(_l("Closed that day: %(reason)s", reason=availability.reason), field=field)
    if availability.state == "outside_hours":
        day = to_local(start).date()
        opening = openings(resource, day, day)[day]
        if not opening.is_open or to_local(end - timedelta(microseconds=1)).date() != day:
            raise ValidationFailed(_l("Closed that day."), field=field)
        raise ValidationFailed(_l("Outside the opening hours (%(hours)s).", hours=describe_hours(opening)), field=field)
    now = utcnow()
    title = session.title_zh
    if hold is None:
        hold = Booking(
            resource_id=resource.id,
            school_id=resource.university_id,
            requested_by_id=actor.id,
            start_at=start,
            end_at=end,
            status=BookingStatus.APPROVED,
            class_size=seats,
            grade="",
            escorts=0,
            purpose=title,
            contact_phone="",
            safety_accepted_at=now,
            decided_by_id=actor.id,
            decided_at=now,
            calendar_sequence=0,
        )
        hold.activity_session = session
        db.session.add(hold)
        action: str | None = "booking.hold"
    else:
        before = (hold.resource_id, hold.start_at, hold.end_at, hold.status, hold.purpose)
        hold.resource_id, hold.school_id = resource.id, resource.university_id
        hold.start_at, hold.end_at = start, end
        hold.status = BookingStatus.APPROVED
        hold.class_size, hold.purpose = seats, title
        hold.cancel_reason = hold.cancelled_by_id = hold.cancelled_at = None
        action = None
        if (hold.resource_id, hold.start_at, hold.end_at, hold.status, hold.purpose) != before:
            _changed(hold)
            action = "booking.hold_update"
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("Already booked at this time."), field=field) from exc
    if action is not None:  # a session saved without a change of slot leaves no trace
        audit.record(actor, action, "booking", hold.id)
    return hold


def release_activity_hold(actor: User, session_id: int, now: datetime | None = None) -> Booking | None:
    """Free the slot a session held (the session was cancelled or moved off the resource).
    Nobody is notified: the session's own registrants are told by the activities service."""
    hold = _activity_hold(session_id)
    if hold is None or not hold.is_active:
        return None
    hold.status = BookingStatus.CANCELLED
    hold.cancelled_by_id = actor.id
    hold.cancelled_at = now or utcnow()
    _changed(hold)
    audit.record(actor, "booking.release_hold", "booking", hold.id)
    return hold


def _booking_link(booking: Booking) -> str:
    return f"/bookings/{booking.id}"


def _when(booking: Booking) -> str:
    from portal.i18n import fmt_datetime, fmt_time

    return f"{fmt_datetime(booking.start_at)}–{fmt_time(booking.end_at)}"


def _notify_managers_of_request(resource: Resource, created: list[Booking], actor: User) -> None:
    first = created[0]
    for manager in resource.managers:
        if resource.requires_approval:
            subject = _l("New booking request for %(resource)s", resource=resource.name_zh)
            body = _l(
                "%(school)s asks to visit %(resource)s with %(size)d pupils on %(count)d date(s), first %(when)s. "
                "Please approve or reject it.",
                school=first.school.name_zh if first.school else "",
                resource=resource.name_zh,
                size=first.class_size,
                count=len(created),
                when=LazyWhen(first),
            )
        else:
            subject = _l("New booking of %(resource)s", resource=resource.name_zh)
            body = _l(
                "%(school)s booked %(resource)s for %(size)d pupils on %(count)d date(s), first %(when)s.",
                school=first.school.name_zh if first.school else "",
                resource=resource.name_zh,
                size=first.class_size,
                count=len(created),
                when=LazyWhen(first),
            )
        notifications.notify(manager, "booking.requested", subject, body, link=_booking_link(first))


class LazyWhen:
    """Formats a booking's time when the message is rendered, in the recipient's locale."""

    def __init__(self, booking: Booking):
        self.start, self.end = booking.start_at, booking.end_at

    def __str__(self) -> str:
        from portal.i18n import fmt_datetime, fmt_time

        return f"{fmt_datetime(self.start)}–{fmt_time(self.end)}"


# Decisions -------------------------------------------------------------------------------


def _locked(booking: Booking) -> Booking:
    locked = lock_for_write(Booking, booking.id)
    if locked is None:
        raise NotFound(_l("There is no such booking."))
    return locked


def _changed(booking: Booking) -> None:
    booking.calendar_sequence = (booking.calendar_sequence or 0) + 1


def approve(actor: User, booking: Booking, note: str = "", now: datetime | None = None) -> Booking:
    booking = _locked(booking)
    if not can_decide_booking(actor, booking):
        raise NotAllowed(_l("You do not manage this resource."))
    if booking.status is not BookingStatus.PENDING:
        raise Conflict(_l("This request has already been decided."), field="note")
    now = now or utcnow()
    if booking.end_at <= now:
        raise ValidationFailed(_l("This visit is already over."), field="note")
    booking.status = BookingStatus.APPROVED
    booking.decision_note = (note or "").strip()[:500] or None
    booking.decided_by_id = actor.id
    booking.decided_at = now
    _changed(booking)
    audit.record(actor, "booking.approve", "booking", booking.id)
    notifications.notify(
        booking.requested_by,
        "booking.approved",
        _l("Your booking of %(resource)s was approved", resource=booking.resource.name_zh),
        _l("Your visit on %(when)s has been approved.", when=LazyWhen(booking))
        if not booking.decision_note
        else _l(
            "Your visit on %(when)s has been approved. Note from the manager: %(note)s",
            when=LazyWhen(booking),
            note=booking.decision_note,
        ),
        link=_booking_link(booking),
    )
    return booking


def reject(actor: User, booking: Booking, note: str, now: datetime | None = None) -> Booking:
    booking = _locked(booking)
    if not can_decide_booking(actor, booking):
        raise NotAllowed(_l("You do not manage this resource."))
    if booking.status is not BookingStatus.PENDING:
        raise Conflict(_l("This request has already been decided."), field="note")
    if not (note or "").strip():
        raise ValidationFailed(_l("Tell the teacher why (it is sent to them)."), field="note")
    now = now or utcnow()
    booking.status = BookingStatus.REJECTED
    booking.decision_note = note.strip()[:500]
    booking.decided_by_id = actor.id
    booking.decided_at = now
    _changed(booking)
    audit.record(actor, "booking.reject", "booking", booking.id)
    notifications.notify(
        booking.requested_by,
        "booking.rejected",
        _l("Your booking of %(resource)s was not approved", resource=booking.resource.name_zh),
        _l(
            "Your request for %(when)s was not approved. Reason: %(note)s",
            when=LazyWhen(booking),
            note=booking.decision_note,
        ),
        link=_booking_link(booking),
    )
    return booking


def cancellation_deadline(booking: Booking) -> datetime:
    return booking.start_at - timedelta(hours=booking.resource.cancel_cutoff_hours)


def teacher_may_still_cancel(booking: Booking, now: datetime | None = None) -> bool:
    return (now or utcnow()) <= cancellation_deadline(booking)


def cancel(actor: User, booking: Booking, reason: str, now: datetime | None = None) -> Booking:
    """The teacher until the cutoff, a manager at any time; the other side is told."""
    booking = _locked(booking)
    if not can_cancel_booking(actor, booking):
        if not booking.is_active and can_view_booking(actor, booking):
            raise Conflict(_l("This booking is no longer active."), field="reason")
        raise NotAllowed(_l("You may not cancel this booking."))
    if not (reason or "").strip():
        raise ValidationFailed(_l("Give a reason (it is sent to the other side)."), field="reason")
    now = now or utcnow()
    by_teacher = actor.role is Role.TEACHER
    if by_teacher and not teacher_may_still_cancel(booking, now):
        from portal.i18n import fmt_datetime

        raise ValidationFailed(
            _l(
                "Bookings can be cancelled online until %(deadline)s. Please call the resource's manager.",
                deadline=fmt_datetime(cancellation_deadline(booking)),
            ),
            field="reason",
        )
    if booking.end_at <= now:
        raise ValidationFailed(_l("This visit is already over."), field="reason")
    booking.status = BookingStatus.CANCELLED
    booking.cancel_reason = reason.strip()[:500]
    booking.cancelled_by_id = actor.id
    booking.cancelled_at = now
    _changed(booking)
    audit.record(actor, "booking.cancel", "booking", booking.id)
    subject = _l("Booking of %(resource)s cancelled", resource=booking.resource.name_zh)
    body = _l(
        "The visit on %(when)s has been cancelled by %(who)s. Reason: %(reason)s",
        when=LazyWhen(booking),
        who=actor.display_name,
        reason=booking.cancel_reason,
    )
    recipients = booking.resource.managers if by_teacher else [booking.requested_by]
    for recipient in recipients:
        if recipient.id != actor.id:
            notifications.notify(recipient, "booking.cancelled", subject, body, link=_booking_link(booking))
    return booking


def may_check_in_now(booking: Booking, now: datetime | None = None) -> bool:
    """The one check-in rule pages and the service share: an approved visit, from its day on,
    recorded once."""
    return (
        booking.status is BookingStatus.APPROVED
        and booking.attendance is None
        and local_today(now or utcnow()) >= to_local(booking.start_at).date()
    )


def check_in(
    actor: User, booking: Booking, attended: bool, actual_count: int | None, now: datetime | None = None
) -> Booking:
    """Record on the day how many came, or a no-show."""
    booking = _locked(booking)
    if not can_check_in(actor, booking):
        raise NotAllowed(_l("You do not manage this resource."))
    if booking.status is not BookingStatus.APPROVED:
        raise Conflict(_l("Only approved visits can be checked in."), field="actual_count")
    if booking.attendance is not None:
        raise Conflict(_l("Attendance has already been recorded."), field="actual_count")
    now = now or utcnow()
    if not may_check_in_now(booking, now):
        raise ValidationFailed(_l("Check-in opens on the day of the visit."), field="actual_count")
    if attended:
        if actual_count is None or actual_count < 1:
            raise ValidationFailed(_l("Enter how many pupils came (at least 1)."), field="actual_count")
        if actual_count > booking.resource.capacity:
            raise ValidationFailed(
                _l("At most %(capacity)d visitors fit.", capacity=booking.resource.capacity), field="actual_count"
            )
        booking.attendance = BookingAttendance.ATTENDED
        booking.actual_count = actual_count
    else:
        booking.attendance = BookingAttendance.NO_SHOW
        booking.actual_count = 0
    booking.checked_in_at = now
    audit.record(actor, "booking.check_in", "booking", booking.id)
    notifications.notify(
        booking.requested_by,
        "booking.checked_in",
        _l("Attendance recorded for %(resource)s", resource=booking.resource.name_zh),
        _l(
            "%(count)d pupils were recorded for the visit on %(when)s.",
            count=booking.actual_count,
            when=LazyWhen(booking),
        )
        if attended
        else _l("The visit on %(when)s was recorded as a no-show.", when=LazyWhen(booking)),
        link=_booking_link(booking),
        email=False,
    )
    return booking


# Lists -------------------------------------------------------------------------------------

_LIST_OPTIONS = (
    selectinload(Booking.resource).selectinload(Resource.managers),
    selectinload(Booking.school),
    selectinload(Booking.activity_session),
    selectinload(Booking.requested_by),
)


def get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_l("There is no such booking."))
    return booking


def my_bookings(actor: User, now: datetime | None = None) -> tuple[list[Booking], list[Booking]]:
    """A teacher's own requests: (upcoming soonest first, past most recent first)."""
    now = now or utcnow()
    base = select(Booking).options(*_LIST_OPTIONS).where(Booking.requested_by_id == actor.id)
    upcoming = list(db.session.scalars(base.where(Booking.end_at > now).order_by(Booking.start_at)))
    past = list(db.session.scalars(base.where(Booking.end_at <= now).order_by(Booking.start_at.desc()).limit(100)))
    return upcoming, past


def _managed_filter(actor: User):
    if actor.is_admin:
        return True
    return Booking.resource.has(Resource.managers.any(User.id == actor.id))


def pending_for_manager(actor: User) -> list[Booking]:
    """The manager's to-do list, oldest request first."""
    return list(
        db.session.scalars(
            select(Booking)
            .options(*_LIST_OPTIONS)
            .where(Booking.status == BookingStatus.PENDING, _managed_filter(actor))
            .order_by(Booking.created_at, Booking.id)
        )
    )


def pending_count(actor: User) -> int:
    if not (actor.is_admin or actor.role is Role.RESOURCE_MANAGER):
        return 0
    return (
        db.session.scalar(
            select(func.count(Booking.id)).where(Booking.status == BookingStatus.PENDING, _managed_filter(actor))
        )
        or 0
    )


def day_schedule(resource: Resource, day: date) -> tuple[DayOpening, list[Booking]]:
    start, end = local_datetime(day, time.min), local_datetime(day + timedelta(days=1), time.min)
    bookings = list(
        db.session.scalars(
            select(Booking)
            .options(*_LIST_OPTIONS)
            .where(Booking.resource_id == resource.id, overlap_clause(Booking.start_at, Booking.end_at, start, end))
            .order_by(Booking.start_at, Booking.id)
        )
    )
    return openings(resource, day, day)[day], bookings


def all_bookings_query(
    status: BookingStatus | None = None, university_id: int | None = None, school_id: int | None = None
):
    stmt = select(Booking).options(*_LIST_OPTIONS).order_by(Booking.start_at.desc(), Booking.id.desc())
    if status is not None:
        stmt = stmt.where(Booking.status == status)
    if university_id:
        stmt = stmt.where(Booking.resource.has(Resource.university_id == university_id))
    if school_id:
        stmt = stmt.where(Booking.school_id == school_id)
    return stmt


# Finding a slot ------------------------------------------------------------------------------


@dataclass
class ResourceFilters:
    kind: ResourceKind | None = None
    university_id: int | None = None
    district: str | None = None
    min_capacity: int | None = None
    equipment: str | None = None


def find_resources(filters: ResourceFilters, *, include_inactive: bool = False) -> list[Resource]:
    stmt = select(Resource).options(selectinload(Resource.hours), selectinload(Resource.managers))
    if not include_inactive:
        stmt = stmt.where(Resource.active.is_(True))
    if filters.kind is not None:
        stmt = stmt.where(Resource.kind == filters.kind)
    if filters.university_id:
        stmt = stmt.where(Resource.university_id == filters.university_id)
    if filters.district:
        stmt = stmt.where(Resource.university.has(School.district == filters.district))
    if filters.min_capacity:
        stmt = stmt.where(Resource.capacity >= filters.min_capacity)
    if filters.equipment and filters.equipment.strip():
        needle = filters.equipment.strip().replace("%", "").replace("_", "")
        stmt = stmt.where(func.lower(Resource.equipment).contains(needle.lower()))
    return list(db.session.scalars(stmt.order_by(Resource.university_id, Resource.kind, Resource.name_zh)))


@dataclass
class SearchHit:
    resource: Resource
    bookable: bool
    note: str = ""


def search_free(
    day: date,
    start: time,
    end: time,
    class_size: int,
    filters: ResourceFilters | None = None,
    *,
    school: School | None = None,
    now: datetime | None = None,
) -> list[SearchHit]:
    """Time first: every resource open and unbooked for [start, end) on `day` that holds the
    class; `bookable` says whether this school may still book it that day (lead time, window)."""
    filters = filters or ResourceFilters()
    filters.min_capacity = max(filters.min_capacity or 0, class_size)
    resources = find_resources(filters)
    start_at, end_at = local_datetime(day, start), local_datetime(day, end)
    info = days_info(day, day)[day]
    closures = closures_between(resources, day, day)
    busy = {b.resource_id for b in active_bookings([r.id for r in resources], start_at, end_at)}
    hits: list[SearchHit] = []
    for resource in resources:
        if resource.id in busy:
            continue
        opening = day_opening(resource, day, info, closures[resource.id])
        if not _inside_hours(opening, start_at, end_at):
            continue
        first_ok, last_ok = booking_window(resource, school, now)
        if day < first_ok:
            hits.append(SearchHit(resource, False, str(_l("Needs %(days)d days' notice.", days=resource.lead_days))))
        elif day > last_ok:
            hits.append(SearchHit(resource, False, str(_l("Not yet open for booking."))))
        else:
            hits.append(SearchHit(resource, True))
    return hits


# The week view ---------------------------------------------------------------------------------


@dataclass
class Segment:
    start: datetime
    end: datetime
    state: str  # free | booked | own
    booking: Booking | None = None


@dataclass
class WeekDay:
    day: date
    opening: DayOpening
    segments: list[Segment]


def week_view(resource: Resource, monday: date, viewer: User | None) -> list[WeekDay]:
    """Seven days of free / booked / closed time. Bookings of other schools show only as
    booked; the viewer's own school's bookings (and, for managers, all) carry the booking."""
    sunday = monday + timedelta(days=6)
    days = openings(resource, monday, sunday)
    start, end = local_datetime(monday, time.min), local_datetime(sunday + timedelta(days=1), time.min)
    taken = active_bookings([resource.id], start, end)
    sees_all = viewer is not None and can_manage_resource(viewer, resource)
    result = []
    for day, opening in days.items():
        segments: list[Segment] = []
        for open_at, close_at in opening.intervals:
            cursor = open_at
            for booking in taken:
                if not overlaps(open_at, close_at, booking.start_at, booking.end_at):
                    continue
                if booking.start_at > cursor:
                    segments.append(Segment(cursor, booking.start_at, "free"))
                # An activity hold is the organizers' business: others see only "booked".
                own = sees_all or (
                    viewer is not None and viewer.school_id == booking.school_id and not booking.is_activity_hold
                )
                segments.append(
                    Segment(
                        max(booking.start_at, open_at),
                        min(booking.end_at, close_at),
                        "own" if own else "booked",
                        booking if own else None,
                    )
                )
                cursor = max(cursor, min(booking.end_at, close_at))
            if cursor < close_at:
                segments.append(Segment(cursor, close_at, "free"))
        result.append(WeekDay(day, opening, segments))
    return result


# Calendar ---------------------------------------------------------------------------------------


def _entry_status(booking: Booking) -> str:
    if booking.status is BookingStatus.APPROVED:
        return "confirmed"
    if booking.status is BookingStatus.PENDING:
        return "tentative"
    return "cancelled"


def _entry(booking: Booking, viewer: User) -> calendar.CalendarEntry:
    resource = booking.resource
    if booking.is_activity_hold:
        title = str(
            _l(
                "Activity session: %(title)s (%(resource)s)",
                title=booking.activity_session.title,
                resource=resource.display_name(),
            )
        )
    elif viewer.role is Role.TEACHER:
        title = str(_l("Class visit: %(resource)s", resource=resource.display_name()))
    else:
        title = str(
            _l(
                "Visit by %(school)s: %(resource)s",
                school=booking.school.display_name(),
                resource=resource.display_name(),
            )
        )
    if booking.status is BookingStatus.PENDING:
        title = str(_l("Pending: %(title)s", title=title))
    if booking.is_activity_hold:
        description = str(_l("Held for an activity session (up to %(seats)d people).", seats=booking.class_size))
    else:
        description = str(
            _l(
                "%(grade)s, %(size)d pupils, %(escorts)d teachers. Status: %(status)s.",
                grade=booking.grade,
                size=booking.class_size,
                escorts=booking.escorts,
                status=booking.status.label,
            )
        )
    return calendar.CalendarEntry(
        uid=calendar.entry_uid("booking", booking.id),
        kind="booking",
        title=title,
        start=booking.start_at,
        end=booking.end_at,
        location=resource.location,
        description=description,
        url=f"/activities/sessions/{booking.activity_session_id}"
        if booking.is_activity_hold
        else _booking_link(booking),
        status=_entry_status(booking),
        sequence=booking.calendar_sequence,
        updated=booking.updated_at,
        source_id=booking.id,
    )


def _visible_in_calendar(booking: Booking, now: datetime) -> bool:
    if booking.is_active:
        return True
    return booking.updated_at >= now - timedelta(days=CANCELLED_VISIBLE_DAYS)


def personal_calendar(user: User, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    """A teacher's own requests; a manager's resources' bookings (admins: none, too many)."""
    if user.role is Role.TEACHER:
        owner = Booking.requested_by_id == user.id
    elif user.role is Role.RESOURCE_MANAGER:
        owner = Booking.resource.has(Resource.managers.any(User.id == user.id))
    else:
        return []
    rows = db.session.scalars(
        select(Booking)
        .options(selectinload(Booking.resource), selectinload(Booking.school), selectinload(Booking.activity_session))
        .where(owner, overlap_clause(Booking.start_at, Booking.end_at, start, end))
        .order_by(Booking.start_at)
    )
    now = utcnow()
    return [_entry(b, user) for b in rows if _visible_in_calendar(b, now)]


def public_resource_calendar(resource_id: int, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    """Busy blocks only: the title says "booked", nothing about who or why."""
    resource = db.session.get(Resource, resource_id)
    if resource is None or not resource.active:
        return []
    return [
        calendar.CalendarEntry(
            uid=calendar.entry_uid("resource-busy", booking.id),
            kind="booking",
            title=str(_l("Booked")),
            start=booking.start_at,
            end=booking.end_at,
            location=resource.location,
            status="confirmed",
            sequence=booking.calendar_sequence,
            updated=booking.updated_at,
        )
        for booking in active_bookings([resource_id], start, end)
    ]


def single_booking_entry(viewer: User | None, booking_id: int) -> calendar.CalendarEntry | None:
    booking = db.session.get(Booking, booking_id)
    if booking is None or viewer is None or not can_view_booking(viewer, booking):
        return None
    return _entry(booking, viewer)


calendar.register_personal_provider("booking", personal_calendar)
calendar.register_public_provider("resource", public_resource_calendar)
calendar.register_single_provider("booking", single_booking_entry)


def _describe_resource(resource_id: int) -> str | None:
    """Public busy-block feed title of a resource; None when unknown or inactive."""
    resource = db.session.get(Resource, resource_id)
    return resource.display_name() if resource is not None and resource.active else None


calendar.register_public_scope("resource", _describe_resource)
