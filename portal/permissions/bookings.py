"""Who may see, book, decide and manage shared labs and libraries."""

from __future__ import annotations

from portal.models import Booking, Resource, Role, User


def _logged_in(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can_create_resource(user: User | None) -> bool:
    """Admins, and resource managers for their own university."""
    if not _logged_in(user):
        return False
    return user.is_admin or (user.role is Role.RESOURCE_MANAGER and user.school_id is not None)


def can_manage_resource(user: User | None, resource: Resource) -> bool:
    """Admins, and the managers named on the resource."""
    if not _logged_in(user):
        return False
    if user.is_admin:
        return True
    return user.role is Role.RESOURCE_MANAGER and any(m.id == user.id for m in resource.managers)


def can_book(user: User | None, resource: Resource | None = None) -> bool:
    """School teachers book class visits (the resource must be open for booking)."""
    if not _logged_in(user) or user.role is not Role.TEACHER or user.school_id is None:
        return False
    return resource is None or resource.active


def can_view_booking(user: User | None, booking: Booking) -> bool:
    """The requesting school's teachers, the resource's managers and admins see the details."""
    if not _logged_in(user):
        return False
    if user.role is Role.TEACHER:
        return user.school_id == booking.school_id and not booking.is_activity_hold
    return can_manage_resource(user, booking.resource)


def can_decide_booking(user: User | None, booking: Booking) -> bool:
    return can_manage_resource(user, booking.resource) and not booking.is_activity_hold


def can_cancel_booking(user: User | None, booking: Booking) -> bool:
    """The teacher who asked (the cutoff is checked by the service) or a manager, while active.
    An activity session's hold is released only by changing or cancelling the session."""
    if not _logged_in(user) or not booking.is_active or booking.is_activity_hold:
        return False
    if user.role is Role.TEACHER:
        return user.id == booking.requested_by_id
    return can_manage_resource(user, booking.resource)


def can_check_in(user: User | None, booking: Booking) -> bool:
    """Class visits only: a session's attendance is taken in the activities area."""
    return can_manage_resource(user, booking.resource) and not booking.is_activity_hold
