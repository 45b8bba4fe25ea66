"""Object-level permissions: `can_*(user, obj) -> bool`, usable by services and templates.

One module per area; each area's functions are re-exported here so templates reach
them as `permissions.can_...` (see the context processor in `create_app`).
"""

from portal.permissions.accounts import can_edit_user, can_manage_school, is_admin
from portal.permissions.activities import (
    can_cancel_registration,
    can_create_series,
    can_manage_series,
    can_manage_session,
    can_register_for,
    can_take_attendance,
    can_view_series,
    can_view_session,
)
from portal.permissions.bookings import (
    can_book,
    can_cancel_booking,
    can_check_in,
    can_create_resource,
    can_decide_booking,
    can_manage_resource,
    can_view_booking,
)
from portal.permissions.lectures import (
    can_book_lecture_offer,
    can_browse_open_lectures,
    can_cancel_lecture,
    can_claim_lecture,
    can_confirm_lecture,
    can_edit_lecture,
    can_give_lecture_feedback,
    can_manage_lecture_offer,
    can_post_lecture_request,
    can_publish_lecture_offer,
    can_record_delivery,
    can_reschedule_lecture,
    can_view_lecture,
    can_withdraw_from_lecture,
    is_lecture_mentor,
    is_school_teacher,
)

__all__ = [
    "can_book",
    "can_book_lecture_offer",
    "can_browse_open_lectures",
    "can_cancel_booking",
    "can_cancel_lecture",
    "can_cancel_registration",
    "can_check_in",
    "can_claim_lecture",
    "can_confirm_lecture",
    "can_create_resource",
    "can_create_series",
    "can_decide_booking",
    "can_edit_lecture",
    "can_edit_user",
    "can_give_lecture_feedback",
    "can_manage_lecture_offer",
    "can_manage_resource",
    "can_manage_school",
    "can_manage_series",
    "can_manage_session",
    "can_post_lecture_request",
    "can_publish_lecture_offer",
    "can_record_delivery",
    "can_register_for",
    "can_reschedule_lecture",
    "can_take_attendance",
    "can_view_booking",
    "can_view_lecture",
    "can_view_series",
    "can_view_session",
    "can_withdraw_from_lecture",
    "is_admin",
    "is_lecture_mentor",
    "is_school_teacher",
]
