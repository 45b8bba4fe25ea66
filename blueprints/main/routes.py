from flask import current_app, make_response, redirect, render_template, request
from flask_login import current_user

from blueprints.main import bp
from blueprints.web import safe_next
from portal.extensions import db
from portal.i18n import LOCALE_COOKIE
from portal.services import accounts


@bp.route("/")
def index():
    return render_template("main/index.html")


@bp.route("/language/<locale>")
def set_language(locale: str):
    """Switch language: a cookie for everyone, and the saved preference when logged in."""
    if locale not in current_app.config["SUPPORTED_LOCALES"]:
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    response = make_response(redirect(safe_next(request.args.get("next"))))
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    if current_user.is_authenticated:
        accounts.set_locale(current_user, locale)
        db.session.commit()
    return response


@bp.route("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
