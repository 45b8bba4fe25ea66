"""The audit log of sensitive reads and writes."""

from __future__ import annotations

from portal.extensions import db
from portal.models import AuditEntry, User


def record(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None = None,
    *,
    reason: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's transaction.

    `detail` must never hold the sensitive content itself, only what kind of thing
    was touched (e.g. "psychological notes").
    """
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        reason=(reason or None) and reason[:300],
        detail=(detail or None) and detail[:300],
    )
    db.session.add(entry)
    return entry
