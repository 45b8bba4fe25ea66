from flask import Blueprint

bp = Blueprint("lectures", __name__)

from blueprints.lectures import routes  # noqa: E402,F401
