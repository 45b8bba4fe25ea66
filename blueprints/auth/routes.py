from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.auth import bp
from blueprints.auth.forms import ChangePasswordForm, LoginForm
from blueprints.web import apply_domain_error, is_safe_next, safe_next
from portal.errors import DomainError
from portal.extensions import db, limiter
from portal.services import accounts


def _login_account_key() -> str:
    """Rate-limit key for one account: the normalised email posted (shared across addresses)."""
    return "login-account:" + accounts.normalize_email(request.form.get("email", ""))


def _per_address_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"]


def _per_account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"]


def _only_posts() -> bool:
    return request.method != "POST"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_per_address_limit, exempt_when=_only_posts)
@limiter.limit(_per_account_limit, key_func=_login_account_key, exempt_when=_only_posts)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The email or password is not correct."))
            return render_template("auth/login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        target = form.next.data
        return redirect(target if is_safe_next(target) else url_for("main.index"))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ends this session and any remembered one on other devices for this browser login.
        accounts.end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            # The session version changed: log in again here, other sessions are ended.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("account.profile"))
    return render_template("auth/change_password.html", form=form)
