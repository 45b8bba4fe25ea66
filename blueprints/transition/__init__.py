from flask import Blueprint
from flask_login import login_required

bp = Blueprint("transition", __name__)


@bp.before_request
@login_required
def require_login():
    """Every transition page is personal: nothing here is public."""


from blueprints.transition import routes  # noqa: E402,F401
