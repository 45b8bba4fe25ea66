"""Object-level permissions: `can_*(user, obj) -> bool`, usable by services and templates.

One module per area; each area's functions are re-exported here so templates reach
them as `permissions.can_...` (see the context processor in `create_app`).
"""

from portal.permissions.accounts import can_edit_user, can_manage_school, is_admin
from portal.permissions.bookings import (
    can_book,
    can_cancel_booking,
    can_check_in,
    can_create_resource,
    can_decide_booking,
    can_manage_resource,
    can_view_booking,
)

__all__ = [
    "can_book",
    "can_cancel_booking",
    "can_check_in",
    "can_create_resource",
    "can_decide_booking",
    "can_edit_user",
    "can_manage_resource",
    "can_manage_school",
    "can_view_booking",
    "is_admin",
]
