"""What every blueprint shares: login loading, role gates, safe redirects, error pages,
template helpers, and turning a service's DomainError into field messages."""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from flask import Flask, abort, flash, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal import i18n, permissions
from portal.errors import DomainError
from portal.extensions import db, login_manager
from portal.models import Role
from portal.services import accounts, notifications

log = logging.getLogger(__name__)


MAX_PAGE = 100_000


def role_required(*roles: Role):
    """Gate a view to logged-in users holding one of `roles` (anonymous → login page)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


def is_safe_next(target: str | None) -> bool:
    """Only paths on this site: no scheme, no host, no '//' or '/\\' tricks, no control chars."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "main.index") -> str:
    return target if is_safe_next(target) else url_for(default_endpoint)


def apply_domain_error(form, error: DomainError) -> None:
    """Show a service's error beside the fields it names, or at the top of the form."""
    placed = False
    for name, message in error.errors.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = list(field.errors or []) + [str(message)]
            placed = True
    if not placed or not error.errors:
        flash(str(error.message), "danger")


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    422: _l("Cannot be processed"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}
ERROR_TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have permission to see this page or do this."),
    404: _l("There is nothing at this address. It may have been removed."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This clashes with something that already exists."),
    422: _l("The request could not be processed."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("An unexpected error occurred. It has been logged; please try again later."),
}


def render_error(code: int, message: str | None = None):
    code = code if code in ERROR_TITLES else 500
    text = message or str(ERROR_TEXTS[code])
    if wants_json():
        return jsonify(error=str(ERROR_TITLES[code]), message=text), code
    return render_template("errors/error.html", code=code, title=ERROR_TITLES[code], text=text), code


def init_web(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        return accounts.load_session_user(session_id)

    @app.context_processor
    def template_globals():
        unread = 0
        if current_user.is_authenticated:
            unread = notifications.unread_count(current_user)
        return {
            "permissions": permissions,
            "html_lang": i18n.html_lang(),
            "is_chinese": i18n.is_chinese(),
            "unread_notifications": unread,
            "Role": Role,
        }

    app.jinja_env.filters["datetime"] = i18n.fmt_datetime
    app.jinja_env.filters["date"] = i18n.fmt_date
    app.jinja_env.filters["time"] = i18n.fmt_time

    @app.before_request
    def refuse_nul_characters():
        """PostgreSQL cannot store U+0000 in text; no real input contains it. A path with one
        names nothing (404); a query or form with one is a bad request (400)."""
        path_values = (request.view_args or {}).values()
        # Feeds answer every malformed token with their own plain 404, like a missing feed.
        if request.blueprint != "feeds" and any(isinstance(v, str) and "\x00" in v for v in path_values):
            abort(404)
        values = list(request.args.values())
        if request.method in ("POST", "PUT", "PATCH"):
            values += list(request.form.values())
        if any("\x00" in value for value in values):
            abort(400)
        # Every paginated list reads `page`; a huge one would overflow the database's OFFSET.
        page = request.args.get("page", type=int)
        if page is not None and page > MAX_PAGE:
            abort(404)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return render_error(400, str(_l("Your form has expired. Please reload the page and submit it again.")))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, str(error.message))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code < 400:
            return error
        db.session.rollback()
        response = render_error(error.code or 500)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            body, code = response
            return body, code, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
