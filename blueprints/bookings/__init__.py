from flask import Blueprint
from flask_login import current_user

from portal.extensions import login_manager

bp = Blueprint("bookings", __name__)


@bp.before_request
def require_login():
    """Every booking page is for logged-in users; finer role checks sit on each route."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.app_context_processor
def booking_globals():
    """`booking_pending_count()` for the navigation badge (a function: only pages that
    show the manager's nav pay for the count query)."""

    def booking_pending_count() -> int:
        from portal.services import bookings

        if not current_user.is_authenticated:
            return 0
        return bookings.pending_count(current_user)

    from portal.models import WEEKDAY_LABELS
    from portal.services.bookings import may_check_in_now
    from portal.services.resources import can_remove_closure, format_intervals

    return {
        "booking_pending_count": booking_pending_count,
        "weekday_names": WEEKDAY_LABELS,
        "weekday_label": lambda day: WEEKDAY_LABELS[day.weekday()],
        "can_remove_closure": can_remove_closure,
        "may_check_in_now": may_check_in_now,
        "hours_text": lambda resource, weekday: format_intervals(resource.hours, weekday),
    }


from blueprints.bookings import routes  # noqa: E402,F401
