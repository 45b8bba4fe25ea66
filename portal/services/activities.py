"""The rules of the themed activity series: organizing, registration with a waitlist,
class blocks, attendance (list and QR), feedback, and the calendar/commitment providers.

Seat rule: `ActivitySession.seats_taken` is the sum of admitted registrations' seats,
changed only here, after `lock_for_write(ActivitySession, id)`; a CHECK constraint keeps
it within `capacity` on every database, so no interleaving can overfill a session.

Waitlist rule (strict order): places are handed out in the order people asked. A new
entry is admitted only if nobody is waiting and its seats fit; when seats free up, the
waitlist is served from the front, and a class block that does not fit stops the
queue — a smaller later entry never overtakes it. That keeps a class of 30 from being
starved by a stream of single registrations, at the price of seats staying empty until
enough free up for the block (or the block withdraws).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.database import lock_for_write
from portal.districts import DISTRICTS
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.i18n import fmt_datetime
from portal.models import (
    KNOWN_PLACES,
    LEVEL_LABELS,
    ActivityFormat,
    ActivitySeries,
    ActivitySession,
    Attendance,
    AttendanceMethod,
    Audience,
    Feedback,
    Registration,
    RegistrationStatus,
    Resource,
    Role,
    School,
    SchoolLevel,
    SeriesSubscription,
    SessionStatus,
    User,
    VenueKind,
)
from portal.models.activities import levels_to_text, series_organizer
from portal.permissions import activities as perms
from portal.services import audit, bookings, calendar, commitments, notifications
from portal.timeutil import overlap_clause, utcnow

ADMITTED = RegistrationStatus.ADMITTED
WAITLISTED = RegistrationStatus.WAITLISTED
CANCELLED = RegistrationStatus.CANCELLED

CHECKIN_SALT = "activities-checkin"
# A code shown at the venue is valid this long; the QR page renews itself well before.
CHECKIN_MAX_AGE_SECONDS = 15 * 60
# Check-in is open from this long before the start until the end.
CHECKIN_EARLY = timedelta(hours=1)
FEEDBACK_WINDOW = timedelta(days=30)
CANCELLED_VISIBLE_FOR = timedelta(days=14)
MAX_COMMENT = 1000

CANCELLED_BODY = _l(
    "The organizers have cancelled %(title)s (%(when)s, %(place)s). We are sorry for the inconvenience."
)
WAITLIST_RULE = _l(
    "The waitlist is served strictly in order. When seats free up, the first entry on the "
    "waitlist gets them; a class that does not fit yet keeps its place and later entries wait behind it."
)


# Organizing --------------------------------------------------------------------------


@dataclass
class SeriesData:
    title_zh: str
    theme: str = ""
    title_en: str | None = None
    description_zh: str = ""
    description_en: str | None = None
    audience: Audience = Audience.STUDENTS
    target_levels: list[SchoolLevel] = field(default_factory=list)
    is_public: bool = True
    organizer_ids: list[int] = field(default_factory=list)


@dataclass
class SessionData:
    title_zh: str
    format: ActivityFormat
    starts_at: datetime
    ends_at: datetime
    capacity: int
    registration_opens_at: datetime
    registration_closes_at: datetime
    eligible_levels: list[SchoolLevel]
    venue_kind: VenueKind
    venue_school_id: int | None = None
    venue_resource_id: int | None = None
    venue_name: str | None = None
    venue_address: str | None = None
    district: str | None = None
    title_en: str | None = None
    description: str = ""
    host_id: int | None = None


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _validate_series(data: SeriesData) -> None:
    errors = {}
    if not _clean(data.title_zh):
        errors["title_zh"] = _l("Enter the series' Chinese title.")
    if not data.target_levels:
        errors["target_levels"] = _l("Choose at least one school level.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), field=next(iter(errors)), errors=errors)


def _organizers(data: SeriesData) -> list[User]:
    if not data.organizer_ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(data.organizer_ids))))
    if any(u.role is not Role.MENTOR for u in users) or len(users) != len(set(data.organizer_ids)):
        raise ValidationFailed(_l("Organizers must be Party-member mentors."), field="organizer_ids")
    return users


def _apply_series(series: ActivitySeries, data: SeriesData, organizers: list[User]) -> None:
    series.title_zh = _clean(data.title_zh)
    series.title_en = _clean(data.title_en) or None
    series.description_zh = _clean(data.description_zh)
    series.description_en = _clean(data.description_en) or None
    series.theme = _clean(data.theme)
    series.audience = data.audience
    series.target_levels = levels_to_text(data.target_levels)
    series.is_public = bool(data.is_public)
    series.organizers = organizers


def create_series(actor: User, data: SeriesData) -> ActivitySeries:
    if not perms.can_create_series(actor):
        raise NotAllowed(_l("Only administrators and mentors may create activity series."))
    _validate_series(data)
    organizers = _organizers(data)
    if actor.role is Role.MENTOR and all(o.id != actor.id for o in organizers):
        organizers.append(actor)  # a mentor always organizes the series they create
    series = ActivitySeries(created_by_id=actor.id)
    _apply_series(series, data, organizers)
    db.session.add(series)
    db.session.flush()
    audit.record(actor, "create", "activity_series", series.id)
    return series


def update_series(actor: User, series: ActivitySeries, data: SeriesData) -> ActivitySeries:
    if not perms.can_manage_series(actor, series):
        raise NotAllowed(_l("Only the organizers of this series may change it."))
    _validate_series(data)
    organizers = _organizers(data)
    if not actor.is_admin and all(o.id != actor.id for o in organizers):
        raise ValidationFailed(_l("You cannot remove yourself from the organizers."), field="organizer_ids")
    _apply_series(series, data, organizers)
    db.session.flush()
    audit.record(actor, "update", "activity_series", series.id)
    return series


def _validate_session(series: ActivitySeries, data: SessionData, seats_taken: int = 0) -> School | None:
    errors: dict = {}
    if not _clean(data.title_zh):
        errors["title_zh"] = _l("Enter the session's Chinese title.")
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _l("The end must be after the start.")
    if data.capacity is None or data.capacity < 1:
        errors["capacity"] = _l("Capacity must be at least 1.")
    elif data.capacity < seats_taken:
        errors["capacity"] = _l("%(taken)d seats are already taken; the capacity cannot be lower.", taken=seats_taken)
    if data.registration_closes_at <= data.registration_opens_at:
        errors["registration_closes_at"] = _l("Registration must close after it opens.")
    elif data.registration_closes_at > data.ends_at:
        errors["registration_closes_at"] = _l("Registration must close before the session ends.")
    if not data.eligible_levels:
        errors["eligible_levels"] = _l("Choose at least one school level.")
    school = None
    if data.venue_kind is VenueKind.SCHOOL:
        school = db.session.get(School, data.venue_school_id) if data.venue_school_id else None
        if school is None:
            errors["venue_school_id"] = _l("Choose the school where the session takes place.")
    elif data.venue_kind is VenueKind.RESOURCE:
        # Opening hours, closures and clashes are checked by `bookings.hold_for_activity`.
        resource = db.session.get(Resource, data.venue_resource_id) if data.venue_resource_id else None
        if resource is None or not resource.active:
            errors["venue_resource_id"] = _l("Choose the lab or library where the session takes place.")
    else:
        known = KNOWN_PLACES.get(_clean(data.venue_name))
        if known:
            data.venue_address = _clean(data.venue_address) or known[0]
            data.district = data.district or known[1]
        if not _clean(data.venue_name):
            errors["venue_name"] = _l("Enter the name of the place, e.g. 红岩革命纪念馆.")
        if data.district not in DISTRICTS:
            errors["district"] = _l("Choose the district of the place.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), field=next(iter(errors)), errors=errors)
    return school


def venue_resource_choices() -> dict[str, list[tuple[int, str]]]:
    """Active labs and libraries, grouped by university, for the session form's venue."""
    resources = db.session.scalars(
        select(Resource).where(Resource.active.is_(True)).order_by(Resource.university_id, Resource.name_zh)
    )
    grouped: dict[str, list[tuple[int, str]]] = {}
    for resource in resources:
        place = " ".join(part for part in (resource.building, resource.room) if part)
        label = f"{resource.display_name()} · {place}" if place else resource.display_name()
        grouped.setdefault(resource.university.display_name(), []).append((resource.id, label))
    return grouped


def _host(data: SessionData) -> User | None:
    if not data.host_id:
        return None
    host = db.session.get(User, data.host_id)
    if host is None or host.role is not Role.MENTOR or not host.active:
        raise ValidationFailed(_l("The host must be an active Party-member mentor."), field="host_id")
    return host


def _apply_session(session: ActivitySession, data: SessionData, school: School | None) -> bool:
    """Copy the data; True when time, place, title or status changed (a calendar update)."""
    before = (
        session.starts_at,
        session.ends_at,
        session.venue_kind,
        session.venue_school_id,
        session.venue_resource_id,
        session.venue_name,
        session.title_zh,
        session.title_en,
    )
    session.title_zh = _clean(data.title_zh)
    session.title_en = _clean(data.title_en) or None
    session.description = _clean(data.description)
    session.format = data.format
    session.starts_at = data.starts_at
    session.ends_at = data.ends_at
    session.capacity = data.capacity
    session.registration_opens_at = data.registration_opens_at
    session.registration_closes_at = data.registration_closes_at
    session.eligible_levels = levels_to_text(data.eligible_levels)
    session.venue_kind = data.venue_kind
    session.host_id = data.host_id or None
    session.venue_resource_id = None
    if school is not None:
        session.venue_school_id = school.id
        session.venue_name = None
        session.venue_address = _clean(data.venue_address) or None
        session.district = school.district
    elif data.venue_kind is VenueKind.RESOURCE:
        resource = db.session.get(Resource, data.venue_resource_id)
        session.venue_school_id = None
        session.venue_resource_id = resource.id
        session.venue_resource = resource
        session.venue_name = None
        session.venue_address = None
        session.district = resource.university.district
    else:
        session.venue_school_id = None
        session.venue_name = _clean(data.venue_name)
        session.venue_address = _clean(data.venue_address) or None
        session.district = data.district
    after = (
        session.starts_at,
        session.ends_at,
        session.venue_kind,
        session.venue_school_id,
        session.venue_resource_id,
        session.venue_name,
        session.title_zh,
        session.title_en,
    )
    return before != after


def _place_key(data: SessionData) -> str:
    """As `ActivitySession.place_key`: a resource counts as its university's campus."""
    if data.venue_kind is VenueKind.SCHOOL:
        return f"school:{data.venue_school_id}"
    if data.venue_kind is VenueKind.RESOURCE:
        resource = db.session.get(Resource, data.venue_resource_id)
        return f"school:{resource.university_id}"
    return f"venue:{_clean(data.venue_name)}"


def create_session(actor: User, series: ActivitySeries, data: SessionData) -> ActivitySession:
    if not perms.can_manage_series(actor, series):
        raise NotAllowed(_l("Only the organizers of this series may add sessions."))
    series_id = series.id
    school = _validate_session(series, data)
    host = _host(data)
    if host is not None:
        # The host's time is serialised before the check, so two assignments cannot both pass.
        host = commitments.lock_person(host)
        commitments.ensure_free(host, data.starts_at, data.ends_at, _place_key(data), field="host_id")
    series = db.session.get(ActivitySeries, series_id)
    session = ActivitySession(series_id=series_id, seats_taken=0, calendar_sequence=0)
    _apply_session(session, data, school)
    if data.venue_kind is VenueKind.RESOURCE:
        # Session and hold are written together; a clash writes neither.
        bookings.hold_for_activity(
            actor, data.venue_resource_id, data.starts_at, data.ends_at, session=session, seats=data.capacity
        )
    series = db.session.get(ActivitySeries, series_id)
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "create", "activity_session", session.id)
    _tell_subscribers(series, session, new=True)
    return session


def update_session(actor: User, session: ActivitySession, data: SessionData) -> ActivitySession:
    if not perms.can_manage_session(actor, session):
        raise NotAllowed(_l("Only the organizers of this series may change its sessions."))
    session_id = session.id
    session = lock_for_write(ActivitySession, session_id)
    if session.is_cancelled:
        raise Conflict(_l("A cancelled session cannot be changed."))
    school = _validate_session(session.series, data, seats_taken=session.seats_taken)
    host = _host(data)
    moved = (data.starts_at, data.ends_at, _place_key(data)) != (session.starts_at, session.ends_at, session.place_key)
    if host is not None and (moved or host.id != session.host_id):
        host = commitments.lock_person(host)
        session = db.session.get(ActivitySession, session_id)
        commitments.ensure_free(
            host,
            data.starts_at,
            data.ends_at,
            _place_key(data),
            ignore=("session", session_id),
            field="host_id",
        )
    changed = _apply_session(session, data, school)
    if changed:
        session.calendar_sequence += 1
    if data.venue_kind is VenueKind.RESOURCE:
        bookings.hold_for_activity(
            actor, data.venue_resource_id, data.starts_at, data.ends_at, session=session, seats=data.capacity
        )
    else:
        bookings.release_activity_hold(actor, session.id)
    promoted = _promote(session)
    db.session.flush()
    audit.record(actor, "update", "activity_session", session.id)
    if changed:
        for registration in _active_registrations(session):
            if registration in promoted:
                continue
            _notify(
                registration.user,
                session,
                "activity_changed",
                _l("Session changed: %(title)s"),
                _l("The time, place or title of %(title)s has changed. It now starts %(when)s at %(place)s."),
            )
    return session


def cancel_session(actor: User, session: ActivitySession) -> ActivitySession:
    """Cancelled by the organizer: everyone registered or waiting is told; the session stays
    in calendars as cancelled for two weeks."""
    if not perms.can_manage_session(actor, session):
        raise NotAllowed(_l("Only the organizers of this series may cancel its sessions."))
    session = lock_for_write(ActivitySession, session.id)
    if session.is_cancelled:
        raise Conflict(_l("This session is already cancelled."))
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = utcnow()
    session.calendar_sequence += 1
    bookings.release_activity_hold(actor, session.id)
    for registration in _active_registrations(session):
        _notify(
            registration.user,
            session,
            "activity_cancelled",
            _l("Session cancelled: %(title)s"),
            CANCELLED_BODY,
        )
    _tell_subscribers(session.series, session, new=False)
    audit.record(actor, "cancel", "activity_session", session.id)
    return session


def _tell_subscribers(series: ActivitySeries, session: ActivitySession, *, new: bool) -> None:
    subscriptions = db.session.scalars(select(SeriesSubscription).where(SeriesSubscription.series_id == series.id))
    for subscription in subscriptions:
        if new:
            _notify(
                subscription.user,
                session,
                "activity_new_session",
                _l("New session: %(title)s"),
                _l("A new session, %(title)s, starts %(when)s at %(place)s."),
            )
        else:
            _notify(
                subscription.user,
                session,
                "activity_cancelled",
                _l("Session cancelled: %(title)s"),
                CANCELLED_BODY,
            )


def _notify(user: User, session: ActivitySession, kind: str, subject, body) -> None:
    """`subject`/`body` are lazy strings with %(title)s, %(when)s and %(place)s; they are
    rendered in the recipient's language, with the session's title in that language."""
    with force_locale(notifications.recipient_locale(user)):
        values = {"title": session.title, "when": fmt_datetime(session.starts_at), "place": session.venue_label}
        subject_text = str(subject) % values
        body_text = str(body) % values
    notifications.notify(user, kind, subject_text, body_text, link=f"/activities/sessions/{session.id}")


# Registration ------------------------------------------------------------------------


def _active_registrations(session: ActivitySession) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.session_id == session.id, Registration.status.in_((ADMITTED, WAITLISTED)))
            .order_by(Registration.queue_number, Registration.id)
        )
    )


def check_eligibility(actor: User, session: ActivitySession, *, class_label: str = "", seats: int = 1) -> None:
    """Raise a clear message when `actor` may not take these seats (nothing is written)."""
    series = session.series
    if actor.role not in (Role.STUDENT, Role.TEACHER):
        raise NotAllowed(_l("Only students and school teachers can register for sessions."))
    if series.audience is Audience.TEACHERS:
        if actor.role is not Role.TEACHER:
            raise NotAllowed(_l("This seminar is for school teachers."))
        if class_label:
            raise ValidationFailed(_l("Teachers register themselves for seminars, not a class."), field="class_label")
    elif actor.role is Role.TEACHER and not class_label:
        raise ValidationFailed(_l("Enter the class you are registering, e.g. 初二（3）班."), field="class_label")
    elif actor.role is Role.STUDENT and (class_label or seats != 1):
        raise NotAllowed(_l("Students register themselves; only a teacher registers a class."))
    if class_label:
        if seats is None or seats < 1:
            raise ValidationFailed(_l("A class has at least one pupil."), field="seats")
        if seats > session.capacity:
            raise ValidationFailed(
                _l(
                    "This session has %(capacity)d seats; a class of %(seats)d cannot be registered as one block.",
                    capacity=session.capacity,
                    seats=seats,
                ),
                field="seats",
            )
    school = actor.school
    if school is None:
        raise ValidationFailed(_l("Your account has no school, so your level is unknown. Ask an administrator."))
    if school.level not in session.levels:
        raise ValidationFailed(
            _l(
                "This session is for %(levels)s; your school is a %(level)s.",
                levels="、".join(session.level_labels),
                level=str(LEVEL_LABELS[school.level]),
            )
        )


def _check_registration_open(session: ActivitySession, now: datetime) -> None:
    if session.is_cancelled:
        raise Conflict(_l("This session has been cancelled."))
    if now < session.registration_opens_at:
        raise Conflict(_l("Registration opens %(when)s.", when=fmt_datetime(session.registration_opens_at)))
    if now >= session.registration_closes_at:
        raise Conflict(_l("Registration for this session has closed."))


def register(
    actor: User,
    session_id: int,
    *,
    class_label: str = "",
    seats: int = 1,
    now: datetime | None = None,
) -> Registration:
    """Admit `actor` (or their class as one block) or put them on the waitlist.

    The session row is locked first, so the seat count read here is the one written:
    concurrent registrations queue up behind the lock, in the order they get it.
    """
    now = now or utcnow()
    class_label = _clean(class_label)[:60]
    session = lock_for_write(ActivitySession, session_id)
    if session is None:
        raise NotFound(_l("This session does not exist."))
    if not perms.can_view_session(actor, session):
        raise NotFound(_l("This session does not exist."))
    if actor.role is Role.STUDENT or session.series.audience is Audience.TEACHERS:
        seats = 1
    check_eligibility(actor, session, class_label=class_label, seats=seats)
    _check_registration_open(session, now)
    duplicate = db.session.scalar(
        select(Registration.id).where(
            Registration.session_id == session.id,
            Registration.user_id == actor.id,
            Registration.class_label == class_label,
            Registration.status.in_((ADMITTED, WAITLISTED)),
        )
    )
    if duplicate:
        if class_label:
            raise Conflict(_l("You have already registered this class."), field="class_label")
        raise Conflict(_l("You are already registered for this session."))
    someone_waiting = db.session.scalar(
        select(Registration.id).where(Registration.session_id == session.id, Registration.status == WAITLISTED).limit(1)
    )
    last = db.session.scalar(select(func.max(Registration.queue_number)).where(Registration.session_id == session.id))
    admitted = not someone_waiting and session.seats_taken + seats <= session.capacity
    registration = Registration(
        session_id=session.id,
        user_id=actor.id,
        seats=seats,
        class_label=class_label,
        status=ADMITTED if admitted else WAITLISTED,
        queue_number=(last or 0) + 1,
        admitted_at=now if admitted else None,
    )
    if admitted:
        session.seats_taken += seats
    db.session.add(registration)
    try:
        db.session.flush()
    except IntegrityError as error:  # the unique index: a double click that got past the check
        db.session.rollback()
        raise Conflict(_l("You are already registered for this session.")) from error
    return registration


def cancel_registration(actor: User, registration_id: int, *, now: datetime | None = None) -> Registration:
    """Withdraw a place. The person themself may do it until registration closes; an
    organizer may remove anyone at any time. Freed seats go to the waitlist at once."""
    now = now or utcnow()
    found = db.session.get(Registration, registration_id)
    if found is None or not perms.can_cancel_registration(actor, found):
        raise NotFound(_l("This registration does not exist."))
    by_organizer = perms.can_manage_session(actor, found.session) and found.user_id != actor.id
    session = lock_for_write(ActivitySession, found.session_id)
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    if not registration.is_active:
        raise Conflict(_l("This registration is already cancelled."))
    if not by_organizer and now >= session.registration_closes_at:
        raise Conflict(_l("Registration has closed, so you can no longer cancel here. Please tell the organizers."))
    was_admitted = registration.status is ADMITTED
    registration.status = CANCELLED
    registration.cancelled_at = now
    registration.calendar_sequence += 1
    if was_admitted:
        session.seats_taken -= registration.seats
        db.session.flush()
        _promote(session, now=now)
    if by_organizer:
        _notify(
            registration.user,
            session,
            "activity_removed",
            _l("Registration cancelled: %(title)s"),
            _l("The organizers have cancelled your registration for %(title)s (%(when)s)."),
        )
        audit.record(actor, "cancel", "activity_registration", registration.id)
    db.session.flush()
    return registration


def _promote(session: ActivitySession, *, now: datetime | None = None) -> list[Registration]:
    """Move waitlisted entries up, strictly in order, while the first one fits."""
    now = now or utcnow()
    if session.is_cancelled or now >= session.starts_at:
        return []
    promoted: list[Registration] = []
    waiting = db.session.scalars(
        select(Registration)
        .where(Registration.session_id == session.id, Registration.status == WAITLISTED)
        .order_by(Registration.queue_number, Registration.id)
    )
    for registration in waiting:
        if session.seats_taken + registration.seats > session.capacity:
            break  # strict order: nobody passes a block that does not fit yet
        registration.status = ADMITTED
        registration.admitted_at = now
        registration.calendar_sequence += 1
        session.seats_taken += registration.seats
        promoted.append(registration)
        _notify(
            registration.user,
            session,
            "activity_promoted",
            _l("You have a place: %(title)s"),
            _l("A seat has freed up and your waitlist entry for %(title)s (%(when)s, %(place)s) is now confirmed."),
        )
    return promoted


def waitlist_positions(registrations) -> dict[int, int | None]:
    """Queue places of many registrations in one query (a page lists several), keyed by id;
    None for those not waiting. Same order as `waitlist_position`."""
    registrations = list(registrations)
    session_ids = {r.session_id for r in registrations if r.status is WAITLISTED}
    places: dict[int, int | None] = {r.id: None for r in registrations}
    if not session_ids:
        return places
    place = (
        func.row_number()
        .over(partition_by=Registration.session_id, order_by=(Registration.queue_number, Registration.id))
        .label("place")
    )
    ranked = (
        select(Registration.id, place)
        .where(Registration.session_id.in_(session_ids), Registration.status == WAITLISTED)
        .subquery()
    )
    for registration_id, number in db.session.execute(select(ranked.c.id, ranked.c.place)):
        if registration_id in places:
            places[registration_id] = number
    return places


def waitlist_position(registration: Registration) -> int | None:
    """1-based place in the queue (counting entries, not seats), or None if not waiting."""
    if registration.status is not WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.session_id == registration.session_id,
            Registration.status == WAITLISTED,
            or_(
                Registration.queue_number < registration.queue_number,
                (Registration.queue_number == registration.queue_number) & (Registration.id < registration.id),
            ),
        )
    )
    return (ahead or 0) + 1


def waiting_counts(session_ids) -> dict[int, int]:
    """Entries on the waitlist per session, in one query (for lists and calendars). A session
    with anyone waiting takes no new direct registrations, whatever seats are free."""
    ids = list(session_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Registration.session_id, func.count(Registration.id))
        .where(Registration.session_id.in_(ids), Registration.status == WAITLISTED)
        .group_by(Registration.session_id)
    )
    return {session_id: count for session_id, count in rows}


def registrations_of(user: User, session: ActivitySession) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.session_id == session.id,
                Registration.user_id == user.id,
                Registration.status.in_((ADMITTED, WAITLISTED)),
            )
            .order_by(Registration.queue_number)
        )
    )


def my_registrations(user: User) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id, Registration.status.in_((ADMITTED, WAITLISTED)))
            .join(Registration.session)
            .order_by(ActivitySession.starts_at.desc())
        ).unique()
    )


def session_roster(session: ActivitySession) -> list[Registration]:
    """Everyone registered or waiting, in queue order, with their users loaded."""
    return _active_registrations(session)


# Attendance ----------------------------------------------------------------------------


def record_attendance(
    actor: User,
    session: ActivitySession,
    present_user_ids: set[int],
    class_counts: dict[int, int],
    *,
    now: datetime | None = None,
) -> None:
    """Mark attendance from the list: individuals present or not, and for each class block
    how many pupils came."""
    now = now or utcnow()
    if not perms.can_take_attendance(actor, session):
        raise NotAllowed(_l("Only the organizers and the host may take attendance."))
    if now < session.starts_at - CHECKIN_EARLY:
        raise Conflict(_l("Attendance can be taken once the session is about to start."))
    if session.is_cancelled:
        raise Conflict(_l("This session has been cancelled."))
    admitted = [r for r in _active_registrations(session) if r.status is ADMITTED]
    errors = {}
    for registration in admitted:
        if registration.is_class and registration.id in class_counts:
            count = class_counts[registration.id]
            if count is None or count < 0 or count > registration.seats:
                errors[f"class_{registration.id}"] = _l("Enter a number from 0 to %(seats)d.", seats=registration.seats)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), field=next(iter(errors)), errors=errors)
    existing = {a.user_id: a for a in db.session.scalars(select(Attendance).where(Attendance.session_id == session.id))}
    for registration in admitted:
        if registration.is_class:
            if registration.id in class_counts:
                registration.attended_seats = class_counts[registration.id]
            continue
        present = registration.user_id in present_user_ids
        record = existing.get(registration.user_id)
        if present and record is None:
            db.session.add(
                Attendance(
                    session_id=session.id,
                    user_id=registration.user_id,
                    registration_id=registration.id,
                    method=AttendanceMethod.LIST,
                    checked_in_at=now,
                    marked_by_id=actor.id,
                )
            )
        elif not present and record is not None and record.registration_id == registration.id:
            db.session.delete(record)
    db.session.flush()
    audit.record(actor, "attendance", "activity_session", session.id)


def attendance_by_user(session: ActivitySession) -> dict[int, Attendance]:
    return {a.user_id: a for a in db.session.scalars(select(Attendance).where(Attendance.session_id == session.id))}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CHECKIN_SALT)


def checkin_token(session: ActivitySession) -> str:
    """A signed code bound to this session; it expires after CHECKIN_MAX_AGE_SECONDS."""
    return _serializer().dumps({"session": session.id})


def check_in_with_token(actor: User, session_id: int, token: str, *, now: datetime | None = None) -> Attendance:
    """A student scans the code shown at the venue. Refused, with nothing written, when the
    code is expired, forged or for another session, or when the student has no place
    (neither their own registration nor one for a class of their school)."""
    now = now or utcnow()
    try:
        payload = _serializer().loads(token or "", max_age=CHECKIN_MAX_AGE_SECONDS)
    except SignatureExpired as error:
        raise ValidationFailed(
            _l("This check-in code has expired. Ask the organizer to show the current code and scan it again.")
        ) from error
    except BadSignature as error:
        raise ValidationFailed(_l("This is not a valid check-in code of this portal.")) from error
    if not isinstance(payload, dict) or payload.get("session") != session_id:
        raise ValidationFailed(_l("This check-in code belongs to a different session."))
    session = db.session.get(ActivitySession, session_id)
    if session is None:
        raise NotFound(_l("This session does not exist."))
    if actor.role is not Role.STUDENT:
        raise NotAllowed(_l("Only students check in with the code."))
    if session.is_cancelled:
        raise Conflict(_l("This session has been cancelled."))
    if not (session.starts_at - CHECKIN_EARLY <= now < session.ends_at):
        raise Conflict(_l("Check-in is open from one hour before the start until the end of the session."))
    existing = db.session.scalar(
        select(Attendance).where(Attendance.session_id == session.id, Attendance.user_id == actor.id)
    )
    if existing is not None:
        return existing
    own = db.session.scalar(
        select(Registration).where(
            Registration.session_id == session.id,
            Registration.user_id == actor.id,
            Registration.status == ADMITTED,
        )
    )
    if own is None:
        with_class = db.session.scalar(
            select(Registration.id)
            .join(User, User.id == Registration.user_id)
            .where(
                Registration.session_id == session.id,
                Registration.status == ADMITTED,
                Registration.class_label != "",
                User.school_id == actor.school_id,
            )
            .limit(1)
        )
        if actor.school_id is None or with_class is None:
            raise Conflict(_l("You have no place in this session, and no class of your school is registered."))
    attendance = Attendance(
        session_id=session.id,
        user_id=actor.id,
        registration_id=own.id if own else None,
        method=AttendanceMethod.QR,
        checked_in_at=now,
    )
    db.session.add(attendance)
    try:
        db.session.flush()
    except IntegrityError:  # scanned twice at the same moment
        db.session.rollback()
        return db.session.scalar(
            select(Attendance).where(Attendance.session_id == session_id, Attendance.user_id == actor.id)
        )
    return attendance


@dataclass
class ParticipationRecord:
    attendances: list[Attendance]
    total_hours: float

    @property
    def count(self) -> int:
        return len(self.attendances)


def participation_record(user: User) -> ParticipationRecord:
    """Sessions a student attended and the hours, for 综合素质评价."""
    attendances = list(
        db.session.scalars(
            select(Attendance)
            .join(ActivitySession, ActivitySession.id == Attendance.session_id)
            .where(Attendance.user_id == user.id, ActivitySession.status == SessionStatus.SCHEDULED)
            .order_by(ActivitySession.starts_at)
        )
    )
    return ParticipationRecord(attendances, round(sum(a.session.hours for a in attendances), 1))


# Feedback ---------------------------------------------------------------------------------


def feedback_status(user: User, session: ActivitySession, now: datetime | None = None):
    """(may answer now, existing answer or None)."""
    now = now or utcnow()
    existing = db.session.scalar(select(Feedback).where(Feedback.session_id == session.id, Feedback.user_id == user.id))
    if existing is not None or session.is_cancelled:
        return False, existing
    if not (session.ends_at <= now < session.ends_at + FEEDBACK_WINDOW):
        return False, None
    return _attended(user, session), None


def _attended(user: User, session: ActivitySession) -> bool:
    if db.session.scalar(
        select(Attendance.id).where(Attendance.session_id == session.id, Attendance.user_id == user.id)
    ):
        return True
    # A teacher whose class came answers for the class.
    return bool(
        db.session.scalar(
            select(Registration.id).where(
                Registration.session_id == session.id,
                Registration.user_id == user.id,
                Registration.status == ADMITTED,
                Registration.attended_seats > 0,
            )
        )
    )


def submit_feedback(
    actor: User, session: ActivitySession, rating: int | None, comment: str = "", *, now: datetime | None = None
) -> Feedback:
    now = now or utcnow()
    if session.is_cancelled:
        raise Conflict(_l("This session has been cancelled."))
    if now < session.ends_at:
        raise Conflict(_l("The survey opens when the session has ended."))
    if now >= session.ends_at + FEEDBACK_WINDOW:
        raise Conflict(_l("The survey for this session has closed."))
    if not _attended(actor, session):
        raise NotAllowed(_l("Only people who attended the session can answer its survey."))
    if rating is None or not 1 <= rating <= 5:
        raise ValidationFailed(_l("Choose a rating from 1 to 5."), field="rating")
    comment = _clean(comment)
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(_l("Keep the comment under %(n)d characters.", n=MAX_COMMENT), field="comment")
    exists = db.session.scalar(
        select(Feedback.id).where(Feedback.session_id == session.id, Feedback.user_id == actor.id)
    )
    if exists:
        raise Conflict(_l("You have already answered the survey for this session."))
    feedback = Feedback(session_id=session.id, user_id=actor.id, rating=rating, comment=comment)
    db.session.add(feedback)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_l("You have already answered the survey for this session.")) from error
    return feedback


@dataclass
class FeedbackSummary:
    count: int
    average: float | None
    distribution: dict[int, int]
    comments: list[str]


def _summary(rows: list[Feedback]) -> FeedbackSummary:
    counts = Counter(f.rating for f in rows)
    average = round(sum(f.rating for f in rows) / len(rows), 2) if rows else None
    return FeedbackSummary(
        count=len(rows),
        average=average,
        distribution={n: counts.get(n, 0) for n in range(5, 0, -1)},
        comments=[f.comment for f in rows if f.comment],
    )


def session_feedback(session: ActivitySession) -> FeedbackSummary:
    """Answers are shown without names: many respondents are minors."""
    rows = list(
        db.session.scalars(
            select(Feedback).where(Feedback.session_id == session.id).order_by(Feedback.created_at.desc())
        )
    )
    return _summary(rows)


def series_feedback(series: ActivitySeries) -> tuple[FeedbackSummary, list[tuple[ActivitySession, FeedbackSummary]]]:
    rows = list(
        db.session.scalars(
            select(Feedback)
            .join(ActivitySession, ActivitySession.id == Feedback.session_id)
            .where(ActivitySession.series_id == series.id)
            .order_by(Feedback.created_at.desc())
        )
    )
    by_session: dict[int, list[Feedback]] = {}
    for row in rows:
        by_session.setdefault(row.session_id, []).append(row)
    sessions = list_sessions(series)
    return _summary(rows), [(s, _summary(by_session.get(s.id, []))) for s in sessions if s.id in by_session]


# Series subscription ---------------------------------------------------------------------


def is_following(user: User | None, series: ActivitySeries) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(
        db.session.scalar(
            select(SeriesSubscription.id).where(
                SeriesSubscription.series_id == series.id, SeriesSubscription.user_id == user.id
            )
        )
    )


def follow_series(actor: User, series: ActivitySeries, follow: bool = True) -> None:
    """Be told (in the portal and by email) when the series adds or cancels a session."""
    if not perms.can_view_series(actor, series):
        raise NotFound(_l("This series does not exist."))
    existing = db.session.scalar(
        select(SeriesSubscription).where(
            SeriesSubscription.series_id == series.id, SeriesSubscription.user_id == actor.id
        )
    )
    if follow and existing is None:
        db.session.add(SeriesSubscription(series_id=series.id, user_id=actor.id))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
    elif not follow and existing is not None:
        db.session.delete(existing)
        db.session.flush()


# Listing and the calendar ------------------------------------------------------------------


@dataclass
class CalendarFilters:
    series_id: int | None = None
    level: SchoolLevel | None = None
    format: ActivityFormat | None = None
    district: str | None = None


def _visible(stmt, viewer: User | None):
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return stmt.where(ActivitySeries.is_public.is_(True))
    return stmt


def sessions_between(
    viewer: User | None, start: datetime, end: datetime, filters: CalendarFilters | None = None
) -> list[ActivitySession]:
    """Sessions overlapping [start, end) that `viewer` may see, with their series and venue
    loaded in the same query (the calendar pages issue one query whatever the size)."""
    filters = filters or CalendarFilters()
    stmt = (
        select(ActivitySession)
        .join(ActivitySession.series)
        .where(overlap_clause(ActivitySession.starts_at, ActivitySession.ends_at, start, end))
        .order_by(ActivitySession.starts_at, ActivitySession.id)
    )
    stmt = _visible(stmt, viewer)
    if filters.series_id:
        stmt = stmt.where(ActivitySession.series_id == filters.series_id)
    if filters.level:
        stmt = stmt.where(ActivitySession.eligible_levels.like(f"%,{filters.level.value},%"))
    if filters.format:
        stmt = stmt.where(ActivitySession.format == filters.format)
    if filters.district:
        stmt = stmt.where(ActivitySession.district == filters.district)
    return list(db.session.scalars(stmt).unique())


def visible_series(viewer: User | None) -> list[ActivitySeries]:
    stmt = _visible(select(ActivitySeries), viewer).order_by(ActivitySeries.created_at.desc(), ActivitySeries.id)
    return list(db.session.scalars(stmt))


def managed_series(actor: User) -> list[ActivitySeries]:
    stmt = select(ActivitySeries).order_by(ActivitySeries.created_at.desc())
    if not actor.is_admin:
        stmt = stmt.join(series_organizer).where(series_organizer.c.user_id == actor.id)
    return list(db.session.scalars(stmt).unique())


def list_sessions(series: ActivitySeries) -> list[ActivitySession]:
    return list(
        db.session.scalars(
            select(ActivitySession)
            .where(ActivitySession.series_id == series.id)
            .order_by(ActivitySession.starts_at, ActivitySession.id)
        ).unique()
    )


def hosted_sessions(user: User) -> list[ActivitySession]:
    return list(
        db.session.scalars(
            select(ActivitySession)
            .where(ActivitySession.host_id == user.id, ActivitySession.ends_at >= utcnow() - timedelta(days=30))
            .order_by(ActivitySession.starts_at)
        ).unique()
    )


def _status_of(session: ActivitySession) -> str:
    return "cancelled" if session.is_cancelled else "confirmed"


def _still_listed(session: ActivitySession, now: datetime) -> bool:
    if not session.is_cancelled:
        return True
    return (session.cancelled_at or session.updated_at) + CANCELLED_VISIBLE_FOR > now


def session_entry(session: ActivitySession, *, status: str | None = None, sequence: int | None = None, title=None):
    description = session.series.title
    if session.description:
        description = f"{description}\n{session.description}"
    return calendar.CalendarEntry(
        uid=calendar.entry_uid("session", session.id),
        kind="session",
        title=title or session.title,
        start=session.starts_at,
        end=session.ends_at,
        location=session.location_text,
        description=description,
        url=f"/activities/sessions/{session.id}",
        status=status or _status_of(session),
        sequence=session.calendar_sequence if sequence is None else sequence,
        updated=session.updated_at,
        source_id=session.id,
    )


def personal_calendar(user: User, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    """A person's registrations (waitlisted → tentative), a teacher's class blocks, and the
    sessions a mentor hosts or organizes — one entry per session."""
    now = utcnow()
    window = overlap_clause(ActivitySession.starts_at, ActivitySession.ends_at, start, end)
    registrations = db.session.scalars(
        select(Registration)
        .join(Registration.session)
        .where(Registration.user_id == user.id, Registration.status.in_((ADMITTED, WAITLISTED)), window)
    ).unique()
    best: dict[int, Registration] = {}
    for registration in registrations:
        current = best.get(registration.session_id)
        if current is None or (current.status is WAITLISTED and registration.status is ADMITTED):
            best[registration.session_id] = registration
    entries: dict[int, calendar.CalendarEntry] = {}
    for registration in best.values():
        session = registration.session
        if not _still_listed(session, now):
            continue
        sequence = session.calendar_sequence + registration.calendar_sequence
        if registration.status is WAITLISTED and not session.is_cancelled:
            title = str(_l("Waitlist: %(title)s", title=session.title))
            entries[session.id] = session_entry(session, status="tentative", sequence=sequence, title=title)
        else:
            entries[session.id] = session_entry(session, sequence=sequence)
    run = db.session.scalars(
        select(ActivitySession)
        .outerjoin(series_organizer, series_organizer.c.series_id == ActivitySession.series_id)
        .where(window, or_(ActivitySession.host_id == user.id, series_organizer.c.user_id == user.id))
    ).unique()
    for session in run:
        if session.id not in entries and _still_listed(session, now):
            entries[session.id] = session_entry(session)
    return list(entries.values())


def _public_entries(stmt, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    now = utcnow()
    stmt = stmt.join(ActivitySession.series).where(
        ActivitySeries.is_public.is_(True),
        overlap_clause(ActivitySession.starts_at, ActivitySession.ends_at, start, end),
    )
    return [session_entry(s) for s in db.session.scalars(stmt).unique() if _still_listed(s, now)]


def public_series_calendar(series_id: int, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    return _public_entries(select(ActivitySession).where(ActivitySession.series_id == series_id), start, end)


def public_school_calendar(school_id: int, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    return _public_entries(select(ActivitySession).where(ActivitySession.venue_school_id == school_id), start, end)


def single_session_entry(viewer: User | None, session_id: int) -> calendar.CalendarEntry | None:
    session = db.session.get(ActivitySession, session_id)
    if session is None or not perms.can_view_session(viewer, session):
        return None
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        mine = [r for r in registrations_of(viewer, session)]
        if mine and all(r.status is WAITLISTED for r in mine) and not session.is_cancelled:
            title = str(_l("Waitlist: %(title)s", title=session.title))
            sequence = session.calendar_sequence + mine[0].calendar_sequence
            return session_entry(session, status="tentative", sequence=sequence, title=title)
    return session_entry(session)


def hosted_commitments(user: User, start: datetime, end: datetime) -> list[commitments.Commitment]:
    sessions = db.session.scalars(
        select(ActivitySession).where(
            ActivitySession.host_id == user.id,
            ActivitySession.status == SessionStatus.SCHEDULED,
            overlap_clause(ActivitySession.starts_at, ActivitySession.ends_at, start, end),
        )
    ).unique()
    return [
        commitments.Commitment(
            kind="session",
            ref_id=s.id,
            start=s.starts_at,
            end=s.ends_at,
            place=s.place_key,
            label=s.title,
        )
        for s in sessions
    ]


calendar.register_personal_provider("registration", personal_calendar)
calendar.register_public_provider("series", public_series_calendar)
calendar.register_public_provider("school", public_school_calendar)
calendar.register_single_provider("session", single_session_entry)
commitments.register_provider("session", hosted_commitments)


def _describe_series(series_id: int) -> str | None:
    """Public feed title of a series; None when unknown or not public (its feed is then a 404)."""
    series = db.session.get(ActivitySeries, series_id)
    return series.title if series is not None and series.is_public else None


calendar.register_public_scope("series", _describe_series)
