"""Object-level permissions: `can_*(user, obj) -> bool`, usable by services and templates.

One module per area; each area's functions are re-exported here so templates reach
them as `permissions.can_...` (see the context processor in `create_app`).
"""

from portal.permissions.accounts import can_edit_user, can_manage_school, is_admin

__all__ = ["can_edit_user", "can_manage_school", "is_admin"]
