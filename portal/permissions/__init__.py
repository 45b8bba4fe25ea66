"""Object-level permissions: `can_*(user, obj) -> bool`, usable by services and templates.

One module per area; each area's functions are re-exported here so templates reach
them as `permissions.can_...` (see the context processor in `create_app`).
"""

from portal.permissions.accounts import can_edit_user, can_manage_school, is_admin
from portal.permissions.transition import (
    can_accept_handover,
    can_adjust,
    can_change_phase,
    can_edit_goals,
    can_edit_handover,
    can_export_plan,
    can_handle_escalation,
    can_manage_consent,
    can_manage_group,
    can_override_risk,
    can_raise_escalation,
    can_record_checkin,
    can_request_admin_access,
    can_schedule_checkin,
    can_view_group,
    can_view_group_dashboard,
    can_view_handover,
    can_view_indicators,
    can_view_notes,
    can_view_overview,
    can_view_plan,
    can_write_notes,
    group_role,
    plan_role,
)

__all__ = [
    "can_accept_handover",
    "can_adjust",
    "can_change_phase",
    "can_edit_goals",
    "can_edit_handover",
    "can_edit_user",
    "can_export_plan",
    "can_handle_escalation",
    "can_manage_consent",
    "can_manage_group",
    "can_manage_school",
    "can_override_risk",
    "can_raise_escalation",
    "can_record_checkin",
    "can_request_admin_access",
    "can_schedule_checkin",
    "can_view_group",
    "can_view_group_dashboard",
    "can_view_handover",
    "can_view_indicators",
    "can_view_notes",
    "can_view_overview",
    "can_view_plan",
    "can_write_notes",
    "group_role",
    "is_admin",
    "plan_role",
]
