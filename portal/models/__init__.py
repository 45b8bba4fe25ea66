"""All models, imported here so Alembic and `db.create_all()` see every table.

One module per area; add an area's import below when it lands.
"""

from portal.models.audit import AuditEntry
from portal.models.notifications import Notification, OutboxEmail, OutboxStatus
from portal.models.schools import LEVEL_LABELS, School, SchoolLevel
from portal.models.transition import (  # noqa: E402  (after User: relationships name it)
    Adjustment,
    AdminPlanAccess,
    CheckIn,
    Consent,
    Escalation,
    EscalationStep,
    GroupMember,
    PhaseChange,
    RiskChange,
    RiskThresholds,
    TransitionPlan,
    WorkingGroup,
)
from portal.models.users import ROLE_LABELS, Role, User

__all__ = [
    "AdminPlanAccess",
    "Adjustment",
    "CheckIn",
    "Consent",
    "Escalation",
    "EscalationStep",
    "GroupMember",
    "PhaseChange",
    "RiskChange",
    "RiskThresholds",
    "TransitionPlan",
    "WorkingGroup",
    "LEVEL_LABELS",
    "ROLE_LABELS",
    "AuditEntry",
    "Notification",
    "OutboxEmail",
    "OutboxStatus",
    "Role",
    "School",
    "SchoolLevel",
    "User",
]
