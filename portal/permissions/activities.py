"""Who may see, run and join activity series and sessions."""

from __future__ import annotations

from portal.models import ActivitySeries, ActivitySession, Audience, Registration, Role, User


def _authenticated(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can_create_series(user: User | None) -> bool:
    """Administrators, and Party-member mentors (who then organize what they create)."""
    return _authenticated(user) and user.has_role(Role.ADMIN, Role.MENTOR)


def can_manage_series(user: User | None, series: ActivitySeries) -> bool:
    if not _authenticated(user):
        return False
    if user.is_admin:
        return True
    return user.role is Role.MENTOR and series.is_organizer(user)


def can_manage_session(user: User | None, session: ActivitySession) -> bool:
    """Organizers of the series run its sessions; the host mentor may take attendance."""
    return can_manage_series(user, session.series)


def can_take_attendance(user: User | None, session: ActivitySession) -> bool:
    if can_manage_session(user, session):
        return True
    return _authenticated(user) and session.host_id is not None and session.host_id == user.id


def can_view_series(user: User | None, series: ActivitySeries) -> bool:
    """A public series is for everyone; an internal one for people who have logged in."""
    return series.is_public or _authenticated(user)


def can_view_session(user: User | None, session: ActivitySession) -> bool:
    return can_view_series(user, session.series)


def can_register_for(user: User | None, session: ActivitySession) -> bool:
    """Whether the register button is offered at all (the service checks the rest)."""
    if not _authenticated(user):
        return False
    if session.series.audience is Audience.TEACHERS:
        return user.role is Role.TEACHER
    return user.role in (Role.STUDENT, Role.TEACHER)


def can_cancel_registration(user: User | None, registration: Registration) -> bool:
    if not _authenticated(user):
        return False
    return registration.user_id == user.id or can_manage_session(user, registration.session)
