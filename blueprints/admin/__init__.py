from flask import Blueprint, abort
from flask_login import current_user

from portal.extensions import login_manager

bp = Blueprint("admin", __name__)


@bp.before_request
def guard_admin_area():
    """The whole admin area is for administrators; no route repeats this check."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)


from blueprints.admin import routes  # noqa: E402,F401
