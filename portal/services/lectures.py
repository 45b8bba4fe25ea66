"""The rules of cross-level lectures, in one place.

A teacher posts a request for their school (1–3 candidate windows); a Party-member mentor
claims it by choosing a window (or a teacher books a slot of a mentor's offer); the school
confirms; the mentor records delivery; the school gives feedback. Either side may cancel
(a mentor's withdrawal returns the request to open). Every status change notifies the other
side and bumps `calendar_sequence`.

No double booking: every assignment of a mentor's time locks the mentor first
(`commitments.lock_person`), then the lecture row, then asks `commitments.ensure_free`,
which sees every area's commitments and the travel buffer. Always person before lecture,
so two transactions never wait on each other in opposite orders (PostgreSQL deadlocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.database import is_sqlite, lock_for_write
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    GRADE_LABELS,
    LectureOffer,
    LectureOfferSlot,
    LectureRequest,
    LectureServiceTarget,
    LectureStatus,
    LectureTheme,
    LectureWindow,
    OfferStatus,
    Role,
    School,
    User,
)
from portal.models.lectures import DONE_STATUSES, HELD_STATUSES, pack_grades
from portal.permissions import lectures as perm
from portal.services import audit, calendar, commitments, notifications
from portal.timeutil import local_datetime, local_today, overlap_clause, to_local, utcnow

KIND = "lecture"
MAX_WINDOWS = 3
MIN_DURATION, MAX_DURATION = 20, 240
MAX_AUDIENCE = 3000
CANCELLED_VISIBLE_DAYS = 14


# Input ------------------------------------------------------------------------------


@dataclass
class Window:
    """A candidate window as entered; `position` (1..3) names the form fields."""

    position: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class RequestData:
    topic: str
    theme: LectureTheme
    grades: list[str]
    audience_size: int | None
    duration_minutes: int | None
    windows: list[Window]
    address: str = ""
    room: str = ""
    notes: str = ""


@dataclass
class OfferData:
    topic: str
    theme: LectureTheme
    abstract: str
    grades: list[str]
    slots: list[Window]


@dataclass
class BookingData:
    grades: list[str]
    audience_size: int | None
    address: str = ""
    room: str = ""
    notes: str = ""


def when_text(value: datetime) -> str:
    """Locale-neutral local time for notification texts (rendered later, in any language)."""
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def _link(lecture: LectureRequest) -> str:
    return f"/lectures/{lecture.id}"


def _check_audience_and_grades(errors: dict, grades: list[str], audience_size: int | None) -> None:
    if not grades or any(code not in GRADE_LABELS for code in grades):
        errors["grades"] = _l("Choose at least one grade.")
    if audience_size is None or audience_size <= 0:
        errors["audience_size"] = _l("The audience must be at least one person.")
    elif audience_size > MAX_AUDIENCE:
        errors["audience_size"] = _l(
            "An audience of more than %(max)d cannot be served by one lecture.", max=MAX_AUDIENCE
        )


def _check_windows(errors: dict, windows: list[Window], duration: int | None, prefix: str, now: datetime) -> None:
    if not windows:
        errors[f"{prefix}1_date"] = _l("Give at least one time.")
        return
    if len(windows) > MAX_WINDOWS:
        errors[f"{prefix}1_date"] = _l("Give at most %(max)d times.", max=MAX_WINDOWS)
    for window in windows:
        name = f"{prefix}{window.position}"
        if window.ends_at <= window.starts_at:
            errors[f"{name}_end"] = _l("The end must be after the start.")
        elif window.starts_at <= now:
            errors[f"{name}_date"] = _l("This time has already passed.")
        elif duration and window.ends_at - window.starts_at < timedelta(minutes=duration):
            errors[f"{name}_end"] = _l(
                "This window is shorter than the lecture (%(minutes)d minutes).", minutes=duration
            )


def validate_request_data(data: RequestData, now: datetime | None = None) -> RequestData:
    now = now or utcnow()
    errors: dict = {}
    data.topic = (data.topic or "").strip()
    if not data.topic:
        errors["topic"] = _l("Enter a topic.")
    elif len(data.topic) > 200:
        errors["topic"] = _l("Keep the topic under 200 characters.")
    if not isinstance(data.theme, LectureTheme):
        errors["theme"] = _l("Choose a theme.")
    _check_audience_and_grades(errors, data.grades, data.audience_size)
    if data.duration_minutes is None or not MIN_DURATION <= data.duration_minutes <= MAX_DURATION:
        errors["duration_minutes"] = _l(
            "A lecture lasts between %(min)d and %(max)d minutes.", min=MIN_DURATION, max=MAX_DURATION
        )
    _check_windows(
        errors, data.windows, data.duration_minutes if "duration_minutes" not in errors else None, "window", now
    )
    if len(data.notes or "") > 2000:
        errors["notes"] = _l("Keep the notes under 2000 characters.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    data.address = (data.address or "").strip()[:200]
    data.room = (data.room or "").strip()[:120]
    data.notes = (data.notes or "").strip()
    return data


# Loading ----------------------------------------------------------------------------


def _lecture_options():
    return (
        joinedload(LectureRequest.school),
        joinedload(LectureRequest.requested_by),
        joinedload(LectureRequest.mentor),
        selectinload(LectureRequest.windows),
    )


def get_lecture(lecture_id: int) -> LectureRequest | None:
    return db.session.scalar(select(LectureRequest).where(LectureRequest.id == lecture_id).options(*_lecture_options()))


def _lock_lecture(lecture_id: int, *, person_locked: bool = False) -> LectureRequest:
    """The lecture row under the write lock. After `lock_person` on SQLite the database-wide
    write lock is already held, so the row is only re-read (a second BEGIN IMMEDIATE would
    restart the transaction for nothing)."""
    if person_locked and is_sqlite():
        lecture = db.session.get(LectureRequest, lecture_id, populate_existing=True)
    else:
        lecture = lock_for_write(LectureRequest, lecture_id)
    if lecture is None:
        raise NotFound(_l("This lecture request does not exist."))
    return lecture


def _lock_mentor_and_lecture(mentor: User, lecture_id: int) -> tuple[User, LectureRequest]:
    locked_mentor = commitments.lock_person(mentor)
    return locked_mentor, _lock_lecture(lecture_id, person_locked=True)


# Requests by teachers -----------------------------------------------------------------


def create_request(actor: User, data: RequestData) -> LectureRequest:
    if not perm.can_post_lecture_request(actor):
        raise NotAllowed(_l("Only teachers of a school may request lectures."))
    data = validate_request_data(data)
    school = actor.school
    lecture = LectureRequest(
        school_id=school.id,
        requested_by_id=actor.id,
        topic=data.topic,
        theme=data.theme,
        grades=pack_grades(data.grades),
        audience_size=data.audience_size,
        duration_minutes=data.duration_minutes,
        address=data.address or (school.address or ""),
        room=data.room,
        notes=data.notes,
        status=LectureStatus.OPEN,
        windows=[LectureWindow(starts_at=w.starts_at, ends_at=w.ends_at) for w in data.windows],
    )
    db.session.add(lecture)
    db.session.flush()
    return lecture


def update_request(actor: User, lecture_id: int, data: RequestData) -> LectureRequest:
    """Edit an open request. The row is locked so a mentor cannot claim a window that is
    being changed under them."""
    lecture = _lock_lecture(lecture_id)
    if not perm.is_school_teacher(actor, lecture):
        raise NotAllowed(_l("Only teachers of the requesting school may edit this request."))
    if lecture.status is not LectureStatus.OPEN:
        raise Conflict(_l("Only open requests can be edited; this one has already been claimed or closed."))
    data = validate_request_data(data)
    lecture.topic = data.topic
    lecture.theme = data.theme
    lecture.grades = pack_grades(data.grades)
    lecture.audience_size = data.audience_size
    lecture.duration_minutes = data.duration_minutes
    lecture.address = data.address
    lecture.room = data.room
    lecture.notes = data.notes
    lecture.windows = [LectureWindow(starts_at=w.starts_at, ends_at=w.ends_at) for w in data.windows]
    lecture.calendar_sequence += 1
    return lecture


# Claims by mentors ---------------------------------------------------------------------


def _time_in_window(
    lecture: LectureRequest, window_id: int | None, start_at: datetime | None
) -> tuple[datetime, datetime]:
    """The lecture's [start, end) inside the chosen window (from its start unless a later
    start is given)."""
    window = next((w for w in lecture.windows if w.id == window_id), None)
    if window is None:
        raise ValidationFailed(_l("Choose one of the school's times."), field="window_id")
    start = start_at or window.starts_at
    end = start + timedelta(minutes=lecture.duration_minutes)
    if start < window.starts_at or end > window.ends_at:
        raise ValidationFailed(
            _l(
                "The lecture (%(minutes)d minutes) must fit inside the chosen window.",
                minutes=lecture.duration_minutes,
            ),
            field="start_time",
        )
    if start <= utcnow():
        raise ValidationFailed(_l("This time has already passed."), field="window_id")
    return start, end


def claim(actor: User, lecture_id: int, window_id: int | None, start_at: datetime | None = None) -> LectureRequest:
    """A mentor signs up for an open request at a time inside one of its windows."""
    if actor.role is not Role.MENTOR:
        raise NotAllowed(_l("Only Party-member mentors can claim lecture requests."))
    mentor, lecture = _lock_mentor_and_lecture(actor, lecture_id)
    if lecture.status is not LectureStatus.OPEN:
        raise Conflict(_l("This request is no longer open: another mentor may have claimed it."), field="window_id")
    start, end = _time_in_window(lecture, window_id, start_at)
    commitments.ensure_free(mentor, start, end, lecture.place_key, field="window_id")
    now = utcnow()
    lecture.mentor_id = mentor.id
    lecture.starts_at, lecture.ends_at = start, end
    lecture.status = LectureStatus.CLAIMED
    lecture.claimed_at = now
    lecture.calendar_sequence += 1
    notifications.notify(
        lecture.requested_by,
        "lecture_claimed",
        _l("A mentor signed up for your lecture request"),
        _l(
            "%(mentor)s will give “%(topic)s” at %(when)s. Please confirm on the lecture page.",
            mentor=mentor.display_name,
            topic=lecture.topic,
            when=when_text(start),
        ),
        link=_link(lecture),
    )
    return lecture


def reschedule(actor: User, lecture_id: int, window_id: int | None, start_at: datetime | None = None) -> LectureRequest:
    """The mentor moves their lecture to another time within the school's windows; the
    school confirms the new time again."""
    mentor, lecture = _lock_mentor_and_lecture(actor, lecture_id)
    if not perm.is_lecture_mentor(mentor, lecture):
        raise NotAllowed(_l("Only the mentor giving this lecture can change its time."))
    if lecture.status not in (LectureStatus.CLAIMED, LectureStatus.CONFIRMED):
        raise Conflict(_l("Only a claimed or confirmed lecture can be moved."))
    start, end = _time_in_window(lecture, window_id, start_at)
    commitments.ensure_free(mentor, start, end, lecture.place_key, ignore=(KIND, lecture.id), field="window_id")
    lecture.starts_at, lecture.ends_at = start, end
    lecture.status = LectureStatus.CLAIMED
    lecture.confirmed_at = None
    lecture.calendar_sequence += 1
    notifications.notify(
        lecture.requested_by,
        "lecture_rescheduled",
        _l("A lecture has a new time"),
        _l(
            "%(mentor)s moved “%(topic)s” to %(when)s. Please confirm the new time.",
            mentor=mentor.display_name,
            topic=lecture.topic,
            when=when_text(start),
        ),
        link=_link(lecture),
    )
    return lecture


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give a reason, so the other side understands."), field="reason")
    if len(reason) > 300:
        raise ValidationFailed(_l("Keep the reason under 300 characters."), field="reason")
    return reason


def withdraw(actor: User, lecture_id: int, reason: str | None) -> LectureRequest:
    """The mentor steps back: the request is open again for other mentors."""
    lecture = _lock_lecture(lecture_id)
    if not perm.is_lecture_mentor(actor, lecture):
        raise NotAllowed(_l("Only the mentor giving this lecture can withdraw."))
    if lecture.status not in (LectureStatus.CLAIMED, LectureStatus.CONFIRMED):
        raise Conflict(_l("A lecture can only be withdrawn from before it is delivered."))
    reason = _require_reason(reason)
    old_start = lecture.starts_at
    if lecture.offer_id is not None:
        # The mentor no longer offers that time: the slot goes with the withdrawal.
        slot = db.session.scalar(select(LectureOfferSlot).where(LectureOfferSlot.request_id == lecture.id))
        if slot is not None:
            db.session.delete(slot)
    lecture.status = LectureStatus.OPEN
    lecture.mentor_id = None
    lecture.starts_at = lecture.ends_at = None
    lecture.claimed_at = lecture.confirmed_at = None
    lecture.calendar_sequence += 1
    notifications.notify(
        lecture.requested_by,
        "lecture_withdrawn",
        _l("A mentor withdrew from a lecture"),
        _l(
            "%(mentor)s withdrew from “%(topic)s” (%(when)s). Reason: %(reason)s. The request is open again.",
            mentor=actor.display_name,
            topic=lecture.topic,
            when=when_text(old_start) if old_start else "",
            reason=reason,
        ),
        link=_link(lecture),
    )
    return lecture


def confirm(actor: User, lecture_id: int) -> LectureRequest:
    lecture = _lock_lecture(lecture_id)
    if not perm.is_school_teacher(actor, lecture):
        raise NotAllowed(_l("Only teachers of the requesting school can confirm."))
    if lecture.status is not LectureStatus.CLAIMED:
        raise Conflict(_l("Only a claimed lecture can be confirmed."))
    lecture.status = LectureStatus.CONFIRMED
    lecture.confirmed_at = utcnow()
    lecture.calendar_sequence += 1
    notifications.notify(
        lecture.mentor,
        "lecture_confirmed",
        _l("A school confirmed your lecture"),
        _l(
            "%(school)s confirmed “%(topic)s” at %(when)s, %(place)s.",
            school=lecture.school.name_zh,
            topic=lecture.topic,
            when=when_text(lecture.starts_at),
            place=" ".join(p for p in (lecture.address, lecture.room) if p),
        ),
        link=_link(lecture),
    )
    return lecture


def cancel(actor: User, lecture_id: int, reason: str | None) -> LectureRequest:
    """The school (or an admin) cancels the lecture altogether."""
    lecture = _lock_lecture(lecture_id)
    if not (perm.is_school_teacher(actor, lecture) or actor.is_admin):
        raise NotAllowed(_l("Only teachers of the requesting school can cancel this request."))
    if lecture.status not in perm.ACTIVE_STATUSES:
        raise Conflict(_l("This lecture can no longer be cancelled."))
    reason = _require_reason(reason)
    if lecture.offer_id is not None:
        slot = db.session.scalar(select(LectureOfferSlot).where(LectureOfferSlot.request_id == lecture.id))
        if slot is not None:
            slot.request_id = None  # the mentor's offered time is free for other schools again
    lecture.status = LectureStatus.CANCELLED
    lecture.cancelled_at = utcnow()
    lecture.cancelled_by_id = actor.id
    lecture.cancel_reason = reason
    lecture.calendar_sequence += 1
    if actor.is_admin:
        audit.record(actor, "lecture.cancel", "lecture_request", lecture.id, reason=reason)
    recipients = [lecture.mentor] if lecture.mentor is not None else []
    if actor.id != lecture.requested_by_id:
        recipients.append(lecture.requested_by)
    for recipient in recipients:
        notifications.notify(
            recipient,
            "lecture_cancelled",
            _l("A lecture was cancelled"),
            _l(
                "“%(topic)s” at %(school)s was cancelled. Reason: %(reason)s",
                topic=lecture.topic,
                school=lecture.school.name_zh,
                reason=reason,
            ),
            link=_link(lecture),
        )
    return lecture


def record_delivery(actor: User, lecture_id: int, attendance: int | None, notes: str = "") -> LectureRequest:
    lecture = _lock_lecture(lecture_id)
    if not perm.is_lecture_mentor(actor, lecture):
        raise NotAllowed(_l("Only the mentor who gave the lecture can record its delivery."))
    if lecture.status is not LectureStatus.CONFIRMED:
        raise Conflict(_l("Only a confirmed lecture can be recorded as delivered."))
    if lecture.starts_at > utcnow():
        raise ValidationFailed(_l("The lecture has not started yet."), field="attendance")
    if attendance is None or attendance <= 0:
        raise ValidationFailed(_l("Enter how many people attended (at least one)."), field="attendance")
    if attendance > MAX_AUDIENCE:
        raise ValidationFailed(_l("That is more people than one lecture can hold."), field="attendance")
    lecture.status = LectureStatus.DELIVERED
    lecture.attendance = attendance
    lecture.delivery_notes = (notes or "").strip()[:2000]
    lecture.delivered_at = utcnow()
    lecture.calendar_sequence += 1
    notifications.notify(
        lecture.requested_by,
        "lecture_delivered",
        _l("A lecture was delivered: please give feedback"),
        _l(
            "%(mentor)s recorded “%(topic)s” as delivered to %(attendance)d people. Please rate it.",
            mentor=actor.display_name,
            topic=lecture.topic,
            attendance=attendance,
        ),
        link=_link(lecture),
    )
    return lecture


def give_feedback(actor: User, lecture_id: int, rating: int | None, comment: str = "") -> LectureRequest:
    lecture = _lock_lecture(lecture_id)
    if not perm.is_school_teacher(actor, lecture):
        raise NotAllowed(_l("Only teachers of the requesting school can give feedback."))
    if lecture.status is LectureStatus.REVIEWED:
        raise Conflict(_l("Feedback has already been given for this lecture."), field="rating")
    if lecture.status is not LectureStatus.DELIVERED:
        raise ValidationFailed(_l("Feedback can be given once the lecture has been delivered."), field="rating")
    if rating is None or not 1 <= rating <= 5:
        raise ValidationFailed(_l("Choose a rating from 1 to 5."), field="rating")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationFailed(_l("Keep the comment under 2000 characters."), field="comment")
    lecture.rating = rating
    lecture.feedback_comment = comment
    lecture.feedback_at = utcnow()
    lecture.feedback_by_id = actor.id
    lecture.status = LectureStatus.REVIEWED
    notifications.notify(
        lecture.mentor,
        "lecture_feedback",
        _l("A school gave feedback on your lecture"),
        _l(
            "%(school)s rated “%(topic)s” %(rating)d out of 5.",
            school=lecture.school.name_zh,
            topic=lecture.topic,
            rating=rating,
        ),
        link=_link(lecture),
    )
    return lecture


# Offers by mentors ------------------------------------------------------------------------


def create_offer(actor: User, data: OfferData) -> LectureOffer:
    """A mentor offers a lecture at times they choose; times that clash with their
    commitments are refused at the field."""
    if not perm.can_publish_lecture_offer(actor):
        raise NotAllowed(_l("Only Party-member mentors can offer lectures."))
    errors: dict = {}
    topic = (data.topic or "").strip()
    if not topic:
        errors["topic"] = _l("Enter a topic.")
    elif len(topic) > 200:
        errors["topic"] = _l("Keep the topic under 200 characters.")
    if not data.grades or any(code not in GRADE_LABELS for code in data.grades):
        errors["grades"] = _l("Choose at least one grade.")
    now = utcnow()
    _check_windows(errors, data.slots, None, "slot", now)
    for slot in data.slots:
        name = f"slot{slot.position}"
        if f"{name}_end" in errors or f"{name}_date" in errors:
            continue
        minutes = (slot.ends_at - slot.starts_at).total_seconds() / 60
        if not MIN_DURATION <= minutes <= MAX_DURATION:
            errors[f"{name}_end"] = _l(
                "A lecture lasts between %(min)d and %(max)d minutes.", min=MIN_DURATION, max=MAX_DURATION
            )
            continue
        clash = commitments.find_clash(actor, slot.starts_at, slot.ends_at, None)
        if clash is not None:
            errors[f"{name}_date"] = _l("You are already committed then: %(what)s.", what=clash.label)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    offer = LectureOffer(
        mentor_id=actor.id,
        topic=topic,
        theme=data.theme,
        abstract=(data.abstract or "").strip()[:4000],
        grades=pack_grades(data.grades),
        slots=[LectureOfferSlot(starts_at=s.starts_at, ends_at=s.ends_at) for s in data.slots],
    )
    db.session.add(offer)
    db.session.flush()
    return offer


def close_offer(actor: User, offer_id: int) -> LectureOffer:
    offer = db.session.get(LectureOffer, offer_id)
    if offer is None:
        raise NotFound(_l("This offer does not exist."))
    if not perm.can_manage_lecture_offer(actor, offer):
        raise NotAllowed(_l("Only the mentor who made this offer can close it."))
    offer.status = OfferStatus.CLOSED
    return offer


def book_offer(actor: User, offer_id: int, slot_id: int | None, data: BookingData) -> LectureRequest:
    """A teacher books one slot of a mentor's offer for their school: a confirmed lecture
    at once, since the mentor chose the time and the school chose the mentor."""
    offer = db.session.get(LectureOffer, offer_id)
    if offer is None:
        raise NotFound(_l("This offer does not exist."))
    if not perm.can_post_lecture_request(actor):
        raise NotAllowed(_l("Only teachers of a school may book lectures."))
    errors: dict = {}
    _check_audience_and_grades(errors, data.grades, data.audience_size)
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    mentor = commitments.lock_person(offer.mentor)
    slot = (
        db.session.get(LectureOfferSlot, slot_id, populate_existing=True)
        if slot_id is not None and is_sqlite()
        else (lock_for_write(LectureOfferSlot, slot_id) if slot_id is not None else None)
    )
    db.session.refresh(offer)
    if slot is None or slot.offer_id != offer.id:
        raise ValidationFailed(_l("Choose one of the offered times."), field="slot_id")
    if offer.status is not OfferStatus.ACTIVE:
        raise Conflict(_l("This offer has been closed by the mentor."), field="slot_id")
    if slot.request_id is not None:
        raise Conflict(_l("Another school has just booked this time."), field="slot_id")
    if slot.starts_at <= utcnow():
        raise ValidationFailed(_l("This time has already passed."), field="slot_id")
    school = actor.school
    commitments.ensure_free(mentor, slot.starts_at, slot.ends_at, f"school:{school.id}", field="slot_id")
    now = utcnow()
    lecture = LectureRequest(
        school_id=school.id,
        requested_by_id=actor.id,
        topic=offer.topic,
        theme=offer.theme,
        grades=pack_grades(data.grades),
        audience_size=data.audience_size,
        duration_minutes=slot.duration_minutes,
        address=(data.address or "").strip()[:200] or (school.address or ""),
        room=(data.room or "").strip()[:120],
        notes=(data.notes or "").strip()[:2000],
        status=LectureStatus.CONFIRMED,
        offer_id=offer.id,
        mentor_id=mentor.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        claimed_at=now,
        confirmed_at=now,
        calendar_sequence=1,
        windows=[LectureWindow(starts_at=slot.starts_at, ends_at=slot.ends_at)],
    )
    db.session.add(lecture)
    db.session.flush()
    slot.request_id = lecture.id
    notifications.notify(
        mentor,
        "lecture_booked",
        _l("A school booked your lecture offer"),
        _l(
            "%(school)s booked “%(topic)s” at %(when)s for %(audience)d people.",
            school=school.name_zh,
            topic=offer.topic,
            when=when_text(slot.starts_at),
            audience=data.audience_size,
        ),
        link=_link(lecture),
    )
    return lecture


def get_offer(offer_id: int) -> LectureOffer | None:
    return db.session.scalar(
        select(LectureOffer)
        .where(LectureOffer.id == offer_id)
        .options(joinedload(LectureOffer.mentor), selectinload(LectureOffer.slots))
    )


def bookable_offers() -> list[LectureOffer]:
    """Active offers with at least one free future slot, soonest first."""
    now = utcnow()
    free_slot = exists().where(
        LectureOfferSlot.offer_id == LectureOffer.id,
        LectureOfferSlot.request_id.is_(None),
        LectureOfferSlot.starts_at > now,
    )
    offers = db.session.scalars(
        select(LectureOffer)
        .where(LectureOffer.status == OfferStatus.ACTIVE, free_slot)
        .options(joinedload(LectureOffer.mentor), selectinload(LectureOffer.slots))
        .order_by(LectureOffer.created_at.desc())
        .limit(100)
    ).unique()
    return list(offers)


def offers_of(mentor: User) -> list[LectureOffer]:
    return list(
        db.session.scalars(
            select(LectureOffer)
            .where(LectureOffer.mentor_id == mentor.id)
            .options(selectinload(LectureOffer.slots).joinedload(LectureOfferSlot.request))
            .order_by(LectureOffer.created_at.desc())
        )
    )


# Lists ---------------------------------------------------------------------------------


@dataclass
class OpenFilters:
    district: str | None = None
    theme: LectureTheme | None = None
    grade: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def open_requests_query(filters: OpenFilters, now: datetime | None = None):
    """Open requests that still have a future window, fairest first: schools of
    under-resourced districts, then those waiting longest."""
    now = now or utcnow()
    window_conditions = [LectureWindow.request_id == LectureRequest.id, LectureWindow.starts_at > now]
    if filters.date_from:
        window_conditions.append(LectureWindow.ends_at > local_datetime(filters.date_from, datetime.min.time()))
    if filters.date_to:
        day_after = local_datetime(filters.date_to + timedelta(days=1), datetime.min.time())
        window_conditions.append(LectureWindow.starts_at < day_after)
    stmt = (
        select(LectureRequest)
        .join(LectureRequest.school)
        .where(LectureRequest.status == LectureStatus.OPEN, exists().where(*window_conditions))
        .options(
            joinedload(LectureRequest.school),
            joinedload(LectureRequest.requested_by),
            selectinload(LectureRequest.windows),
        )
        .order_by(School.under_resourced.desc(), LectureRequest.created_at.asc(), LectureRequest.id.asc())
    )
    if filters.district:
        stmt = stmt.where(School.district == filters.district)
    if filters.theme:
        stmt = stmt.where(LectureRequest.theme == filters.theme)
    if filters.grade in GRADE_LABELS:
        stmt = stmt.where(LectureRequest.grades.like(f"%,{filters.grade},%"))
    return stmt


def school_requests(school_id: int) -> list[LectureRequest]:
    return list(
        db.session.scalars(
            select(LectureRequest)
            .where(LectureRequest.school_id == school_id)
            .options(*_lecture_options())
            .order_by(LectureRequest.created_at.desc())
            .limit(200)
        ).unique()
    )


def mentor_lectures(mentor: User) -> tuple[list[LectureRequest], list[LectureRequest]]:
    """(upcoming or awaiting a delivery record, past), each with schools and windows loaded."""
    lectures = list(
        db.session.scalars(
            select(LectureRequest)
            .where(LectureRequest.mentor_id == mentor.id, LectureRequest.status.in_(HELD_STATUSES))
            .options(*_lecture_options())
            .order_by(LectureRequest.starts_at.asc())
            .limit(300)
        ).unique()
    )
    upcoming = [lec for lec in lectures if lec.status in (LectureStatus.CLAIMED, LectureStatus.CONFIRMED)]
    past = [lec for lec in reversed(lectures) if lec.status in DONE_STATUSES]
    return upcoming, past


def all_requests_query(status: LectureStatus | None = None):
    stmt = select(LectureRequest).options(*_lecture_options()).order_by(LectureRequest.created_at.desc())
    if status is not None:
        stmt = stmt.where(LectureRequest.status == status)
    return stmt


# Terms and service records --------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A school term: autumn runs September to January, spring February to August."""

    code: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        year, season = self.code.split("-")
        first = int(year) if season == "autumn" else int(year) - 1
        if season == "autumn":
            return _("%(first)d–%(second)d academic year, autumn term", first=first, second=first + 1)
        return _("%(first)d–%(second)d academic year, spring term", first=first, second=first + 1)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return local_datetime(self.start, datetime.min.time()), local_datetime(self.end, datetime.min.time())


def term_for(day: date | None = None) -> Term:
    day = day or local_today()
    if day.month >= 9:
        return Term(f"{day.year}-autumn", date(day.year, 9, 1), date(day.year + 1, 2, 1))
    if day.month == 1:
        return Term(f"{day.year - 1}-autumn", date(day.year - 1, 9, 1), date(day.year, 2, 1))
    return Term(f"{day.year}-spring", date(day.year, 2, 1), date(day.year, 9, 1))


def term_by_code(code: str) -> Term | None:
    try:
        year, season = code.split("-")
        year_number = int(year)
    except ValueError:
        return None
    if not 2000 <= year_number <= 2100:
        return None
    if season == "autumn":
        return term_for(date(year_number, 9, 1))
    if season == "spring":
        return term_for(date(year_number, 2, 1))
    return None


def selectable_terms() -> list[Term]:
    current = term_for()
    following = term_for(current.end)
    previous = term_for(current.start - timedelta(days=1))
    return [previous, current, following]


def get_target(term: Term) -> LectureServiceTarget | None:
    return db.session.scalar(select(LectureServiceTarget).where(LectureServiceTarget.term_code == term.code))


def set_target(actor: User, term_code: str, min_lectures: int | None, min_hours: int | None) -> LectureServiceTarget:
    if not actor.is_admin:
        raise NotAllowed(_l("Only administrators set service targets."))
    term = term_by_code(term_code or "")
    if term is None:
        raise ValidationFailed(_l("Choose a term."), field="term")
    errors = {}
    if min_lectures is None or not 0 <= min_lectures <= 100:
        errors["min_lectures"] = _l("Enter a number of lectures from 0 to 100.")
    if min_hours is None or not 0 <= min_hours <= 300:
        errors["min_hours"] = _l("Enter a number of hours from 0 to 300.")
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors=errors)
    target = get_target(term)
    if target is None:
        target = LectureServiceTarget(term_code=term.code, min_lectures=0, min_hours=0)
        db.session.add(target)
    target.min_lectures = min_lectures
    target.min_hours = min_hours
    target.set_by_id = actor.id
    return target


@dataclass
class ServiceRecord:
    mentor: User
    lectures: int = 0
    minutes: int = 0
    schools: int = 0
    districts: int = 0
    under_resourced_lectures: int = 0
    target: LectureServiceTarget | None = None
    district_codes: list[str] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def target_met(self) -> bool | None:
        if self.target is None:
            return None
        return self.lectures >= self.target.min_lectures and self.hours >= self.target.min_hours


def _record_query(term: Term):
    start, end = term.bounds
    return (
        select(
            LectureRequest.mentor_id,
            func.count(LectureRequest.id),
            func.coalesce(func.sum(LectureRequest.duration_minutes), 0),
            func.count(func.distinct(LectureRequest.school_id)),
            func.count(func.distinct(School.district)),
            func.count(LectureRequest.id).filter(School.under_resourced.is_(True)),
        )
        .join(LectureRequest.school)
        .where(
            LectureRequest.status.in_(DONE_STATUSES),
            LectureRequest.starts_at >= start,
            LectureRequest.starts_at < end,
        )
        .group_by(LectureRequest.mentor_id)
    )


def service_record(mentor: User, term: Term | None = None) -> ServiceRecord:
    """What one mentor gave in a term: lectures delivered, hours, schools and districts reached."""
    term = term or term_for()
    record = ServiceRecord(mentor=mentor, target=get_target(term))
    row = db.session.execute(_record_query(term).where(LectureRequest.mentor_id == mentor.id)).first()
    if row is not None:
        _, record.lectures, record.minutes, record.schools, record.districts, record.under_resourced_lectures = row
    start, end = term.bounds
    record.district_codes = list(
        db.session.scalars(
            select(School.district)
            .join(LectureRequest, LectureRequest.school_id == School.id)
            .where(
                LectureRequest.mentor_id == mentor.id,
                LectureRequest.status.in_(DONE_STATUSES),
                LectureRequest.starts_at >= start,
                LectureRequest.starts_at < end,
            )
            .distinct()
        )
    )
    return record


def service_records(term: Term) -> list[ServiceRecord]:
    """Every active mentor's record for the term, in two queries; those furthest below
    the target first."""
    target = get_target(term)
    mentors = db.session.scalars(
        select(User).where(User.role == Role.MENTOR, User.active.is_(True)).order_by(User.display_name)
    ).unique()
    by_mentor = {row[0]: row for row in db.session.execute(_record_query(term))}
    records = []
    for mentor in mentors:
        record = ServiceRecord(mentor=mentor, target=target)
        row = by_mentor.get(mentor.id)
        if row is not None:
            _, record.lectures, record.minutes, record.schools, record.districts, record.under_resourced_lectures = row
        records.append(record)
    records.sort(key=lambda r: (r.target_met is True, r.lectures, r.minutes))
    return records


# Commitments and calendar -------------------------------------------------------------------


def _mentor_commitments(user: User, start: datetime, end: datetime) -> list[commitments.Commitment]:
    rows = db.session.execute(
        select(
            LectureRequest.id,
            LectureRequest.starts_at,
            LectureRequest.ends_at,
            LectureRequest.school_id,
            School.name_zh,
        )
        .join(LectureRequest.school)
        .where(
            LectureRequest.mentor_id == user.id,
            LectureRequest.status.in_(HELD_STATUSES),
            overlap_clause(LectureRequest.starts_at, LectureRequest.ends_at, start, end),
        )
    )
    return [
        commitments.Commitment(
            kind=KIND,
            ref_id=row.id,
            start=row.starts_at,
            end=row.ends_at,
            place=f"school:{row.school_id}",
            label=_("a lecture at %(school)s", school=row.name_zh),
        )
        for row in rows
    ]


def _entry(lecture: LectureRequest, *, public: bool) -> calendar.CalendarEntry:
    if lecture.status is LectureStatus.CANCELLED:
        status = "cancelled"
    elif lecture.status is LectureStatus.CLAIMED:
        status = "tentative"
    else:
        status = "confirmed"
    title = _("Lecture: %(topic)s", topic=lecture.topic)
    if status == "tentative":
        title = _("Unconfirmed: %(title)s", title=title)
    description_parts = [lecture.theme.label, ", ".join(lecture.grade_labels)]
    if not public and lecture.mentor is not None:
        description_parts.append(lecture.mentor.display_name)
    return calendar.CalendarEntry(
        uid=calendar.entry_uid(KIND, lecture.id),
        kind=KIND,
        title=title,
        start=lecture.starts_at,
        end=lecture.ends_at,
        location=lecture.location_text,
        description=" · ".join(part for part in description_parts if part),
        url=_link(lecture),
        status=status,
        sequence=lecture.calendar_sequence,
        updated=lecture.updated_at,
        source_id=lecture.id,
    )


def _visible_cancelled_clause():
    since = utcnow() - timedelta(days=CANCELLED_VISIBLE_DAYS)
    return and_(LectureRequest.status == LectureStatus.CANCELLED, LectureRequest.updated_at >= since)


def personal_calendar_entries(user: User, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    """A mentor's lectures (claimed, confirmed, delivered); a teacher's own requests once a
    mentor has claimed them; cancelled ones for 14 days."""
    if user.role is Role.MENTOR:
        who = LectureRequest.mentor_id == user.id
    elif user.role is Role.TEACHER:
        who = LectureRequest.requested_by_id == user.id
    else:
        return []
    lectures = db.session.scalars(
        select(LectureRequest)
        .where(
            who,
            LectureRequest.starts_at.is_not(None),
            or_(LectureRequest.status.in_(HELD_STATUSES), _visible_cancelled_clause()),
            overlap_clause(LectureRequest.starts_at, LectureRequest.ends_at, start, end),
        )
        .options(joinedload(LectureRequest.school), joinedload(LectureRequest.mentor))
    ).unique()
    return [_entry(lecture, public=False) for lecture in lectures]


def school_calendar_entries(school_id: int, start: datetime, end: datetime) -> list[calendar.CalendarEntry]:
    """Confirmed lectures at a school (public): no notes, no mentor contact."""
    lectures = db.session.scalars(
        select(LectureRequest)
        .where(
            LectureRequest.school_id == school_id,
            LectureRequest.starts_at.is_not(None),
            or_(
                LectureRequest.status.in_((LectureStatus.CONFIRMED, *DONE_STATUSES)),
                and_(_visible_cancelled_clause(), LectureRequest.confirmed_at.is_not(None)),
            ),
            overlap_clause(LectureRequest.starts_at, LectureRequest.ends_at, start, end),
        )
        .options(joinedload(LectureRequest.school))
    ).unique()
    return [_entry(lecture, public=True) for lecture in lectures]


def single_calendar_entry(viewer: User | None, lecture_id: int) -> calendar.CalendarEntry | None:
    lecture = get_lecture(lecture_id)
    if lecture is None or lecture.starts_at is None:
        return None
    if viewer is not None and perm.can_view_lecture(viewer, lecture):
        if lecture.status is LectureStatus.OPEN:
            return None
        return _entry(lecture, public=False)
    if lecture.status in (LectureStatus.CONFIRMED, *DONE_STATUSES):
        return _entry(lecture, public=True)
    return None


commitments.register_provider(KIND, _mentor_commitments)
calendar.register_personal_provider(KIND, personal_calendar_entries)
calendar.register_public_provider("school", school_calendar_entries)
calendar.register_single_provider(KIND, single_calendar_entry)
