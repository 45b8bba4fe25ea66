"""Who may manage accounts and schools."""

from __future__ import annotations

from portal.models import School, User


def is_admin(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_admin)


def can_edit_user(actor: User | None, user: User) -> bool:
    return is_admin(actor)


def can_manage_school(actor: User | None, school: School) -> bool:
    return is_admin(actor)
