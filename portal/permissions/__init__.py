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

__all__ = [
    "can_cancel_registration",
    "can_create_series",
    "can_edit_user",
    "can_manage_school",
    "can_manage_series",
    "can_manage_session",
    "can_register_for",
    "can_take_attendance",
    "can_view_series",
    "can_view_session",
    "is_admin",
]
