"""Who may see and act on lecture requests and offers.

Teachers act for their own school; a mentor acts on open requests and on the lectures
they hold; admins oversee everything (they may view and cancel, not act as a mentor).
"""

from __future__ import annotations

from portal.models import LectureOffer, LectureRequest, LectureStatus, OfferStatus, Role, User
from portal.timeutil import utcnow

ACTIVE_STATUSES = (LectureStatus.OPEN, LectureStatus.CLAIMED, LectureStatus.CONFIRMED)


def _logged_in(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_school_teacher(user: User | None, lecture: LectureRequest) -> bool:
    """A teacher of the school the lecture is for (any of them may act for the school)."""
    return _logged_in(user) and user.role is Role.TEACHER and user.school_id == lecture.school_id


def is_lecture_mentor(user: User | None, lecture: LectureRequest) -> bool:
    return _logged_in(user) and user.role is Role.MENTOR and lecture.mentor_id == user.id


def can_post_lecture_request(user: User | None) -> bool:
    return (
        _logged_in(user)
        and user.role is Role.TEACHER
        and user.school is not None
        and not user.school.is_university
        and user.school.active
    )


def can_view_lecture(user: User | None, lecture: LectureRequest) -> bool:
    if not _logged_in(user):
        return False
    if user.is_admin or is_school_teacher(user, lecture) or is_lecture_mentor(user, lecture):
        return True
    return user.role is Role.MENTOR and lecture.status is LectureStatus.OPEN


def can_edit_lecture(user: User | None, lecture: LectureRequest) -> bool:
    return is_school_teacher(user, lecture) and lecture.status is LectureStatus.OPEN


def can_claim_lecture(user: User | None, lecture: LectureRequest) -> bool:
    return _logged_in(user) and user.role is Role.MENTOR and lecture.status is LectureStatus.OPEN


def can_confirm_lecture(user: User | None, lecture: LectureRequest) -> bool:
    return is_school_teacher(user, lecture) and lecture.status is LectureStatus.CLAIMED


def can_reschedule_lecture(user: User | None, lecture: LectureRequest) -> bool:
    return (
        is_lecture_mentor(user, lecture)
        and lecture.status in (LectureStatus.CLAIMED, LectureStatus.CONFIRMED)
        and lecture.starts_at is not None
        and lecture.starts_at > utcnow()
    )


def can_withdraw_from_lecture(user: User | None, lecture: LectureRequest) -> bool:
    return is_lecture_mentor(user, lecture) and lecture.status in (LectureStatus.CLAIMED, LectureStatus.CONFIRMED)


def can_cancel_lecture(user: User | None, lecture: LectureRequest) -> bool:
    if lecture.status not in ACTIVE_STATUSES:
        return False
    return is_school_teacher(user, lecture) or (_logged_in(user) and user.is_admin)


def can_record_delivery(user: User | None, lecture: LectureRequest) -> bool:
    return (
        is_lecture_mentor(user, lecture)
        and lecture.status is LectureStatus.CONFIRMED
        and lecture.starts_at is not None
        and lecture.starts_at <= utcnow()
    )


def can_give_lecture_feedback(user: User | None, lecture: LectureRequest) -> bool:
    return is_school_teacher(user, lecture) and lecture.status is LectureStatus.DELIVERED


def can_publish_lecture_offer(user: User | None) -> bool:
    return _logged_in(user) and user.role is Role.MENTOR


def can_manage_lecture_offer(user: User | None, offer: LectureOffer) -> bool:
    return _logged_in(user) and user.role is Role.MENTOR and offer.mentor_id == user.id


def can_book_lecture_offer(user: User | None, offer: LectureOffer) -> bool:
    return offer.status is OfferStatus.ACTIVE and can_post_lecture_request(user)


def can_browse_open_lectures(user: User | None) -> bool:
    return _logged_in(user) and (user.role is Role.MENTOR or user.is_admin)
